/**
 * S3* audit signals: storing, delivering and resolving them
 * (coordination-skill.md, "Audit Signals", "RED Signal Response Flow").
 *
 * - GREEN and YELLOW are noted (status `noted`); RED is `open` and pauses
 *   every pausable agent on its feature plus any agent it names, until
 *   resolved (the lock manager refuses their write locks, stops.ts).
 * - `algedonic` (security or ethics, S5 bypass) goes to the orchestrator
 *   above everything else, always pauses, and is never auto-resolved: only
 *   `resolveSignal` by an orchestrator ends it.
 *
 * Every function here runs inside the caller's write transaction (or opens
 * one; nested transactions join the outer one). Key layout: records.ts.
 * Activity log (activity.ts): `signal_emitted` for every stored signal (from
 * an agent or a detector), `signal_resolved` for every resolution, with
 * `data.auto` true when the system resolved it ({@link autoResolveSignals}).
 */
import { appendDecision } from "../log/decisions.js";
import { recordActivity } from "../log/activity.js";
import { agentsOnFeature, getAgent, orchestratorInboxes } from "./registry/agents.js";
import { isOrchestrator, NotPermittedError, whoIsOrchestrator, type Vouch } from "./registry/authority.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import { isPausableRole, type SignalLevel, type SignalRecord } from "./registry/records.js";
import { signalPauses } from "./registry/stops.js";
import { InvalidStateError, NotFoundError } from "../errors.js";
import { meta, signals } from "../store/schema.js";

/** What an emitter supplies. */
export interface SignalInput {
  level: SignalLevel;
  summary: string;
  observation?: string | null;
  concern?: string | null;
  recommendation?: string | null;
  feature_id?: string | null;
  files?: string[];
  algedonic?: boolean;
  emitted_by: string;
  source?: SignalRecord["source"];
  target_agents?: string[];
  escalation_id?: string | null;
}

/** Does a signal of this level/algedonic flag pause? */
export function isPausing(level: SignalLevel, algedonic: boolean): boolean {
  return level === "RED" || algedonic;
}

/** One signal by id (`sig-<n>`), or undefined. */
export function getSignal(env: ControlEnv, signalId: string): SignalRecord | undefined {
  const m = /^sig-(\d{1,12})$/.exec(signalId);
  if (!m) return undefined;
  return env.txn.read().get(signals.signal, [Number(m[1])]);
}

/**
 * Store a signal and deliver it, in one write transaction. Pausing signals go
 * to the agents they pause (kind `pause`) and to the orchestrator; YELLOW to
 * the orchestrator and the feature's agents; GREEN is only recorded.
 * Returns the record and who was told.
 */
export function createSignal(env: ControlEnv, input: SignalInput): { signal: SignalRecord; paused: string[]; notified: string[] } {
  const { clock } = env;
  return env.txn.write((tx) => {
    const seq = tx.next(meta.counter, ["signal_seq"]);
    const algedonic = input.algedonic ?? false;
    const pausing = isPausing(input.level, algedonic);
    const rec: SignalRecord = {
      signal_id: `sig-${seq}`,
      seq,
      level: input.level,
      summary: input.summary,
      observation: input.observation ?? null,
      concern: input.concern ?? null,
      recommendation: input.recommendation ?? null,
      feature_id: input.feature_id ?? null,
      files: input.files ?? [],
      algedonic,
      emitted_by: input.emitted_by,
      emitted_at: nowIso(env),
      emitted_mono: clock.monoMs(),
      source: input.source ?? "agent",
      target_agents: input.target_agents ?? [],
      status: pausing ? "open" : "noted",
      resolved_by: null,
      resolution: null,
      resolved_at: null,
      resolved_mono: null,
      escalation_id: input.escalation_id ?? null,
    };
    tx.put(signals.signal, [seq], rec);
    if (pausing) tx.put(signals.openPausing, [seq], 1);
    const onFeature = rec.feature_id ? agentsOnFeature(env, rec.feature_id) : [];
    const paused = pausing
      ? [...new Set([...onFeature.filter((a) => isPausableRole(a.role)).map((a) => a.agent_id), ...rec.target_agents])]
      : [];
    const body = { signal_id: rec.signal_id, level: rec.level, feature_id: rec.feature_id, files: rec.files, concern: rec.concern, recommendation: rec.recommendation };
    const notified = new Set<string>();
    const send = (to: string[], kind: "pause" | "audit_signal") => {
      if (to.length === 0) return;
      deliver(env, to, {
        from: rec.emitted_by,
        kind,
        priority: algedonic ? "algedonic" : pausing ? "high" : "normal",
        summary: `${rec.level}${algedonic ? " ALGEDONIC" : ""} ${rec.signal_id}: ${rec.summary}`,
        body,
        ref: { kind: "audit_signal", id: rec.signal_id },
      });
      to.forEach((a) => notified.add(a));
    };
    if (pausing) {
      send(paused.filter((a) => a !== rec.emitted_by), "pause");
      send(orchestratorInboxes(env).filter((a) => !notified.has(a)), "audit_signal");
    } else if (rec.level === "YELLOW") {
      const to = [...orchestratorInboxes(env), ...onFeature.map((a) => a.agent_id)].filter((a) => a !== rec.emitted_by);
      send([...new Set(to)], "audit_signal");
    }
    recordActivity(env, {
      kind: "signal_emitted",
      agent_id: rec.emitted_by,
      feature_id: rec.feature_id,
      summary: `${rec.emitted_by} emitted ${rec.level}${algedonic ? " algedonic" : ""} signal ${rec.signal_id}${rec.feature_id ? ` on ${rec.feature_id}` : ""}: ${rec.summary}`,
      data: {
        signal_id: rec.signal_id,
        level: rec.level,
        algedonic,
        source: rec.source,
        status: rec.status,
        paused: paused.slice(0, 20),
        files: rec.files.slice(0, 20),
        escalation_id: rec.escalation_id,
      },
    });
    return { signal: rec, paused, notified: [...notified] };
  });
}

