/**
 * The feature lifecycle: the shared coordination state of
 * parallel-execution-protocol.md §4 ("Shared State Tracking") kept in the
 * store instead of `/tmp/coordination-state.json`.
 *
 * Rules and their sources:
 * - §4.2 "Before starting": a feature starts only when every `blocked_by`
 *   feature of its plan is completed. Otherwise the start is refused as a
 *   normal result (`started: false`, naming each missing prerequisite and
 *   whether it failed or is not done) and the refusal is logged as a
 *   `dependency_violation` decision in the same transaction (§5.2
 *   "Dependency violation detected": HALT, WAIT for the completion signal).
 * - §4.2 "After completing": the feature moves to completed, its schema
 *   changes are recorded as committed, its locks are released and the
 *   dependent features it unblocks are signalled, all in one transaction.
 *   A coder paused by an open RED or algedonic signal on the feature cannot
 *   complete it (coordination-skill.md, "RED Signal Response Flow").
 * - A failed feature releases its locks, its open non-algedonic signals are
 *   resolved (the work is abandoned; algedonic ones never are), and its
 *   transitive dependents cannot start until it is started again.
 *
 * Every read-check-write is one write transaction. Key layout: records.ts
 * (`features`: `F` feature_id -> {@link FeatureRecord}; `L` feature_id `\0`
 * key -> 1 for each key write-locked for the active feature); plan specs:
 * plans.ts.
 */
import { admitActive } from "./registry/capacity.js";
import { isOrchestrator, NotPermittedError, whoIsOrchestrator, type Vouch } from "./registry/authority.js";
import { appendDecision } from "../log/decisions.js";
import type { LockManager } from "../locks/manager.js";
import type { LockMode } from "../locks/types.js";
import { getPlan, getPlanSpec, listPlans, newestPlanWith, type FeatureSpec, type PlanSpec, type PlanSummary } from "../analysis/plans.js";
import { recordActivity } from "../log/activity.js";
import { agentsOnFeature, assignFeature, getAgent, markDoneIfIdle, orchestratorInboxes, unassignFeature, withLocation, type AgentLocation } from "./registry/agents.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import { cap } from "./registry/page.js";
import { describeBlocker, featureCompleteGates } from "./gates.js";
import type { FeatureRecord, MigrationRecord, SchemaChange } from "./registry/records.js";
import { autoResolveSignals } from "./signals.js";
import { openCheckpoints, openPausingSignals, pausesFor } from "./registry/stops.js";
import { InvalidArgumentError, InvalidStateError, NotFoundError } from "../errors.js";
import { agents, features as featureRecords, integrations, meta } from "../store/schema.js";

/** Most items of any list in a lifecycle answer; the `*_total` fields count them all. */
export const LIFECYCLE_LIST_CAP = 100;

/** Who signs the decisions and notices the server writes on its own behalf. */
const SYSTEM = "signalbox";

/** Ids are parts of NUL-separated keys (records.ts): refuse a NUL byte, naming the field. */
function checkId(field: string, value: string | null | undefined): void {
  if (value?.includes("\0")) throw new InvalidArgumentError(field, `must not contain a NUL byte`);
}

/** The lifecycle record of `featureId`, or undefined if it was never started. Reads in the open transaction, if any. */
export function getFeature(env: ControlEnv, featureId: string): FeatureRecord | undefined {
  return env.txn.read().get(featureRecords.feature, [featureId]);
}

/** Every lifecycle record, by feature id. Reads in the open transaction, if any. */
export function allFeatures(env: ControlEnv): FeatureRecord[] {
  return [...env.txn.read().values(featureRecords.feature)];
}

/**
 * Note `keys` as write-locked for a feature of `agentId` (called from the lock
 * manager's `decided` hook, inside the grant's transaction): the request's
 * `feature_id` when given, else the agent's current feature; noted only if
 * the agent holds that feature active. The notes of an attempt are cleared
 * when the feature starts again. The integration report counts a changed
 * file covered by such a key as locked.
 */
export function noteLockedKeys(env: ControlEnv, agentId: string, featureId: string | null, keys: readonly string[]): void {
  let target = featureId;
  if (target === null) {
    const agent = env.txn.read().get(agents.agent, [agentId]);
    target = agent?.feature_id ?? null;
  }
  if (target === null || target.includes("\0")) return;
  const rec = getFeature(env, target);
  if (rec?.status !== "active" || rec.agent_id !== agentId) return;
  const feature = target;
  env.txn.write((tx) => {
    for (const key of keys) tx.put(featureRecords.lockedKey, [feature, key], 1);
  });
}

