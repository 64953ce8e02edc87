/**
 * A history of lock grants and releases as clients observed them, and a
 * checker that finds double grants and fencing-token faults in it.
 *
 * Times are CLOCK_MONOTONIC milliseconds (`process.hrtime`), which every
 * process of one boot shares, so histories recorded by several processes can
 * be merged. (`performance.now()` is per process and must not be used.)
 *
 * Recording discipline, which makes every recorded interval lie inside the
 * lock's true holding interval:
 * - a grant is recorded AFTER acquire_lock answered granted (`t` = arrival of
 *   the answer, never earlier than the commit of the grant);
 * - a release is recorded BEFORE release_lock is sent (`t` = just before the
 *   call, never later than the commit of the release);
 * - a lock never released (holder killed) ends at its lease: the grant may
 *   carry `sent_t` (just before acquire_lock was sent) and `lease_ms`; the
 *   server's expiry is at least `sent_t + lease_ms`. A successful renewal is
 *   recorded with its own `sent_t` and `lease_ms` and replaces that bound.
 * Hence two recorded intervals that intersect mean the server really let two
 * holders hold at once.
 *
 * The torture harness (torture/harness.ts) adds request, op and decision events
 * for its FIFO, stale-lease and decision-log checks (torture/checker.ts); the
 * interval checker here ignores them.
 */
import { keysOverlap } from "../src/paths.js";

/** Lock mode as the server names it. */
export type HistoryMode = "read" | "write";

/** Monotonic milliseconds shared by every process of this boot. */
export function monoNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** One granted key, recorded after the grant arrived. */
export interface GrantEvent {
  type: "grant";
  /** Arrival of the granted answer. */
  t: number;
  /** Just before acquire_lock was sent (for the lease bound), if known. */
  sent_t?: number;
  /** Lease requested, if known. */
  lease_ms?: number;
  agent: string;
  /** Which process / client recorded it (diagnostics only). */
  proc?: string;
  key: string;
  mode: HistoryMode;
  lock_id: string;
  fencing_token: number;
}

/** A successful lease renewal, recorded after renew_lease answered renewed. */
export interface RenewEvent {
  type: "renew";
  t: number;
  /** Just before renew_lease was sent. */
  sent_t: number;
  lease_ms: number;
  agent: string;
  lock_id: string;
}

/** A release, recorded just before release_lock was sent. */
export interface ReleaseEvent {
  type: "release";
  t: number;
  agent: string;
  lock_id: string;
}

/** How an acquire_lock request ended, as the client saw it. */
export type RequestOutcome =
  | "granted"
  | "conflict"
  | "timeout"
  | "deadlock"
  | "paused"
  | "checkpoint"
  /** A tool error or protocol error (the text is kept by the driver). */
  | "error"
  /** The server died with the call in flight: the outcome is unknown (no grant is recorded). */
  | "lost";

/**
 * One acquire_lock request (torture rule 4, FIFO): when it was sent, when
 * its first `notifications/progress` arrived (the server sends one when the
 * request enters the FIFO queue; absent if none came), when the answer came,
 * and the server-measured `waited_ms` (time queued, measured from after the
 * request arrived).
 */
export interface RequestEvent {
  type: "request";
  /** When the request ended as the client saw it: the answer arrived or the loss was noticed. */
  t: number;
  agent: string;
  proc?: string;
  keys: string[];
  mode: HistoryMode;
  wait_ms: number;
  lease_ms: number;
  sent_t: number;
  queued_t?: number;
  answer_t?: number;
  outcome: RequestOutcome;
  waited_ms?: number;
}

/**
 * One renew_lease, release_lock or verify_lock call on one lock, with what
 * the server said about it (torture rule 8, stale checks): `status` is
 * "current" when the lock was renewed / released / valid, else the stale
 * status the server named ("expired", "released", "unknown"...), "lost" when
 * the server died with the call in flight, "error" for a tool error.
 * A lost renewal may still have extended the lease (until `answer_t`, when
 * the loss was seen, plus `lease_ms`).
 */
export interface OpEvent {
  type: "op";
  /** Same as `answer_t` (every event carries a `t`). */
  t: number;
  op: "renew" | "release" | "verify";
  agent: string;
  proc?: string;
  lock_id: string;
  sent_t: number;
  answer_t: number;
  /** Lease asked for (renew only). */
  lease_ms?: number;
  status: string;
}

