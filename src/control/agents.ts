/**
 * The agent registry: dispatch, status broadcasting (the heartbeat),
 * availability, reallocation, and audit coverage per dispatch phase.
 *
 * Rules and their sources:
 * - a batch of agents is registered in one transaction, and audit coverage is
 *   judged per phase over everything dispatched in it, never from a moment
 *   when half a batch is known (DESIGN.md "Lessons"; auditor-reminder-race.md:
 *   a detector that read a member list written 9-22 s late warned on every
 *   correct dispatch). A phase with coders and no auditor is `pending` for
 *   `control.audit_grace_ms` after its first such coder, then `uncovered`:
 *   the warning appears and goes once to the orchestrator's inbox;
 * - `report_status` is the status broadcast of execution-template.md
 *   ("Status Broadcasting System") and the heartbeat; an agent silent longer
 *   than `control.heartbeat_ms` is unavailable, its locks stay until their
 *   leases end, and its feature is ready for reallocation ("Dynamic Task
 *   Reallocation"); `reassign_feature` is logged as a `reallocation` decision;
 * - capacity (issue 6): a batch that would pass a `capacity` limit of the
 *   config is refused whole, in the transaction that would register it
 *   (control/capacity.ts); each agent records the orchestrator that
 *   dispatched it (`dispatched_by`);
 * - activity (issue 6): each dispatched agent gets an `agent_dispatched`
 *   entry (its own id; the dispatcher in `data.by`), a reassignment a
 *   `feature_reassigned` entry (the decider's id, on the feature), in the
 *   transaction of the change (control/activity.ts).
 *
 * Key layout: control/records.ts (`agents`).
 */
import { appendDecision } from "../decisions.js";
import { nextCounter } from "../store/index.js";
import { recordActivity } from "./activity.js";
import { deliverPendingHandoffs } from "./audit.js";
import { checkCapacity, type CapacityUse } from "./capacity.js";
import { nowIso, type ControlEnv } from "./env.js";
import { deliver, unreadCount } from "./inbox.js";
import { openCheckpoints, pausesFor } from "./stops.js";
import type {
  AgentRecord,
  AgentStatus,
  CheckpointRecord,
  FeatureRecord,
  PhaseCoverageRecord,
  Role,
  SignalRecord,
} from "./records.js";

/** Phase used when `dispatch_agents` names none: coders are dispatched in CODE. */
export const DEFAULT_PHASE = "CODE";
/** Inbox for orchestrator messages while no agent with role `orchestrator` is registered. */
export const ORCHESTRATOR_INBOX = "orchestrator";
/** Who dispatched a batch when `dispatch_agents` names no `by`. */
export const DEFAULT_DISPATCHER = "orchestrator";

/** One agent of a dispatch batch. */
export interface DispatchEntry {
  agent_id: string;
  role: Role;
  domain?: string | null;
  feature_id?: string | null;
}

/** Where an agent works, as git sees it (src/git/workspace.ts GitLocation); each field kept from before when undefined. */
export interface AgentLocation {
  worktree?: string | null;
  branch?: string | null;
  head?: string | null;
}

/** `rec` with the defined fields of `loc` written over it. */
export function withLocation(rec: AgentRecord, loc: AgentLocation | undefined): AgentRecord {
  if (!loc) return rec;
  return {
    ...rec,
    ...(loc.worktree !== undefined ? { worktree: loc.worktree } : {}),
    ...(loc.branch !== undefined ? { branch: loc.branch } : {}),
    ...(loc.head !== undefined ? { head: loc.head } : {}),
  };
}

/**
 * Audit coverage of one phase. `pending`: coders without an auditor, still
 * inside the grace window (no warning yet); `uncovered`: the grace passed with
 * no auditor, `coders_without_auditor` names them and `warning` says so.
 */
export interface AuditCoverage {
  phase: string;
  coders: number;
  auditors: number;
  status: "covered" | "pending" | "uncovered" | "no_coders";
  coders_without_auditor: string[];
  /** When a pending phase turns uncovered (ISO), else null. */
  decides_at: string | null;
  warning: string | null;
}