/**
 * Resolve an open signal: the pause lifts, the paused agents are told (kind
 * `resume`) and the resolution is logged as a `conflict_resolution` decision.
 * One write transaction.
 * Who may (S3* "RED Signal Response Flow": a pause is lifted by someone else
 * with authority): a RED signal its emitter, an agent registered as auditor,
 * or an orchestrator; an algedonic signal, or one raised with an escalation
 * (oscillation), an orchestrator only; never an agent the signal pauses.
 * @throws Error if `signal_id` is unknown or not open (naming its status and
 *         who resolved it); NotPermittedError naming `agent_id` when the
 *         caller may not resolve it (naming who may).
 */
export function resolveSignal(env: ControlEnv, signalId: string, agentId: string, resolution: string, vouch?: Vouch | null): SignalRecord {
  return env.txn.write((tx) => {
    const rec = getSignal(env, signalId);
    if (!rec) throw new NotFoundError("signal_id", `signal_id: no signal "${signalId}" (ids look like sig-3; see signalbox://audit)`);
    if (rec.status !== "open") {
      const who = rec.resolved_by ? ` by ${rec.resolved_by}` : "";
      throw new InvalidStateError("signal_id", `signal_id: ${signalId} is ${rec.status}${who}; only open RED or algedonic signals are resolved`);
    }
    mayResolve(env, rec, agentId, vouch);
    const done = endSignal(env, rec, agentId, resolution, false);
    // RED Signal Response Flow: "Resolve, then resume"; the resolution is documented in the decision log.
    appendDecision(tx, env.clock, {
      type: "conflict_resolution",
      decided_by: agentId,
      context: `${rec.signal_id} ${rec.level}${rec.algedonic ? " (algedonic)" : ""} from ${rec.emitted_by}: ${rec.summary}`,
      decision: resolution,
      rationale: rec.recommendation,
      refs: [rec.signal_id, ...(rec.feature_id ? [rec.feature_id] : []), ...rec.files.slice(0, 20)],
    });
    return done;
  });
}

/**
 * Refuse a resolver without the authority to lift `rec` (see {@link resolveSignal}).
 * @throws NotPermittedError naming `agent_id`, the rule and who may instead.
 */
