/**
 * Wave integration (the synthesizer step) and rollback: what a wave of
 * parallel work really did, judged once every feature of the wave is
 * completed, and the way back when it failed.
 *
 * Rules and their sources:
 * - parallel-execution-protocol §6.1 "Integration Checkpoints": after each
 *   wave, collect all changes and verify `file_integrity` (no overwrites:
 *   a file changed by two features of the wave is an overlapping change) and
 *   `schema_integrity` (migrations sequential: migrations.ts); DESIGN.md
 *   "Integration report": a file a feature changed that it neither declared
 *   (plan `writes`) nor write-locked is an undeclared write, CRITICAL.
 * - §6.2 "Schema merge conflicts": colliding migrations are renumbered in
 *   completion order (the report says which file to rename to what); a
 *   collision alone does not fail the wave, the renaming is its resolution.
 * - execution-template.md "Quality Gates": a required `wave_integration` or
 *   `before_merge` gate that has not passed refuses the integration, naming
 *   the gate and its criteria (gates.ts). A review whose verdict is
 *   changes_requested fails the wave ("Review Process: approval mechanism").
 * - §6.3 "Rollback Protocol": identify the wave's features, revert their
 *   file changes (the commits complete_feature recorded, newest first), roll
 *   back their migrations, clear their coordination state (features back to
 *   pending, locks released), clean slate for a retry. Nothing is deleted
 *   from the history: the feature records are archived, reports of every
 *   attempt are kept, and the rollback is a decision.
 *
 * Every step is one write transaction. Key layout: records.ts
 * (`integrations`).
 */
import { requireOrchestrator, type Vouch } from "./registry/authority.js";
import { appendDecision } from "../log/decisions.js";
import type { LockManager } from "../locks/manager.js";
import { keysOverlap } from "../paths.js";
import { getPlan, getPlanSpec, type StoredPlan } from "../analysis/plans.js";
import { recordActivity } from "../log/activity.js";
import { agentsOnFeature, orchestratorInboxes, unassignFeature } from "./registry/agents.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { allDependents, getFeature, lockedKeysOf } from "./features.js";
import { describeBlocker, voidWaveResults, waveGates, type GateStatus } from "./gates.js";
import { deliver } from "./registry/inbox.js";
import { findMigrationCollisions, type MigrationCollision, type PlacedMigration } from "./migrations.js";
import { cap } from "./registry/page.js";
import type { FeatureRecord, MigrationRecord, WaveIntegrationRecord } from "./registry/records.js";
import { latestReview, withdrawReviews } from "./reviews.js";
import { clearWaveMerge, judgeChanges, putWaveMerge, type JudgedChanges, type WaveGitInput, type WaveMergeRecord } from "./wave-git.js";
import { autoResolveSignals } from "./signals.js";
import { InvalidArgumentError, InvalidStateError, NotFoundError } from "../errors.js";
import { isReadMiss } from "../store/port.js";
import { features as featureRecords, integrations, meta } from "../store/schema.js";

/** Most items of each list in an integration report or a rollback answer; `*_total` fields count them all. */
export const INTEGRATION_LIST_CAP = 200;

/** What one feature of the wave really touched: from git when it has a branch, else as complete_feature recorded it. */
export interface IntegratedFeature extends JudgedChanges {
  agent_id: string;
  attempt: number;
}

/** A file changed by a feature that neither declared it in the plan nor write-locked it. */
export interface UndeclaredWrite {
  feature_id: string;
  file: string;
  severity: "CRITICAL";
}

/** A file changed by more than one feature of the wave. */
export interface OverlappingChange {
  file: string;
  features: string[];
  severity: "HIGH";
}

/** The review standing of one feature of the wave. */
export interface ReviewStanding {
  feature_id: string;
  review_id: string | null;
  reviewer: string | null;
  status: "approved" | "changes_requested" | "open" | "none";
}

/**
 * The integration report of one attempt (`signalbox://waves/{plan_id}/integration/{wave_number}`).
 * `status` is `failed` when `reasons` is not empty.
 */