/** An agent as the status board shows it: its record without bookkeeping, plus availability and pauses. */
export type AgentView = Omit<AgentRecord, "batch" | "dispatched_at" | "dispatched_by" | "last_seen_mono" | "boot" | "worktree" | "branch" | "head"> & {
  /** Where the agent works (null when unknown or outside git). */
  worktree: string | null;
  branch: string | null;
  head: string | null;
  /** False once silent longer than `control.heartbeat_ms` (or seen under another boot). */
  available: boolean;
  silent_ms: number;
  /** Open pausing signals that apply to it. */
  paused_by: string[];
};

function key(agentId: string): string {
  return `A${agentId}`;
}

/** One agent's record, or undefined. */
export function getAgent(env: ControlEnv, agentId: string): AgentRecord | undefined {
  return env.store.agents.get(key(agentId)) as AgentRecord | undefined;
}

/** Every registered agent, by id. */
export function allAgents(env: ControlEnv): AgentRecord[] {
  return [...env.store.agents.getRange({ start: "A", end: "B" }).map(({ value }) => value as AgentRecord)];
}

/** Agents registered on `featureId` (by dispatch, start_feature or reassignment). */
export function agentsOnFeature(env: ControlEnv, featureId: string): AgentRecord[] {
  const out: AgentRecord[] = [];
  for (const { key: k } of env.store.agents.getRange({ start: `F${featureId}\0`, end: `F${featureId}\x01` })) {
    const rec = getAgent(env, (k as string).slice(featureId.length + 2));
    if (rec) out.push(rec);
  }
  return out;
}

/** Is `agentId` registered on `featureId`? One read. */
export function isOnFeature(env: ControlEnv, agentId: string, featureId: string): boolean {
  return env.store.agents.get(`F${featureId}\0${agentId}`) !== undefined;
}

/** Agents whose domain is `domain`. */
export function agentsInDomain(env: ControlEnv, domain: string): AgentRecord[] {
  return allAgents(env).filter((a) => a.domain === domain);
}

/**
 * Who receives orchestrator messages: every registered agent with role
 * `orchestrator`, or the inbox `orchestrator` while there is none.
 */
export function orchestratorInboxes(env: ControlEnv): string[] {
  const ids = allAgents(env)
    .filter((a) => a.role === "orchestrator")
    .map((a) => a.agent_id);
  return ids.length > 0 ? ids : [ORCHESTRATOR_INBOX];
}

/** Is `rec` available: seen within the heartbeat limit, on this boot? Completed agents count as available. */
export function isAvailable(env: ControlEnv, rec: AgentRecord): boolean {
  if (rec.status === "completed") return true;
  return rec.boot === env.clock.bootId && env.clock.monoMs() - rec.last_seen_mono <= env.config.control.heartbeat_ms;
}

/** The board view of one agent. */
export function agentView(env: ControlEnv, rec: AgentRecord, signals?: SignalRecord[]): AgentView {
  const pauses = signals ?? pausesFor(env, rec.agent_id);
  const silent = rec.boot === env.clock.bootId ? Math.max(0, Math.round(env.clock.monoMs() - rec.last_seen_mono)) : -1;
  const { batch: _batch, dispatched_at: _at, dispatched_by: _by, last_seen_mono: _mono, boot: _boot, ...shown } = rec;
  return {
    ...shown,
    worktree: rec.worktree ?? null,
    branch: rec.branch ?? null,
    head: rec.head ?? null,
    available: isAvailable(env, rec),
    silent_ms: silent,
    paused_by: pauses.map((s) => s.signal_id),
  };
}

/** Is `featureId` an active feature held by `agentId`? */
function holdsActive(env: ControlEnv, agentId: string, featureId: string): boolean {
  const f = env.store.features.get(`F${featureId}`) as FeatureRecord | undefined;
  return f?.status === "active" && f.agent_id === agentId;
}

