import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { normalizeKeys } from "../src/paths.js";
import { agentId, keyString, lockMode, result } from "./common.js";

/** `release_lock`: the holder releases by lock id, by path or everything it holds. */
export function registerReleaseLock(server: McpServer, ctx: Context): void {
  server.registerTool(
    "release_lock",
    {
      title: "Release lock",
      description:
        "Release your locks after writing: by lock_ids, by paths, or all: true (exactly one). Only the holder can release; " +
        "naming another agent's lock is refused with its holder. Locks whose lease already ended come back as stale; paths nobody holds as not_held.",
      inputSchema: {
        agent_id: agentId,
        lock_ids: z.array(z.string().min(1).max(64)).min(1).max(1024).optional().describe("lock_id values from acquire_lock"),
        paths: z.array(keyString).min(1).max(ctx.config.limits.keys_per_request).optional().describe("Keys to release (exact keys you locked)"),
        all: z.boolean().optional().describe("Release every lock this agent holds"),
      },
      outputSchema: {
        released: z
          .array(z.object({ key: z.string(), mode: lockMode, fencing_token: z.number().int() }))
          .describe("Locks released now"),
        stale: z
          .array(
            z.object({
              key: z.string().describe("Key, empty if the lock_id is unknown"),
              lock_id: z.string(),
              status: z.enum(["current", "expired", "released", "broken", "unknown", "token_mismatch"]),
            }),
          )
          .describe("Your locks that had already ended (lease expired, released, broken) or unknown ids"),
        not_held: z.array(z.string()).describe("Paths nobody holds"),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const selector = args.lock_ids
        ? { lock_ids: args.lock_ids }
        : args.paths
          ? { keys: normalizeKeys(args.paths, ctx.root, "paths") }
          : args.all
            ? { all: true }
            : {};
      if (args.all === false && !args.lock_ids && !args.paths) {
        throw new Error("all: pass true to release every lock, or give lock_ids or paths");
      }
      const r = ctx.locks.release(args.agent_id, selector);
      const parts = [`released ${r.released.length}`];
      if (r.stale.length) parts.push(`stale ${r.stale.length} (${r.stale.map((s) => `${s.key || s.lock_id}: ${s.status}`).join(", ")})`);
      if (r.not_held.length) parts.push(`not held: ${r.not_held.join(", ")}`);
      return result({ ...r }, parts.join("; "));
    },
  );
}
