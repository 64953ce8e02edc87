/**
 * S3* continuous audit on top of the signal store (signals.ts) and the pause
 * logic (stops.ts): emitting and resolving audit signals as agents call them,
 * the audit handoff to the TEST phase, and the audit view.
 *
 * Rules and their sources (coordination-skill.md):
 * - "Audit Signals": GREEN continue, YELLOW note for TEST, RED interrupt CODE.
 *   A RED signal must name the feature whose coders it pauses ("RED Signal
 *   Response Flow": pause affected coder(s)); an algedonic signal (security or
 *   ethics, S5 bypass) is RED or YELLOW, never GREEN.
 * - "RED Signal Response Flow": resolve, then resume. An agent paused by a
 *   signal does not resolve it itself; algedonic signals only an orchestrator
 *   resolves (signals.ts).
 * - "S3* Audit Handoff Format": the handoff goes to the feature's test
 *   engineers (or every test engineer while none is on the feature) and the
 *   orchestrator; "Test engineer MUST acknowledge receipt before TEST phase
 *   proceeds": the feature's test phase starts when a test engineer
 *   acknowledges the handoff message.
 *
 * Activity log (activity.ts): `audit_handoff` when one is stored,
 * `audit_handoff_acknowledged` when a test engineer's acknowledgement starts
 * the test phase.
 *
 * Key layout (records.ts, `signals`): `H` seq12 -> {@link AuditHandoffRecord};
 * `h` feature_id `\0` seq12 -> 1. Ids are `ah-<n>` from counter
 * `audit_handoff_seq`.
 */
import { NotPermittedError, type Vouch } from "./registry/authority.js";
import { recordActivity } from "../log/activity.js";
import { agentsOnFeature, allAgents, getAgent, orchestratorInboxes } from "./registry/agents.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import { cap } from "./registry/page.js";
import {
  SIGNAL_LEVELS,
  type AgentRecord,
  type AuditHandoffRecord,
  type MessageRecord,
  type SignalLevel,
  type SignalRecord,
} from "./registry/records.js";
import { createSignal, listSignals, resolveSignal } from "./signals.js";
import { openPausingSignals, pausesFor, signalPauses } from "./registry/stops.js";
import { InvalidArgumentError } from "../errors.js";
import { meta, signals } from "../store/schema.js";

/** Counter name of audit handoff sequence numbers. */
export const HANDOFF_COUNTER = "audit_handoff_seq";

/** What an agent sends with emit_audit_signal; `files` are already normalised keys. */
export interface AuditSignalInput {
  agent_id: string;
  level: SignalLevel;
  summary: string;
  observation?: string | null;
  concern?: string | null;
  recommendation?: string | null;
  feature_id?: string | null;
  files?: string[];
  algedonic?: boolean;
}

/** The answer of {@link emitAuditSignal}. */
export interface EmitResult {
  signal: SignalRecord;
  /** Agents the signal pauses (empty unless RED or algedonic). */
  paused: string[];
  /** Agents whose inbox got the signal. */
  notified: string[];
}

/**
 * Emit an S3* audit signal ("Audit Signals", "Signal Format") through
 * `createSignal`, in one write transaction.
 * Signals come from registered agents: an unregistered emitter is refused
 * (an algedonic RED stops everyone, so it must come from a known agent).
 * @throws Error naming `feature_id` if a non-algedonic RED names no feature
 *         (it would pause nobody), or `algedonic` if an algedonic signal is
 *         GREEN; NotPermittedError naming `agent_id` if the emitter is not registered.
 */
export function emitAuditSignal(env: ControlEnv, input: AuditSignalInput): EmitResult {
  const algedonic = input.algedonic ?? false;
  if (algedonic && input.level === "GREEN") {
    throw new InvalidArgumentError("algedonic", "a security/ethics signal cannot be GREEN; use RED (or YELLOW)");
  }
  if (input.level === "RED" && !algedonic && !input.feature_id) {
    throw new InvalidArgumentError("feature_id", "a RED signal pauses the coders of a feature; name the feature (or set algedonic for a security/ethics finding)");
  }
  const { agent_id, ...signal } = input;
  return env.txn.write(() => {
    if (!getAgent(env, agent_id)) {
      throw new NotPermittedError("agent_id", `"${agent_id}" is not registered, and signals come from registered agents`, "register with dispatch_agents (an auditor registers itself with role auditor), then emit");
    }
    return createSignal(env, { ...signal, algedonic, emitted_by: agent_id, source: "agent" });
  });
}

const LEVEL_MARK: Record<SignalLevel, string> = { GREEN: "🟢", YELLOW: "🟡", RED: "🔴" };

