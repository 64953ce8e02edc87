/**
 * Quality gates (execution-template.md, "Quality Gates": trigger, criteria,
 * responsible agent, pass/fail actions; README, "Quality gates, peer review,
 * integration, emergencies").
 *
 * Rules:
 * - A gate is named; `define_gate` creates it or redefines it. A redefinition
 *   that changes anything raises `revision`, and results recorded under an
 *   older revision stop counting; sending the same definition again changes
 *   nothing. Each (re)definition is logged as a decision (type `gate`).
 * - Targets: a `feature_complete` or `before_merge` gate is about a feature
 *   (its current attempt: `FeatureRecord.attempts`, so a restarted feature
 *   needs new results); a `wave_integration` gate is about one wave of a plan.
 * - Only an agent registered with the gate's responsible role, or with role
 *   orchestrator, records a result. A failed result tells the feature's agent
 *   (for a wave: the orchestrator), inbox kind `gate`.
 * - Status of a gate for a target ({@link GateStatus}): the newest result of
 *   the gate's current revision (for a feature, of its current attempt):
 *   none -> `missing`; not passed -> `failed`; passed, but the gate
 *   `requires_review` and the feature's (for a wave gate: each wave
 *   feature's) latest review (reviews.ts {@link latestReview}) is not
 *   approved -> `review_missing`; else `passed`.
 * - What a gate holds back (complete_feature, integrate_wave) is decided by
 *   the callers of {@link featureCompleteGates} and {@link waveGates}.
 *
 * Every read-check-write is one write transaction. Key layout: store/schema.ts
 * (`quality`: `gate` `G` name -> {@link GateRecord}; `gateResultOfFeature`
 * `g` gate `\0` `F`feature_id `\0` seq12 and `gateResultOfWave` `g` gate `\0`
 * `W`plan_id `\0` wave6 `\0` seq12 -> {@link GateResultRecord}).
 */
import { isOrchestrator, NotPermittedError, requireOrchestrator, whoIsOrchestrator, type Vouch } from "./registry/authority.js";
import { appendDecision, type DecisionType } from "../log/decisions.js";
import { recordActivity } from "../log/activity.js";
import { getAgent, orchestratorInboxes } from "./registry/agents.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import type { FeatureRecord, GateRecord, GateResultRecord, GateTrigger, Role } from "./registry/records.js";
import { latestReview } from "./reviews.js";
import { currentWaveMerge } from "./wave-git.js";
import { InvalidArgumentError, InvalidStateError, NotFoundError } from "../errors.js";
import { features as featureRecords, meta, plans, quality } from "../store/schema.js";
import type { ReadTxn, WriteTxn } from "../store/txn.js";

/** Decision type of gate definitions (src/log/decisions.ts DECISION_TYPES). */
const GATE_DECISION: DecisionType = "gate";

/** Longest criteria or evidence text quoted in a one-line message (characters). */
const QUOTE_MAX = 200;

/** Status of one gate for one target. A feature target has `feature_id` (plan_id and wave_number null); a wave target the reverse. */
export interface GateStatus {
  gate: string;
  trigger: GateTrigger;
  required: boolean;
  criteria: string;
  responsible_role: Role;
  feature_id: string | null;
  plan_id: string | null;
  wave_number: number | null;
  status: "passed" | "failed" | "missing" | "review_missing";
  /** For a wave whose branches were merged: the merged commit a result must be about; else null. */
  commit: string | null;
  /** Evidence of the result the status comes from; null when missing. */
  evidence: string | null;
  recorded_by: string | null;
}

/** A feature and the attempt a status is about. */
export interface FeatureAttempt {
  feature_id: string;
  attempt: number;
}

/** Ids are parts of NUL-separated keys (records.ts): refuse a NUL byte, naming the field. */
function checkId(field: string, value: string | null | undefined): void {
  if (value?.includes("\0")) throw new InvalidArgumentError(field, `must not contain a NUL byte`);
}

/** What a gate result is about: a feature, or one wave of a plan. */
type Target = { feature_id: string } | { plan_id: string; wave_number: number };

/** One line of free text, cut to {@link QUOTE_MAX} characters. */
function quote(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > QUOTE_MAX ? `${line.slice(0, QUOTE_MAX - 1)}…` : line;
}