export interface IntegrationReport {
  plan_id: string;
  wave_number: number;
  attempt: number;
  status: "integrated" | "failed";
  integrated_by: string;
  at: string;
  features: IntegratedFeature[];
  undeclared_writes: UndeclaredWrite[];
  undeclared_writes_total: number;
  overlapping_changes: OverlappingChange[];
  overlapping_changes_total: number;
  migration_collisions: MigrationCollision[];
  gates: GateStatus[];
  reviews: ReviewStanding[];
  /** The speculative merge of the wave's branches (null when no feature has a branch). */
  merge: WaveMergeRecord | null;
  /** How the report was built: which features were judged from declarations and why. */
  notes: string[];
  /** Why the wave failed; empty when integrated. */
  reasons: string[];
  /** What to do now: the renumbering to apply, failures to fix. */
  actions: string[];
  decision_seq: number;
}

/** Input of {@link integrateWave}. */
export interface IntegrateInput {
  agent_id: string;
  plan_id: string;
  wave_number: number;
  /** What git says (computed by the caller before the transaction); absent: every feature is judged from its declarations. */
  git?: WaveGitInput;
}

/** Most digits of a wave number in a key (schema.ts `pad6`): a wider one names no stored wave. */
const WAVE_MAX = 999_999;

/**
 * The integration status of a wave, or undefined if it was never integrated
 * (as for a wave number too wide for a key: no such wave was ever stored).
 * Reads in the open transaction, if any.
 */
export function waveIntegration(env: ControlEnv, planId: string, waveNumber: number): WaveIntegrationRecord | undefined {
  if (!Number.isSafeInteger(waveNumber) || waveNumber < 0 || waveNumber > WAVE_MAX) return undefined;
  return env.txn.read().get(integrations.wave, [planId, waveNumber]);
}

/** The report of `attempt` (default: the latest) of a wave's integration, or undefined. */
export function integrationReport(env: ControlEnv, planId: string, waveNumber: number, attempt?: number): IntegrationReport | undefined {
  const n = attempt ?? waveIntegration(env, planId, waveNumber)?.attempt;
  if (n === undefined) return undefined;
  return env.txn.read().get(integrations.report, [planId, waveNumber, n]);
}

/** Integration status of every wave of a plan that has one, by wave number. */
export function planIntegrations(env: ControlEnv, planId: string): WaveIntegrationRecord[] {
  return [...env.txn.read().values(integrations.wave, { prefix: [planId] })];
}

/** The plan and the wave named by a call. @throws Error naming `plan_id` or `wave_number`. */
function planWave(env: ControlEnv, planId: string, waveNumber: number): { plan: StoredPlan; features: string[] } {
  if (planId.includes("\0")) throw new InvalidArgumentError("plan_id", "must not contain a NUL byte");
  const plan = getPlan(env.txn.read(), planId);
  if (!plan) throw new NotFoundError("plan_id", `plan_id: no plan "${planId}"; list them at signalbox://waves`);
  const wave = plan.waves.find((w) => w.wave_number === waveNumber);
  if (!wave) {
    const numbers = plan.waves.map((w) => w.wave_number);
    throw new NotFoundError("wave_number", `wave_number: plan "${planId}" has waves ${numbers.length > 0 ? `${Math.min(...numbers)}..${Math.max(...numbers)}` : "none"}, not ${waveNumber}`);
  }
  return { plan, features: wave.features };
}

/**
 * The lifecycle records of a wave's features in completion order, when every
 * one of them is completed; null when the plan or wave is unknown or a feature
 * is not completed (integrateWave then refuses, naming why). Read-only.
 */
export function completedWave(env: ControlEnv, planId: string, waveNumber: number): FeatureRecord[] | null {
  let ids: string[];
  try {
    ids = planWave(env, planId, waveNumber).features;
  } catch (err) {
    if (isReadMiss(err)) throw err;
    return null;
  }
  const recs = ids.map((id) => getFeature(env, id));
  if (recs.some((r) => r?.status !== "completed")) return null;
  return (recs as FeatureRecord[]).sort(byCompletion);
}

/** Does key `key` (a file, `dir/`, table or resource) cover changed file `file`? */
function covers(key: string, file: string): boolean {
  return key === file || (key.endsWith("/") && keysOverlap(key, file));
}