function mayResolve(env: ControlEnv, rec: SignalRecord, agentId: string, vouch: Vouch | null | undefined): void {
  const agent = getAgent(env, agentId);
  if (signalPauses(env, rec, agentId, agent)) {
    const who = rec.algedonic ? whoIsOrchestrator(env) : `its emitter ${rec.emitted_by}, an auditor or ${whoIsOrchestrator(env)}`;
    throw new NotPermittedError("agent_id", `${rec.signal_id} pauses "${agentId}", and a paused agent cannot lift its own pause`, `ask ${who}`);
  }
  if (isOrchestrator(env, agentId, vouch)) return;
  if (rec.algedonic) {
    throw new NotPermittedError("agent_id", `${rec.signal_id} is algedonic (security/ethics): only an orchestrator resolves it`, `ask ${whoIsOrchestrator(env)}`);
  }
  if (rec.escalation_id !== null) {
    throw new NotPermittedError(
      "agent_id",
      `${rec.signal_id} came with escalation ${rec.escalation_id}: only an orchestrator settles it`,
      `ask ${whoIsOrchestrator(env)} (record_decision with refs ["${rec.escalation_id}"])`,
    );
  }
  if (rec.emitted_by === agentId || agent?.role === "auditor") return;
  throw new NotPermittedError(
    "agent_id",
    `${rec.signal_id} is resolved by its emitter, an auditor or an orchestrator; "${agentId}" is ${agent ? `a ${agent.role}` : "not registered"}`,
    `ask ${rec.emitted_by}, an auditor or ${whoIsOrchestrator(env)}`,
  );
}

/**
 * Mark `rec` resolved, drop it from the open index, tell who it paused and
 * log `signal_resolved` (`auto`: resolved by the system on `by`'s action).
 * Inside a write transaction.
 */
function endSignal(env: ControlEnv, rec: SignalRecord, by: string, resolution: string, auto: boolean): SignalRecord {
  const { clock } = env;
  return env.txn.write((tx) => {
    const done: SignalRecord = {
      ...rec,
      status: "resolved",
      resolved_by: by,
      resolution,
      resolved_at: nowIso(env),
      resolved_mono: clock.monoMs(),
    };
    tx.put(signals.signal, [rec.seq], done);
    tx.remove(signals.openPausing, [rec.seq]);
    const onFeature = rec.feature_id ? agentsOnFeature(env, rec.feature_id) : [];
    const resumed = [...new Set([...onFeature.filter((a) => isPausableRole(a.role)).map((a) => a.agent_id), ...rec.target_agents])];
    if (resumed.length > 0) {
      deliver(env, resumed, {
        from: by,
        kind: "resume",
        priority: "high",
        summary: `${rec.signal_id} resolved by ${by}: ${resolution}`,
        body: { signal_id: rec.signal_id, resolution },
        ref: { kind: "audit_signal", id: rec.signal_id },
      });
    }
    recordActivity(env, {
      kind: "signal_resolved",
      agent_id: by,
      feature_id: rec.feature_id,
      summary: `${by} ${auto ? "auto-resolved" : "resolved"} ${rec.level}${rec.algedonic ? " algedonic" : ""} signal ${rec.signal_id}${rec.feature_id ? ` on ${rec.feature_id}` : ""}: ${resolution}`,
      data: { signal_id: rec.signal_id, level: rec.level, algedonic: rec.algedonic, auto, resolution, resumed: resumed.slice(0, 20) },
    });
    return done;
  });
}

/**
 * Resolve, on the system's behalf, every open non-algedonic signal matching
 * `match` (e.g. on a failed feature, or once an escalation's decision is
 * recorded). Algedonic signals are never auto-resolved. Inside a write
 * transaction; returns the signals resolved.
 */
export function autoResolveSignals(env: ControlEnv, match: (s: SignalRecord) => boolean, by: string, resolution: string): SignalRecord[] {
  const out: SignalRecord[] = [];
  const open: SignalRecord[] = [];
  const tx = env.txn.read();
  for (const { key } of tx.range(signals.openPausing)) {
    const rec = tx.get(signals.signal, key);
    if (rec && rec.status === "open") open.push(rec);
  }
  for (const rec of open) {
    if (rec.algedonic || !match(rec)) continue;
    out.push(endSignal(env, rec, by, resolution, true));
  }
  return out;
}

/** Signals newest first, optionally only open ones, for the audit resource. Read-only. */
export function listSignals(env: ControlEnv, opts: { openOnly?: boolean; limit?: number } = {}): { signals: SignalRecord[]; total: number } {
  const limit = opts.limit ?? env.config.control.page_size;
  const tx = env.txn.read();
  const out: SignalRecord[] = [];
  let total: number;
  if (opts.openOnly) {
    total = 0;
    for (const { key } of tx.range(signals.openPausing, { reverse: true })) {
      total++;
      if (out.length >= limit) continue;
      const rec = tx.get(signals.signal, key);
      if (rec) out.push(rec);
    }
  } else {
    total = tx.get(meta.counter, ["signal_seq"]) ?? 0;
    for (const rec of tx.values(signals.signal, { reverse: true, limit })) out.push(rec);
  }
  return { signals: out, total };
}
