/**
 * The conflict rules of the lock table, as pure functions over a read-only
 * {@link LockTableReader}: which live holders and earlier waiters stand
 * between a request and its grant, the wait-for graph those blockers form,
 * and the deadlock cycle a new wait would close.
 *
 * Rules and their sources:
 * - read locks are shared, write locks exclusive (parallel-execution-protocol
 *   §3.3); a folder key conflicts with every key below it, and a key with
 *   every folder key above it (DESIGN.md, "Resource key");
 * - waiters queue FIFO per key, so an earlier conflicting waiter blocks a
 *   later request even when no lock is held (DESIGN.md, "Lock");
 * - a lock counts only while its lease is live: state `held`, this boot, not
 *   lapsed on the monotonic clock (DESIGN.md, "Store rules"; store/lmdb/layout.ts);
 *   a waiter counts only while its deadline has not passed and the process
 *   that queued it runs;
 * - a request that would close a wait-for cycle is a deadlock (DESIGN.md;
 *   protocol "Success Criteria": no deadlocks).
 *
 * Nothing here reads a clock, a store or a process table: the caller passes
 * the instant ({@link Instant}) and a reader (src/locks/table-reader.ts over
 * LMDB; plain arrays in the unit tests). Dead entries met on the way are
 * reported, never removed: removing them is a command (src/locks/commands.ts).
 */
import { ancestorDirs, keyKind } from "../paths.js";
import type { LockRecord, WaiterRecord } from "./records.js";
import { isLeaseLive } from "./lease.js";
import type { LockMode } from "./types.js";

/** The moment liveness is judged at: this boot's id and a monotonic instant in ms (store/clock.ts). */
export interface Instant {
  bootId: string;
  /** Monotonic milliseconds, as `Clock.monoMs()` returns them. */
  now: number;
}

/**
 * A read-only look at the lock table (the layout of src/locks/table.ts).
 * Index entries are named by `index`, the key the caller may later remove
 * when the entry turns out dangling.
 */
export interface LockTableReader {
  /**
   * Live-index entries whose key starts with `prefix`, in key order then
   * token order: `app/x.ts\0` is exactly that key, `app/` a folder key and
   * everything below it.
   */
  heldUnder(prefix: string): Iterable<{ index: string; token: number }>;
  /** Every live-index entry, in key order. */
  allHeld(): Iterable<{ index: string; token: number }>;
  /** Queue entries whose key starts with `prefix` (as {@link heldUnder}), seq order per key. */
  queuedUnder(prefix: string): Iterable<{ index: string; seq: number }>;
  /** The lock record of fencing token `token`, ended or not. */
  lockByToken(token: number): LockRecord | undefined;
  /** The record of secret `lockId` (`<token>.<secret>`), or undefined if unknown or the secret does not match. */
  getLock(lockId: string): LockRecord | undefined;
  /** Waiter `seq`, or undefined once it left the queue. */
  getWaiter(seq: number): WaiterRecord | undefined;
  /** Every waiter, in FIFO (seq) order. */
  allWaiters(): Iterable<WaiterRecord>;
  /** Is the process that queued a waiter (its `pid` and `boot` as stored) still running? A waiter whose process died blocks nobody (store/port.ts `Liveness`). */
  processAlive(owner: { pid: number; boot: string }): boolean;
}

/** A holder in a request's way: its lock, and the requested key it conflicts with. */
export interface BlockingHolder {
  rec: LockRecord;
  requested: string;
}

/** An earlier waiter in a request's way, and the requested key it conflicts with. */
export interface BlockingWaiter {
  w: WaiterRecord;
  requested: string;
}

/**
 * Who stands between a request and its grant, and the dead entries met while
 * looking (for the caller to purge inside a write transaction, or ignore).
 */
export interface Blockers {
  holders: BlockingHolder[];
  waiters: BlockingWaiter[];
  dead: {
    /** Lock records still indexed as held whose lease lapsed. */
    locks: LockRecord[];
    /** Waiters still queued that are no longer live. */
    waiters: WaiterRecord[];
    /** Index and queue entries whose record is gone or no longer held. */
    entries: string[];
  };
}

/** Do two modes conflict? Only read with read is shared (parallel-execution-protocol §3.3). */
export function modesConflict(a: LockMode, b: LockMode): boolean {
  return a === "write" || b === "write";
}

/** Does `rec` hold its key at `at`? State `held`, this boot, lease not lapsed (lease.ts `isLeaseLive`). */
export function lockIsLive(rec: LockRecord, at: Instant): boolean {
  return isLeaseLive(rec, at.bootId, at.now);
}

/** Is waiter `w` still queued at `at`? This boot, its deadline not reached, its process running. */
export function waiterIsLive(reader: LockTableReader, w: WaiterRecord, at: Instant): boolean {
  return w.boot === at.bootId && w.deadline_mono > at.now && reader.processAlive(w);
}

/**
 * The index prefixes whose entries lie on `key` or a folder key above it:
 * `app/x.ts` is covered by `app/x.ts` and `app/` (DESIGN.md, "Resource key").
 */
export function coveringPrefixes(key: string): string[] {
  return [`${key}\0`, ...ancestorDirs(key).map((d) => `${d}\0`)];
}

/**
 * The index prefixes whose entries can overlap `key`: itself, its ancestor
 * folders, and for a folder key everything below it.
 */
export function overlapPrefixes(key: string): string[] {
  if (keyKind(key) === "dir") return [key, ...ancestorDirs(key).map((d) => `${d}\0`)];
  return coveringPrefixes(key);
}