/** The keys noted by {@link noteLockedKeys} for `featureId`. */
export function lockedKeysOf(env: ControlEnv, featureId: string): string[] {
  return [...env.txn.read().range(featureRecords.lockedKey, { prefix: [featureId] })].map(({ key }) => key[1]);
}

/**
 * The attempt count of a feature whose records a rollback archived
 * (integration.ts, `integrations` `X` feature_id `\0` seq12): the newest
 * archived record's, or 0. A restarted feature goes on counting from it.
 */
export function archivedAttempts(env: ControlEnv, featureId: string): number {
  return env.txn.read().first(integrations.archivedFeature, { prefix: [featureId], reverse: true })?.value.attempts ?? 0;
}

/** The plan a call works in: the named one, else the newest plan containing the feature, else none. */
function resolvePlan(env: ControlEnv, featureId: string, planId: string | null | undefined): { plan_id: string; spec: PlanSpec } | null {
  const tx = env.txn.read();
  if (planId === undefined || planId === null) return newestPlanWith(tx, featureId) ?? null;
  if (getPlan(tx, planId) === undefined) {
    throw new NotFoundError("plan_id", `plan_id: no plan "${planId}"; list them at signalbox://waves`);
  }
  const spec = getPlanSpec(tx, planId);
  if (!spec) throw new InvalidStateError("plan_id", `plan_id: plan "${planId}" was stored without feature specs; plan the features again with plan_waves`);
  if (!spec.has(featureId)) throw new NotFoundError("feature_id", `feature_id: "${featureId}" is not a feature of plan "${planId}"`);
  return { plan_id: planId, spec };
}

/** A prerequisite that is not completed yet, and why. */
export interface MissingPrerequisite {
  feature_id: string;
  /** `failed`: it must be started again; `active`: in progress; `not_started`: nobody started it. */
  status: "failed" | "active" | "not_started";
}

/** Input of {@link startFeature}. */
export interface StartInput {
  feature_id: string;
  agent_id: string;
  /** Plan to check prerequisites in; default the newest plan containing the feature. */
  plan_id?: string | null;
  /**
   * The git branch holding the feature's work, already resolved by the caller
   * (the `branch` argument, else the starting server's branch; null for the
   * target branch, detached or outside git). Undefined: keep what is recorded.
   */
  branch?: string | null;
  /** Where the starting agent works (stamped on its agent record). */
  location?: AgentLocation;
}

/** The answer of {@link startFeature}. */
export interface StartResult {
  started: boolean;
  feature_id: string;
  agent_id: string;
  /** The plan whose dependencies were checked; null when no plan contains the feature (no dependencies). */
  plan_id: string | null;
  /** Starts so far, this one included when started (a failed feature may be started again). */
  attempts: number;
  /** The feature's recorded branch (null: none). */
  branch: string | null;
  /** Prerequisites not completed (first {@link LIFECYCLE_LIST_CAP}); empty when started. */
  missing: MissingPrerequisite[];
  missing_total: number;
  /** The feature's shared resources (from the plan). */
  shared_resources: string[];
  /** The `dependency_violation` decision logged for a refusal, else null. */
  decision_seq: number | null;
  instruction: string;
}

/**
 * Start `feature_id` for `agent_id` (parallel-execution-protocol §4.2 "Before
 * starting feature implementation"; §5.2 "Dependency violation detected"), in
 * one write transaction. On success the feature is active, holds the plan's
 * shared resources, and the agent is assigned to it (unknown agents are
 * registered as coders). A missing prerequisite is a normal refusal
 * (`started: false`) logged as a `dependency_violation` decision. Starting a
 * feature the same agent already has active changes nothing.
 *
 * @throws Error `feature_id`/`plan_id: must not contain a NUL byte`;
 *         `plan_id: ...` for an unknown plan (or one stored without
 *         specs), `feature_id: ...` if the feature is not in the named plan,
 *         is already completed, or is active under another agent (naming the
 *         holder). An agent may hold several active features.
 */
