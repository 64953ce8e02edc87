/**
 * The torture checker (RELIABILITY.md, "The fault-injection harness"):
 * histories recorded by many client processes after faults, checked for the
 * things signalbox promises never to do.
 *
 * Rules (each count must be 0 for a pass):
 * 1. two agents holding conflicting locks at once (recorded intervals intersect);
 * 2. a fencing token given twice; 3. tokens not rising in grant order;
 * 4. a waiter passed over in its key's FIFO queue;
 * 5. an acknowledged decision missing from the log;
 * 6. a recorded grant absent from the store;
 * 8. a renew/release/verify answered against the lease bounds (stale checks).
 * (Rule 7, hung processes, is counted by the harness.)
 *
 * Every rule is written so that it can only fire on a real fault: times are
 * CLOCK_MONOTONIC ms shared by all processes, and each bound is taken on the
 * safe side of the client/server round trip.
 */
import { keysOverlap } from "../src/paths.js";
import type { LockRecord } from "../src/store/lmdb/store.js";
import {
  checkHistory,
  describePair,
  type DecisionEvent,
  type GrantEvent,
  type HistoryEvent,
  type OpEvent,
  type RenewEvent,
  type RequestEvent,
} from "./history.js";

/** A FIFO violation: `b` was granted while `a`, queued before `b` was sent, surely still waited. */
export interface FifoViolation {
  a: RequestEvent;
  b: RequestEvent;
}

/** A renew/release/verify whose answer contradicts the lease bounds. */
export interface StaleViolation {
  op: OpEvent;
  /** "must_be_stale": sent after the lease surely ended; "must_be_current": answered before it could end. */
  rule: "must_be_stale" | "must_be_current";
  lower: number;
  upper: number;
}

/** What the store says, for rules 5 and 6 (the harness reads a freshly opened store). */
export interface StoreLookup {
  /** The lock record of `lockId` (LockTable.getLock), or undefined. */
  lock(lockId: string): LockRecord | undefined;
  /** The context text of decision `seq`, or undefined if absent. */
  decisionContext(seq: number): string | undefined;
}

/** Everything the checker found; `counts` are what the report shows. */
export interface TortureCheck {
  counts: {
    grants: number;
    double_grants: number;
    duplicate_tokens: number;
    non_rising_tokens: number;
    fifo_violations: number;
    fifo_pairs_checked: number;
    lost_decisions: number;
    missing_grants: number;
    stale_checks: number;
    stale_violations: number;
    /** Releases or renewals of lock_ids never recorded as granted, or a lock_id granted twice (recorder bugs). */
    recorder_errors: number;
  };
  /** A few human-readable examples per violated rule. */
  examples: string[];
  fifo: FifoViolation[];
  stale: StaleViolation[];
}

const EXAMPLES_PER_RULE = 3;

function conflictingModes(a: { mode: string }, b: { mode: string }): boolean {
  return a.mode === "write" || b.mode === "write";
}

function keysMeet(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => keysOverlap(x, y)));
}

/**
 * Rule 4: waiters served out of FIFO order.
 *
 * Request A surely entered the queue before B when `A.queued_t < B.sent_t`
 * (the progress notification leaves the server after the enqueue committed).
 * A surely stayed queued until `A.sent_t + min(A.waited_ms, A.wait_ms) - 1`
 * (the server measures waited_ms from after A arrived, rounded; a timed-out
 * waiter leaves at its deadline). If B, from another agent, on an overlapping
 * key in a conflicting mode, was answered granted before that instant, it
 * was granted while A waited ahead of it. Only answered requests count.
 * `pairs` counts the pairs where the rule could have fired (B sent while A
 * surely waited), to show the check was exercised.
 */