/** The paths migrations were renamed to by the latest integration of each other wave of the plan. */
function renamedMigrations(env: ControlEnv, planId: string, waveNumber: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const w of planIntegrations(env, planId)) {
    if (w.wave_number === waveNumber || w.status !== "integrated") continue;
    for (const c of integrationReport(env, planId, w.wave_number)?.migration_collisions ?? []) {
      for (const f of c.fixes) if (f.rename_to) out.set(f.path, f.rename_to);
    }
  }
  return out;
}

/**
 * Completion order: the store-wide completion sequence complete_feature
 * assigns (records written by an older schema lack `completed_seq` and fall
 * back to `ended_at`, then id); features not completed sort last.
 */
export function byCompletion(a: FeatureRecord, b: FeatureRecord): number {
  const rank = (f: FeatureRecord) => (f.status === "completed" ? 0 : 1);
  return (
    rank(a) - rank(b) ||
    (a.completed_seq ?? 0) - (b.completed_seq ?? 0) ||
    (a.ended_at ?? "").localeCompare(b.ended_at ?? "") ||
    a.feature_id.localeCompare(b.feature_id)
  );
}

function describeState(rec: FeatureRecord | undefined, id: string): string {
  if (!rec) return `${id} (not started)`;
  return `${id} (${rec.status}, agent ${rec.agent_id})`;
}

/**
 * Integrate wave `wave_number` of plan `plan_id` (parallel-execution-protocol
 * §6.1) in one write transaction: check that every feature of the wave is
 * completed and every required gate has passed, then judge what the
 * features recorded at completion (undeclared writes, overlapping changes,
 * migration collisions with their renumbering, gates and reviews), store the
 * report as a new attempt, mark the wave integrated or failed, log an
 * `integration` decision and an activity entry, and tell the orchestrator
 * (and the agents concerned) what failed or must be renamed.
 *
 * @throws Error `plan_id: ...` (unknown plan), `wave_number: ...` (no such
 *         wave; a feature of the wave not completed, naming each with its
 *         state; a required gate not passed, naming the gate and criteria;
 *         already integrated, saying to roll it back first).
 */