/**
 * The lifecycle record of `featureId` (records.ts `features` `F` key), read
 * directly: features.ts calls this module, so importing it back would make a cycle.
 */
function getFeature(env: ControlEnv, featureId: string): FeatureRecord | undefined {
  return env.txn.read().get(featureRecords.feature, [featureId]);
}

/** One gate by name, or undefined. Reads in the open transaction, if any. */
export function getGate(env: ControlEnv, name: string): GateRecord | undefined {
  return env.txn.read().get(quality.gate, [name]);
}

/** Every gate, by name. Reads in the open transaction, if any. */
export function allGates(env: ControlEnv): GateRecord[] {
  return [...env.txn.read().values(quality.gate)];
}

/** Results of `gate` for `target`, newest first. */
function resultsFor(tx: ReadTxn, gate: string, target: Target): Iterable<GateResultRecord> {
  return "feature_id" in target
    ? tx.values(quality.gateResultOfFeature, { prefix: [gate, target.feature_id], reverse: true })
    : tx.values(quality.gateResultOfWave, { prefix: [gate, target.plan_id, target.wave_number], reverse: true });
}

/** Store `result` (its `seq` and `gate` set) as a result for `target`. */
function putResult(tx: WriteTxn, target: Target, result: GateResultRecord): void {
  if ("feature_id" in target) tx.put(quality.gateResultOfFeature, [result.gate, target.feature_id, result.seq], result);
  else tx.put(quality.gateResultOfWave, [result.gate, target.plan_id, target.wave_number, result.seq], result);
}

/**
 * The newest result that counts: of the gate's current revision; for a
 * feature, of `attempt`; for a wave whose branches were merged (wave-git.ts),
 * of the wave's current merged commit (`commit`: a result about another
 * commit, or none, validated other code).
 */
function countingResult(env: ControlEnv, gate: GateRecord, target: Target, attempt: number | null, commit: string | null = null): GateResultRecord | undefined {
  for (const r of resultsFor(env.txn.read(), gate.name, target)) {
    if (r.gate_revision !== gate.revision) continue;
    if (attempt !== null && r.feature_attempt !== attempt) continue;
    if (commit !== null && r.commit !== commit) continue;
    return r;
  }
  return undefined;
}

/** The commit a wave gate result must be about: the wave's current merged commit; null when its branches were never merged. */
function waveCommit(env: ControlEnv, planId: string, waveNumber: number): string | null {
  const merge = currentWaveMerge(env, planId, waveNumber);
  if (!merge) return null;
  return merge.commit ?? "(no merged commit: the wave's branches conflict)";
}

/** Is the latest review of every feature approved? */
function reviewsApproved(env: ControlEnv, features: readonly FeatureAttempt[]): boolean {
  return features.every((f) => latestReview(env, f.feature_id, f.attempt)?.status === "approved");
}

function statusOf(
  env: ControlEnv,
  gate: GateRecord,
  target: { feature: FeatureAttempt } | { plan_id: string; wave_number: number; features: readonly FeatureAttempt[] },
): GateStatus {
  const isFeature = "feature" in target;
  const commit = isFeature ? null : waveCommit(env, target.plan_id, target.wave_number);
  const result = isFeature
    ? countingResult(env, gate, { feature_id: target.feature.feature_id }, target.feature.attempt)
    : countingResult(env, gate, { plan_id: target.plan_id, wave_number: target.wave_number }, null, commit);
  let status: GateStatus["status"];
  if (!result) status = "missing";
  else if (!result.passed) status = "failed";
  else if (gate.requires_review && !reviewsApproved(env, isFeature ? [target.feature] : target.features)) status = "review_missing";
  else status = "passed";
  return {
    gate: gate.name,
    trigger: gate.trigger,
    required: gate.required,
    criteria: gate.criteria,
    responsible_role: gate.responsible_role,
    feature_id: isFeature ? target.feature.feature_id : null,
    plan_id: isFeature ? null : target.plan_id,
    wave_number: isFeature ? null : target.wave_number,
    status,
    commit,
    evidence: result?.evidence ?? null,
    recorded_by: result?.recorded_by ?? null,
  };
}