/**
 * Make `featureId` the agent's current feature and register the agent on it.
 * The previous assignment is dropped unless it is an active feature the agent
 * still holds (an agent may work on several; `control.agent_task_limit` flags
 * overload). Call inside a write transaction. Unknown agents are registered
 * with `role` (default `coder`: starting a feature means coding it).
 */
export function assignFeature(env: ControlEnv, agentId: string, featureId: string, role: Role = "coder"): AgentRecord {
  const { store } = env;
  const prev = getAgent(env, agentId) ?? newAgent(env, agentId, role);
  if (prev.feature_id && prev.feature_id !== featureId && !holdsActive(env, agentId, prev.feature_id)) {
    store.agents.removeSync(`F${prev.feature_id}\0${agentId}`);
  }
  const next: AgentRecord = { ...prev, feature_id: featureId };
  store.agents.putSync(key(agentId), next);
  store.agents.putSync(`F${featureId}\0${agentId}`, next.role);
  return next;
}

/**
 * Take `agentId` off `featureId` (completed, failed or reassigned). If it was
 * the current feature, the agent's current feature becomes another active one
 * it holds, or none. Call inside a write transaction.
 */
export function unassignFeature(env: ControlEnv, agentId: string, featureId: string): void {
  const { store } = env;
  store.agents.removeSync(`F${featureId}\0${agentId}`);
  const rec = getAgent(env, agentId);
  if (!rec || rec.feature_id !== featureId) return;
  const other = activeFeaturesOf(env, agentId).find((f) => f !== featureId) ?? null;
  store.agents.putSync(key(agentId), { ...rec, feature_id: other });
}

/**
 * After a completion: an agent holding no other active feature shows status
 * `completed` on the board (until it reports or is dispatched again). Inside a
 * write transaction.
 */
export function markDoneIfIdle(env: ControlEnv, agentId: string): void {
  const rec = getAgent(env, agentId);
  if (!rec || activeFeaturesOf(env, agentId).length > 0) return;
  env.store.agents.putSync(key(agentId), { ...rec, status: "completed", current_task: null });
}

/** Active features held by `agentId`, by feature id. Scans the features database. */
export function activeFeaturesOf(env: ControlEnv, agentId: string): string[] {
  const out: string[] = [];
  for (const { value } of env.store.features.getRange({ start: "F", end: "G" })) {
    const f = value as FeatureRecord;
    if (f.status === "active" && f.agent_id === agentId) out.push(f.feature_id);
  }
  return out;
}

function newAgent(env: ControlEnv, agentId: string, role: Role): AgentRecord {
  const at = nowIso(env);
  return {
    agent_id: agentId,
    role,
    domain: null,
    feature_id: null,
    phase: null,
    batch: null,
    dispatched_by: null,
    status: "dispatched",
    current_task: null,
    progress_percentage: null,
    estimated_completion: null,
    blocking_issues: [],
    outputs_ready: [],
    dispatched_at: at,
    last_seen_at: at,
    last_seen_mono: env.clock.monoMs(),
    boot: env.clock.bootId,
  };
}

/** Members of `phase` by role. */
function phaseMembers(env: ControlEnv, phase: string): { coders: string[]; auditors: string[] } {
  const coders: string[] = [];
  const auditors: string[] = [];
  for (const { key: k } of env.store.agents.getRange({ start: `P${phase}\0`, end: `P${phase}\x01` })) {
    const id = (k as string).slice(phase.length + 2);
    const rec = getAgent(env, id);
    if (!rec || rec.phase !== phase) continue;
    if (rec.role === "coder") coders.push(id);
    else if (rec.role === "auditor") auditors.push(id);
  }
  return { coders, auditors };
}

function coverageRecord(env: ControlEnv, phase: string): PhaseCoverageRecord {
  return (
    (env.store.agents.get(`C${phase}`) as PhaseCoverageRecord | undefined) ?? {
      phase,
      uncovered_since_mono: null,
      uncovered_since_boot: null,
      warned: false,
    }
  );
}

