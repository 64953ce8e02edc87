import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { breakLock } from "../src/control/lock-breaks.js";
import { agentId, keyString, result } from "./common.js";
import { registerTool, vouchOf } from "./register.js";

/**
 * `break_lock`: end other agents' locks on one key before their leases run
 * out. Logged as a `lock_break` decision (who, what, why) and told to each
 * holder through its inbox; the holders' tokens turn stale (`broken`).
 */
export function registerBreakLock(server: ToolHost, ctx: Context): void {
  registerTool(
    server,
    ctx,
    "break_lock",
    {
      title: "Break lock",
      description: "Orchestrator only: end every other agent's live lock on exactly this key before its lease runs out, when the holder crashed " +
        "or is stuck and waiting is not an option. Logged as a lock_break decision (who, which locks, why); each holder is told in its " +
        "inbox, and its token then verifies stale with status broken. Returns the broken locks and decision_seq (null, nothing logged, " +
        "when no other agent held the key).",
      inputSchema: {
        agent_id: agentId,
        path: keyString.describe("Exact key held"),
        reason: z.string().min(1).max(ctx.config.limits.string_bytes).describe("Why (logged)"),
      },
      outputSchema: {
        // Each broken lock: key, mode, agent_id, feature_id (nullable), fencing_token.
        broken: z.array(
          z.object({ key: z.string(), mode: z.string(), agent_id: z.string(), feature_id: z.string().nullable(), fencing_token: z.number() }),
        ),
        decision_seq: z.number().nullable(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) => {
      const key = ctx.keys.normalize(args.path, "path");
      const r = breakLock(ctx, ctx.locks, { agent_id: args.agent_id, key, reason: args.reason }, vouchOf(extra));
      const text =
        r.broken.length === 0
          ? `nothing to break: no other agent holds ${key}`
          : `broke ${r.broken.map((b) => `${b.agent_id}'s ${b.mode} lock (token ${b.fencing_token})`).join(", ")} on ${key}; decision #${r.decision_seq}`;
      if (r.broken.length > 0) {
        ctx.events.emit({
          kind: "lock_broken",
          level: "warning",
          agent_id: args.agent_id,
          summary: `${args.agent_id}: ${text}`,
          data: { key, broken: r.broken.map((b) => b.agent_id), decision_seq: r.decision_seq },
        });
      }
      return result({ broken: r.broken, decision_seq: r.decision_seq }, text);
    },
  );
}
