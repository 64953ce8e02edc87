/**
 * What stops an agent right now: open pausing audit signals (S3* "RED Signal
 * Response Flow": pause affected coders) and open integration checkpoints
 * (parallelism-framework.md, Level 3: all streams pause at a safe point).
 *
 * These reads run inside the lock manager's acquire transaction (a write
 * lock is refused while a stop applies) and inside report_status, so the
 * answer an agent gets and the grant it is refused always agree.
 */
import type { AcquireRequest } from "../../locks/types.js";
import type { ControlEnv } from "./env.js";
import {
  isPausableRole,
  type AgentRecord,
  type CheckpointRecord,
  type SignalRecord,
  type Stop,
} from "./records.js";
import { agents, checkpoints as checkpointRecords, signals as signalRecords } from "../../store/schema.js";

/** Open signals that pause (RED or algedonic, not yet resolved), oldest first. */
export function openPausingSignals(env: ControlEnv): SignalRecord[] {
  const out: SignalRecord[] = [];
  const tx = env.txn.read();
  for (const { key } of tx.range(signalRecords.openPausing)) {
    const rec = tx.get(signalRecords.signal, key);
    if (rec && rec.status === "open") out.push(rec);
  }
  return out;
}

/** Open checkpoints, by name. */
export function openCheckpoints(env: ControlEnv): CheckpointRecord[] {
  const out: CheckpointRecord[] = [];
  const tx = env.txn.read();
  for (const { key } of tx.range(checkpointRecords.open)) {
    const rec = tx.get(checkpointRecords.checkpoint, key);
    if (rec && rec.status === "open") out.push(rec);
  }
  return out;
}

/**
 * Does `agentId` work on `featureId`: registered on it (agents database `F`
 * index: dispatch, start_feature, reassignment) or asking on its behalf?
 */
function worksOn(env: ControlEnv, agentId: string, featureId: string, requestFeature: string | null | undefined): boolean {
  return requestFeature === featureId || env.txn.read().has(agents.byFeature, [featureId, agentId]);
}

/**
 * Does open signal `s` pause `agentId`? Yes if it names the agent, or if it
 * is about a feature the agent works on and the agent's role writes source
 * (an unregistered agent counts as a coder).
 */
export function signalPauses(
  env: ControlEnv,
  s: SignalRecord,
  agentId: string,
  agent: AgentRecord | undefined,
  requestFeature?: string | null,
): boolean {
  if (s.target_agents.includes(agentId)) return true;
  if (s.feature_id === null) return false;
  if (agent && !isPausableRole(agent.role)) return false;
  return worksOn(env, agentId, s.feature_id, requestFeature);
}

/** The open pausing signals that apply to `agentId` (optionally working on `requestFeature`). */
export function pausesFor(env: ControlEnv, agentId: string, requestFeature?: string | null): SignalRecord[] {
  const agent = env.txn.read().get(agents.agent, [agentId]);
  return openPausingSignals(env).filter((s) => signalPauses(env, s, agentId, agent, requestFeature));
}

/**
 * Is `agentId` part of checkpoint `c`'s integration work, as named when it
 * was requested (control/checkpoints.ts)? What a lock request says about its
 * feature does not count: the feature id is the caller's claim. Records from
 * before the work was named: the requester and the agents registered on the
 * checkpoint's feature.
 */
export function isIntegrationWork(env: ControlEnv, c: CheckpointRecord, agentId: string): boolean {
  if (c.integrators) return c.integrators.includes(agentId);
  if (c.requested_by === agentId) return true;
  return c.feature_id !== null && worksOn(env, agentId, c.feature_id, null);
}

/** The stop view of a signal, for refusals. */
export function signalStop(s: SignalRecord): Stop {
  return { kind: "audit_signal", id: s.signal_id, summary: `${s.level}${s.algedonic ? " (algedonic)" : ""}: ${s.summary}`, raised_by: s.emitted_by };
}

/** The stop view of a checkpoint, for refusals. */
export function checkpointStop(c: CheckpointRecord): Stop {
  return { kind: "checkpoint", id: c.name, summary: c.reason, raised_by: c.requested_by };
}

/**
 * Admission of a lock request, called inside the acquire transaction before
 * conflicts are checked. Read locks are always admitted (auditors and test
 * engineers read while coders are paused). A write lock is refused while a
 * pausing signal applies to the agent, or while a checkpoint is open and the
 * request is not part of its integration work.
 */
export function admitLock(env: ControlEnv, req: AcquireRequest): Stop | null {
  if (req.mode !== "write") return null;
  const signals = openPausingSignals(env);
  const checkpoints = openCheckpoints(env);
  if (signals.length === 0 && checkpoints.length === 0) return null;
  const agent = env.txn.read().get(agents.agent, [req.agent_id]);
  for (const s of signals) if (signalPauses(env, s, req.agent_id, agent, req.feature_id)) return signalStop(s);
  for (const c of checkpoints) if (!isIntegrationWork(env, c, req.agent_id)) return checkpointStop(c);
  return null;
}