/** A decision the server acknowledged with its log sequence number (torture rule 5). */
export interface DecisionEvent {
  type: "decision";
  t: number;
  agent: string;
  seq: number;
  /** The unique context text sent; must be found at `seq` in the log. */
  content: string;
}

export type HistoryEvent = GrantEvent | RenewEvent | ReleaseEvent | RequestEvent | OpEvent | DecisionEvent;

/** The subset of an acquire_lock grant the recorder needs. */
export interface GrantedLockLike {
  key: string;
  mode: HistoryMode;
  lock_id: string;
  fencing_token: number;
}

/** Append-only event log; plain JSON, so child processes can ship theirs to be merged. */
export class History {
  readonly events: HistoryEvent[] = [];

  /** Record granted locks. Call right after the granted answer arrived. */
  grant(
    agent: string,
    locks: readonly GrantedLockLike[],
    opts: { t?: number; sent_t?: number; lease_ms?: number; proc?: string } = {},
  ): void {
    const t = opts.t ?? monoNow();
    for (const l of locks) {
      const ev: GrantEvent = { type: "grant", t, agent, key: l.key, mode: l.mode, lock_id: l.lock_id, fencing_token: l.fencing_token };
      if (opts.sent_t !== undefined) ev.sent_t = opts.sent_t;
      if (opts.lease_ms !== undefined) ev.lease_ms = opts.lease_ms;
      if (opts.proc !== undefined) ev.proc = opts.proc;
      this.events.push(ev);
    }
  }

  /** Record renewed locks. Call after renew_lease answered; `sent_t` = just before it was sent. */
  renew(agent: string, lockIds: readonly string[], sentT: number, leaseMs: number, t = monoNow()): void {
    for (const lock_id of lockIds) this.events.push({ type: "renew", t, sent_t: sentT, lease_ms: leaseMs, agent, lock_id });
  }

  /** Record releases. Call just BEFORE sending release_lock. */
  release(agent: string, lockIds: readonly string[], t = monoNow()): void {
    for (const lock_id of lockIds) this.events.push({ type: "release", t, agent, lock_id });
  }

  /** Append events recorded elsewhere (another process). */
  merge(events: readonly HistoryEvent[]): void {
    this.events.push(...events);
  }
}

/** A recorded holding interval: inside the lock's true holding interval. */
export interface Interval {
  agent: string;
  proc: string | undefined;
  key: string;
  mode: HistoryMode;
  lock_id: string;
  fencing_token: number;
  start: number;
  /** Earliest instant the grant can have committed: the send time of the request if known, else `start`. */
  sent: number;
  /** Release time, else the lease bound, else +Infinity (still held). */
  end: number;
}

/** Two intervals, `a` granted first. */
export interface IntervalPair {
  a: Interval;
  b: Interval;
}

/** What {@link checkHistory} found. Every list empty means the history is clean. */
export interface HistoryCheck {
  /** Number of granted keys (one per lock_id). */
  grants: number;
  intervals: Interval[];
  /** Conflicting pairs (overlapping keys, one a write, different agents) whose intervals intersect. */
  overlaps: IntervalPair[];
  /** Fencing tokens given to more than one lock. */
  duplicateTokens: { fencing_token: number; lock_ids: string[] }[];
  /** Conflicting pairs surely granted in order (`a` answered before `b` was sent) whose tokens do not rise. */
  nonMonotonicTokens: IntervalPair[];
  /** lock_ids granted more than once. */
  duplicateLockIds: string[];
  /** Releases or renewals of lock_ids never recorded as granted (a recorder bug). */
  unknownLockIds: string[];
}

function conflicting(a: Interval, b: Interval): boolean {
  return a.agent !== b.agent && (a.mode === "write" || b.mode === "write") && keysOverlap(a.key, b.key);
}

/** Keys that can overlap share this group: the first path segment, or the whole named key. */
function groupOf(key: string): string {
  if (key.startsWith("table:") || key.startsWith("resource:")) return key;
  const slash = key.indexOf("/");
  return slash < 0 ? key : key.slice(0, slash);
}