export function integrateWave(env: ControlEnv, input: IntegrateInput): IntegrationReport {
  const { clock } = env;
  const { agent_id, plan_id, wave_number } = input;
  return env.txn.write((tx): IntegrationReport => {
    const { features: ids } = planWave(env, plan_id, wave_number);
    const prev = waveIntegration(env, plan_id, wave_number);
    if (prev?.status === "integrated") {
      throw new InvalidStateError(
        "wave_number",
        `wave_number: wave ${wave_number} of plan "${plan_id}" is already integrated (attempt ${prev.attempt}, by ${prev.by} at ${prev.at}); rollback_wave first to integrate it again`,
      );
    }
    const records = ids.map((id) => ({ id, rec: getFeature(env, id) }));
    const notDone = records.filter(({ rec }) => rec?.status !== "completed");
    if (notDone.length > 0) {
      throw new InvalidStateError(
        "wave_number",
        `wave_number: wave ${wave_number} of plan "${plan_id}" is not complete: ${cap(notDone, 20).items.map(({ id, rec }) => describeState(rec, id)).join(", ")}` +
          `${notDone.length > 20 ? ` and ${notDone.length - 20} more` : ""}; integrate_wave runs once every feature of the wave is completed`,
      );
    }
    const done = records.map(({ rec }) => rec as FeatureRecord).sort(byCompletion);
    const merge = input.git?.merge ?? null;
    if (merge) putWaveMerge(env, merge);
    const gates = waveGates(env, plan_id, wave_number, done.map((f) => ({ feature_id: f.feature_id, attempt: f.attempts })));
    const blocking = gates.filter((g) => g.required && g.status !== "passed");
    // A wave whose branches do not merge fails with a report: there is no merged commit to validate.
    if (blocking.length > 0 && merge?.status !== "conflict") {
      throw new InvalidStateError(
        "wave_number",
        `wave_number: wave ${wave_number} of plan "${plan_id}" is held back by ${blocking.length} required gate(s): ` +
          `${cap(blocking, 10).items.map(describeBlocker).join("; ")}${blocking.length > 10 ? "; and more" : ""}`,
      );
    }

    const spec = getPlanSpec(tx, plan_id);
    const judged = new Map(judgeChanges(done, input.git).map((j) => [j.feature_id, j]));
    const changesOf = (f: FeatureRecord) => judged.get(f.feature_id) as JudgedChanges; // judgeChanges maps every feature
    const features: IntegratedFeature[] = done.map((f) => ({ ...changesOf(f), agent_id: f.agent_id, attempt: f.attempts }));
    const notes = features
      .filter((f) => f.source === "declared")
      .map((f) =>
        f.branch
          ? `${f.feature_id}: branch ${f.branch} could not be read from git; judged from its declared files_changed`
          : `${f.feature_id}: no branch recorded; judged from its declared files_changed`,
      );

    const undeclared: UndeclaredWrite[] = [];
    const changedBy = new Map<string, string[]>();
    for (const f of done) {
      const declared = spec?.get(f.feature_id)?.writes ?? [];
      const locked = f.locked_keys ?? lockedKeysOf(env, f.feature_id);
      const j = changesOf(f);
      const touched = new Set([...j.files_changed, ...j.migrations.map((m) => m.path)]);
      for (const file of touched) {
        changedBy.set(file, [...(changedBy.get(file) ?? []), f.feature_id]);
        if (!declared.some((k) => covers(k, file)) && !locked.some((k) => covers(k, file))) {
          undeclared.push({ feature_id: f.feature_id, file, severity: "CRITICAL" });
        }
      }
    }
    const overlapping: OverlappingChange[] = [...changedBy]
      .filter(([, by]) => by.length > 1)
      .map(([file, by]) => ({ file, features: by, severity: "HIGH" as const }));

    const inWave = new Set(ids);
    const renamed = renamedMigrations(env, plan_id, wave_number);
    const before: MigrationRecord[] = [];
    for (const [id] of spec ?? new Map<string, unknown>()) {
      if (inWave.has(id)) continue;
      const rec = getFeature(env, id);
      if (rec?.status !== "completed") continue;
      for (const m of rec.migrations ?? []) before.push({ ...m, path: renamed.get(m.path) ?? m.path });
    }
    const placed: PlacedMigration[] = done.flatMap((f) => changesOf(f).migrations.map((migration) => ({ feature_id: f.feature_id, migration })));
    const collisions = findMigrationCollisions(placed, before);

    const reviews: ReviewStanding[] = done.map((f) => {
      const r = latestReview(env, f.feature_id, f.attempts);
      if (!r) return { feature_id: f.feature_id, review_id: null, reviewer: null, status: "none" };
      const status = r.status === "approved" || r.status === "changes_requested" || r.status === "open" ? r.status : "none";
      return { feature_id: f.feature_id, review_id: r.review_id, reviewer: r.reviewer, status };
    });

    const reasons: string[] = [];
    const actions: string[] = [];
    if (undeclared.length > 0) {
      reasons.push(
        `CRITICAL: ${undeclared.length} undeclared write(s): ${cap(undeclared, 10).items.map((u) => `${u.file} by ${u.feature_id}`).join(", ")}${undeclared.length > 10 ? " and more" : ""}`,
      );
      actions.push("for each undeclared write: review the change with the feature's agent, then roll the wave back or declare the file and integrate again");
    }
    if (overlapping.length > 0) {
      reasons.push(`${overlapping.length} file(s) changed by more than one feature: ${cap(overlapping, 10).items.map((o) => `${o.file} (${o.features.join(", ")})`).join(", ")}`);
      actions.push("merge the overlapping changes by hand and run the combined tests (parallel-execution-protocol §6.2)");
    }
    for (const r of reviews) {
      if (r.status === "changes_requested") reasons.push(`review ${r.review_id} of ${r.feature_id} by ${r.reviewer} requested changes`);
    }
    if (merge?.first_conflict) {
      const c = merge.first_conflict;
      reasons.push(`branch ${c.branch} of ${c.feature_id} does not merge cleanly onto ${merge.target} with the wave's earlier branches: ${cap(c.files, 10).items.join(", ")}${c.files.length > 10 ? " and more" : ""}`);
      actions.push(`rebase ${c.branch} onto the wave's earlier branches (or ${merge.target}) and resolve ${c.files.length} conflicting file(s), then integrate again`);
    } else if (merge?.commit) {
      actions.push(`test the wave's merged commit ${merge.commit.slice(0, 12)} (${merge.ref}); wave gate results count for that commit`);
    }
    for (const c of collisions) for (const fix of c.fixes) actions.push(fix.action);
    for (const g of gates) {
      if (!g.required && g.status !== "passed") actions.push(`optional gate "${g.gate}" ${g.status}${g.feature_id ? ` for ${g.feature_id}` : ""}`);
    }
    const status = reasons.length > 0 ? "failed" : "integrated";
    const attempt = (prev?.attempt ?? 0) + 1;
    const at = nowIso(env);
    const decision = appendDecision(tx, clock, {
      type: "integration",
      decided_by: agent_id,
      context: `wave ${wave_number} of plan ${plan_id} (attempt ${attempt}): ${cap(ids, 20).items.join(", ")}${ids.length > 20 ? " and more" : ""}`,
      decision: status === "integrated" ? `integrated${collisions.length > 0 ? ` with ${collisions.length} migration collision(s) to renumber` : ""}` : `failed: ${reasons.join("; ")}`,
      rationale: "parallel-execution-protocol §6.1 Integration Checkpoints: verify no overwrites, sequential migrations, gates passed",
      refs: [plan_id, `wave ${wave_number}`, ...cap(ids, 20).items],
    });
    const report: IntegrationReport = {
      plan_id,
      wave_number,
      attempt,
      status,
      integrated_by: agent_id,
      at,
      features: cap(features, INTEGRATION_LIST_CAP).items,
      undeclared_writes: cap(undeclared, INTEGRATION_LIST_CAP).items,
      undeclared_writes_total: undeclared.length,
      overlapping_changes: cap(overlapping, INTEGRATION_LIST_CAP).items,
      overlapping_changes_total: overlapping.length,
      migration_collisions: cap(collisions, INTEGRATION_LIST_CAP).items,
      gates,
      reviews,
      merge,
      notes,
      reasons,
      actions: cap(actions, INTEGRATION_LIST_CAP).items,
      decision_seq: decision.seq,
    };
    tx.put(integrations.report, [plan_id, wave_number, attempt], report);
    tx.put(integrations.wave, [plan_id, wave_number], {
      plan_id,
      wave_number,
      status,
      attempt,
      at,
      by: agent_id,
      reasons,
      decision_seq: decision.seq,
    } satisfies WaveIntegrationRecord);
    recordActivity(env, {
      kind: status === "integrated" ? "wave_integrated" : "wave_integration_failed",
      agent_id,
      plan_id,
      summary: `${agent_id} integrated wave ${wave_number} of ${plan_id}: ${status}${reasons.length > 0 ? ` (${reasons[0]})` : ""}`,
      data: { wave_number, attempt, undeclared: undeclared.length, overlapping: overlapping.length, collisions: collisions.length },
    });
    const concerned = new Set<string>(orchestratorInboxes(env));
    if (status === "failed") for (const u of undeclared) concerned.add(done.find((f) => f.feature_id === u.feature_id)?.agent_id ?? "");
    for (const c of collisions) for (const fix of c.fixes) concerned.add(done.find((f) => f.feature_id === fix.feature_id)?.agent_id ?? "");
    concerned.delete("");
    concerned.delete(agent_id);
    if (concerned.size > 0 && (status === "failed" || actions.length > 0)) {
      deliver(env, [...concerned], {
        from: agent_id,
        kind: "integration",
        priority: status === "failed" ? "high" : "normal",
        summary: `wave ${wave_number} of ${plan_id}: ${status}${reasons.length > 0 ? `: ${reasons[0]}` : `; ${actions.length} action(s)`}`,
        body: { plan_id, wave_number, attempt, status, reasons, actions: cap(actions, 20).items },
        ref: { kind: "integration", id: `${plan_id}/${wave_number}` },
      });
    }
    return report;
  });
}

