import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { resolveAuditSignal } from "../../src/control/audit.js";
import { cap } from "../../src/control/registry/page.js";
import { agentId, result } from "../common.js";
import { registerTool, vouchOf } from "../register.js";

/** `resolve_audit_signal`: end a RED or algedonic pause (coordination-skill.md, "RED Signal Response Flow"). */
export function registerResolveAuditSignal(server: ToolHost, ctx: Context): void {
  const { limits, control } = ctx.config;
  registerTool(server, ctx, 
    "resolve_audit_signal",
    {
      title: "Resolve audit signal",
      description:
        "Call when the problem behind an open RED or algedonic signal is fixed or decided: the pause lifts, the paused agents are told " +
        "to resume, and it is logged as a conflict_resolution decision. A RED is resolved by its emitter, an auditor or an orchestrator; " +
        "an algedonic one, or one raised with an escalation, only by an orchestrator; never by an agent it pauses (refused, naming who may). " +
        "Returns resumed, and still_paused (paused by another signal).",
      inputSchema: {
        signal_id: z.string().min(1).max(40).describe("e.g. sig-3"),
        agent_id: agentId,
        resolution: z.string().min(1).max(limits.string_bytes).describe("What was decided or fixed"),
      },
      outputSchema: {
        signal_id: z.string(),
        level: z.string(),
        feature_id: z.string().nullable(),
        resolved_at: z.string(),
        resumed: z.array(z.string()),
        still_paused: z.array(z.string()).describe("Paused by another signal"),
        omitted: z.number().describe("Ids left out of both lists"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const r = resolveAuditSignal(ctx, args.signal_id, args.agent_id, args.resolution, vouchOf(extra));
      const s = r.signal;
      const resumed = cap(r.resumed, control.page_size);
      const still = cap(r.still_paused, control.page_size);
      const data = {
        signal_id: s.signal_id,
        level: s.level,
        feature_id: s.feature_id,
        resolved_at: s.resolved_at ?? "",
        resumed: resumed.items,
        still_paused: still.items,
        omitted: resumed.omitted + still.omitted,
      };
      const text =
        `${s.signal_id} resolved by ${args.agent_id}: ${args.resolution}; resumed: ${r.resumed.join(", ") || "none"}` +
        (r.still_paused.length > 0 ? `; still paused by other signals: ${r.still_paused.join(", ")}` : "");
      ctx.events.emit({
        kind: "signal_resolved",
        level: "info",
        agent_id: args.agent_id,
        summary: text,
        data: { signal_id: s.signal_id, signal_level: s.level, feature_id: s.feature_id, resumed: r.resumed },
      });
      return result(data, text);
    },
  );
}