/**
 * A signal in the protocol's "Signal Format":
 * `[mark] AUDIT: summary` then Observation, Concern and Recommendation lines
 * (lines whose value is missing are left out).
 */
export function formatSignal(s: SignalRecord): string {
  const head = `${LEVEL_MARK[s.level]} ${s.algedonic ? "ALGEDONIC " : ""}AUDIT: ${s.summary}`;
  const lines = [head];
  const parts: [string, string | null][] = [
    ["Observation", s.observation],
    ["Concern", s.concern],
    ["Recommendation", s.recommendation],
  ];
  const body = parts.filter(([, v]) => v).map(([k, v]) => `**${k}**: ${v}`);
  if (body.length > 0) lines.push("", ...body);
  return lines.join("\n");
}

/** The answer of {@link resolveAuditSignal}. */
export interface ResolveResult {
  signal: SignalRecord;
  /** Agents the signal paused that may write again. */
  resumed: string[];
  /** Agents the signal paused that another open signal still pauses. */
  still_paused: string[];
}

/** Agents (registered on the signal's feature, or named by it) that `s`, while open, pauses. */
function pausedBy(env: ControlEnv, s: SignalRecord): string[] {
  const open: SignalRecord = { ...s, status: "open" };
  const candidates = new Map<string, AgentRecord | undefined>();
  if (s.feature_id) for (const a of agentsOnFeature(env, s.feature_id)) candidates.set(a.agent_id, a);
  for (const id of s.target_agents) if (!candidates.has(id)) candidates.set(id, getAgent(env, id));
  return [...candidates].filter(([id, a]) => signalPauses(env, open, id, a)).map(([id]) => id);
}

/**
 * Resolve an open RED or algedonic signal ("RED Signal Response Flow":
 * resolve, then resume) through `resolveSignal`, in one write transaction.
 * @throws the errors of `resolveSignal`: unknown or not open `signal_id`, or
 *         NotPermittedError naming `agent_id` when the resolver is paused by
 *         the signal or lacks the authority (signals.ts says who may).
 */
export function resolveAuditSignal(env: ControlEnv, signalId: string, agentId: string, resolution: string, vouch?: Vouch | null): ResolveResult {
  return env.txn.write(() => {
    const done = resolveSignal(env, signalId, agentId, resolution, vouch);
    const resumed: string[] = [];
    const still: string[] = [];
    for (const id of pausedBy(env, done)) (pausesFor(env, id).length > 0 ? still : resumed).push(id);
    return { signal: done, resumed, still_paused: still };
  });
}

/** What the auditor hands to the TEST phase ("S3* Audit Handoff Format"). */
export interface AuditHandoffInput {
  agent_id: string;
  feature_id: string;
  concerns: { priority: string; concern: string; location?: string | null }[];
  extra_coverage: { area: string; reason: string }[];
  test_strategy: string[];
  focus: string[];
}

/** One handoff by id (`ah-<n>`), or undefined. */
export function getHandoff(env: ControlEnv, handoffId: string): AuditHandoffRecord | undefined {
  const m = /^ah-(\d{1,12})$/.exec(handoffId);
  if (!m) return undefined;
  return env.txn.read().get(signals.auditHandoff, [Number(m[1])]);
}

/** Handoffs of `featureId`, oldest first. */
export function handoffsOfFeature(env: ControlEnv, featureId: string): AuditHandoffRecord[] {
  const out: AuditHandoffRecord[] = [];
  const tx = env.txn.read();
  for (const { key } of tx.range(signals.auditHandoffByFeature, { prefix: [featureId] })) {
    const rec = tx.get(signals.auditHandoff, [key[1]]);
    if (rec) out.push(rec);
  }
  return out;
}

function handoffMessage(rec: AuditHandoffRecord) {
  const top = rec.concerns[0];
  return {
    from: rec.from_agent,
    kind: "audit_handoff" as const,
    priority: "high" as const,
    summary:
      `Audit handoff ${rec.handoff_id} for ${rec.feature_id}: ${rec.concerns.length} concern(s)` +
      (top ? `, first [${top.priority}] ${top.concern.slice(0, 120)}` : "") +
      "; test engineer: acknowledge to start TEST",
    body: {
      handoff_id: rec.handoff_id,
      feature_id: rec.feature_id,
      concerns: rec.concerns,
      extra_coverage: rec.extra_coverage,
      test_strategy: rec.test_strategy,
      focus: rec.focus,
    },
    ref: { kind: "audit_handoff", id: rec.handoff_id },
  };
}

/**
 * Store an audit handoff and deliver it, in one write transaction, to the
 * test engineers on the feature (or, while none is, every registered test
 * engineer) and the orchestrator. A test engineer dispatched later gets it
 * through {@link deliverPendingHandoffs}.
 */