/** Input of {@link rollbackWave}. */
export interface RollbackInput {
  /** An agent registered with role orchestrator. */
  agent_id: string;
  plan_id: string;
  wave_number: number;
  reason: string;
}

/** The answer of {@link rollbackWave}: what was undone in the store and what to undo in the repository. */
export interface RollbackResult {
  plan_id: string;
  wave_number: number;
  /** Features returned to pending (their records archived). */
  features: string[];
  released: { key: string; feature_id: string; agent_id: string; fencing_token: number }[];
  released_total: number;
  /** Commits to revert, newest first (the reverse of completion order). */
  commits_to_revert: { feature_id: string; commit: string }[];
  /** Migrations to roll back, newest first, under the names an integration of the wave renumbered them to. */
  migrations_to_roll_back: { feature_id: string; path: string }[];
  /** Open reviews withdrawn and open non-algedonic signals resolved with the work. */
  withdrawn_reviews: string[];
  resolved_signals: string[];
  /** Features outside the wave that depend on it and have started or completed: the orchestrator decides about them. */
  dependents_affected: string[];
  decision_seq: number;
}

/**
 * Roll back wave `wave_number` of plan `plan_id` (parallel-execution-protocol
 * §6.3) in one write transaction: every feature of the wave that has a
 * lifecycle record returns to pending (the record is archived under `X`, the
 * feature's attempt count carries over to its next start), the locks held
 * for those features are released, their open reviews are withdrawn and their
 * open non-algedonic signals resolved; the commits to revert and migrations
 * to roll back are listed newest first from what complete_feature recorded;
 * passing results of the wave's `wave_integration` gates are voided (a failed
 * result is appended: the new work must be validated again);
 * the wave is marked rolled_back, a `rollback` decision and an activity
 * entry are written, and the agents concerned and the orchestrator are told.
 *
 * @throws Error `agent_id: ...` unless the caller is registered with role
 *         orchestrator; `plan_id: ...` / `wave_number: ...` for an unknown
 *         plan or wave, or a wave none of whose features has started.
 */
