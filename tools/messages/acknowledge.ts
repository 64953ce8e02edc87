import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { acknowledgeInbox } from "../../src/control/handoffs.js";
import { agentId, result } from "../common.js";
import { registerTool } from "../register.js";

/** `acknowledge`: mark inbox messages read, in one transaction. */
export function registerAcknowledge(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "acknowledge",
    {
      title: "Acknowledge messages",
      description:
        "Mark handled inbox messages read. Acknowledging an audit handoff starts its TEST phase.",
      inputSchema: {
        agent_id: agentId.describe("Whose inbox"),
        message_ids: z.array(z.string().max(20)).min(1).max(ctx.config.limits.keys_per_request).describe("e.g. m-12"),
      },
      outputSchema: {
        acknowledged: z.array(z.string()),
        already: z.array(z.string()),
        unknown: z.array(z.string()),
        audit_handoffs: z.array(z.string()).describe("Test phase started"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const r = acknowledgeInbox(ctx, args.agent_id, args.message_ids);
      const parts = [`${r.acknowledged.length} acknowledged`];
      if (r.already.length) parts.push(`already: ${r.already.join(", ")}`);
      if (r.unknown.length) parts.push(`unknown: ${r.unknown.join(", ")}`);
      if (r.audit_handoffs.length) parts.push(`audit handoffs: ${r.audit_handoffs.join(", ")}`);
      return result({ ...r }, parts.join("; "));
    },
  );
}
