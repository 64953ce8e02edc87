import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { normalizeScope, setConvention } from "../../src/control/conventions.js";
import { agentId, result } from "../common.js";
import { registerTool } from "../register.js";

/** A stored convention (ConventionRecord in src/control/registry/records.ts). */
export const conventionShape = z.object({
  scope: z.string(),
  key: z.string(),
  value: z.string(),
  set_by: z.string(),
  set_at: z.string(),
  rationale: z.string().nullable(),
  decision_seq: z.number(),
});

/** `set_convention`: first value wins; a different later value is refused and escalated (coordination-skill.md, "Convention Authority"). */
export function registerSetConvention(server: ToolHost, ctx: Context): void {
  const max = ctx.config.limits.string_bytes;
  registerTool(server, ctx, 
    "set_convention",
    {
      title: "Set convention",
      description:
        "Set a convention for a scope. The first value for (scope, key) becomes the standard; a different later value is refused and escalated.",
      inputSchema: {
        agent_id: agentId,
        scope: z.string().max(1024).describe("Glob (app/**) or dir/"),
        key: z.string().min(1).max(200).describe("e.g. action_naming"),
        value: z.string().min(1).max(max).describe("e.g. camelCase"),
        rationale: z.string().max(max).optional().describe("Why"),
      },
      outputSchema: {
        status: z.enum(["established", "already_standard", "refused"]),
        convention: conventionShape,
        proposed_value: z.string(),
        escalation_id: z.string().nullable(),
        message_id: z.string().nullable(),
        notified: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const scope = normalizeScope(args.scope, ctx.root, "scope");
      const r = setConvention(ctx, { agent_id: args.agent_id, scope, key: args.key, value: args.value, rationale: args.rationale ?? null });
      const c = r.convention;
      const text =
        r.status === "established"
          ? `established ${c.key} = "${c.value}" for ${c.scope} (decision #${c.decision_seq}); ${r.notified} inbox(es) told`
          : r.status === "already_standard"
            ? `already the standard: ${c.key} = "${c.value}" for ${c.scope} (set by ${c.set_by})`
            : `REFUSED: ${c.key} for ${c.scope} is already "${c.value}" (set by ${c.set_by} at ${c.set_at}, decision #${c.decision_seq}); ` +
              `escalated as ${r.escalation_id} to the orchestrator. Follow the standard until record_decision resolves it.`;
      return result({ ...r, convention: { ...c } }, text);
    },
  );
}
