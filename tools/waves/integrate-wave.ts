import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { integrateWave } from "../../src/control/integration.js";
import { recordWaveMerge } from "../../src/control/wave-git.js";
import { keyMapper } from "../../src/git/feature-changes.js";
import { waveGitFacts } from "../../src/git/wave-facts.js";
import { agentId, result } from "../common.js";
import { registerTool } from "../register.js";

/** Plan and wave arguments shared by integrate_wave and rollback_wave. */
export const waveArgs = {
  plan_id: z.string().min(1).max(200).describe("Plan id"),
  wave_number: z.number().int().min(1).describe("Wave number"),
};

/** The resource of a wave's integration report. */
export function reportUri(planId: string, waveNumber: number): string {
  return `signalbox://waves/${encodeURIComponent(planId)}/integration/${waveNumber}`;
}

/** `integrate_wave`: the synthesizer step after a wave (parallel-execution-protocol §6.1), stored as a report. */
export function registerIntegrateWave(server: ToolHost, ctx: Context): void {
  registerTool(
    server,
    ctx,
    "integrate_wave",
    {
      title: "Integrate wave",
      description: "Call once every feature of a wave is completed; refused (error) until then and until every required gate passed, naming each " +
        "(a wave gate's refusal names the merged commit to test). Merges the wave's branches in completion order inside git (no checkout) " +
        "into merge.commit, what the test engineer tests. Judges what the features did: undeclared writes (CRITICAL), files changed " +
        "by two features, migration collisions with the renumbering to apply, reviews. Returns status integrated, or failed with reasons; " +
        "actions says what to do; the report is at report_uri. Failures go to the orchestrator and the agents at fault.",
      inputSchema: { agent_id: agentId, ...waveArgs },
      outputSchema: {
        status: z.enum(["integrated", "failed"]),
        attempt: z.number(),
        reasons: z.array(z.string()),
        actions: z.array(z.string()),
        undeclared_writes: z.array(z.object({ feature_id: z.string(), file: z.string(), severity: z.literal("CRITICAL") })),
        overlapping_changes: z.array(z.object({ file: z.string(), features: z.array(z.string()), severity: z.literal("HIGH") })),
        migration_collisions: z.array(
          z.object({
            kind: z.enum(["number", "revision", "head"]),
            value: z.string(),
            migrations: z.array(z.object({ feature_id: z.string(), path: z.string() })),
            renumbering: z.array(z.object({ path: z.string(), rename_to: z.string().nullable(), action: z.string() })),
          }),
        ),
        merge: z
          .object({
            ref: z.string(),
            commit: z.string().nullable().describe("Merged commit to test; null on conflict"),
            status: z.enum(["clean", "conflict"]),
            first_conflict: z.object({ feature_id: z.string(), branch: z.string(), files: z.array(z.string()) }).nullable(),
          })
          .nullable()
          .describe("Speculative merge of the wave's branches; null: no branches"),
        notes: z.array(z.string()).describe("Features judged from declarations, and why"),
        report_uri: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const git = await waveGitFacts(
        ctx,
        ctx.git,
        args.plan_id,
        args.wave_number,
        keyMapper(ctx.git, (abs) => ctx.keys.normalize(abs, "files_changed")),
        (key) => ctx.domains.tagsOf(key).includes("migration"),
      );
      if (git?.merge) recordWaveMerge(ctx, git.merge);
      const r = integrateWave(ctx, { ...args, ...(git ? { git } : {}) });
      ctx.events.emit({
        kind: r.status === "integrated" ? "wave_integrated" : "wave_integration_failed",
        level: r.status === "integrated" ? "info" : r.undeclared_writes_total > 0 ? "error" : "warning",
        agent_id: args.agent_id,
        summary: `wave ${r.wave_number} of ${r.plan_id} ${r.status}${r.reasons.length > 0 ? `: ${r.reasons[0]}` : ""}`,
        data: { plan_id: r.plan_id, wave_number: r.wave_number, attempt: r.attempt, reasons: r.reasons },
      });
      const data = {
        status: r.status,
        attempt: r.attempt,
        reasons: r.reasons,
        actions: r.actions,
        undeclared_writes: r.undeclared_writes,
        overlapping_changes: r.overlapping_changes,
        migration_collisions: r.migration_collisions.map((c) => ({
          kind: c.kind,
          value: c.value,
          migrations: c.migrations,
          renumbering: c.fixes.map((f) => ({ path: f.path, rename_to: f.rename_to, action: f.action })),
        })),
        merge: r.merge ? { ref: r.merge.ref, commit: r.merge.commit, status: r.merge.status, first_conflict: r.merge.first_conflict } : null,
        notes: r.notes,
        report_uri: reportUri(r.plan_id, r.wave_number),
      };
      const text =
        `wave ${r.wave_number} of ${r.plan_id}: ${r.status.toUpperCase()} (attempt ${r.attempt})` +
        (r.reasons.length > 0 ? `\nreasons:\n- ${r.reasons.join("\n- ")}` : "") +
        (r.actions.length > 0 ? `\nactions:\n- ${r.actions.slice(0, 20).join("\n- ")}` : "") +
        (r.merge ? `\nmerge: ${r.merge.status}${r.merge.commit ? ` ${r.merge.commit.slice(0, 12)} at ${r.merge.ref}` : ""}` : "") +
        (r.notes.length > 0 ? `\nnotes:\n- ${r.notes.join("\n- ")}` : "") +
        `\nreport: ${data.report_uri}`;
      return result(data, text);
    },
  );
}
