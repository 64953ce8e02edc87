/**
 * The agent registry: records, availability, feature assignment, the status
 * board and audit coverage per dispatch phase. Dispatching and reassignment
 * (with their authority and capacity rules) are in control/dispatch.ts, the
 * heartbeat in control/status.ts.
 *
 * Rules and their sources:
 * - audit coverage is judged per phase over everything dispatched in it,
 *   never from a moment when half a batch is known (DESIGN.md "Lessons";
 *   auditor-reminder-race.md: a detector that read a member list written
 *   9-22 s late warned on every correct dispatch). A phase with coders and no
 *   auditor is `pending` for `control.audit_grace_ms` after its first such
 *   coder, then `uncovered`: the warning appears and goes once to the
 *   orchestrator's inbox;
 * - an agent silent longer than `control.heartbeat_ms` is unavailable, its
 *   locks stay until their leases end, and its feature is ready for
 *   reallocation (execution-template.md, "Dynamic Task Reallocation").
 *
 * Key layout: control/registry/records.ts (`agents`).
 */
import { nowIso, type ControlEnv } from "./env.js";
import { deliver } from "./inbox.js";
import { pausesFor } from "./stops.js";
import type { AgentRecord, PhaseCoverageRecord, Role, SignalRecord } from "./records.js";
import { agents, features } from "../../store/schema.js";

/** Phase used when `dispatch_agents` names none: coders are dispatched in CODE. */
export const DEFAULT_PHASE = "CODE";
/** Inbox for orchestrator messages while no agent with role `orchestrator` is registered. */
export const ORCHESTRATOR_INBOX = "orchestrator";

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

/** One agent's record, or undefined. */
export function getAgent(env: ControlEnv, agentId: string): AgentRecord | undefined {
  return env.txn.read().get(agents.agent, [agentId]);
}

/** Every registered agent, by id. */
export function allAgents(env: ControlEnv): AgentRecord[] {
  return [...env.txn.read().values(agents.agent)];
}

/** Agents registered on `featureId` (by dispatch, start_feature or reassignment). */
export function agentsOnFeature(env: ControlEnv, featureId: string): AgentRecord[] {
  const out: AgentRecord[] = [];
  for (const { key } of env.txn.read().range(agents.byFeature, { prefix: [featureId] })) {
    const rec = getAgent(env, key[1]);
    if (rec) out.push(rec);
  }
  return out;
}

/** Is `agentId` registered on `featureId`? One read. */
export function isOnFeature(env: ControlEnv, agentId: string, featureId: string): boolean {
  return env.txn.read().has(agents.byFeature, [featureId, agentId]);
}

/** Agents whose domain is `domain`. */
export function agentsInDomain(env: ControlEnv, domain: string): AgentRecord[] {
  return allAgents(env).filter((a) => a.domain === domain);
}

/**
 * Who receives orchestrator messages: the configured orchestrators
 * (`roles.orchestrators`) and every registered agent with role
 * `orchestrator`, or the inbox `orchestrator` while there is none.
 */
export function orchestratorInboxes(env: ControlEnv): string[] {
  const stored = allAgents(env)
    .filter((a) => a.role === "orchestrator")
    .map((a) => a.agent_id);
  const ids = [...new Set([...env.config.roles.orchestrators, ...stored])];
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
  const f = env.txn.read().get(features.feature, [featureId]);
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
  return env.txn.write((tx) => {
    const prev = getAgent(env, agentId) ?? newAgent(env, agentId, role);
    if (prev.feature_id && prev.feature_id !== featureId && !holdsActive(env, agentId, prev.feature_id)) {
      tx.remove(agents.byFeature, [prev.feature_id, agentId]);
    }
    const next: AgentRecord = { ...prev, feature_id: featureId };
    tx.put(agents.agent, [agentId], next);
    tx.put(agents.byFeature, [featureId, agentId], next.role);
    return next;
  });
}

/**
 * Take `agentId` off `featureId` (completed, failed or reassigned). If it was
 * the current feature, the agent's current feature becomes another active one
 * it holds, or none. Call inside a write transaction.
 */
