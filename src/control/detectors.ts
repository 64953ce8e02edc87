/**
 * The S2 oscillation detector (coordination-skill.md, "Anti-Oscillation
 * Protocol": Detect agents undoing each other's work, Pause both, Diagnose,
 * Resolve, Document, then resume).
 *
 * Detect: run from the lock manager's `decided` hook inside the grant
 * transaction, so the finding commits with the grant. For each granted write
 * key the detector keeps the last holders (holder CHANGES only; the same
 * agent acquiring again only updates its time). When the last four holders
 * alternate A, B, A, B (A != B) within `control.oscillation_window_ms`
 * (first to last of the four), it fires once:
 * - Pause: a RED signal (source `oscillation_detector`) naming both agents,
 *   so both are refused write locks with reason `paused` (stops.ts);
 * - an escalation of kind `oscillation` goes to the orchestrator's inbox;
 *   recording a decision with refs [escalation id] resolves it and the signal
 *   (escalations.ts `resolveByDecision`): Document, then resume;
 * - the key's history is cleared, so the same alternation fires once.
 *
 * Silent on: A then B (a handover); A, B, A; A, B, A, B spread beyond the window.
 *
 * Key layout (database `metrics`): `o` lockKey -> {@link HolderChange}[]
 * (oldest first, at most {@link OSCILLATION_HISTORY}); `O` -> the `o` key
 * where the step-wise pruning stopped (string).
 *
 * Retention: a history is stale once its latest change is older than the
 * oscillation window or `retention.detector_max_age_ms` (whichever is
 * shorter), or from another boot; a stale history can no longer contribute
 * to a finding. Each write grant that starts a new history looks at the next
 * {@link HISTORY_PRUNE_STEP} histories after `O` (wrapping around) and
 * removes the stale ones ({@link pruneHolderHistoriesStep}), so the
 * histories stay bounded by the keys written within the window without a
 * scan per write; the periodic housekeeping ({@link pruneHolderHistories})
 * removes every stale one.
 */
import type { ControlEnv } from "./registry/env.js";
import { openEscalation } from "./escalations.js";
import type { EscalationRecord, SignalRecord } from "./registry/records.js";
import { createSignal } from "./signals.js";
import { metrics } from "../store/schema.js";

/** How many holder changes are kept per key. */
export const OSCILLATION_HISTORY = 4;
/** How many holder histories one new history makes the step-wise pruning look at. */
export const HISTORY_PRUNE_STEP = 2;
/** Where the step-wise pruning stopped (database `metrics`). */
/** Who emits detector signals and opens detector escalations. */
export const DETECTOR_ID = "signalbox";

/** One change of write holder on a key: agent and monotonic ms of its latest grant. */
export interface HolderChange {
  agent: string;
  mono: number;
}

/** What the detector raised for one key. */
export interface OscillationFinding {
  key: string;
  agents: [string, string];
  signal: SignalRecord;
  escalation: EscalationRecord;
}

/** The stored holder history of `lockKey`, oldest first. Read-only. */
export function holderHistory(env: ControlEnv, lockKey: string): HolderChange[] {
  return env.txn.read().get(metrics.holderHistory, [lockKey]) ?? [];
}

/**
 * Record that `agent` was granted a write lock on `lockKey` now, and raise
 * the oscillation signal and escalation if the last four holders alternate
 * within the window. Call inside the grant's write transaction.
 * Returns the finding, or null.
 */