export function checkFifo(events: readonly HistoryEvent[]): { violations: FifoViolation[]; pairs: number } {
  const reqs = events.filter((e): e is RequestEvent => e.type === "request" && e.answer_t !== undefined && e.outcome !== "lost");
  const queued = reqs.filter((a) => a.queued_t !== undefined && a.waited_ms !== undefined);
  // Sorted by send time: only grants sent inside (A.queued_t, A's leave bound) can be answered before it.
  const granted = reqs.filter((b) => b.outcome === "granted").sort((x, y) => x.sent_t - y.sent_t);
  const violations: FifoViolation[] = [];
  let pairs = 0;
  for (const a of queued) {
    const queuedT = a.queued_t as number;
    const leaveLow = a.sent_t + Math.min(a.waited_ms as number, a.wait_ms) - 1;
    let lo = 0;
    let hi = granted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((granted[mid] as RequestEvent).sent_t <= queuedT) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < granted.length; i++) {
      const b = granted[i] as RequestEvent;
      if (b.sent_t >= leaveLow) break;
      if (b.agent === a.agent || !conflictingModes(a, b) || !keysMeet(a.keys, b.keys)) continue;
      pairs++;
      if ((b.answer_t as number) < leaveLow) violations.push({ a, b });
    }
  }
  return { violations, pairs };
}

/**
 * Rule 8: stale checks. For each op on a lock, from the grant or the last
 * renewal answered "current" before the op was sent:
 * - upper = answer time + lease (the lease surely ended by then; a lost
 *   renewal may have extended it up to when the loss was seen + its lease);
 * - lower = send time + lease (the lease surely ran until then).
 * An op sent after `upper` must come back "expired"; an op answered before
 * `lower` must come back "current" unless the lock was released before the
 * op was sent. Lost and errored ops say nothing.
 */
export function checkStale(events: readonly HistoryEvent[]): { violations: StaleViolation[]; checks: number } {
  const grants = new Map<string, GrantEvent>();
  const renewsOf = new Map<string, (RenewEvent | OpEvent)[]>();
  const releasedAt = new Map<string, number[]>();
  const ops: OpEvent[] = [];
  const push = (id: string, ev: RenewEvent | OpEvent) => {
    const list = renewsOf.get(id);
    if (list) list.push(ev);
    else renewsOf.set(id, [ev]);
  };
  for (const ev of events) {
    if (ev.type === "grant" && !grants.has(ev.lock_id)) grants.set(ev.lock_id, ev);
    else if (ev.type === "renew") push(ev.lock_id, ev);
    else if (ev.type === "release") releasedAt.set(ev.lock_id, [...(releasedAt.get(ev.lock_id) ?? []), ev.t]);
    else if (ev.type === "op") {
      ops.push(ev);
      if (ev.op === "renew" && ev.status === "lost") push(ev.lock_id, ev);
    }
  }
  const violations: StaleViolation[] = [];
  let checks = 0;
  for (const op of ops) {
    if (op.status === "lost" || op.status === "error") continue;
    const g = grants.get(op.lock_id);
    if (!g || g.sent_t === undefined || g.lease_ms === undefined) continue;
    let lower = g.sent_t + g.lease_ms;
    let upper = g.t + g.lease_ms;
    for (const r of renewsOf.get(op.lock_id) ?? []) {
      if (r === op) continue;
      if (r.type === "renew") {
        if (r.t > op.sent_t) continue;
        lower = Math.max(lower, r.sent_t + r.lease_ms);
        upper = Math.max(upper, r.t + r.lease_ms);
      } else if (r.sent_t < op.sent_t) {
        // A lost renewal may have committed at any time before its loss was seen.
        upper = Math.max(upper, r.answer_t + (r.lease_ms ?? 0));
      }
    }
    if (op.sent_t > upper) {
      checks++;
      if (op.status !== "expired") violations.push({ op, rule: "must_be_stale", lower, upper });
    } else if (op.answer_t < lower) {
      // A release op's own release event is recorded just before it is sent: it does not count.
      const earlier = (releasedAt.get(op.lock_id) ?? []).filter((t) => t <= op.sent_t).length;
      const releasedBefore = earlier > (op.op === "release" ? 1 : 0);
      if (!releasedBefore && op.status !== "current") violations.push({ op, rule: "must_be_current", lower, upper });
    }
  }
  return { violations, checks };
}

