import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/context.js";
import { reassignFeature } from "../../src/control/dispatch.js";
import { agentId, featureId, result } from "../common.js";
import { registerTool, vouchOf } from "../register.js";

/** `reassign_feature`: dynamic task reallocation, logged as a decision. */
export function registerReassignFeature(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "reassign_feature",
    {
      title: "Reassign feature",
      description:
        "Move a feature to another agent (e.g. one gone silent); logged as a decision, both are told.",
      inputSchema: {
        feature_id: featureId,
        from_agent: agentId.describe("Current agent"),
        to_agent: agentId.describe("New agent (dispatched)"),
        by: agentId.describe("Who decides"),
        rationale: z.string().min(1).max(2000).optional().describe("Why"),
      },
      outputSchema: {
        feature_id: z.string(),
        from_agent: z.string(),
        to_agent: z.string(),
        from_available: z.boolean().describe("Old agent still heartbeating"),
        decision_seq: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const r = reassignFeature(ctx, args, vouchOf(extra));
      return result({ ...r }, `${r.feature_id}: ${r.from_agent} -> ${r.to_agent} (decision #${r.decision_seq})`);
    },
  );
}