export function createAuditHandoff(env: ControlEnv, input: AuditHandoffInput): AuditHandoffRecord {
  return env.txn.write((tx) => {
    const seq = tx.next(meta.counter, [HANDOFF_COUNTER]);
    const onFeature = agentsOnFeature(env, input.feature_id).filter((a) => a.role === "test_engineer");
    const engineers = (onFeature.length > 0 ? onFeature : allAgents(env).filter((a) => a.role === "test_engineer")).map((a) => a.agent_id);
    const to = [...new Set([...engineers, ...orchestratorInboxes(env)])];
    const rec: AuditHandoffRecord = {
      handoff_id: `ah-${seq}`,
      seq,
      feature_id: input.feature_id,
      from_agent: input.agent_id,
      concerns: input.concerns.map((c) => ({ priority: c.priority, concern: c.concern, location: c.location ?? null })),
      extra_coverage: input.extra_coverage.map((e) => ({ area: e.area, reason: e.reason })),
      test_strategy: input.test_strategy,
      focus: input.focus,
      created_at: nowIso(env),
      delivered_to: to,
      acknowledged_by: null,
      acknowledged_at: null,
    };
    deliver(env, to, handoffMessage(rec));
    tx.put(signals.auditHandoff, [seq], rec);
    tx.put(signals.auditHandoffByFeature, [input.feature_id, seq], 1);
    recordActivity(env, {
      kind: "audit_handoff",
      agent_id: input.agent_id,
      feature_id: input.feature_id,
      summary: `${input.agent_id} handed ${input.feature_id} to TEST (${rec.handoff_id}, ${rec.concerns.length} concern(s), ${to.length} recipient(s))`,
      data: { handoff_id: rec.handoff_id, concerns: rec.concerns.length, delivered_to: to.slice(0, 20), delivered_count: to.length },
    });
    return rec;
  });
}

/**
 * Deliver every unacknowledged handoff of `featureId` not yet delivered to
 * `agentId` (a test engineer dispatched after the handoff). Call inside a
 * write transaction (or it opens one). Agents whose role is not
 * `test_engineer` get nothing. Returns the handoff ids delivered.
 */
export function deliverPendingHandoffs(env: ControlEnv, agentId: string, featureId: string): string[] {
  return env.txn.write((tx) => {
    if (getAgent(env, agentId)?.role !== "test_engineer") return [];
    const out: string[] = [];
    for (const rec of handoffsOfFeature(env, featureId)) {
      if (rec.acknowledged_by !== null || rec.delivered_to.includes(agentId)) continue;
      deliver(env, [agentId], handoffMessage(rec));
      tx.put(signals.auditHandoff, [rec.seq], { ...rec, delivered_to: [...rec.delivered_to, agentId] });
      out.push(rec.handoff_id);
    }
    return out;
  });
}

/**
 * Record that `message` (an acknowledged inbox message) acknowledges an audit
 * handoff. Called by `acknowledge` inside its write transaction for each
 * acknowledged message whose `ref.kind` is `audit_handoff`. Only a recipient
 * whose role is `test_engineer` counts ("Test engineer MUST acknowledge
 * receipt"); the first one starts the feature's test phase.
 * Returns true when this acknowledgement was recorded on the handoff.
 */
export function markHandoffAcknowledged(env: ControlEnv, message: MessageRecord): boolean {
  if (message.ref?.kind !== "audit_handoff") return false;
  const ref = message.ref;
  return env.txn.write((tx) => {
    const rec = getHandoff(env, ref.id);
    if (!rec || rec.acknowledged_by !== null) return false;
    if (getAgent(env, message.to)?.role !== "test_engineer") return false;
    tx.put(signals.auditHandoff, [rec.seq], { ...rec, acknowledged_by: message.to, acknowledged_at: nowIso(env) });
    recordActivity(env, {
      kind: "audit_handoff_acknowledged",
      agent_id: message.to,
      feature_id: rec.feature_id,
      summary: `${message.to} acknowledged audit handoff ${rec.handoff_id} from ${rec.from_agent}: TEST of ${rec.feature_id} started`,
      data: { handoff_id: rec.handoff_id, from: rec.from_agent, message_id: message.message_id },
    });
    return true;
  });
}

/** The TEST phase of one feature as the audit handoffs decide it. */
export interface TestPhase {
  /** `started` once a test engineer acknowledged a handoff of the feature; it stays started. */
  status: "no_handoff" | "awaiting_acknowledgement" | "started";
  /** The acknowledged handoff when started, else the latest handoff (null without one). */
  handoff_id: string | null;
  acknowledged_by: string | null;
  /** Handoffs of the feature still unacknowledged. */
  unacknowledged: number;
}

