import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { agentId, keyString, lockRef, result, staleLock } from "./common.js";
import { registerTool } from "./register.js";
import { InvalidArgumentError, SignalboxError } from "../src/errors.js";

/** `release_lock`: the holder releases by lock id, by path or everything it holds. */
export function registerReleaseLock(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "release_lock",
    {
      title: "Release lock",
      description:
        "Call when done writing: one of lock_ids, paths or all: true (complete_feature releases a feature's locks). " +
        "Returns released, stale (yours had ended), not_held. Another agent's lock is refused, naming its holder.",
      inputSchema: {
        agent_id: agentId,
        lock_ids: z.array(z.string().min(1).max(64)).min(1).max(1024).optional().describe("From acquire_lock"),
        paths: z.array(keyString).min(1).max(ctx.config.limits.keys_per_request).optional().describe("Keys you locked"),
        all: z.boolean().optional().describe("Release all yours"),
      },
      outputSchema: {
        released: z.array(lockRef),
        stale: z.array(staleLock).describe("Already ended or unknown"),
        not_held: z.array(z.string()),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const given = [args.lock_ids && "lock_ids", args.paths && "paths", args.all !== undefined && "all"].filter(Boolean);
      if (given.length !== 1) {
        throw new SignalboxError("invalid_argument", "lock_ids", `lock_ids, paths, all: give exactly one (got ${given.length === 0 ? "none" : given.join(" and ")})`);
      }
      if (args.all === false) throw new InvalidArgumentError("all", "pass true to release every lock, or give lock_ids or paths");
      const selector = args.lock_ids
        ? { lock_ids: args.lock_ids }
        : args.paths
          ? { keys: ctx.keys.normalizeAll(args.paths, "paths") }
          : { all: true };
      const r = await ctx.locks.release(args.agent_id, selector);
      const parts = [`released ${r.released.length}`];
      if (r.stale.length) parts.push(`stale ${r.stale.length} (${r.stale.map((s) => `${s.key || s.lock_id}: ${s.status}`).join(", ")})`);
      if (r.not_held.length) parts.push(`not held: ${r.not_held.join(", ")}`);
      return result({ ...r }, parts.join("; "));
    },
  );
}