/**
 * Status of every `feature_complete` gate (required and optional) for
 * `featureId`'s attempt `attempt`, by gate name. complete_feature is held
 * back by each required one whose status is not `passed`.
 */
export function featureCompleteGates(env: ControlEnv, featureId: string, attempt: number): GateStatus[] {
  return allGates(env)
    .filter((g) => g.trigger === "feature_complete")
    .map((g) => statusOf(env, g, { feature: { feature_id: featureId, attempt } }));
}

/**
 * Status of every `wave_integration` gate for wave `waveNumber` of `planId`
 * (a `requires_review` wave gate needs an approved review of each of
 * `features`), then of every `before_merge` gate for each of `features`
 * (with its attempt), by gate name then feature order. integrate_wave is
 * held back by each required one whose status is not `passed`.
 */
export function waveGates(env: ControlEnv, planId: string, waveNumber: number, features: { feature_id: string; attempt: number }[]): GateStatus[] {
  const gates = allGates(env);
  const wave = gates
    .filter((g) => g.trigger === "wave_integration")
    .map((g) => statusOf(env, g, { plan_id: planId, wave_number: waveNumber, features }));
  const merge = gates
    .filter((g) => g.trigger === "before_merge")
    .flatMap((g) => features.map((f) => statusOf(env, g, { feature: f })));
  return [...wave, ...merge];
}

/**
 * One line for a refusal: `Gate "X" (criteria: ...; validated by role R) has
 * not passed for feature F: failed: <evidence> (recorded by A)`; for a
 * `missing` or `review_missing` status it says what to do next. Criteria and
 * evidence are quoted on one line, cut to 200 characters.
 */
export function describeBlocker(s: GateStatus): string {
  const target = s.feature_id !== null ? `feature ${s.feature_id}` : `wave ${s.wave_number ?? "?"} of plan ${s.plan_id ?? "?"}`;
  const head = `Gate "${s.gate}" (criteria: ${quote(s.criteria)}; validated by role ${s.responsible_role})`;
  switch (s.status) {
    case "missing":
      return s.commit !== null
        ? `${head} has not passed for ${target}: missing (no result for the wave's merged commit ${s.commit}; test it and record_gate_result with that commit, by role ${s.responsible_role} or an orchestrator)`
        : `${head} has not passed for ${target}: missing (no result yet; record_gate_result by role ${s.responsible_role} or an orchestrator)`;
    case "failed":
      return `${head} has not passed for ${target}: failed: ${quote(s.evidence ?? "")} (recorded by ${s.recorded_by ?? "?"})`;
    case "review_missing":
      return `${head} has not passed for ${target}: review_missing (the result passed, but ${s.feature_id !== null ? "the feature has" : "not every feature of the wave has"} an approved review: request_review, submit_review)`;
    case "passed":
      return `${head} passed for ${target}`;
  }
}

/** What `define_gate` supplies. */
export interface GateDefinition {
  agent_id: string;
  name: string;
  trigger: GateTrigger;
  criteria: string;
  responsible_role: Role;
  /** Default true: the gate holds back what it guards until it passes. */
  required?: boolean;
  /** Default false: the gate also needs an approved peer review. */
  requires_review?: boolean;
}

/** The answer of {@link defineGate}. */
export interface DefineResult {
  gate: GateRecord;
  /** False when the same definition was sent again (nothing changed, nothing logged). */
  changed: boolean;
  /** Results of the previous revision that stopped counting with this one. */
  stale_results: number;
  decision_seq: number | null;
}

function sameDefinition(a: GateRecord, b: Omit<GateRecord, "revision" | "defined_by" | "defined_at">): boolean {
  return a.trigger === b.trigger && a.criteria === b.criteria && a.responsible_role === b.responsible_role && a.required === b.required && a.requires_review === b.requires_review;
}

/**
 * Create or redefine gate `name` in one write transaction, log the decision
 * (type `gate`) and record activity `gate_defined`. A redefinition raises
 * the revision (older results stop counting); an identical one changes nothing.
 *
 * @throws Error `name: ...` if it holds a NUL byte; `criteria: ...` if blank.
 */
