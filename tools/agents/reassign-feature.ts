import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
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
        "Orchestrator (by): move a feature from from_agent to to_agent, e.g. when from_agent went silent (ready_for_reallocation " +
        "in signalbox://agents). to_agent must be registered and within capacity. Logged as a reallocation decision; both agents are told. " +
        "from_agent's locks stay until their leases end (break_lock ends them sooner). Returns from_available (old agent still " +
        "heartbeating) and decision_seq. An error if the feature is completed or not from_agent's.",
      inputSchema: {
        feature_id: featureId,
        from_agent: agentId.describe("Current agent"),
        to_agent: agentId.describe("New agent (registered)"),
        by: agentId.describe("Deciding orchestrator"),
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