/** Judge a phase's coverage from stored state (no writes). */
export function auditCoverage(env: ControlEnv, phase: string): AuditCoverage {
  const { coders, auditors } = phaseMembers(env, phase);
  const base = { phase, coders: coders.length, auditors: auditors.length, coders_without_auditor: [] as string[], decides_at: null, warning: null };
  if (coders.length === 0) return { ...base, status: "no_coders" };
  if (auditors.length > 0) return { ...base, status: "covered" };
  const rec = coverageRecord(env, phase);
  const since = rec.uncovered_since_boot === env.clock.bootId ? rec.uncovered_since_mono : null;
  const decidesMono = (since ?? env.clock.monoMs()) + env.config.control.audit_grace_ms;
  if (env.clock.monoMs() < decidesMono) {
    const decides_at = new Date(env.clock.wallMs() + (decidesMono - env.clock.monoMs())).toISOString();
    return { ...base, status: "pending", decides_at };
  }
  return {
    ...base,
    status: "uncovered",
    coders_without_auditor: coders,
    warning: `phase ${phase}: coder(s) ${coders.join(", ")} dispatched without a concurrent auditor`,
  };
}

/** Every phase that has members, with its coverage. */
export function allCoverage(env: ControlEnv): AuditCoverage[] {
  const phases = new Set<string>();
  for (const { key: k } of env.store.agents.getRange({ start: "P", end: "Q" })) {
    phases.add((k as string).slice(1).split("\0")[0] as string);
  }
  return [...phases].sort().map((p) => auditCoverage(env, p));
}

/**
 * Bring the stored coverage bookkeeping of `phase` up to date and, once a
 * phase is uncovered, tell the orchestrator once. Call inside a write
 * transaction. Returns the coverage after settling.
 */
export function settleCoverage(env: ControlEnv, phase: string): AuditCoverage {
  const { store, clock } = env;
  const { coders, auditors } = phaseMembers(env, phase);
  const rec = coverageRecord(env, phase);
  if (coders.length === 0 || auditors.length > 0) {
    if (rec.uncovered_since_mono !== null || rec.warned) {
      store.agents.putSync(`C${phase}`, { ...rec, uncovered_since_mono: null, uncovered_since_boot: null, warned: false });
    }
    return auditCoverage(env, phase);
  }
  if (rec.uncovered_since_mono === null || rec.uncovered_since_boot !== clock.bootId) {
    store.agents.putSync(`C${phase}`, { ...rec, uncovered_since_mono: clock.monoMs(), uncovered_since_boot: clock.bootId, warned: false });
  }
  const cov = auditCoverage(env, phase);
  if (cov.status === "uncovered" && !coverageRecord(env, phase).warned) {
    deliver(env, orchestratorInboxes(env), {
      from: "signalbox",
      kind: "coverage",
      priority: "high",
      summary: cov.warning ?? "",
      body: { phase, coders_without_auditor: cov.coders_without_auditor },
    });
    store.agents.putSync(`C${phase}`, { ...coverageRecord(env, phase), warned: true });
  }
  return cov;
}

/** Settle every phase (housekeeping and heartbeats). Call inside a write transaction. */
export function settleAllCoverage(env: ControlEnv): void {
  const phases = new Set<string>();
  for (const { key: k } of env.store.agents.getRange({ start: "C", end: "D" })) phases.add((k as string).slice(1));
  for (const p of phases) settleCoverage(env, p);
}

/** The answer of {@link dispatchAgents}. */
export interface DispatchResult {
  batch: number;
  phase: string;
  agents: AgentView[];
  audit_coverage: AuditCoverage;
  /** Use of each capacity limit the batch is subject to, after it (empty when no limit is set). */
  capacity: CapacityUse[];
}

/**
 * Register a whole batch in one write transaction, then judge the phase's
 * audit coverage over everything dispatched in it. Re-dispatching an agent
 * updates its role, domain, feature and phase, resets its status and records
 * `by` as its dispatcher.
 * @throws Error naming `agents[i].agent_id` if an id appears twice in the batch;
 *         Error naming the capacity limit (`capacity.max_agents`, ...) if the
 *         batch would pass one (capacity.ts `checkCapacity`); nothing is written then.
 */
