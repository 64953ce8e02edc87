import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { agentId, featureId, KEY_SYNTAX, keyString, lockMode, result } from "./common.js";
import { registerTool } from "./register.js";

/** A lock in the way of a refused request (the requested key it overlaps in `requested`); mode is read or write. */
const holder = z.object({
  key: z.string(),
  requested: z.string(),
  agent_id: z.string(),
  mode: z.string(),
  feature_id: z.string().nullable(),
  fencing_token: z.number(),
  expires_at: z.string(),
});

/** `acquire_lock`: shared/exclusive leases on keys, all or nothing, FIFO waiting, deadlock refusal. */
export function registerAcquireLock(server: ToolHost, ctx: Context): void {
  const { locks: settings, limits } = ctx.config;
  registerTool(server, ctx, 
    "acquire_lock",
    {
      title: "Acquire lock",
      description:
        "Call before writing a file (mode write: exclusive) or reading one others may write (read: shared), with your feature_id. " +
        "All keys or none; wait_ms queues (FIFO) before refusing. Grant: per key lock_id (secret), fencing_token, expires_at. " +
        "Refused: granted false, reason, holders; reason paused or checkpoint: stop writing. " +
        KEY_SYNTAX,
      inputSchema: {
        agent_id: agentId,
        paths: z.array(keyString).min(1).max(limits.keys_per_request).describe("Keys to lock"),
        mode: lockMode.describe("Lock mode"),
        feature_id: featureId.optional(),
        lease_ms: z.number().int().positive().max(settings.max_lease_ms).optional().describe(`Lease ms, default ${settings.default_lease_ms}`),
        wait_ms: z.number().int().nonnegative().max(settings.max_wait_ms).optional().describe(`Wait ms, default ${settings.default_wait_ms}`),
      },
      outputSchema: {
        granted: z.boolean(),
        // Nested modes are read or write; stop.kind is audit_signal or checkpoint.
        locks: z.array(z.object({ key: z.string(), mode: z.string(), lock_id: z.string(), fencing_token: z.number(), expires_at: z.string() })),
        reason: z.enum(["conflict", "deadlock", "timeout", "paused", "checkpoint"]).nullable(),
        stop: z
          .object({ kind: z.string(), id: z.string(), summary: z.string(), raised_by: z.string() })
          .nullable()
          .describe("What pauses you"),
        message: z.string(),
        holders: z.array(holder),
        queued_ahead: z.array(
          z.object({ agent_id: z.string(), mode: z.string(), keys: z.array(z.string()), feature_id: z.string().nullable(), enqueued_at: z.string() }),
        ),
        cycle: z.array(z.string()).nullable().describe("Deadlock wait-for cycle"),
        waited_ms: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const keys = ctx.keys.normalizeAll(args.paths, "paths");
      const waitMs = args.wait_ms ?? settings.default_wait_ms;
      let progress = -1;
      const r = await ctx.locks.acquire({
        agent_id: args.agent_id,
        keys,
        mode: args.mode,
        feature_id: args.feature_id ?? null,
        ...(args.lease_ms !== undefined ? { lease_ms: args.lease_ms } : {}),
        ...(args.wait_ms !== undefined ? { wait_ms: args.wait_ms } : {}),
        signal: extra.signal,
        onWaiting: (w) => {
          // A client that passed a progress token hears where it stands while it waits.
          const progressToken = extra._meta?.progressToken;
          if (progressToken === undefined) return;
          progress = Math.max(progress + 1, w.waited_ms);
          const held = w.holders.map((h) => `${h.agent_id} holds ${h.key} (${h.mode}) until ${h.expires_at}`);
          const message = `queued (ticket ${w.ticket}) behind ${w.behind.join(", ")}: position ${w.position}${held.length > 0 ? `; ${held.join("; ")}` : ""}`;
          const params = { progressToken, progress, total: waitMs, message };
          extra.sendNotification({ method: "notifications/progress", params }).catch(() => undefined);
        },
      });
      if (r.granted) {
        const data = {
          granted: true,
          locks: r.locks,
          reason: null,
          stop: null,
          message: `granted ${args.mode} on ${keys.length} key(s)`,
          holders: [],
          queued_ahead: [],
          cycle: null,
          waited_ms: r.waited_ms,
        };
        const lines = r.locks.map((l) => `${l.key} token ${l.fencing_token} until ${l.expires_at}`);
        ctx.events.emit({
          kind: "lock_granted",
          level: "info",
          agent_id: args.agent_id,
          summary: `${args.agent_id} granted ${args.mode} on ${keys.join(", ")}`,
          data: { mode: args.mode, keys, fencing_tokens: r.locks.map((l) => l.fencing_token), waited_ms: r.waited_ms },
        });
        return result(data, `GRANTED ${args.mode}:\n${lines.join("\n")}`);
      }
      const data = {
        granted: false,
        locks: [],
        reason: r.reason,
        stop: r.stop,
        message: r.message,
        holders: r.holders,
        queued_ahead: r.queued_ahead,
        cycle: r.cycle,
        waited_ms: r.waited_ms,
      };
      ctx.events.emit({
        kind: "lock_refused",
        level: r.reason === "conflict" || r.reason === "timeout" ? "notice" : "warning",
        agent_id: args.agent_id,
        summary: `${args.agent_id} refused ${args.mode} on ${keys.join(", ")} (${r.reason}): ${r.message}`,
        data: { mode: args.mode, keys, reason: r.reason, holders: r.holders.map((h) => h.agent_id), cycle: r.cycle },
      });
      return result(data, `REFUSED (${r.reason}): ${r.message}`);
    },
  );
}
