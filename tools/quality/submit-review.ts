import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { submitReview } from "../../src/control/reviews.js";
import { REVIEW_VERDICTS } from "../../src/control/registry/records.js";
import { agentId, result } from "../common.js";
import { registerTool } from "../register.js";

/** `submit_review`: the assigned reviewer's verdict (execution-template.md, "Review Process": feedback, approval). */
export function registerSubmitReview(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx,
    "submit_review",
    {
      title: "Submit review",
      description: "Call when you finish a review assigned to you (only its reviewer, only while open): approve, or changes_requested with findings. " +
        "The author and the requester are told. An approval satisfies a gate that requires review; changes_requested fails the wave at " +
        "integration. Returns status and current_attempt (false: the feature restarted since; the verdict is about an older attempt).",
      inputSchema: {
        agent_id: agentId,
        review_id: z.string().min(1).max(20).describe("From request_review"),
        verdict: z.enum(REVIEW_VERDICTS).describe("Your verdict"),
        findings: z.array(z.string().max(ctx.config.limits.string_bytes)).max(200).describe("Findings; required for changes_requested"),
      },
      outputSchema: {
        review_id: z.string(),
        feature_id: z.string(),
        status: z.enum(["approved", "changes_requested"]),
        current_attempt: z.boolean().describe("false: feature restarted since"),
        notified: z.array(z.string()),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const r = submitReview(ctx, args);
      const status = r.review.status === "approved" ? ("approved" as const) : ("changes_requested" as const);
      const data = { review_id: r.review.review_id, feature_id: r.review.feature_id, status, current_attempt: r.current_attempt, notified: r.notified };
      const text =
        `${r.review.review_id} of ${r.review.feature_id}: ${status}` +
        (r.review.findings.length > 0 ? ` (${r.review.findings.length} finding(s))` : "") +
        (r.current_attempt ? "" : "; the feature was started again since the request: this verdict counts for no gate") +
        (r.notified.length > 0 ? `; told ${r.notified.join(", ")}` : "");
      return result(data, text);
    },
  );
}
