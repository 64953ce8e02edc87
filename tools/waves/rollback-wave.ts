import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { rollbackWave } from "../../src/control/integration.js";
import { waveMergeRef } from "../../src/control/wave-git.js";
import { dropRef } from "../../src/git/wave-merge.js";
import { agentId, result } from "../common.js";
import { registerTool, vouchOf } from "../register.js";
import { waveArgs } from "./integrate-wave.js";

/** `rollback_wave`: parallel-execution-protocol §6.3 Rollback Protocol; features back to pending, history kept. */
export function registerRollbackWave(server: ToolHost, ctx: Context): void {
  registerTool(
    server,
    ctx,
    "rollback_wave",
    {
      title: "Roll back wave",
      description: "Orchestrator only: undo a wave (typically a failed one) so its features can start again. They return to pending (records archived, attempts keep " +
        "counting), their locks are released, open reviews withdrawn, open non-algedonic signals resolved, the wave's passing " +
        "wave_integration results voided. Nothing is deleted: returns commits_to_revert and migrations_to_roll_back (newest first) " +
        "to undo, and dependents_affected (started features outside the wave). Logged as a rollback decision.",
      inputSchema: {
        agent_id: agentId,
        ...waveArgs,
        reason: z.string().min(1).max(ctx.config.limits.string_bytes).describe("Why"),
      },
      outputSchema: {
        features: z.array(z.string()),
        released: z.array(z.string()),
        commits_to_revert: z.array(z.object({ feature_id: z.string(), commit: z.string() })),
        migrations_to_roll_back: z.array(z.object({ feature_id: z.string(), path: z.string() })),
        dependents_affected: z.array(z.string()),
        decision_seq: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const r = rollbackWave(ctx, ctx.locks, args, vouchOf(extra));
      // The wave's speculative merge is gone with its work: drop its ref (objects stay until git's own gc).
      if (ctx.git.repo) await dropRef(ctx.git.repo.worktree, waveMergeRef(r.plan_id, r.wave_number)).catch(() => undefined);
      ctx.events.emit({
        kind: "wave_rolled_back",
        level: "warning",
        agent_id: args.agent_id,
        summary: `wave ${r.wave_number} of ${r.plan_id} rolled back by ${args.agent_id}: ${args.reason}`,
        data: { plan_id: r.plan_id, wave_number: r.wave_number, features: r.features, decision_seq: r.decision_seq },
      });
      const data = {
        features: r.features,
        released: r.released.map((l) => l.key),
        commits_to_revert: r.commits_to_revert,
        migrations_to_roll_back: r.migrations_to_roll_back,
        dependents_affected: r.dependents_affected,
        decision_seq: r.decision_seq,
      };
      const text =
        `wave ${r.wave_number} of ${r.plan_id} rolled back (decision ${r.decision_seq}): ${r.features.join(", ")} pending again; released ${r.released_total} lock(s)` +
        (r.commits_to_revert.length > 0 ? `\nrevert, newest first: ${r.commits_to_revert.map((c) => c.commit).join(" ")}` : "") +
        (r.migrations_to_roll_back.length > 0 ? `\nroll back migrations: ${r.migrations_to_roll_back.map((m) => m.path).join(", ")}` : "") +
        (r.dependents_affected.length > 0 ? `\nstarted dependents to decide about: ${r.dependents_affected.join(", ")}` : "");
      return result(data, text);
    },
  );
}