export function dispatchAgents(env: ControlEnv, entries: DispatchEntry[], phase = DEFAULT_PHASE, by = DEFAULT_DISPATCHER): DispatchResult {
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    if (seen.has(e.agent_id)) throw new Error(`agents[${i}].agent_id: "${e.agent_id}" appears twice in this batch`);
    seen.add(e.agent_id);
  });
  const { store, clock } = env;
  return store.write(() => {
    const capacity = checkCapacity(
      env,
      entries.map((e) => ({ agent_id: e.agent_id, role: e.role, domain: e.domain ?? getAgent(env, e.agent_id)?.domain ?? null })),
      by,
    );
    const batch = nextCounter(store, "dispatch_batch");
    const at = nowIso(env);
    const now = clock.monoMs();
    const registered: AgentRecord[] = [];
    for (const e of entries) {
      const prev = getAgent(env, e.agent_id);
      if (prev?.phase && prev.phase !== phase) store.agents.removeSync(`P${prev.phase}\0${e.agent_id}`);
      const base = prev ?? newAgent(env, e.agent_id, e.role);
      const rec: AgentRecord = {
        ...base,
        role: e.role,
        domain: e.domain ?? base.domain,
        phase,
        batch,
        dispatched_by: by,
        status: "dispatched",
        blocking_issues: [],
        dispatched_at: at,
        last_seen_at: at,
        last_seen_mono: now,
        boot: clock.bootId,
      };
      store.agents.putSync(key(e.agent_id), rec);
      store.agents.putSync(`P${phase}\0${e.agent_id}`, e.role);
      if (e.feature_id) {
        registered.push(assignFeature(env, e.agent_id, e.feature_id));
        // A test engineer arriving after the audit handoff still gets it (S3* handoff must be acknowledged).
        deliverPendingHandoffs(env, e.agent_id, e.feature_id);
      } else {
        registered.push(rec);
      }
      recordActivity(env, {
        kind: "agent_dispatched",
        agent_id: e.agent_id,
        feature_id: e.feature_id ?? null,
        summary: `${e.agent_id} (${rec.role}${rec.domain ? `, domain ${rec.domain}` : ""}) dispatched by ${by} in ${phase}${e.feature_id ? ` on ${e.feature_id}` : ""}`,
        data: { by, batch, phase, role: rec.role, domain: rec.domain },
      });
    }
    const coverage = settleCoverage(env, phase);
    return { batch, phase, agents: registered.map((r) => agentView(env, r)), audit_coverage: coverage, capacity };
  });
}

/** A status broadcast (execution-template.md, "Status Broadcasting System"). */
export interface StatusReport {
  agent_id: string;
  status: Exclude<AgentStatus, "dispatched">;
  current_task?: string | null;
  progress_percentage?: number | null;
  estimated_completion?: string | null;
  blocking_issues?: string[];
  outputs_ready?: string[];
  /** Where the reporting agent works (filled from the calling server's worktree by the tool). */
  location?: AgentLocation;
}

/** What an agent must know now, returned by every heartbeat. */
export interface StatusAnswer {
  agent_id: string;
  status: AgentStatus;
  /** True while an open RED or algedonic signal applies: stop writing. */
  paused: boolean;
  paused_by: { signal_id: string; level: string; summary: string; emitted_by: string; feature_id: string | null }[];
  unread: number;
  /** An open checkpoint this agent has to reach (or has reached and waits on). */
  checkpoint: { name: string; reason: string; requested_by: string; reached: boolean } | null;
  /** One line: what to do next. */
  instruction: string;
}

