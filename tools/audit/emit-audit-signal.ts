import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { emitAuditSignal, formatSignal } from "../../src/control/audit.js";
import { cap } from "../../src/control/registry/page.js";
import { SIGNAL_LEVELS } from "../../src/control/registry/records.js";
import { normalizeKeys } from "../../src/paths.js";
import { agentId, featureId, keyString, result } from "../common.js";
import { registerTool } from "../register.js";

/** `emit_audit_signal`: an S3* audit signal (coordination-skill.md, "Audit Signals", "Signal Format"). */
export function registerEmitAuditSignal(server: ToolHost, ctx: Context): void {
  const { limits, control } = ctx.config;
  const text = z.string().min(1).max(limits.string_bytes);
  registerTool(server, ctx, 
    "emit_audit_signal",
    {
      title: "Emit audit signal",
      description:
        "Report an audit finding. GREEN is noted, YELLOW notifies, RED (or algedonic: security, ethics) pauses the feature's coders until resolved.",
      inputSchema: {
        agent_id: agentId,
        level: z.enum(SIGNAL_LEVELS).describe("Severity"),
        summary: z.string().min(1).max(500).describe("One line"),
        observation: text.optional().describe("What you found"),
        concern: text.optional().describe("Why it matters"),
        recommendation: text.optional().describe("Suggested action"),
        feature_id: featureId.optional().describe("Required for RED"),
        files: z.array(keyString).max(limits.keys_per_request).optional().describe("Keys concerned"),
        algedonic: z.boolean().optional().describe("Security/ethics finding"),
      },
      outputSchema: {
        signal_id: z.string(),
        level: z.string(),
        status: z.enum(["open", "noted"]).describe("open: pausing until resolved"),
        paused: z.array(z.string()),
        notified: z.array(z.string()),
        omitted: z.number().describe("Ids left out of both lists"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const files = args.files ? normalizeKeys(args.files, ctx.root, "files") : [];
      const r = emitAuditSignal(ctx, { ...args, files });
      const s = r.signal;
      const paused = cap(r.paused, control.page_size);
      const notified = cap(r.notified, control.page_size);
      const data = {
        signal_id: s.signal_id,
        level: s.level,
        status: s.status === "open" ? ("open" as const) : ("noted" as const),
        paused: paused.items,
        notified: notified.items,
        omitted: paused.omitted + notified.omitted,
      };
      const who = (l: string[]) => (l.length > 0 ? l.join(", ") : "none");
      const tail =
        `${s.signal_id} ${s.status}` +
        (s.status === "open" ? `; paused: ${who(r.paused)}` : "") +
        `; notified: ${who(r.notified)}` +
        (s.files.length > 0 ? `; files: ${s.files.join(", ")}` : "");
      ctx.events.emit({
        kind: "signal_emitted",
        level: s.algedonic ? "critical" : s.level === "RED" ? "warning" : s.level === "YELLOW" ? "notice" : "info",
        agent_id: args.agent_id,
        summary: `${s.level}${s.algedonic ? " (algedonic)" : ""} ${s.signal_id} from ${args.agent_id}: ${s.summary}${r.paused.length > 0 ? `; paused ${r.paused.join(", ")}` : ""}`,
        data: { signal_id: s.signal_id, signal_level: s.level, feature_id: s.feature_id, paused: r.paused },
      });
      return result(data, `${formatSignal(s)}\n\n${tail}`);
    },
  );
}