export function recordWriteGrant(env: ControlEnv, agent: string, lockKey: string): OscillationFinding | null {
  return env.txn.write((tx) => {
    if (env.config.control.oscillation_window_ms === 0) return null;
    const now = env.clock.monoMs();
    const hist = holderHistory(env, lockKey);
    const last = hist[hist.length - 1];
    if (last && last.agent === agent) {
      tx.put(metrics.holderHistory, [lockKey], [...hist.slice(0, -1), { agent, mono: now }]);
      return null;
    }
    if (!last) pruneHolderHistoriesStep(env, now);
    const next = [...hist, { agent, mono: now }].slice(-OSCILLATION_HISTORY);
    const [h0, h1, h2, h3] = next;
    const fires =
      h0 !== undefined &&
      h1 !== undefined &&
      h2 !== undefined &&
      h3 !== undefined &&
      h0.agent === h2.agent &&
      h1.agent === h3.agent &&
      h0.agent !== h1.agent &&
      h3.mono - h0.mono <= env.config.control.oscillation_window_ms;
    if (!fires) {
      tx.put(metrics.holderHistory, [lockKey], next);
      return null;
    }
    tx.remove(metrics.holderHistory, [lockKey]);
    const a = h0.agent;
    const b = h1.agent;
    const spanS = Math.round((h3.mono - h0.mono) / 1000);
    const escalation = openEscalation(env, {
      kind: "oscillation",
      opened_by: DETECTOR_ID,
      summary:
        `oscillation on ${lockKey}: the write lock went ${a} -> ${b} -> ${a} -> ${b} within ${spanS} s; both are paused. ` +
        `Diagnose: technical disagreement (architect arbitrates) or requirements ambiguity (user clarifies)`,
      detail: { key: lockKey, sequence: [a, b, a, b], span_ms: Math.round(h3.mono - h0.mono), window_ms: env.config.control.oscillation_window_ms },
      agents: [a, b],
    });
    const { signal } = createSignal(env, {
      level: "RED",
      summary: `${a} and ${b} keep taking ${lockKey} from each other (oscillation)`,
      observation: `write lock on ${lockKey} granted ${a}, ${b}, ${a}, ${b} within ${spanS} s`,
      concern: "the two agents may be undoing each other's work or claiming the same interface",
      recommendation: `stop writing; the orchestrator resolves ${escalation.escalation_id} with record_decision`,
      files: [lockKey],
      emitted_by: DETECTOR_ID,
      source: "oscillation_detector",
      target_agents: [a, b],
      escalation_id: escalation.escalation_id,
    });
    return { key: lockKey, agents: [a, b], signal, escalation };
  });
}

/** Whether a holder history is stale at monotonic `now` (see the module comment). */
function isStale(env: ControlEnv, history: HolderChange[], now: number): boolean {
  const maxAge = Math.min(env.config.control.oscillation_window_ms, env.config.retention.detector_max_age_ms);
  const last = history[history.length - 1];
  return !last || last.mono > now || now - last.mono > maxAge;
}

/**
 * Housekeeping: drop every stale holder history (older than the oscillation
 * window or `retention.detector_max_age_ms`, or from another boot: a time
 * ahead of `now`, ms monotonic). Reads every history: for the periodic
 * sweep, not for a write path. Inside a write transaction; returns how many
 * were removed.
 */
export function pruneHolderHistories(env: ControlEnv, now: number): number {
  return env.txn.write((tx) => {
    let n = 0;
    for (const { key, value } of [...tx.range(metrics.holderHistory)]) {
      if (isStale(env, value, now)) {
        tx.remove(metrics.holderHistory, key);
        n++;
      }
    }
    return n;
  });
}

/**
 * One bounded pruning step: look at the {@link HISTORY_PRUNE_STEP}
 * histories after the stored position (from the first again past the last),
 * remove the stale ones, and store the new position. Inside a write
 * transaction (the grant's); returns how many were removed.
 */
export function pruneHolderHistoriesStep(env: ControlEnv, now: number): number {
  return env.txn.write((tx) => {
    // The position is stored as the raw key of the last history looked at (`o` + lock key).
    const stored = tx.get(metrics.prunePosition, []);
    const from = stored !== undefined && stored.startsWith("o") ? stored.slice(1) : null;
    const seen: { key: string; history: HolderChange[] }[] = [];
    for (const { key, value } of tx.range(metrics.holderHistory, { ...(from !== null ? { from: [from] as [string] } : {}), limit: HISTORY_PRUNE_STEP + 1 })) {
      if (key[0] === from) continue;
      seen.push({ key: key[0], history: value });
      if (seen.length === HISTORY_PRUNE_STEP) break;
    }
    let n = 0;
    for (const { key, history } of seen) {
      if (!isStale(env, history, now)) continue;
      tx.remove(metrics.holderHistory, [key]);
      n++;
    }
    const next = seen.length === HISTORY_PRUNE_STEP ? seen[seen.length - 1]?.key : undefined;
    if (next !== undefined) tx.put(metrics.prunePosition, [], `o${next}`);
    else if (from !== null) tx.remove(metrics.prunePosition, []);
    return n;
  });
}