function checkpointFor(env: ControlEnv, agentId: string, cps: CheckpointRecord[]): StatusAnswer["checkpoint"] {
  const c = cps.find((cp) => cp.requested_by !== agentId && cp.expected.includes(agentId)) ?? cps.find((cp) => cp.requested_by !== agentId);
  if (!c) return null;
  return { name: c.name, reason: c.reason, requested_by: c.requested_by, reached: c.arrived.some((a) => a.agent_id === agentId) };
}

/**
 * Record a status broadcast and heartbeat in one write transaction; unknown
 * agents are registered with role `other`. Settles audit coverage on the way.
 */
export function reportStatus(env: ControlEnv, report: StatusReport): StatusAnswer {
  const { store, clock } = env;
  return store.write(() => {
    const prev = withLocation(getAgent(env, report.agent_id) ?? newAgent(env, report.agent_id, "other"), report.location);
    const rec: AgentRecord = {
      ...prev,
      status: report.status,
      current_task: report.current_task !== undefined ? report.current_task : prev.current_task,
      progress_percentage: report.progress_percentage !== undefined ? report.progress_percentage : prev.progress_percentage,
      estimated_completion: report.estimated_completion !== undefined ? report.estimated_completion : prev.estimated_completion,
      blocking_issues: report.blocking_issues ?? prev.blocking_issues,
      outputs_ready: report.outputs_ready ?? prev.outputs_ready,
      last_seen_at: nowIso(env),
      last_seen_mono: clock.monoMs(),
      boot: clock.bootId,
    };
    store.agents.putSync(key(report.agent_id), rec);
    settleAllCoverage(env);
    const pauses = pausesFor(env, report.agent_id);
    const checkpoint = checkpointFor(env, report.agent_id, openCheckpoints(env));
    const unread = unreadCount(env, report.agent_id);
    let instruction = "continue";
    if (pauses.length > 0) {
      const s = pauses[0] as SignalRecord;
      instruction = `paused by ${s.signal_id} (${s.level}: ${s.summary}): stop writing until it is resolved`;
    } else if (checkpoint && !checkpoint.reached) {
      instruction = `checkpoint "${checkpoint.name}" requested by ${checkpoint.requested_by}: stop at a safe point, then reach_checkpoint`;
    } else if (checkpoint) {
      instruction = `waiting at checkpoint "${checkpoint.name}" until resume_checkpoint`;
    } else if (unread > 0) {
      instruction = `read your inbox (${unread} unread): get_inbox`;
    }
    return {
      agent_id: report.agent_id,
      status: rec.status,
      paused: pauses.length > 0,
      paused_by: pauses.map((s) => ({ signal_id: s.signal_id, level: s.level, summary: s.summary, emitted_by: s.emitted_by, feature_id: s.feature_id })),
      unread,
      checkpoint,
      instruction,
    };
  });
}

/** A feature whose agent went silent: the orchestrator may reassign it. */
export interface Reallocatable {
  feature_id: string;
  agent_id: string;
  silent_ms: number;
  last_seen_at: string;
}

/** Features held by unavailable agents and not yet completed. Read-only. */
export function readyForReallocation(env: ControlEnv): Reallocatable[] {
  const out: Reallocatable[] = [];
  for (const a of allAgents(env)) {
    if (!a.feature_id || isAvailable(env, a)) continue;
    const f = env.store.features.get(`F${a.feature_id}`) as FeatureRecord | undefined;
    if (f && f.status === "completed") continue;
    const silent = a.boot === env.clock.bootId ? Math.round(env.clock.monoMs() - a.last_seen_mono) : -1;
    out.push({ feature_id: a.feature_id, agent_id: a.agent_id, silent_ms: silent, last_seen_at: a.last_seen_at });
  }
  return out;
}

/** Input of {@link reassignFeature}. */
export interface Reassignment {
  feature_id: string;
  from_agent: string;
  to_agent: string;
  /** Who decided (the orchestrator). */
  by: string;
  rationale?: string | null;
}

/**
 * Move `feature_id` from `from_agent` to `to_agent` in one write transaction,
 * log a `reallocation` decision, and tell both agents. `from_agent`'s locks
 * stay until their leases end (the new agent acquires its own).
 * @throws Error if `to_agent` was never dispatched, if the feature is not
 *         `from_agent`'s (naming whose it is), or if it is already completed.
 */