export function startFeature(env: ControlEnv, input: StartInput): StartResult {
  const { clock } = env;
  const { feature_id, agent_id } = input;
  checkId("feature_id", feature_id);
  checkId("plan_id", input.plan_id);
  return env.txn.write((tx): StartResult => {
    const plan = resolvePlan(env, feature_id, input.plan_id);
    const prev = getFeature(env, feature_id);
    if (prev?.status === "completed") {
      throw new InvalidStateError("feature_id", `feature_id: "${feature_id}" is already completed (by agent "${prev.agent_id}" at ${prev.ended_at ?? "?"})`);
    }
    if (prev?.status === "active" && prev.agent_id !== agent_id) {
      throw new InvalidStateError(
        "feature_id",
        `feature_id: "${feature_id}" is active, held by agent "${prev.agent_id}" since ${prev.started_at}; ask the orchestrator to reassign_feature or fail_feature it`,
      );
    }
    const spec = plan?.spec.get(feature_id);
    const shared_resources = spec?.shared_resources ?? [];
    const base = { feature_id, agent_id, plan_id: plan?.plan_id ?? null, shared_resources };
    if (prev?.status === "active") {
      let branch = prev.branch ?? null;
      if (input.branch !== undefined && input.branch !== branch) {
        branch = input.branch;
        tx.put(featureRecords.feature, [feature_id], { ...prev, branch });
      }
      stampLocation(env, agent_id, input.location);
      return { ...base, branch, started: true, attempts: prev.attempts, missing: [], missing_total: 0, decision_seq: null, instruction: "already active: continue" };
    }

    if (!getAgent(env, agent_id) && !(env.config.roles.self_register as readonly string[]).includes("coder")) {
      throw new NotPermittedError("agent_id", `"${agent_id}" is not registered, and starting a feature registers it as a coder, a role roles.self_register does not allow`, `ask ${whoIsOrchestrator(env)} to dispatch it`);
    }
    admitActive(env, agent_id, "coder", agent_id);
    const missing: MissingPrerequisite[] = [];
    for (const dep of spec?.blocked_by ?? []) {
      const rec = getFeature(env, dep);
      if (rec?.status === "completed") continue;
      missing.push({ feature_id: dep, status: rec ? rec.status : "not_started" });
    }
    if (missing.length > 0) {
      const listed = missing.map((m) => `${m.feature_id} (${m.status})`);
      const decision = appendDecision(tx, clock, {
        type: "dependency_violation",
        decided_by: SYSTEM,
        context: `agent ${agent_id} tried to start ${feature_id} (plan ${plan?.plan_id ?? "none"})`,
        decision: `refused: prerequisites not completed: ${cap(listed, 20).items.join(", ")}${missing.length > 20 ? ` and ${missing.length - 20} more` : ""}`,
        rationale: "parallel-execution-protocol §4.2/§5.2: a feature starts only when every blocked_by feature is completed",
        refs: [feature_id, agent_id, ...cap(missing, 20).items.map((m) => m.feature_id)],
      });
      recordActivity(env, {
        kind: "feature_start_refused",
        agent_id,
        feature_id,
        plan_id: plan?.plan_id ?? null,
        summary: `${agent_id} may not start ${feature_id}: ${listed.slice(0, 5).join(", ")}${listed.length > 5 ? " and more" : ""} not completed`,
        data: { missing: cap(missing, 20).items.map((m) => m.feature_id), decision_seq: decision.seq },
      });
      const failed = missing.filter((m) => m.status === "failed").map((m) => m.feature_id);
      const instruction =
        failed.length > 0
          ? `do not start: prerequisite(s) ${failed.join(", ")} failed and must be started again; tell the orchestrator`
          : `do not start: wait until ${missing.map((m) => m.feature_id).slice(0, 10).join(", ")} complete${missing.length > 10 ? " (and more)" : ""}, then start_feature again`;
      return {
        ...base,
        branch: prev?.branch ?? null,
        started: false,
        attempts: prev?.attempts ?? 0,
        missing: cap(missing, LIFECYCLE_LIST_CAP).items,
        missing_total: missing.length,
        decision_seq: decision.seq,
        instruction,
      };
    }

    const attempts = (prev?.attempts ?? archivedAttempts(env, feature_id)) + 1;
    // Locks noted for an earlier attempt ended with it: the new attempt's writes are judged on its own locks.
    for (const key of lockedKeysOf(env, feature_id)) tx.remove(featureRecords.lockedKey, [feature_id, key]);
    const rec: FeatureRecord = {
      feature_id,
      plan_id: plan?.plan_id ?? null,
      status: "active",
      agent_id,
      blocked_by: spec?.blocked_by ?? [],
      shared_resources,
      started_at: nowIso(env),
      ended_at: null,
      schema_changes: [],
      outputs: [],
      failure_reason: null,
      attempts,
      branch: input.branch ?? null,
    };
    tx.put(featureRecords.feature, [feature_id], rec);
    assignFeature(env, agent_id, feature_id);
    stampLocation(env, agent_id, input.location);
    recordActivity(env, {
      kind: "feature_started",
      agent_id,
      feature_id,
      plan_id: plan?.plan_id ?? null,
      summary: `${agent_id} started ${feature_id}${attempts > 1 ? ` (attempt ${attempts})` : ""}${rec.branch ? ` on branch ${rec.branch}` : ""}`,
      data: { attempts, branch: rec.branch ?? null },
    });
    const instruction = attempts > 1 ? `restarted (attempt ${attempts}): acquire write locks before writing` : "started: acquire write locks before writing";
    return { ...base, branch: rec.branch ?? null, started: true, attempts, missing: [], missing_total: 0, decision_seq: null, instruction };
  });
}