export function defineGate(env: ControlEnv, input: GateDefinition, vouch?: Vouch | null): DefineResult {
  const { clock } = env;
  checkId("name", input.name);
  const criteria = input.criteria.trim();
  if (criteria === "") throw new InvalidArgumentError("criteria", "expected what must be validated, got blank text");
  const next = {
    name: input.name,
    trigger: input.trigger,
    criteria,
    responsible_role: input.responsible_role,
    required: input.required ?? true,
    requires_review: input.requires_review ?? false,
  };
  return env.txn.write((tx): DefineResult => {
    requireOrchestrator(env, input.agent_id, vouch, "agent_id", `${getGate(env, input.name) ? "redefine" : "define"} a gate`);
    const prev = getGate(env, input.name);
    if (prev && sameDefinition(prev, next)) return { gate: prev, changed: false, stale_results: 0, decision_seq: null };
    const gate: GateRecord = { ...next, revision: (prev?.revision ?? 0) + 1, defined_by: input.agent_id, defined_at: nowIso(env) };
    tx.put(quality.gate, [gate.name], gate);
    let stale = 0;
    if (prev) {
      // Every result of the gate: its feature targets (`F`...) and its wave targets (`W`...).
      const results = [
        tx.values(quality.gateResultOfFeature, { prefix: [gate.name], startsWith: "F" }),
        tx.values(quality.gateResultOfWave, { prefix: [gate.name], startsWith: "W" }),
      ];
      for (const rs of results) for (const r of rs) if (r.gate_revision === prev.revision) stale++;
    }
    const what =
      `gate "${gate.name}" (${gate.trigger}, ${gate.required ? "required" : "optional"}${gate.requires_review ? ", needs an approved review" : ""}): ` +
      `${quote(gate.criteria)}; validated by role ${gate.responsible_role}`;
    const decision = appendDecision(tx, clock, {
      type: GATE_DECISION,
      decided_by: input.agent_id,
      context: prev ? `redefinition of gate "${gate.name}" revision ${prev.revision} (${quote(prev.criteria)})` : `new quality gate "${gate.name}"`,
      decision: `${prev ? `revision ${gate.revision} of` : "define"} ${what}`,
      rationale: prev
        ? `results of revision ${prev.revision} (${stale}) no longer count`
        : "execution-template.md, Quality Gates: a required gate that has not passed holds back what it guards",
      refs: [gate.name],
    });
    recordActivity(env, {
      kind: "gate_defined",
      agent_id: input.agent_id,
      summary: `${input.agent_id} ${prev ? "redefined" : "defined"} ${what}`,
      data: { gate: gate.name, revision: gate.revision, trigger: gate.trigger, required: gate.required, requires_review: gate.requires_review, stale_results: stale },
    });
    return { gate, changed: true, stale_results: stale, decision_seq: decision.seq };
  });
}

/** What `record_gate_result` supplies: a feature target or a wave target, per the gate's trigger. */
export interface GateResultInput {
  agent_id: string;
  gate: string;
  feature_id?: string | null;
  plan_id?: string | null;
  wave_number?: number | null;
  /**
   * The commit validated (full id, resolved by the caller). A wave whose
   * branches were merged counts only results about its current merged commit;
   * a different commit is refused.
   */
  commit?: string | null;
  passed: boolean;
  evidence: string;
}