export function rollbackWave(env: ControlEnv, locks: LockManager, input: RollbackInput, vouch?: Vouch | null): RollbackResult {
  const { clock } = env;
  const { agent_id, plan_id, wave_number, reason } = input;
  return env.txn.write((tx): RollbackResult => {
    requireOrchestrator(env, agent_id, vouch, "agent_id", "roll back a wave");
    const { features: ids } = planWave(env, plan_id, wave_number);
    const live = ids.map((id) => getFeature(env, id)).filter((r): r is FeatureRecord => r !== undefined);
    if (live.length === 0) throw new InvalidStateError("wave_number", `wave_number: nothing to roll back: no feature of wave ${wave_number} of plan "${plan_id}" has started`);
    // Not completed (active, failed) sorts as newest: its commits, if any, came last.
    const newestFirst = [...live].sort((a, b) => byCompletion(b, a));
    // An integrated wave's migrations were renumbered as its report said; a failed one's never were.
    const renamed = new Map<string, string>();
    if (waveIntegration(env, plan_id, wave_number)?.status === "integrated") {
      for (const c of integrationReport(env, plan_id, wave_number)?.migration_collisions ?? []) {
        for (const f of c.fixes) if (f.rename_to) renamed.set(f.path, f.rename_to);
      }
    }
    const commits = newestFirst.flatMap((f) => [...(f.commits ?? [])].reverse().map((commit) => ({ feature_id: f.feature_id, commit })));
    const migrations = newestFirst.flatMap((f) =>
      [...(f.migrations ?? [])].reverse().map((m) => ({ feature_id: f.feature_id, path: renamed.get(m.path) ?? m.path })),
    );

    const at = nowIso(env);
    const released: RollbackResult["released"] = [];
    const withdrawn: string[] = [];
    const resolved: string[] = [];
    for (const f of live) {
      const holders = new Set([f.agent_id, ...agentsOnFeature(env, f.feature_id).map((a) => a.agent_id), ...locks.holdersOfFeature(f.feature_id, env.txn)]);
      for (const holder of holders) {
        for (const l of locks.releaseFeature(holder, f.feature_id, env.txn).released) {
          released.push({ key: l.key, feature_id: f.feature_id, agent_id: holder, fencing_token: l.fencing_token });
        }
        unassignFeature(env, holder, f.feature_id);
      }
      withdrawn.push(...withdrawReviews(env, f.feature_id, `wave ${wave_number} rolled back: ${reason}`));
      resolved.push(
        ...autoResolveSignals(env, (s) => s.feature_id === f.feature_id, agent_id, `wave ${wave_number} of ${plan_id} rolled back: ${reason}`).map(
          (s) => s.signal_id,
        ),
      );
      const lockedKeys = f.locked_keys ?? lockedKeysOf(env, f.feature_id);
      for (const key of lockedKeysOf(env, f.feature_id)) tx.remove(featureRecords.lockedKey, [f.feature_id, key]);
      const archived: FeatureRecord = { ...f, locked_keys: lockedKeys, rolled_back: { plan_id, wave_number, reason, by: agent_id, at } };
      tx.put(integrations.archivedFeature, [f.feature_id, tx.next(meta.counter, ["archive_seq"])], archived);
      tx.remove(featureRecords.feature, [f.feature_id]);
    }

    const voidedGates = voidWaveResults(env, plan_id, wave_number, agent_id, reason);
    clearWaveMerge(env, plan_id, wave_number);
    const spec = getPlanSpec(tx, plan_id);
    const inWave = new Set(ids);
    const affected = new Set<string>();
    if (spec) {
      for (const f of live) {
        for (const d of allDependents(spec, f.feature_id)) if (!inWave.has(d) && getFeature(env, d)) affected.add(d);
      }
    }
    const prev = waveIntegration(env, plan_id, wave_number);
    const decision = appendDecision(tx, clock, {
      type: "rollback",
      decided_by: agent_id,
      context: `wave ${wave_number} of plan ${plan_id}${prev ? ` (integration attempt ${prev.attempt}: ${prev.status})` : " (never integrated)"}`,
      decision: `roll back ${live.length} feature(s): ${cap(live, 20).items.map((f) => f.feature_id).join(", ")}; revert ${commits.length} commit(s), roll back ${migrations.length} migration(s)`,
      rationale: reason,
      refs: [plan_id, `wave ${wave_number}`, ...cap(live, 20).items.map((f) => f.feature_id)],
    });
    tx.put(integrations.wave, [plan_id, wave_number], {
      plan_id,
      wave_number,
      status: "rolled_back",
      attempt: prev?.attempt ?? 0,
      at,
      by: agent_id,
      reasons: [reason],
      decision_seq: decision.seq,
    } satisfies WaveIntegrationRecord);
    recordActivity(env, {
      kind: "wave_rolled_back",
      agent_id,
      plan_id,
      summary: `${agent_id} rolled back wave ${wave_number} of ${plan_id}: ${reason}`,
      data: { wave_number, features: cap(live, 20).items.map((f) => f.feature_id), commits: commits.length, migrations: migrations.length, voided_gates: voidedGates },
    });
    const to = new Set([...orchestratorInboxes(env), ...live.map((f) => f.agent_id)]);
    to.delete(agent_id);
    if (to.size > 0) {
      deliver(env, [...to], {
        from: agent_id,
        kind: "integration",
        priority: "high",
        summary: `wave ${wave_number} of ${plan_id} rolled back: ${reason}; its features are pending again`,
        body: { plan_id, wave_number, features: live.map((f) => f.feature_id), commits_to_revert: cap(commits, 50).items, migrations_to_roll_back: cap(migrations, 50).items },
        ref: { kind: "integration", id: `${plan_id}/${wave_number}` },
      });
    }
    return {
      plan_id,
      wave_number,
      features: live.map((f) => f.feature_id),
      released: cap(released, INTEGRATION_LIST_CAP).items,
      released_total: released.length,
      commits_to_revert: cap(commits, INTEGRATION_LIST_CAP).items,
      migrations_to_roll_back: cap(migrations, INTEGRATION_LIST_CAP).items,
      withdrawn_reviews: withdrawn,
      resolved_signals: resolved,
      dependents_affected: [...affected],
      decision_seq: decision.seq,
    };
  });
}