/** Write `loc` over the agent's recorded location. Inside a write transaction; unknown agents are left alone. */
function stampLocation(env: ControlEnv, agentId: string, loc: AgentLocation | undefined): void {
  const rec = getAgent(env, agentId);
  if (!rec || !loc) return;
  env.txn.write((tx) => tx.put(agents.agent, [agentId], withLocation(rec, loc)));
}

/** A lock ended by a lifecycle step. */
export interface ReleasedLock {
  key: string;
  mode: LockMode;
  fencing_token: number;
}

/** One schema change as a caller reports it. */
export interface SchemaChangeInput {
  table: string;
  /** e.g. create, alter, drop; default `modify`. */
  operation?: string;
}

/** Input of {@link completeFeature}. */
export interface CompleteInput {
  feature_id: string;
  agent_id: string;
  /** Tables changed; omitted: the plan's declared `schema_changes` (operation `modify`); `[]`: none. */
  schema_changes?: SchemaChangeInput[];
  /** Artifacts produced. */
  outputs?: string[];
  /** Files the work really changed (normalised keys), for the integration report. */
  files_changed?: string[];
  /** Commits made (ids), newest last: what a rollback reverts. */
  commits?: string[];
  /** Migration files added (normalised paths), with revisions for revision-based tools. */
  migrations?: MigrationRecord[];
}

/** The answer of {@link completeFeature}. */
export interface CompleteResult {
  feature_id: string;
  agent_id: string;
  plan_id: string | null;
  schema_changes: SchemaChange[];
  released: ReleasedLock[];
  released_total: number;
  /** Dependents of the feature (in its plan) whose prerequisites are now all completed and which have not started. */
  unblocks: string[];
  unblocks_total: number;
  /** Agents told (agents assigned to unblocked features and the orchestrator). */
  notified: string[];
}

/** Normalise reported tables like the planner does: NFC, trimmed, `table:` stripped. */
function normaliseChanges(featureId: string, changes: SchemaChangeInput[]): SchemaChange[] {
  const out: SchemaChange[] = [];
  changes.forEach((c, i) => {
    let table = c.table.normalize("NFC").trim();
    if (table.startsWith("table:")) table = table.slice(6).trim();
    if (table === "") throw new InvalidArgumentError(`schema_changes[${i}].table`, `is empty`);
    const operation = (c.operation ?? "modify").trim() || "modify";
    if (!out.some((o) => o.table === table && o.operation === operation)) out.push({ feature_id: featureId, table, operation, committed: true });
  });
  return out;
}

/** Migrations with each path once. @throws Error `migrations[i].path: ...` for a path listed twice. */
function uniqueMigrations(migrations: readonly MigrationRecord[]): MigrationRecord[] {
  const seen = new Set<string>();
  migrations.forEach((m, i) => {
    if (seen.has(m.path)) throw new InvalidArgumentError(`migrations[${i}].path`, `"${m.path}" is listed twice`);
    seen.add(m.path);
  });
  return migrations.map((m) => ({ path: m.path, revision: m.revision ?? null, down_revision: m.down_revision ?? null }));
}

/** The active record of `featureId` and the check that `agentId` may act on it. */
function activeRecord(env: ControlEnv, featureId: string): FeatureRecord {
  const rec = getFeature(env, featureId);
  if (!rec) throw new NotFoundError("feature_id", `feature_id: "${featureId}" was never started; start_feature first`);
  if (rec.status !== "active") {
    throw new InvalidStateError("feature_id", `feature_id: "${featureId}" is ${rec.status} (agent "${rec.agent_id}", ${rec.ended_at ?? "?"}); only an active feature can end`);
  }
  return rec;
}