export function reassignFeature(env: ControlEnv, r: Reassignment): {
  feature_id: string;
  from_agent: string;
  to_agent: string;
  from_available: boolean;
  decision_seq: number;
} {
  const { store, clock } = env;
  if (r.from_agent === r.to_agent) throw new Error(`to_agent: must differ from from_agent ("${r.from_agent}")`);
  return store.write(() => {
    const to = getAgent(env, r.to_agent);
    if (!to) throw new Error(`to_agent: "${r.to_agent}" is not registered; dispatch it first with dispatch_agents`);
    const from = getAgent(env, r.from_agent);
    const feature = store.features.get(`F${r.feature_id}`) as FeatureRecord | undefined;
    const owner = feature?.status === "active" ? feature.agent_id : from?.feature_id === r.feature_id ? r.from_agent : null;
    if (owner !== r.from_agent) {
      const whose = feature ? `${feature.status}, agent "${feature.agent_id}"` : "not assigned to it";
      throw new Error(`from_agent: feature ${r.feature_id} is not ${r.from_agent}'s (${whose})`);
    }
    if (feature?.status === "completed") throw new Error(`feature_id: ${r.feature_id} is already completed`);
    const fromAvailable = from ? isAvailable(env, from) : false;
    unassignFeature(env, r.from_agent, r.feature_id);
    assignFeature(env, r.to_agent, r.feature_id);
    if (feature) store.features.putSync(`F${r.feature_id}`, { ...feature, agent_id: r.to_agent });
    const decision = appendDecision(store, clock, {
      type: "reallocation",
      decided_by: r.by,
      context: `feature ${r.feature_id} held by ${r.from_agent}${fromAvailable ? "" : " (unavailable: silent past the heartbeat limit)"}`,
      decision: `reassign ${r.feature_id} from ${r.from_agent} to ${r.to_agent}`,
      rationale: r.rationale ?? null,
      refs: [r.feature_id, r.from_agent, r.to_agent],
    });
    recordActivity(env, {
      kind: "feature_reassigned",
      agent_id: r.by,
      feature_id: r.feature_id,
      summary: `${r.feature_id} reassigned from ${r.from_agent} to ${r.to_agent} by ${r.by}`,
      data: { from_agent: r.from_agent, to_agent: r.to_agent, from_available: fromAvailable, decision_seq: decision.seq },
    });
    deliver(env, [r.from_agent, r.to_agent], {
      from: r.by,
      kind: "reassignment",
      priority: "high",
      summary: `${r.feature_id} reassigned from ${r.from_agent} to ${r.to_agent}`,
      body: { feature_id: r.feature_id, from_agent: r.from_agent, to_agent: r.to_agent, decision_seq: decision.seq },
    });
    return { feature_id: r.feature_id, from_agent: r.from_agent, to_agent: r.to_agent, from_available: fromAvailable, decision_seq: decision.seq };
  });
}

/** The `signalbox://agents` status board: agents (capped), coverage per phase, reallocatable work. */
export function statusBoard(env: ControlEnv, limit = 200): {
  agents: AgentView[];
  omitted: number;
  by_status: Record<string, number>;
  unavailable: string[];
  audit_coverage: AuditCoverage[];
  ready_for_reallocation: Reallocatable[];
} {
  env.store.env.resetReadTxn();
  const all = allAgents(env);
  const by_status: Record<string, number> = {};
  const unavailable: string[] = [];
  for (const a of all) {
    by_status[a.status] = (by_status[a.status] ?? 0) + 1;
    if (!isAvailable(env, a)) unavailable.push(a.agent_id);
  }
  return {
    agents: all.slice(0, limit).map((a) => agentView(env, a)),
    omitted: Math.max(0, all.length - limit),
    by_status,
    unavailable,
    audit_coverage: allCoverage(env),
    ready_for_reallocation: readyForReallocation(env),
  };
}