export function unassignFeature(env: ControlEnv, agentId: string, featureId: string): void {
  env.txn.write((tx) => {
    tx.remove(agents.byFeature, [featureId, agentId]);
    const rec = getAgent(env, agentId);
    if (!rec || rec.feature_id !== featureId) return;
    const other = activeFeaturesOf(env, agentId).find((f) => f !== featureId) ?? null;
    tx.put(agents.agent, [agentId], { ...rec, feature_id: other });
  });
}

/**
 * After a completion: an agent holding no other active feature shows status
 * `completed` on the board (until it reports or is dispatched again). Inside a
 * write transaction.
 */
export function markDoneIfIdle(env: ControlEnv, agentId: string): void {
  env.txn.write((tx) => {
    const rec = getAgent(env, agentId);
    if (!rec || activeFeaturesOf(env, agentId).length > 0) return;
    tx.put(agents.agent, [agentId], { ...rec, status: "completed", current_task: null });
  });
}

/** Active features held by `agentId`, by feature id. Scans the features database. */
export function activeFeaturesOf(env: ControlEnv, agentId: string): string[] {
  const out: string[] = [];
  for (const f of env.txn.read().values(features.feature)) {
    if (f.status === "active" && f.agent_id === agentId) out.push(f.feature_id);
  }
  return out;
}

/** A fresh record for an agent registered now with `role` (not yet stored). */
export function newAgent(env: ControlEnv, agentId: string, role: Role): AgentRecord {
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
  for (const { key } of env.txn.read().range(agents.byPhase, { prefix: [phase] })) {
    const id = key[1];
    const rec = getAgent(env, id);
    if (!rec || rec.phase !== phase) continue;
    if (rec.role === "coder") coders.push(id);
    else if (rec.role === "auditor") auditors.push(id);
  }
  return { coders, auditors };
}

function coverageRecord(env: ControlEnv, phase: string): PhaseCoverageRecord {
  return (
    env.txn.read().get(agents.phaseCoverage, [phase]) ?? {
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
  for (const { key } of env.txn.read().range(agents.byPhase)) phases.add(key[0]);
  return [...phases].sort().map((p) => auditCoverage(env, p));
}

/**
 * Bring the stored coverage bookkeeping of `phase` up to date and, once a
 * phase is uncovered, tell the orchestrator once. Call inside a write
 * transaction. Returns the coverage after settling.
 */
export function settleCoverage(env: ControlEnv, phase: string): AuditCoverage {
  const { clock } = env;
  return env.txn.write((tx) => {
    const { coders, auditors } = phaseMembers(env, phase);
    const rec = coverageRecord(env, phase);
    if (coders.length === 0 || auditors.length > 0) {
      if (rec.uncovered_since_mono !== null || rec.warned) {
        tx.put(agents.phaseCoverage, [phase], { ...rec, uncovered_since_mono: null, uncovered_since_boot: null, warned: false });
      }
      return auditCoverage(env, phase);
    }
    if (rec.uncovered_since_mono === null || rec.uncovered_since_boot !== clock.bootId) {
      tx.put(agents.phaseCoverage, [phase], { ...rec, uncovered_since_mono: clock.monoMs(), uncovered_since_boot: clock.bootId, warned: false });
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
      tx.put(agents.phaseCoverage, [phase], { ...coverageRecord(env, phase), warned: true });
    }
    return cov;
  });
}

/** Settle every phase (housekeeping and heartbeats). Call inside a write transaction. */
export function settleAllCoverage(env: ControlEnv): void {
  const phases = new Set<string>();
  for (const { key } of env.txn.read().range(agents.phaseCoverage)) phases.add(key[0]);
  for (const p of phases) settleCoverage(env, p);
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
    const f = env.txn.read().get(features.feature, [a.feature_id]);
    if (f && f.status === "completed") continue;
    const silent = a.boot === env.clock.bootId ? Math.round(env.clock.monoMs() - a.last_seen_mono) : -1;
    out.push({ feature_id: a.feature_id, agent_id: a.agent_id, silent_ms: silent, last_seen_at: a.last_seen_at });
  }
  return out;
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
  env.txn.latest();
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