/** End `holder`'s locks on `featureId` and clear its assignment. Inside a write transaction. */
function releaseWork(env: ControlEnv, locks: LockManager, holder: string, featureId: string): ReleasedLock[] {
  const released = locks.releaseFeature(holder, featureId, env.txn).released;
  unassignFeature(env, holder, featureId);
  return released;
}

/**
 * Complete `feature_id` (parallel-execution-protocol §4.2 "After completing
 * feature implementation") in one write transaction: status completed, schema
 * changes recorded as committed, outputs kept, the agent's locks for the
 * feature released (`locks.releaseFeature` joins the transaction), the
 * agent's assignment cleared, and agents on the unblocked features plus the
 * orchestrator told. What the work touched (`files_changed`, `commits`,
 * `migrations`) and the keys write-locked for the feature are kept on the
 * record for the wave's integration (integration.ts, `integrate_wave`). A
 * required `feature_complete` gate that has not passed for this attempt holds
 * the completion back (execution-template.md, "Quality Gates").
 *
 * @throws Error `feature_id: ...` if it holds a NUL byte, was never started,
 *         is not active, or a required gate has not passed (naming the gate,
 *         its criteria and the role that validates it);
 *         `agent_id: ...` if another agent holds it (naming the holder) or if
 *         an open RED or algedonic signal pauses the agent on it (naming the signal);
 *         `schema_changes[i].table: is empty`; `migrations[i].path: ...` for a
 *         migration listed twice.
 */
export function completeFeature(env: ControlEnv, locks: LockManager, input: CompleteInput): CompleteResult {
  const { feature_id, agent_id } = input;
  checkId("feature_id", feature_id);
  return env.txn.write((tx): CompleteResult => {
    const rec = activeRecord(env, feature_id);
    if (rec.agent_id !== agent_id) {
      throw new NotPermittedError("agent_id", `"${feature_id}" is held by agent "${rec.agent_id}", not "${agent_id}"`, "only its agent completes it");
    }
    const pauses = pausesFor(env, agent_id, feature_id);
    if (pauses.length > 0) {
      const s = pauses[0] as (typeof pauses)[number];
      throw new InvalidStateError(
        "agent_id",
        `agent_id: "${agent_id}" is paused by ${s.signal_id} (${s.level}${s.algedonic ? " algedonic" : ""}: ${s.summary}, from ${s.emitted_by}); ` +
          `it must be resolved (resolve_audit_signal) before ${feature_id} can complete`,
      );
    }
    const blocking = featureCompleteGates(env, feature_id, rec.attempts).filter((g) => g.required && g.status !== "passed");
    if (blocking.length > 0) {
      throw new InvalidStateError("feature_id", `feature_id: "${feature_id}" is held back by ${blocking.length} required gate(s): ${blocking.slice(0, 10).map(describeBlocker).join("; ")}`);
    }
    const spec = rec.plan_id ? getPlanSpec(tx, rec.plan_id) : undefined;
    const declared = (spec?.get(feature_id)?.schema_changes ?? []).map((table) => ({ table }));
    const schema_changes = normaliseChanges(feature_id, input.schema_changes ?? declared);
    const done: FeatureRecord = {
      ...rec,
      status: "completed",
      ended_at: nowIso(env),
      schema_changes,
      outputs: [...new Set(input.outputs ?? [])],
      failure_reason: null,
      files_changed: [...new Set(input.files_changed ?? [])],
      commits: [...new Set(input.commits ?? [])],
      migrations: uniqueMigrations(input.migrations ?? []),
      locked_keys: lockedKeysOf(env, feature_id),
      completed_seq: tx.next(meta.counter, ["completion_seq"]),
    };
    tx.put(featureRecords.feature, [feature_id], done);
    const released = releaseWork(env, locks, agent_id, feature_id);
    markDoneIfIdle(env, agent_id);
    recordActivity(env, {
      kind: "feature_completed",
      agent_id,
      feature_id,
      plan_id: rec.plan_id,
      summary: `${agent_id} completed ${feature_id}: ${done.files_changed?.length ?? 0} file(s), ${done.commits?.length ?? 0} commit(s), ${done.migrations?.length ?? 0} migration(s)`,
      data: { released: released.length },
    });

    const unblocks: string[] = [];
    if (spec) {
      for (const dep of dependentsMap(spec).get(feature_id) ?? []) {
        if (getFeature(env, dep)) continue;
        const all = (spec.get(dep)?.blocked_by ?? []).every((b) => getFeature(env, b)?.status === "completed");
        if (all) unblocks.push(dep);
      }
    }
    const notified = new Set<string>();
    if (unblocks.length > 0) {
      const onDependents = unblocks.flatMap((f) => agentsOnFeature(env, f).map((a) => a.agent_id));
      const to = [...new Set([...onDependents, ...orchestratorInboxes(env)])].filter((a) => a !== agent_id);
      if (to.length > 0) {
        deliver(env, to, {
          from: SYSTEM,
          kind: "notice",
          summary: `${feature_id} completed: ${cap(unblocks, 10).items.join(", ")}${unblocks.length > 10 ? ` and ${unblocks.length - 10} more` : ""} may start`,
          body: { feature_id, plan_id: rec.plan_id, unblocks: cap(unblocks, LIFECYCLE_LIST_CAP).items },
        });
        to.forEach((a) => notified.add(a));
      }
    }
    return {
      feature_id,
      agent_id,
      plan_id: rec.plan_id,
      schema_changes,
      released: cap(released, LIFECYCLE_LIST_CAP).items,
      released_total: released.length,
      unblocks: cap(unblocks, LIFECYCLE_LIST_CAP).items,
      unblocks_total: unblocks.length,
      notified: cap([...notified], LIFECYCLE_LIST_CAP).items,
    };
  });
}

