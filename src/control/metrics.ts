/**
 * Coordination metrics and bottleneck detection (execution-template.md,
 * "Metrics and KPIs": conflict resolution time, resource contention, overall
 * progress; "Bottleneck Detection": agent overload, resource contention,
 * communication delays).
 *
 * Recording is cheap and happens in the lock manager's `decided` hook, inside
 * the acquire transaction (one get and at most two puts per decided request),
 * so every process counts into the same store. Everything else is computed
 * from stored state when `signalbox://metrics` is read.
 *
 * Key layout (database `metrics`; `o` keys and the `O` pruning position belong to detectors.ts):
 * | key          | value                                          |
 * |--------------|------------------------------------------------|
 * | `n`          | {@link AcquireCounters}                        |
 * | `s` slot4    | waited_ms of one granted request (ring buffer) |
 *
 * `slot4` is `samples % WAIT_SAMPLES`, zero-padded to 4 digits: the ring
 * holds the last {@link WAIT_SAMPLES} granted requests' waits.
 */
import type { AcquireRequest, AcquireResult, LockView, RefusalReason, WaiterView } from "../locks/types.js";
import { allAgents } from "./registry/agents.js";
import type { ControlEnv } from "./registry/env.js";
import { delayedMessages, type DelayedMessage } from "./registry/inbox.js";
import { cap } from "./registry/page.js";
import { conventions, features as featureRecords, metrics, signals } from "../store/schema.js";

/** How many lock-wait samples the ring buffer keeps. */
export const WAIT_SAMPLES = 1000;

/** Outcome counters of every decided acquire request since the store was created. */
export interface AcquireCounters {
  requests: number;
  granted: number;
  /** Requests decided after a wait (waited_ms > 0). */
  waited: number;
  /** Requests that waited or were refused (counted once). */
  contended: number;
  refused: Record<RefusalReason, number>;
  /** Wait samples written so far (the ring's next slot is `samples % WAIT_SAMPLES`). */
  samples: number;
}

function emptyCounters(): AcquireCounters {
  return { requests: 0, granted: 0, waited: 0, contended: 0, refused: { conflict: 0, deadlock: 0, timeout: 0, paused: 0, checkpoint: 0 }, samples: 0 };
}

/** The stored counters (zeros on a fresh store). Read-only. */
export function acquireCounters(env: ControlEnv): AcquireCounters {
  const c = env.txn.read().get(metrics.counters, []);
  return c ? { ...c, refused: { ...emptyCounters().refused, ...c.refused } } : emptyCounters();
}

/**
 * Count one decided acquire request and, for a grant, store its wait in the
 * ring buffer. Call inside the acquire's write transaction (the lock
 * manager's `decided` hook).
 */
export function recordAcquire(env: ControlEnv, _req: AcquireRequest, result: AcquireResult): void {
  return env.txn.write((tx) => {
    const c = acquireCounters(env);
    c.requests++;
    const waited = result.waited_ms > 0;
    if (waited) c.waited++;
    if (waited || !result.granted) c.contended++;
    if (result.granted) {
      c.granted++;
      tx.put(metrics.waitSample, [c.samples % WAIT_SAMPLES], result.waited_ms);
      c.samples++;
    } else {
      c.refused[result.reason]++;
    }
    tx.put(metrics.counters, [], c);
  });
}

/** Nearest-rank percentile `q` (0..1] of ascending `sorted`; null when empty. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/** A lock held past `control.lock_held_limit_ms`. */
export interface LongHeldLock {
  key: string;
  mode: LockView["mode"];
  agent_id: string;
  feature_id: string | null;
  held_ms: number;
}

/** A key with at least `control.queue_limit` queued requests. */
export interface QueuedKey {
  key: string;
  waiters: number;
  agents: string[];
}

/** An agent with more active features than `control.agent_task_limit`. */
export interface OverloadedAgent {
  agent_id: string;
  active_features: number;
  features: string[];
}

/** A capped list: the first items and how many were left out. */
export interface Capped<T> {
  items: T[];
  omitted: number;
}

/** The `signalbox://metrics` body. Durations in ms; rates in 0..1 (null with no requests). */
export interface MetricsReport {
  lock_requests: {
    total: number;
    granted: number;
    waited: number;
    refused: Record<RefusalReason, number>;
    /** (requests that waited or were refused) / all requests. */
    contention_rate: number | null;
  };
  /** Over the last {@link WAIT_SAMPLES} granted requests. */
  lock_wait_ms: { samples: number; p50: number | null; p95: number | null; max: number | null };
  /** Lock refusals by reason and escalations by kind. */
  conflicts_by_type: Record<string, number>;
  /** resolved - emitted/opened, over resolved RED signals and resolved escalations. */
  conflict_resolution_ms: { resolved: number; p50: number | null; mean: number | null };
  features: { completed: number; active: number; failed: number };
  agents_by_status: Record<string, number>;
  bottlenecks: {
    total: number;
    long_held_locks: Capped<LongHeldLock>;
    queued_keys: Capped<QueuedKey>;
    delayed_messages: Capped<DelayedMessage>;
    overloaded_agents: Capped<OverloadedAgent>;
  };
}

