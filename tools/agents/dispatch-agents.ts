import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { dispatchAgents } from "../../src/control/dispatch.js";
import { ROLES } from "../../src/control/registry/records.js";
import { agentId, featureId, result } from "../common.js";
import { agentView, coverage } from "./shapes.js";
import { registerTool, vouchOf } from "../register.js";

/**
 * `dispatch_agents`: register a batch in one transaction; audit coverage per
 * phase. The authority rules of control/dispatch.ts decide who may dispatch
 * whom (`by`, else the batch's one orchestrator entry, else one agent
 * registering itself); a batch that would pass a `capacity` limit of the
 * config is refused whole, naming the limit (control/registry/capacity.ts). The
 * dispatcher is counted for `capacity.per_orchestrator`.
 * `capacity` in the answer: `{limit, scope, in_use, max}` for each limit the
 * batch is subject to, after it (`limit` is the config field, e.g.
 * `capacity.per_domain`; `scope` the orchestrator or domain, null for
 * `max_agents`); empty when no limit is set.
 */
export function registerDispatchAgents(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "dispatch_agents",
    {
      title: "Dispatch agents",
      description:
        "Orchestrator: register agents (role, domain, feature) before starting them, a batch in one step; dispatching again updates them. " +
        "An agent may register itself alone with a self-register role (default coder, auditor, test_engineer, other). A batch past a " +
        "capacity limit or against the authority rules is refused whole, naming the field and who may instead. Returns the agents, " +
        "capacity use, and the phase's audit_coverage: covered, pending (no auditor yet, in the grace window), uncovered (a warning: " +
        "dispatch an auditor with coders) or no_coders.",
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
        phase: z.string().min(1).max(100).optional().describe("Phase, default CODE"),
        by: agentId.optional().describe("You, the dispatching orchestrator"),
      },
      outputSchema: {
        batch: z.number(),
        phase: z.string(),
        agents: z.array(agentView),
        audit_coverage: coverage,
        capacity: z.array(z.object({ limit: z.string(), scope: z.string().nullable(), in_use: z.number(), max: z.number() })),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) => {
      const r = dispatchAgents(ctx, args.agents, args.phase, args.by, vouchOf(extra));
      const cov = r.audit_coverage;
      const text =
        `batch ${r.batch}: ${r.agents.length} agent(s) in ${r.phase}; audit coverage ${cov.status}` +
        (cov.warning ? ` - WARNING: ${cov.warning}` : cov.decides_at ? ` (no auditor yet; warns at ${cov.decides_at})` : "") +
        (r.capacity.length > 0 ? `; capacity ${r.capacity.map((c) => `${c.limit}${c.scope ? ` ${c.scope}` : ""} ${c.in_use}/${c.max}`).join(", ")}` : "");
      return result({ ...r }, text);
    },
  );
}