/** Input of {@link failFeature}. */
export interface FailInput {
  feature_id: string;
  /** The feature's agent, or an agent registered with role orchestrator. */
  agent_id: string;
  reason: string;
}

/** The answer of {@link failFeature}. */
export interface FailResult {
  feature_id: string;
  /** The agent that held the feature. */
  holder: string;
  failed_by: string;
  plan_id: string | null;
  released: ReleasedLock[];
  released_total: number;
  /** Open non-algedonic signals on the feature resolved because the work is abandoned. */
  resolved_signals: string[];
  /** Algedonic signals on the feature that stay open (only an orchestrator resolves them). */
  still_open_signals: string[];
  /** Transitive dependents in the plan that cannot start now. */
  blocks: string[];
  blocks_total: number;
}

/** feature_id -> the features of `spec` that name it in `blocked_by`. */
function dependentsMap(spec: PlanSpec): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [id, s] of spec) {
    for (const b of s.blocked_by) {
      const list = map.get(b);
      if (list) list.push(id);
      else map.set(b, [id]);
    }
  }
  return map;
}

/** Breadth-first transitive dependents of `featureId` over `dependents`, the feature itself excluded. */
function reachable(dependents: Map<string, string[]>, featureId: string): string[] {
  const seen = new Set<string>([featureId]);
  const queue = [featureId];
  for (let i = 0; i < queue.length; i++) {
    for (const d of dependents.get(queue[i] as string) ?? []) {
      if (seen.has(d)) continue;
      seen.add(d);
      queue.push(d);
    }
  }
  return queue.slice(1);
}

/** Every transitive dependent of `featureId` in `spec`, breadth first, whatever its state. */
export function allDependents(spec: PlanSpec, featureId: string): string[] {
  return reachable(dependentsMap(spec), featureId);
}

/**
 * Transitive dependents of `featureId` in `spec` (breadth first) that are not
 * completed: the features that cannot start while it is failed.
 */
export function transitiveDependents(env: ControlEnv, spec: PlanSpec, featureId: string): string[] {
  return reachable(dependentsMap(spec), featureId).filter((d) => getFeature(env, d)?.status !== "completed");
}

/**
 * Mark the active `feature_id` failed in one write transaction: its holder's
 * locks on it are released and its assignment cleared; its open
 * non-algedonic signals are resolved (the work is abandoned; algedonic ones
 * stay open); the orchestrator is told which dependents are now blocked.
 * The feature may be started again with start_feature.
 *
 * @throws Error `feature_id: ...` if it holds a NUL byte, was never started or is not active;
 *         `agent_id: ...` if the caller is neither its agent nor an orchestrator.
 */