/** The answer of {@link recordGateResult}. */
export interface RecordResult {
  result: GateResultRecord;
  /** The gate's status for the target after this result (review_missing: passed but no approved review yet). */
  status: GateStatus;
  /** Who was told of a failed result. */
  notified: string[];
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Refuse target fields that do not fit the gate's trigger, naming the field. */
function checkTargetFields(gate: GateRecord, input: GateResultInput): void {
  const label = `gate "${gate.name}" (trigger ${gate.trigger})`;
  if (gate.trigger === "wave_integration") {
    if (present(input.feature_id)) throw new InvalidArgumentError("feature_id", `${label} is about a wave: give plan_id and wave_number, not feature_id`);
    if (!present(input.plan_id)) throw new InvalidArgumentError("plan_id", `${label} is about a wave: give plan_id and wave_number`);
    if (!present(input.wave_number)) throw new InvalidArgumentError("wave_number", `${label} is about a wave: give plan_id and wave_number`);
    return;
  }
  if (present(input.plan_id)) throw new InvalidArgumentError("plan_id", `${label} is about a feature: give feature_id, not plan_id`);
  if (present(input.wave_number)) throw new InvalidArgumentError("wave_number", `${label} is about a feature: give feature_id, not wave_number`);
  if (!present(input.feature_id)) throw new InvalidArgumentError("feature_id", `${label} is about a feature: give feature_id`);
}

/** Refuse a recorder that is neither registered with the responsible role nor an orchestrator. */
function checkRecorder(env: ControlEnv, gate: GateRecord, agentId: string, vouch: Vouch | null | undefined): void {
  if (isOrchestrator(env, agentId, vouch)) return;
  const agent = getAgent(env, agentId);
  const rule = `gate "${gate.name}" is validated by role ${gate.responsible_role}`;
  const instead = `ask an agent with role ${gate.responsible_role}, or ${whoIsOrchestrator(env)}`;
  if (!agent) throw new NotPermittedError("agent_id", `${rule}; "${agentId}" is not registered`, instead);
  if (agent.role !== gate.responsible_role) throw new NotPermittedError("agent_id", `${rule}; "${agentId}" has role ${agent.role}`, instead);
}

/**
 * Record a result of gate `gate` for a feature (its current attempt) or a
 * wave, in one write transaction; a failed result tells the feature's agent
 * (a wave's: the orchestrator) with inbox kind `gate`; activity `gate_result`.
 * Returns the gate's status for the target afterwards.
 *
 * @throws Error `gate: ...` for an unknown gate; `feature_id`/`plan_id`/
 *         `wave_number: ...` for target fields that do not fit the gate's
 *         trigger, an unknown plan or wave, or a feature never started;
 *         `agent_id: ...` when the recorder is unregistered or lacks the
 *         gate's responsible role (naming both roles).
 */
export function recordGateResult(env: ControlEnv, input: GateResultInput, vouch?: Vouch | null): RecordResult {
  checkId("gate", input.gate);
  checkId("feature_id", input.feature_id);
  checkId("plan_id", input.plan_id);
  return env.txn.write((tx): RecordResult => {
    const gate = getGate(env, input.gate);
    if (!gate) {
      const names = allGates(env).map((g) => g.name);
      throw new NotFoundError(
        "gate",
        `gate: no gate "${input.gate}"; define it with define_gate${names.length > 0 ? ` (defined: ${names.slice(0, 20).join(", ")}${names.length > 20 ? ", ..." : ""})` : ""}`,
      );
    }
    checkTargetFields(gate, input);
    checkRecorder(env, gate, input.agent_id, vouch);

    // The target first (refusals allocate nothing), then the result.
    let about: Target;
    let planOfTarget: string | null;
    let attempt: number | null = null;
    let waveFeatures: FeatureAttempt[] = [];
    let tell: string[];
    const isWave = gate.trigger === "wave_integration";
    if (isWave) {
      const planId = input.plan_id as string;
      const waveNumber = input.wave_number as number;
      const plan = tx.get(plans.plan, [planId]);
      if (!plan) throw new NotFoundError("plan_id", `plan_id: no plan "${planId}"; list them at signalbox://waves`);
      const wave = plan.waves.find((w) => w.wave_number === waveNumber);
      if (!wave) throw new NotFoundError("wave_number", `wave_number: plan "${planId}" has no wave ${waveNumber} (waves 1..${plan.waves.length})`);
      const merged = waveCommit(env, planId, waveNumber);
      if (merged !== null && present(input.commit) && input.commit !== merged) {
        throw new InvalidStateError(
          "commit",
          `commit: ${input.commit} is not the current merged commit of wave ${waveNumber} of plan "${planId}" (${merged}, at ${currentWaveMerge(env, planId, waveNumber)?.ref ?? "?"}); test that commit and record its result`,
        );
      }
      about = { plan_id: planId, wave_number: waveNumber };
      planOfTarget = planId;
      waveFeatures = wave.features.map((id) => ({ feature_id: id, attempt: getFeature(env, id)?.attempts ?? 0 }));
      tell = orchestratorInboxes(env);
    } else {
      const featureId = input.feature_id as string;
      const feature = getFeature(env, featureId);
      if (!feature) throw new NotFoundError("feature_id", `feature_id: "${featureId}" was never started; a gate result is about a started feature's attempt`);
      about = { feature_id: featureId };
      planOfTarget = feature.plan_id;
      attempt = feature.attempts;
      tell = [feature.agent_id];
    }
    const seq = tx.next(meta.counter, ["gate_result_seq"]);
    const result: GateResultRecord = {
      seq,
      gate: gate.name,
      gate_revision: gate.revision,
      feature_id: isWave ? null : (input.feature_id as string),
      feature_attempt: attempt,
      plan_id: isWave ? (input.plan_id as string) : null,
      wave_number: isWave ? (input.wave_number as number) : null,
      commit: input.commit ?? null,
      passed: input.passed,
      evidence: input.evidence,
      recorded_by: input.agent_id,
      recorded_at: nowIso(env),
    };
    putResult(tx, about, result);
    const status = isWave
      ? statusOf(env, gate, { plan_id: input.plan_id as string, wave_number: input.wave_number as number, features: waveFeatures })
      : statusOf(env, gate, { feature: { feature_id: input.feature_id as string, attempt: attempt ?? 0 } });

    const target = result.feature_id !== null ? `${result.feature_id} (attempt ${result.feature_attempt ?? "?"})` : `wave ${result.wave_number ?? "?"} of ${result.plan_id ?? "?"}`;
    let notified: string[] = [];
    const to = tell.filter((a) => a !== input.agent_id);
    if (!input.passed && to.length > 0) {
      notified = deliver(env, to, {
        from: input.agent_id,
        kind: "gate",
        priority: "high",
        summary: `gate "${gate.name}" failed for ${target}: ${quote(input.evidence)}`,
        body: { gate: gate.name, revision: gate.revision, criteria: gate.criteria, feature_id: result.feature_id, plan_id: result.plan_id, wave_number: result.wave_number, evidence: input.evidence, required: gate.required },
        ref: { kind: "gate_result", id: String(seq) },
      }).delivered_to;
    }
    recordActivity(env, {
      kind: "gate_result",
      agent_id: input.agent_id,
      feature_id: result.feature_id,
      plan_id: planOfTarget,
      summary: `gate "${gate.name}" ${input.passed ? "passed" : "FAILED"} for ${target} (recorded by ${input.agent_id}): ${quote(input.evidence)}; status ${status.status}`,
      data: { gate: gate.name, revision: gate.revision, passed: input.passed, status: status.status, wave_number: result.wave_number, attempt: result.feature_attempt },
    });
    return { result, status, notified };
  });
}

/**
 * Void the passing results of every `wave_integration` gate for a wave that
 * is rolled back (parallel-execution-protocol §6.3: a clean slate for the
 * retry; the wave's new work must be validated again). Results are never
 * deleted: a failed result saying why is appended for each gate whose
 * counting result passed. Inside the rollback's write transaction; returns
 * the gates voided. (`before_merge` and `feature_complete` results are per
 * feature attempt, and a restarted feature is a new attempt.)
 */
export function voidWaveResults(env: ControlEnv, planId: string, waveNumber: number, by: string, reason: string): string[] {
  return env.txn.write((tx) => {
    const voided: string[] = [];
    const target: Target = { plan_id: planId, wave_number: waveNumber };
    for (const gate of allGates(env)) {
      if (gate.trigger !== "wave_integration" || countingResult(env, gate, target, null)?.passed !== true) continue;
      const seq = tx.next(meta.counter, ["gate_result_seq"]);
      const result: GateResultRecord = {
        seq,
        gate: gate.name,
        gate_revision: gate.revision,
        feature_id: null,
        feature_attempt: null,
        plan_id: planId,
        wave_number: waveNumber,
        passed: false,
        evidence: `voided: wave ${waveNumber} was rolled back (${quote(reason)}); validate the new work again`,
        recorded_by: by,
        recorded_at: nowIso(env),
      };
      putResult(tx, target, result);
      voided.push(gate.name);
    }
    return voided;
  });
}
