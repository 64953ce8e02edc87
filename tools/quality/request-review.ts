import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { requestReview } from "../../src/control/reviews.js";
import { normalizeKeys } from "../../src/paths.js";
import { agentId, featureId, keyString, result } from "../common.js";
import { registerTool } from "../register.js";

/** `request_review`: assign a peer reviewer by expertise and workload (execution-template.md, "Review Assignment"). */
export function registerRequestReview(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx,
    "request_review",
    {
      title: "Request review",
      description: "Call when a started feature's work needs a peer review. Assigns a reviewer who is neither its author nor you: the best domain " +
        "match (expertise, else the files' domains), then role (auditors and architects before coders), then fewest open reviews; " +
        "reason says why. The reviewer gets an inbox message. Returns review_id, reviewer and author. An error when no reviewer is " +
        "available, naming the domain to dispatch one for.",
      inputSchema: {
        agent_id: agentId,
        feature_id: featureId,
        files: z.array(keyString).min(1).max(ctx.config.limits.keys_per_request).describe("Files to review"),
        expertise: z.string().min(1).max(200).optional().describe("Domain or role wanted"),
      },
      outputSchema: {
        review_id: z.string(),
        reviewer: z.string(),
        author: z.string(),
        feature_attempt: z.number(),
        reason: z.string().describe("Why this reviewer"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const files = normalizeKeys(args.files, ctx.root, "files");
      const classify = (keys: readonly string[]) => [...new Set(keys.flatMap((k) => ctx.domains.domainsOf(k)))];
      const r = requestReview(ctx, { agent_id: args.agent_id, feature_id: args.feature_id, files, expertise: args.expertise ?? null }, classify);
      const data = { review_id: r.review_id, reviewer: r.reviewer, author: r.author, feature_attempt: r.feature_attempt, reason: r.reason };
      return result(data, `${r.review_id}: ${r.reviewer} reviews ${r.feature_id} (author ${r.author}, attempt ${r.feature_attempt}): ${r.reason}`);
    },
  );
}