export function failFeature(env: ControlEnv, locks: LockManager, input: FailInput, vouch?: Vouch | null): FailResult {
  const { feature_id, agent_id, reason } = input;
  checkId("feature_id", feature_id);
  return env.txn.write((tx): FailResult => {
    const rec = activeRecord(env, feature_id);
    const orchestrator = isOrchestrator(env, agent_id, vouch);
    if (rec.agent_id !== agent_id && !orchestrator) {
      throw new NotPermittedError("agent_id", `"${feature_id}" is held by agent "${rec.agent_id}"; only it or an orchestrator may fail it`, `ask ${rec.agent_id} or ${whoIsOrchestrator(env)}`);
    }
    // A pause is lifted by someone else with authority: failing one's own work does not resolve what pauses oneself.
    const ownPauses = orchestrator ? new Set<string>() : new Set(pausesFor(env, agent_id, feature_id).map((s) => s.signal_id));
    tx.put(featureRecords.feature, [feature_id], { ...rec, status: "failed", ended_at: nowIso(env), failure_reason: reason } satisfies FeatureRecord);
    const released = releaseWork(env, locks, rec.agent_id, feature_id);
    recordActivity(env, {
      kind: "feature_failed",
      agent_id,
      feature_id,
      plan_id: rec.plan_id,
      summary: `${agent_id} failed ${feature_id} (held by ${rec.agent_id}): ${reason}`,
      data: { released: released.length },
    });
    const resolved = autoResolveSignals(env, (s) => s.feature_id === feature_id && !ownPauses.has(s.signal_id), agent_id, `feature ${feature_id} failed (work abandoned): ${reason}`);
    const stillOpen = openPausingSignals(env).filter((s) => s.feature_id === feature_id).map((s) => s.signal_id);
    const spec = rec.plan_id ? getPlanSpec(tx, rec.plan_id) : undefined;
    const blocks = spec ? transitiveDependents(env, spec, feature_id) : [];
    const to = orchestratorInboxes(env).filter((a) => a !== agent_id);
    if (to.length > 0) {
      deliver(env, to, {
        from: agent_id,
        kind: "notice",
        priority: "high",
        summary: `${feature_id} failed: ${reason}${blocks.length > 0 ? `; blocks ${cap(blocks, 10).items.join(", ")}${blocks.length > 10 ? " and more" : ""}` : ""}`,
        body: { feature_id, plan_id: rec.plan_id, reason, blocks: cap(blocks, LIFECYCLE_LIST_CAP).items },
      });
    }
    return {
      feature_id,
      holder: rec.agent_id,
      failed_by: agent_id,
      plan_id: rec.plan_id,
      released: cap(released, LIFECYCLE_LIST_CAP).items,
      released_total: released.length,
      resolved_signals: resolved.map((s) => s.signal_id),
      still_open_signals: stillOpen,
      blocks: cap(blocks, LIFECYCLE_LIST_CAP).items,
      blocks_total: blocks.length,
    };
  });
}

/** Most plans in the state view (newest first); `plans_omitted` counts the rest. */
export const STATE_PLAN_CAP = 10;
/** Most items of each list of the state view; the `counts` give the totals. */
export const STATE_LIST_CAP = 50;

/** One plan's progress in the state view (§4.1 per plan). Lists hold at most {@link STATE_LIST_CAP} items; `counts` counts all. */
export interface PlanState {
  plan_id: string;
  name: string | null;
  created_at: string;
  /** First wave with a feature not completed; null when every feature is completed. */
  current_wave: number | null;
  counts: { features: number; completed: number; active: number; failed: number; blocked: number; ready: number };
  completed: string[];
  active: { feature_id: string; agent_id: string }[];
  failed: { feature_id: string; agent_id: string; reason: string | null; attempts: number }[];
  /** Not started, and a (transitive) prerequisite failed: `because` names the failed ones. */
  blocked: { feature_id: string; because: string[] }[];
  /** Not started and every prerequisite completed. */
  ready: string[];
}

/** The `signalbox://state` view (parallel-execution-protocol §4.1 "Coordination State File"). */
export interface CoordinationState {
  plans: PlanState[];
  plans_omitted: number;
  /** Active features started outside any plan. */
  unplanned_active: { feature_id: string; agent_id: string }[];
  schema_changes: SchemaChange[];
  schema_changes_omitted: number;
  /** resource -> active features using it. */
  shared_resources: Record<string, { features_using: string[] }>;
  shared_resources_omitted: number;
  checkpoints: { name: string; requested_by: string; expected: string[]; arrived: string[]; missing: string[] }[];
  open_pausing_signals: number;
}