/**
 * Who stands between a request and its grant: live holders of overlapping
 * keys in a conflicting mode, and live waiters queued earlier than `seq`
 * (FIFO order; pass +Infinity for a request not queued yet) on overlapping
 * keys in a conflicting mode. The requesting agent's own locks and requests
 * never block it. Each lock and waiter is reported once, against the first
 * requested key it overlaps.
 */
export function blockersOf(reader: LockTableReader, at: Instant, agent: string, mode: LockMode, keys: readonly string[], seq: number): Blockers {
  const out: Blockers = { holders: [], waiters: [], dead: { locks: [], waiters: [], entries: [] } };
  const seenLocks = new Set<number>();
  const seenWaiters = new Set<number>();
  for (const key of keys) {
    for (const prefix of overlapPrefixes(key)) {
      for (const { index, token } of reader.heldUnder(prefix)) {
        if (seenLocks.has(token)) continue;
        seenLocks.add(token);
        const rec = reader.lockByToken(token);
        if (!rec || rec.state !== "held") {
          out.dead.entries.push(index);
          continue;
        }
        if (!lockIsLive(rec, at)) {
          out.dead.locks.push(rec);
          continue;
        }
        if (rec.agent_id === agent || !modesConflict(mode, rec.mode)) continue;
        out.holders.push({ rec, requested: key });
      }
      for (const { index, seq: wseq } of reader.queuedUnder(prefix)) {
        if (wseq >= seq || seenWaiters.has(wseq)) continue;
        seenWaiters.add(wseq);
        const w = reader.getWaiter(wseq);
        if (!w) {
          out.dead.entries.push(index);
          continue;
        }
        if (!waiterIsLive(reader, w, at)) {
          out.dead.waiters.push(w);
          continue;
        }
        if (w.agent_id === agent || !modesConflict(mode, w.mode)) continue;
        out.waiters.push({ w, requested: key });
      }
    }
  }
  return out;
}

/** The agents in `b`'s way (holders and earlier waiters), each once. */
export function blockerSet(b: Blockers): Set<string> {
  const set = new Set<string>();
  for (const { rec } of b.holders) set.add(rec.agent_id);
  for (const { w } of b.waiters) set.add(w.agent_id);
  return set;
}

/** The agents in `b`'s way as one comparable string (sorted, NUL-separated; "" when none). */
export function blockerAgents(b: Blockers): string {
  return [...blockerSet(b)].sort().join("\0");
}

/** The waiters in `b`'s way, each once, in the order first met. */
export function uniqueWaiters(b: Blockers): WaiterRecord[] {
  const seen = new Map<number, WaiterRecord>();
  for (const { w } of b.waiters) seen.set(w.seq, w);
  return [...seen.values()];
}

/** Does anything stand in the way? */
export function isBlocked(b: Blockers): boolean {
  return b.holders.length > 0 || b.waiters.length > 0;
}

/** `b` in words, for a refusal's message: each holder (and the requested key it covers), then each earlier waiter. */
export function describeBlockers(b: Blockers): string {
  const parts = b.holders.map(
    ({ rec, requested }) =>
      `${rec.key} is ${rec.mode}-locked by "${rec.agent_id}"${rec.feature_id ? ` (${rec.feature_id})` : ""}` +
      (rec.key === requested ? "" : ` (covers ${requested})`),
  );
  for (const w of uniqueWaiters(b)) {
    parts.push(`"${w.agent_id}" is queued earlier for ${w.mode} on ${w.keys.join(", ")}`);
  }
  return parts.join("; ");
}

/**
 * The wait-for graph, built lazily: the edges from `agent` run to every agent
 * blocking one of `agent`'s live queued requests ({@link blockersOf} at that
 * request's place in the queue). Each agent's edges are computed once.
 */
export function waitForGraph(reader: LockTableReader, at: Instant): (agent: string) => Set<string> {
  const byAgent = new Map<string, WaiterRecord[]>();
  for (const w of reader.allWaiters()) {
    if (!waiterIsLive(reader, w, at)) continue;
    const list = byAgent.get(w.agent_id);
    if (list) list.push(w);
    else byAgent.set(w.agent_id, [w]);
  }
  const edges = new Map<string, Set<string>>();
  return (a: string): Set<string> => {
    let set = edges.get(a);
    if (set) return set;
    set = new Set<string>();
    edges.set(a, set);
    for (const w of byAgent.get(a) ?? []) {
      for (const next of blockerSet(blockersOf(reader, at, a, w.mode, w.keys, w.seq))) set.add(next);
    }
    return set;
  };
}

/**
 * Would `agent` waiting behind `b` close a cycle in the wait-for graph
 * ({@link waitForGraph})? Returns the cycle in wait-for order,
 * `[agent, waits-for, ..., agent]` (first agent repeated at the end), or null.
 */
export function findCycle(reader: LockTableReader, at: Instant, agent: string, b: Blockers): string[] | null {
  const edgesOf = waitForGraph(reader, at);
  // Depth-first search from each direct blocker back to `agent`.
  const parent = new Map<string, string>();
  const stack: string[] = [];
  for (const first of blockerSet(b)) {
    if (!parent.has(first)) {
      parent.set(first, agent);
      stack.push(first);
    }
  }
  while (stack.length > 0) {
    const node = stack.pop() as string;
    if (node === agent) {
      const path = [agent];
      let cur = parent.get(agent) as string;
      while (cur !== agent) {
        path.push(cur);
        cur = parent.get(cur) as string;
      }
      path.push(agent);
      // Built backwards from the end of the cycle: reverse into wait-for order.
      return [agent, ...path.slice(1, -1).reverse(), agent];
    }
    for (const next of edgesOf(node)) {
      if (!parent.has(next)) {
        parent.set(next, node);
        stack.push(next);
      }
    }
  }
  return null;
}