/** The test phase of `featureId` ("Test engineer MUST acknowledge receipt before TEST phase proceeds"). Read-only. */
export function testPhase(env: ControlEnv, featureId: string): TestPhase {
  const all = handoffsOfFeature(env, featureId);
  const unacknowledged = all.filter((h) => h.acknowledged_by === null).length;
  const acked = all.find((h) => h.acknowledged_by !== null);
  if (acked) return { status: "started", handoff_id: acked.handoff_id, acknowledged_by: acked.acknowledged_by, unacknowledged };
  const last = all[all.length - 1];
  if (!last) return { status: "no_handoff", handoff_id: null, acknowledged_by: null, unacknowledged };
  return { status: "awaiting_acknowledgement", handoff_id: last.handoff_id, acknowledged_by: null, unacknowledged };
}

/** A signal as the audit view shows it. */
export interface SignalView {
  signal_id: string;
  level: SignalLevel;
  algedonic: boolean;
  status: SignalRecord["status"];
  summary: string;
  feature_id: string | null;
  files: string[];
  emitted_by: string;
  emitted_at: string;
  source: SignalRecord["source"];
  resolved_by: string | null;
  resolution: string | null;
}

function signalView(s: SignalRecord): SignalView {
  return {
    signal_id: s.signal_id,
    level: s.level,
    algedonic: s.algedonic,
    status: s.status,
    summary: s.summary,
    feature_id: s.feature_id,
    files: s.files,
    emitted_by: s.emitted_by,
    emitted_at: s.emitted_at,
    source: s.source,
    resolved_by: s.resolved_by,
    resolution: s.resolution,
  };
}

/** A handoff as the audit view shows it, with its feature's test phase. */
export interface HandoffView {
  handoff_id: string;
  feature_id: string;
  from_agent: string;
  concerns: number;
  priorities: Record<string, number>;
  created_at: string;
  /** First `limit` recipients; `delivered_count` counts them all. */
  delivered_to: string[];
  delivered_count: number;
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  test_phase: TestPhase["status"];
}

/** The `signalbox://audit` view. Lists are capped at `limit` with `*_omitted` counts. */
export interface AuditView {
  /** Open RED/algedonic signals, algedonic first, then oldest first. */
  open: SignalView[];
  open_omitted: number;
  /** Newest first. */
  recent: SignalView[];
  signals_total: number;
  /** Newest first. */
  handoffs: HandoffView[];
  handoffs_total: number;
  /** Signals per level, plus `algedonic` and `open` counts. */
  counts: Record<SignalLevel | "algedonic" | "open", number>;
}

/** Build the audit view (S3* "Checking for 🔴 audit signals"). Read-only; one pass over the signal records for the counts. */
export function auditView(env: ControlEnv, limit = env.config.control.page_size): AuditView {
  const tx = env.txn.latest();
  const open = openPausingSignals(env).sort((a, b) => Number(b.algedonic) - Number(a.algedonic) || a.seq - b.seq);
  const openCapped = cap(open, limit);
  const recent = listSignals(env, { limit });
  const counts = Object.fromEntries([...SIGNAL_LEVELS, "algedonic", "open"].map((k) => [k, 0])) as AuditView["counts"];
  for (const s of tx.values(signals.signal)) {
    counts[s.level]++;
    if (s.algedonic) counts.algedonic++;
  }
  counts.open = open.length;
  const handoffs: HandoffView[] = [];
  const phases = new Map<string, TestPhase["status"]>();
  for (const rec of tx.values(signals.auditHandoff, { reverse: true })) {
    if (handoffs.length >= limit) break;
    let phase = phases.get(rec.feature_id);
    if (phase === undefined) {
      phase = testPhase(env, rec.feature_id).status;
      phases.set(rec.feature_id, phase);
    }
    const priorities: Record<string, number> = {};
    for (const c of rec.concerns) priorities[c.priority] = (priorities[c.priority] ?? 0) + 1;
    handoffs.push({
      handoff_id: rec.handoff_id,
      feature_id: rec.feature_id,
      from_agent: rec.from_agent,
      concerns: rec.concerns.length,
      priorities,
      created_at: rec.created_at,
      delivered_to: rec.delivered_to.slice(0, limit),
      delivered_count: rec.delivered_to.length,
      acknowledged_by: rec.acknowledged_by,
      acknowledged_at: rec.acknowledged_at,
      test_phase: phase,
    });
  }
  return {
    open: openCapped.items.map(signalView),
    open_omitted: openCapped.omitted,
    recent: recent.signals.map(signalView),
    signals_total: recent.total,
    handoffs,
    handoffs_total: tx.get(meta.counter, [HANDOFF_COUNTER]) ?? 0,
    counts,
  };
}