function planState(env: ControlEnv, summary: PlanSummary, records: Map<string, FeatureRecord>): PlanState {
  const tx = env.txn.read();
  const spec: PlanSpec = getPlanSpec(tx, summary.plan_id) ?? new Map<string, FeatureSpec>();
  const plan = getPlan(tx, summary.plan_id);
  const statusOf = (id: string) => records.get(id)?.status;
  const completed: string[] = [];
  const active: PlanState["active"] = [];
  const failed: PlanState["failed"] = [];
  const ready: string[] = [];
  for (const [id, s] of spec) {
    const rec = records.get(id);
    if (rec?.status === "completed") completed.push(id);
    else if (rec?.status === "active") active.push({ feature_id: id, agent_id: rec.agent_id });
    else if (rec?.status === "failed") failed.push({ feature_id: id, agent_id: rec.agent_id, reason: rec.failure_reason, attempts: rec.attempts });
    else if (s.blocked_by.every((b) => statusOf(b) === "completed")) ready.push(id);
  }
  const because = new Map<string, string[]>();
  const dependents = failed.length > 0 ? dependentsMap(spec) : new Map<string, string[]>();
  for (const f of failed) {
    for (const d of reachable(dependents, f.feature_id)) {
      if (records.has(d)) continue;
      const list = because.get(d);
      if (list) list.push(f.feature_id);
      else because.set(d, [f.feature_id]);
    }
  }
  const blocked = [...because].map(([feature_id, list]) => ({ feature_id, because: cap(list, 10).items }));
  const blockedIds = new Set(because.keys());
  const readyNow = ready.filter((id) => !blockedIds.has(id));
  const wave = plan?.waves.find((w) => w.features.some((id) => statusOf(id) !== "completed"));
  return {
    plan_id: summary.plan_id,
    name: summary.name,
    created_at: summary.created_at,
    current_wave: plan ? (wave?.wave_number ?? null) : null,
    counts: {
      features: spec.size,
      completed: completed.length,
      active: active.length,
      failed: failed.length,
      blocked: blocked.length,
      ready: readyNow.length,
    },
    completed: cap(completed, STATE_LIST_CAP).items,
    active: cap(active, STATE_LIST_CAP).items,
    failed: cap(failed, STATE_LIST_CAP).items,
    blocked: cap(blocked, STATE_LIST_CAP).items,
    ready: cap(readyNow, STATE_LIST_CAP).items,
  };
}

/**
 * The coordination state (parallel-execution-protocol §4.1), read-only: per
 * plan (newest first, at most {@link STATE_PLAN_CAP}) the current wave and the
 * completed, active, failed, blocked and ready features; every committed
 * schema change; shared resources in use by active features; open
 * checkpoints with who has not arrived; the count of open pausing signals.
 */
export function coordinationState(env: ControlEnv): CoordinationState {
  const tx = env.txn.latest();
  const features = allFeatures(env);
  const records = new Map(features.map((f) => [f.feature_id, f]));
  const summaries = listPlans(tx, STATE_PLAN_CAP);
  const planTotal = tx.get(meta.counter, ["plan_seq"]) ?? summaries.length;
  const changes = features.flatMap((f) => (f.status === "completed" ? f.schema_changes : []));
  const using = new Map<string, string[]>();
  for (const f of features) {
    if (f.status !== "active") continue;
    for (const r of f.shared_resources) {
      const list = using.get(r);
      if (list) list.push(f.feature_id);
      else using.set(r, [f.feature_id]);
    }
  }
  const resources = cap([...using], STATE_LIST_CAP);
  return {
    plans: summaries.map((s) => planState(env, s, records)),
    plans_omitted: Math.max(0, planTotal - summaries.length),
    unplanned_active: cap(
      features.filter((f) => f.status === "active" && f.plan_id === null).map((f) => ({ feature_id: f.feature_id, agent_id: f.agent_id })),
      STATE_LIST_CAP,
    ).items,
    schema_changes: cap(changes, LIFECYCLE_LIST_CAP).items,
    schema_changes_omitted: Math.max(0, changes.length - LIFECYCLE_LIST_CAP),
    shared_resources: Object.fromEntries(resources.items.map(([r, list]) => [r, { features_using: cap(list, STATE_LIST_CAP).items }])),
    shared_resources_omitted: resources.omitted,
    checkpoints: cap(openCheckpoints(env), 20).items.map((c) => {
      const arrived = c.arrived.map((a) => a.agent_id);
      return { name: c.name, requested_by: c.requested_by, expected: c.expected, arrived, missing: c.expected.filter((a) => !arrived.includes(a)) };
    }),
    open_pausing_signals: openPausingSignals(env).length,
  };
}
