import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { startFeature } from "../../src/control/features.js";
import { agentId, featureId, result } from "../common.js";
import { branchName, callerLocation, featureBranch } from "../git-location.js";
import { registerTool } from "../register.js";

/** `start_feature`: §4.2 "Before starting": prerequisites completed, else refused and logged (§5.2). */
export function registerStartFeature(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "start_feature",
    {
      title: "Start feature",
      description:
        "Call before working on a feature. Starts it once its blocked_by are completed; else started: false names what is missing. Records its git branch.",
      inputSchema: {
        feature_id: featureId,
        agent_id: agentId,
        plan_id: z.string().min(1).max(100).optional().describe("Default: newest with it"),
        branch: branchName.optional().describe("Default: this worktree's"),
      },
      outputSchema: {
        started: z.boolean(),
        plan_id: z.string().nullable().describe("null: in no plan"),
        attempts: z.number(),
        branch: z.string().nullable().describe("The feature's branch; null: none"),
        // status: failed, active or not_started.
        missing: z.array(z.object({ feature_id: z.string(), status: z.string() })),
        missing_total: z.number(),
        decision_seq: z.number().nullable(),
        instruction: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const location = await callerLocation(ctx);
      const branch = await featureBranch(ctx, args.branch, location);
      const r = startFeature(ctx, { ...args, branch, location });
      const data = {
        started: r.started,
        plan_id: r.plan_id,
        attempts: r.attempts,
        branch: r.branch,
        missing: r.missing,
        missing_total: r.missing_total,
        decision_seq: r.decision_seq,
        instruction: r.instruction,
      };
      const text = r.started
        ? `${r.feature_id} started by ${r.agent_id} (plan ${r.plan_id ?? "none"}, attempt ${r.attempts}${r.branch ? `, branch ${r.branch}` : ""}` +
          `${r.shared_resources.length > 0 ? `, shared resources ${r.shared_resources.join(", ")}` : ""}): ${r.instruction}`
        : `${r.feature_id} NOT started: missing ${r.missing
            .slice(0, 20)
            .map((m) => `${m.feature_id} (${m.status})`)
            .join(", ")}; logged as decision #${r.decision_seq ?? "?"}. ${r.instruction}`;
      return result(data, text);
    },
  );
}
