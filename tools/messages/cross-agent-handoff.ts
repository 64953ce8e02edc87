import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { crossAgentHandoff } from "../../src/control/handoffs.js";
import { normalizeKeys } from "../../src/paths.js";
import { agentId, result } from "../common.js";
import { registerTool } from "../register.js";

/** `cross_agent_handoff`: report a discovery that affects another agent or domain (coordination-skill.md, "Cross-Agent Discovery Handoff"). */
export function registerCrossAgentHandoff(server: ToolHost, ctx: Context): void {
  const max = ctx.config.limits.string_bytes;
  registerTool(server, ctx, 
    "cross_agent_handoff",
    {
      title: "Cross-agent handoff",
      description:
        "Report a discovery another agent or domain must act on (don't fix it): sent to them and the orchestrator; matched: false if affects names nobody.",
      inputSchema: {
        agent_id: agentId,
        discovery: z.string().min(1).max(max).describe("What you found"),
        affects: z.string().min(1).max(200).describe("Agent id or domain"),
        impact: z.string().min(1).max(max).describe("What they must do"),
        files: z.array(z.string().max(1024)).max(ctx.config.limits.keys_per_request).optional().describe("Files concerned"),
      },
      outputSchema: {
        message_id: z.string(),
        matched: z.boolean(),
        delivered_to: z.array(z.string()),
        delivered_omitted: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const files = args.files ? normalizeKeys(args.files, ctx.root, "files") : [];
      const r = crossAgentHandoff(ctx, { from: args.agent_id, discovery: args.discovery, affects: args.affects, impact: args.impact, files });
      const { text, matched_agent: _a, matched_domain_agents: _d, ...data } = r;
      const note = r.matched ? "" : `\nNOTE: "${args.affects}" matches no registered agent or domain; only the orchestrator was told.`;
      return result(data, `${r.message_id} delivered to ${r.delivered_to.join(", ") || "nobody"}${note}\n${text}`);
    },
  );
}
