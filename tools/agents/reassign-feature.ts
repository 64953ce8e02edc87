import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../../src/context.js";
import { reassignFeature } from "../../src/control/agents.js";
import { agentId, featureId, result } from "../common.js";

/** `reassign_feature`: dynamic task reallocation, logged as a decision. */
export function registerReassignFeature(server: McpServer, ctx: Context): void {
  server.registerTool(
    "reassign_feature",
    {
      title: "Reassign feature",
      description:
        "Move a feature from one agent to another (e.g. the first went silent; see signalbox://agents). Logged as a reallocation decision; " +
        "both agents are told. The old agent's locks stay until their leases end.",
      inputSchema: {
        feature_id: featureId,
        from_agent: agentId.describe("Agent the feature is assigned to now"),
        to_agent: agentId.describe("Dispatched agent taking it over"),
        by: agentId.describe("Who decides (the orchestrator)"),
        rationale: z.string().min(1).max(2000).optional().describe("Why"),
      },
      outputSchema: {
        feature_id: z.string(),
        from_agent: z.string(),
        to_agent: z.string(),
        from_available: z.boolean().describe("Whether the old agent was still heartbeating"),
        decision_seq: z.number().describe("Decision log entry"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const r = reassignFeature(ctx, args);
      return result({ ...r }, `${r.feature_id}: ${r.from_agent} -> ${r.to_agent} (decision #${r.decision_seq})`);
    },
  );
}