/** Build the recorded intervals of a history. */
export function intervalsOf(events: readonly HistoryEvent[]): {
  intervals: Interval[];
  duplicateLockIds: string[];
  unknownLockIds: string[];
} {
  const grants = new Map<string, GrantEvent>();
  const duplicateLockIds = new Set<string>();
  for (const ev of events) {
    if (ev.type !== "grant") continue;
    if (grants.has(ev.lock_id)) duplicateLockIds.add(ev.lock_id);
    else grants.set(ev.lock_id, ev);
  }
  const releaseT = new Map<string, number>();
  const renewBound = new Map<string, number>();
  const unknown = new Set<string>();
  for (const ev of events) {
    if (ev.type !== "release" && ev.type !== "renew") continue;
    if (!grants.has(ev.lock_id)) {
      unknown.add(ev.lock_id);
      continue;
    }
    if (ev.type === "release") {
      releaseT.set(ev.lock_id, Math.min(releaseT.get(ev.lock_id) ?? Number.POSITIVE_INFINITY, ev.t));
    } else {
      renewBound.set(ev.lock_id, Math.max(renewBound.get(ev.lock_id) ?? Number.NEGATIVE_INFINITY, ev.sent_t + ev.lease_ms));
    }
  }
  const intervals: Interval[] = [];
  for (const g of grants.values()) {
    // A renewal never shortens a lease (src/locks/manager.ts renew), so the lease ends no earlier than the
    // latest (send time + lease) of the grant and of every successful renewal. Without the grant's
    // send time and lease the bound is unknown: the interval runs to its release.
    let leaseEnd = Number.POSITIVE_INFINITY;
    if (g.sent_t !== undefined && g.lease_ms !== undefined) {
      leaseEnd = Math.max(g.sent_t + g.lease_ms, renewBound.get(g.lock_id) ?? Number.NEGATIVE_INFINITY);
    }
    const end = Math.min(releaseT.get(g.lock_id) ?? Number.POSITIVE_INFINITY, leaseEnd);
    intervals.push({
      agent: g.agent,
      proc: g.proc,
      key: g.key,
      mode: g.mode,
      lock_id: g.lock_id,
      fencing_token: g.fencing_token,
      start: g.t,
      sent: g.sent_t ?? g.t,
      end,
    });
  }
  return { intervals, duplicateLockIds: [...duplicateLockIds], unknownLockIds: [...unknown] };
}

/**
 * Check a history: no two conflicting holders at once, every fencing token
 * used once, and tokens rising in grant order between conflicting grants.
 * `a` was surely granted before `b` when `a`'s answer arrived before `b`'s
 * request was sent. Every driver records send times; a history without
 * them (older tests) falls back to answer times, which is only sound when
 * no client was paused. Recorded answer times alone are not the grant order: a client paused
 * (SIGSTOP) reads an old grant late, after its lease already ended.
 */
export function checkHistory(events: readonly HistoryEvent[]): HistoryCheck {
  const { intervals, duplicateLockIds, unknownLockIds } = intervalsOf(events);

  const byToken = new Map<number, string[]>();
  for (const iv of intervals) {
    const list = byToken.get(iv.fencing_token);
    if (list) list.push(iv.lock_id);
    else byToken.set(iv.fencing_token, [iv.lock_id]);
  }
  const duplicateTokens = [...byToken.entries()]
    .filter(([, ids]) => ids.length > 1)
    .map(([fencing_token, lock_ids]) => ({ fencing_token, lock_ids }));

  const groups = new Map<string, Interval[]>();
  for (const iv of intervals) {
    const g = groupOf(iv.key);
    const list = groups.get(g);
    if (list) list.push(iv);
    else groups.set(g, [iv]);
  }
  const overlaps: IntervalPair[] = [];
  const nonMonotonicTokens: IntervalPair[] = [];
  for (const list of groups.values()) {
    list.sort((x, y) => x.start - y.start);
    for (let i = 0; i < list.length; i++) {
      const a = list[i] as Interval;
      for (let j = i + 1; j < list.length; j++) {
        const b = list[j] as Interval;
        if (!conflicting(a, b)) continue;
        if (a.start < b.end && b.start < a.end) overlaps.push({ a, b });
        if (a.start < b.sent && a.fencing_token >= b.fencing_token) nonMonotonicTokens.push({ a, b });
      }
    }
  }
  return { grants: intervals.length, intervals, overlaps, duplicateTokens, nonMonotonicTokens, duplicateLockIds, unknownLockIds };
}

/** A one-line description of an interval pair, for assertion messages. */
export function describePair({ a, b }: IntervalPair): string {
  const one = (x: Interval) =>
    `${x.agent}${x.proc ? `@${x.proc}` : ""} ${x.mode} ${x.key} token ${x.fencing_token} [${x.start.toFixed(1)}, ${x.end.toFixed(1)}]`;
  return `${one(a)} vs ${one(b)}`;
}
