import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { normalizeKeys } from "../src/paths.js";
import { agentId, featureId, isoTime, keyString, lockMode, result } from "./common.js";

const holder = z.object({
  key: z.string().describe("Key the holder holds"),
  requested: z.string().describe("Requested key it conflicts with"),
  agent_id: z.string().describe("Holding agent"),
  mode: lockMode,
  feature_id: z.string().nullable().describe("Holder's feature, if given"),
  fencing_token: z.number().int().describe("Holder's fencing token"),
  expires_at: isoTime.describe("When the holder's lease ends unless renewed"),
});

/** `acquire_lock`: shared/exclusive leases on keys, all or nothing, FIFO waiting, deadlock refusal. */
export function registerAcquireLock(server: McpServer, ctx: Context): void {
  const { locks: settings, limits } = ctx.config;
  server.registerTool(
    "acquire_lock",
    {
      title: "Acquire lock",
      description:
        "Lock files, folders (`dir/`), tables (`table:x`) or shared resources (`resource:x`) before writing or reading them. " +
        "read = shared, write = exclusive; all keys or none. With wait_ms the request queues first-in first-out. " +
        "A refusal is a normal answer (granted: false) naming each holder; a grant returns per key a secret lock_id, a fencing_token and the lease expiry. Renew before expires_at.",
      inputSchema: {
        agent_id: agentId,
        paths: z.array(keyString).min(1).max(limits.keys_per_request).describe("Keys to lock together"),
        mode: lockMode,
        feature_id: featureId.optional(),
        lease_ms: z
          .number()
          .int()
          .positive()
          .max(settings.max_lease_ms)
          .optional()
          .describe(`Lease length in ms (default ${settings.default_lease_ms})`),
        wait_ms: z
          .number()
          .int()
          .nonnegative()
          .max(settings.max_wait_ms)
          .optional()
          .describe(`How long to queue for the keys in ms (default ${settings.default_wait_ms}: refuse at once)`),
      },
      outputSchema: {
        granted: z.boolean().describe("True when every key was granted"),
        locks: z
          .array(
            z.object({
              key: z.string().describe("Normalised key"),
              mode: lockMode,
              lock_id: z.string().describe("Secret id of this grant: keep it to release, renew or verify"),
              fencing_token: z.number().int().describe("Strictly increasing across the store; pass it with every write"),
              expires_at: isoTime.describe("Lease end"),
            }),
          )
          .describe("Granted locks (empty when refused)"),
        reason: z
          .enum(["conflict", "deadlock", "timeout", "paused", "checkpoint"])
          .nullable()
          .describe("Why not granted (null when granted); paused: a RED audit signal; checkpoint: an open checkpoint"),
        stop: z
          .object({
            kind: z.enum(["audit_signal", "checkpoint"]),
            id: z.string().describe("signal_id or checkpoint name"),
            summary: z.string(),
            raised_by: z.string(),
          })
          .nullable()
          .describe("What refuses a paused/checkpoint request"),
        message: z.string().describe("One line for the agent"),
        holders: z.array(holder).describe("Conflicting holders"),
        queued_ahead: z
          .array(
            z.object({
              agent_id: z.string(),
              mode: lockMode,
              keys: z.array(z.string()),
              feature_id: z.string().nullable(),
              enqueued_at: isoTime,
            }),
          )
          .describe("Earlier conflicting requests still queued"),
        cycle: z.array(z.string()).nullable().describe("For a deadlock: the wait-for cycle of agent ids"),
        waited_ms: z.number().int().describe("Time spent queued, ms"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const keys = normalizeKeys(args.paths, ctx.root, "paths");
      const r = await ctx.locks.acquire({
        agent_id: args.agent_id,
        keys,
        mode: args.mode,
        feature_id: args.feature_id ?? null,
        ...(args.lease_ms !== undefined ? { lease_ms: args.lease_ms } : {}),
        ...(args.wait_ms !== undefined ? { wait_ms: args.wait_ms } : {}),
        signal: extra.signal,
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
      return result(data, `REFUSED (${r.reason}): ${r.message}`);
    },
  );
}
