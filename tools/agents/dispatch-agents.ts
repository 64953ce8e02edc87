import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../../src/context.js";
import { dispatchAgents } from "../../src/control/agents.js";
import { ROLES } from "../../src/control/records.js";
import { agentId, featureId, result } from "../common.js";
import { agentView, coverage } from "./shapes.js";
import { registerTool } from "../register.js";

/** `dispatch_agents`: register a batch in one transaction; audit coverage per phase. */
export function registerDispatchAgents(server: McpServer, ctx: Context): void {
  registerTool(server, ctx, 
    "dispatch_agents",
    {
      title: "Dispatch agents",
      description:
        "Register agents before starting them; returns the phase's audit coverage (no auditor: warns after a grace window).",
      inputSchema: {
        agents: z
          .array(
            z.object({
              agent_id: agentId.describe("Agent id"),
              role: z.enum(ROLES),
              domain: z.string().min(1).max(200).optional(),
              feature_id: featureId.optional(),
            }),
          )
          .min(1)
          .max(ctx.config.limits.keys_per_request)
          .describe("Agents to register"),
        phase: z.string().min(1).max(100).optional().describe("Default CODE"),
      },
      outputSchema: {
        batch: z.number(),
        phase: z.string(),
        agents: z.array(agentView),
        audit_coverage: coverage,
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const r = dispatchAgents(ctx, args.agents, args.phase);
      const cov = r.audit_coverage;
      const text =
        `batch ${r.batch}: ${r.agents.length} agent(s) in ${r.phase}; audit coverage ${cov.status}` +
        (cov.warning ? ` - WARNING: ${cov.warning}` : cov.decides_at ? ` (no auditor yet; warns at ${cov.decides_at})` : "");
      return result({ ...r }, text);
    },
  );
}