/** Where the live locks and waiters come from (`LockManager.list`). */
export interface LockLister {
  list(): { locks: LockView[]; waiters: WaiterView[] };
}

function waitSamples(env: ControlEnv): number[] {
  const out: number[] = [];
  for (const value of env.txn.read().values(metrics.waitSample)) out.push(value);
  return out.sort((a, b) => a - b);
}

function resolutionTimes(env: ControlEnv): number[] {
  const out: number[] = [];
  const tx = env.txn.read();
  for (const s of tx.values(signals.signal)) {
    if (s.level === "RED" && s.status === "resolved" && s.resolved_mono !== null && s.resolved_mono >= s.emitted_mono) {
      out.push(s.resolved_mono - s.emitted_mono);
    }
  }
  for (const e of tx.values(conventions.escalation)) {
    if (e.status === "resolved" && e.resolved_mono !== null && e.resolved_mono >= e.opened_mono) out.push(e.resolved_mono - e.opened_mono);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Compute the metrics and bottleneck report from stored state and the live
 * lock table. Every bottleneck list is capped at `limit` (default
 * `control.page_size`) with an `omitted` count. Read-only.
 */
export function metricsReport(env: ControlEnv, locks: LockLister, limit = env.config.control.page_size): MetricsReport {
  const { control } = env.config;
  const tx = env.txn.latest();
  const c = acquireCounters(env);

  const samples = waitSamples(env);
  const conflicts: Record<string, number> = {
    lock_conflict: c.refused.conflict,
    deadlock: c.refused.deadlock,
    timeout: c.refused.timeout,
    paused: c.refused.paused,
    checkpoint: c.refused.checkpoint,
  };
  for (const { kind } of tx.values(conventions.escalation)) {
    conflicts[kind] = (conflicts[kind] ?? 0) + 1;
  }
  const times = resolutionTimes(env);

  const features = { completed: 0, active: 0, failed: 0 };
  const activeByAgent = new Map<string, string[]>();
  for (const f of tx.values(featureRecords.feature)) {
    if (f.status in features) features[f.status]++;
    if (f.status === "active") activeByAgent.set(f.agent_id, [...(activeByAgent.get(f.agent_id) ?? []), f.feature_id]);
  }
  const agents_by_status: Record<string, number> = {};
  for (const a of allAgents(env)) agents_by_status[a.status] = (agents_by_status[a.status] ?? 0) + 1;

  const live = locks.list();
  const nowWall = env.clock.wallMs();
  const longHeld: LongHeldLock[] = live.locks
    .map((l) => ({ key: l.key, mode: l.mode, agent_id: l.agent_id, feature_id: l.feature_id, held_ms: Math.round(nowWall - Date.parse(l.acquired_at)) }))
    .filter((l) => l.held_ms > control.lock_held_limit_ms)
    .sort((a, b) => b.held_ms - a.held_ms);
  const queue = new Map<string, string[]>();
  for (const w of live.waiters) for (const k of w.keys) queue.set(k, [...(queue.get(k) ?? []), w.agent_id]);
  const queued: QueuedKey[] = [...queue.entries()]
    .filter(([, agents]) => agents.length >= control.queue_limit)
    .map(([key, agents]) => ({ key, waiters: agents.length, agents: [...new Set(agents)].slice(0, limit) }))
    .sort((a, b) => b.waiters - a.waiters);
  const delayed = delayedMessages(env);
  const overloaded: OverloadedAgent[] = [...activeByAgent.entries()]
    .filter(([, fs]) => fs.length > control.agent_task_limit)
    .map(([agent_id, fs]) => ({ agent_id, active_features: fs.length, features: fs.slice(0, limit) }))
    .sort((a, b) => b.active_features - a.active_features);

  return {
    lock_requests: {
      total: c.requests,
      granted: c.granted,
      waited: c.waited,
      refused: c.refused,
      contention_rate: c.requests > 0 ? c.contended / c.requests : null,
    },
    lock_wait_ms: { samples: samples.length, p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), max: samples.at(-1) ?? null },
    conflicts_by_type: conflicts,
    conflict_resolution_ms: {
      resolved: times.length,
      p50: percentile(times, 0.5),
      mean: times.length > 0 ? Math.round(times.reduce((s, t) => s + t, 0) / times.length) : null,
    },
    features,
    agents_by_status,
    bottlenecks: {
      total: longHeld.length + queued.length + delayed.length + overloaded.length,
      long_held_locks: cap(longHeld, limit),
      queued_keys: cap(queued, limit),
      delayed_messages: cap(delayed, limit),
      overloaded_agents: cap(overloaded, limit),
    },
  };
}