/** Rule 5: acknowledged decisions whose `seq` holds no entry, or an entry with other text. */
export function lostDecisions(events: readonly HistoryEvent[], store: StoreLookup): DecisionEvent[] {
  return events.filter((e): e is DecisionEvent => e.type === "decision" && store.decisionContext(e.seq) !== e.content);
}

/** Rule 6: recorded grants with no matching lock record (lock_id, key, mode, token, agent). */
export function missingGrants(events: readonly HistoryEvent[], store: StoreLookup): GrantEvent[] {
  return events.filter((e): e is GrantEvent => {
    if (e.type !== "grant") return false;
    const rec = store.lock(e.lock_id);
    return !(rec && rec.key === e.key && rec.mode === e.mode && rec.fencing_token === e.fencing_token && rec.agent_id === e.agent);
  });
}

function reqLine(r: RequestEvent): string {
  const q = r.queued_t === undefined ? "" : ` queued ${r.queued_t.toFixed(1)}`;
  return `${r.agent} ${r.mode} [${r.keys.join(",")}] sent ${r.sent_t.toFixed(1)}${q} answered ${r.answer_t?.toFixed(1)} ${r.outcome} waited ${r.waited_ms}/${r.wait_ms}`;
}

/**
 * Run every rule on a merged history. Without `store` rules 5 and 6 are
 * skipped (their counts stay 0).
 */
export function checkTortureHistory(events: readonly HistoryEvent[], store?: StoreLookup): TortureCheck {
  const h = checkHistory(events);
  const fifo = checkFifo(events);
  const stale = checkStale(events);
  const lost = store ? lostDecisions(events, store) : [];
  const missing = store ? missingGrants(events, store) : [];
  const examples: string[] = [];
  const add = (rule: string, lines: string[]) => {
    for (const l of lines.slice(0, EXAMPLES_PER_RULE)) examples.push(`${rule}: ${l}`);
  };
  add("double grant", h.overlaps.map(describePair));
  add("duplicate token", h.duplicateTokens.map((d) => `token ${d.fencing_token} on ${d.lock_ids.join(", ")}`));
  add("non-rising token", h.nonMonotonicTokens.map(describePair));
  add("fifo", fifo.violations.map(({ a, b }) => `${reqLine(b)} granted while ${reqLine(a)} waited ahead`));
  add("lost decision", lost.map((d) => `#${d.seq} by ${d.agent}: ${d.content}`));
  add("missing grant", missing.map((g) => `${g.agent} ${g.mode} ${g.key} token ${g.fencing_token} (${g.lock_id})`));
  add(
    "stale check",
    stale.violations.map(
      (v) =>
        `${v.rule}: ${v.op.op} by ${v.op.agent} of ${v.op.lock_id} sent ${v.op.sent_t.toFixed(1)} answered ${v.op.answer_t.toFixed(1)} ` +
        `said ${v.op.status}; lease bounds [${v.lower.toFixed(1)}, ${v.upper.toFixed(1)}]`,
    ),
  );
  add("recorder", [...h.duplicateLockIds.map((id) => `granted twice: ${id}`), ...h.unknownLockIds.map((id) => `never granted: ${id}`)]);
  return {
    counts: {
      grants: h.grants,
      double_grants: h.overlaps.length,
      duplicate_tokens: h.duplicateTokens.length,
      non_rising_tokens: h.nonMonotonicTokens.length,
      fifo_violations: fifo.violations.length,
      fifo_pairs_checked: fifo.pairs,
      lost_decisions: lost.length,
      missing_grants: missing.length,
      stale_checks: stale.checks,
      stale_violations: stale.violations.length,
      recorder_errors: h.duplicateLockIds.length + h.unknownLockIds.length,
    },
    examples,
    fifo: fifo.violations,
    stale: stale.violations,
  };
}
