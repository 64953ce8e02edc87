import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { listInbox } from "../../src/control/registry/inbox.js";
import { agentId, result } from "../common.js";
import { registerTool } from "../register.js";

/** One inbox message as get_inbox shows it (MessageView in src/control/registry/inbox.ts). */
export const messageShape = z.object({
  message_id: z.string(),
  from: z.string(),
  kind: z.string(),
  priority: z.string(),
  summary: z.string(),
  body: z.record(z.string(), z.unknown()),
  ref: z.object({ kind: z.string(), id: z.string() }).nullable(),
  created_at: z.string(),
  acked_at: z.string().nullable(),
  delayed: z.boolean(),
});

/** `get_inbox`: an agent's messages, algedonic first (execution-template.md, "Communication Delays"). */
export function registerGetInbox(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "get_inbox",
    {
      title: "Get inbox",
      description:
        "Read your messages when report_status shows unread: handoffs, signals, pauses, checkpoints, conventions, escalations. " +
        "Algedonic first; delayed: unread past the limit. Act, then acknowledge.",
      inputSchema: {
        agent_id: agentId.describe("Whose inbox"),
        unread_only: z.boolean().optional().describe("Unread only"),
        cursor: z.string().max(20).optional().describe("From next_cursor"),
        limit: z.number().int().min(1).max(200).optional().describe("Page size"),
      },
      outputSchema: {
        items: z.array(messageShape),
        next_cursor: z.string().nullable(),
        total: z.number(),
        unread: z.number(),
        delayed: z.number(),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const page = listInbox(ctx, args.agent_id, {
        unread_only: args.unread_only ?? false,
        cursor: args.cursor ?? null,
        ...(args.limit !== undefined ? { limit: args.limit } : {}),
      });
      const items = page.items.map((m) => ({
        message_id: m.message_id,
        from: m.from,
        kind: m.kind,
        priority: m.priority,
        summary: m.summary,
        body: m.body,
        ref: m.ref,
        created_at: m.created_at,
        acked_at: m.acked_at,
        delayed: m.delayed,
      }));
      const lines = items.map((m) => `${m.message_id} [${m.priority}${m.delayed ? ", DELAYED" : ""}${m.acked_at ? ", read" : ""}] ${m.kind} from ${m.from}: ${m.summary}`);
      const head = `${page.unread} unread, ${page.delayed} delayed; ${items.length} of ${page.total} shown${page.next_cursor ? `, next cursor ${page.next_cursor}` : ""}`;
      return result({ items, next_cursor: page.next_cursor, total: page.total, unread: page.unread, delayed: page.delayed }, [head, ...lines].join("\n"));
    },
  );
}
