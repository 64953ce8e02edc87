/**
 * Shared and exclusive locks with leases, fencing tokens, FIFO queues and
 * wait-for-graph deadlock detection, all decided inside LMDB write
 * transactions so that every server process on the machine agrees.
 *
 * Rules and their sources:
 * - read locks are shared, write locks exclusive (parallel-execution-protocol
 *   §3.3); a directory key conflicts with every key below it (DESIGN.md,
 *   "Resource key");
 * - a request for several keys is granted whole or not at all (DESIGN.md, "Lock");
 * - waiters queue FIFO per key while `wait_ms` runs, so readers cannot starve
 *   a writer (DESIGN.md, "Lock");
 * - a request that would close a wait-for cycle is refused as a deadlock,
 *   naming the cycle (DESIGN.md; protocol "Success Criteria": no deadlocks);
 * - locks are leased on the monotonic clock plus boot id, and every grant
 *   carries a fencing token strictly increasing across the store (DESIGN.md,
 *   "Store rules" and "Lessons": a crashed agent does not block the team
 *   forever; a holder whose lease lapsed is told its token is stale);
 * - only the holder releases or renews its lock.
 *
 * One `transactionSync` per decision; nothing that decides a grant lives only
 * in this process's memory. The in-process event emitter only wakes local
 * waiters early; other processes are found by polling.
 */
import { InvalidArgumentError, LimitError, NotHolderError, SignalboxError } from "../errors.js";
import { EventEmitter } from "node:events";
import type { Clock } from "../store/clock.js";
import { monoToIso } from "../store/clock.js";
import { ancestorDirs, keyKind } from "../paths.js";
import type { LockRecord, Store, WaiterRecord } from "../store/index.js";
import { isLeaseLive } from "../store/layout.js";
import { LockTable } from "../store/lock-table.js";
import { LmdbEngine } from "../store/lmdb/engine.js";
import type {
  AcquireRequest,
  AcquireResult,
  BrokenLock,
  GrantedLock,
  Holder,
  LockHooks,
  LockMode,
  LockSettings,
  LockStatus,
  LockView,
  QueuedAhead,
  RefusalReason,
  ReleaseResult,
  RenewResult,
  VerifyResult,
  WaiterView,
  WaitingInfo,
} from "./types.js";

/**
 * Releases run as housekeeping writes: past `limits.store_mb` (and its
 * headroom) the store refuses new work, but a holder can always give a lock
 * back, which is what lets the store drain (store/guard.ts). The disk reserve
 * still applies.
 */
const RELEASE_WRITE = { housekeeping: true } as const;

export type * from "./types.js";


/** How long ended lock records are kept so `verify_lock` can say why a token is stale (ms). */
export const TOMBSTONE_MS = 3_600_000;
/** Longest pause between two looks at the store while queued, ms. */
const POLL_MAX_MS = 10;
/** Longest gap between two reports to a queued request's `onWaiting`, in ms. */
export const WAIT_REPORT_MS = 1000;

interface Blockers {
  holders: { rec: LockRecord; requested: string }[];
  waiters: { w: WaiterRecord; requested: string }[];
}

type Attempt =
  | { kind: "done"; result: AcquireResult }
  | { kind: "waiting"; seq: number; blockerAgents: string };

/** Is process `pid` alive? (EPERM means it exists but is not ours.) */
function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function conflicts(a: LockMode, b: LockMode): boolean {
  return a === "write" || b === "write";
}

/**
 * The lock table. One instance per context; it holds no state that decides a
 * grant, only an emitter to wake this process's own waiters early.
 */
export class LockManager {
  private readonly wake = new EventEmitter();
  private readonly table: LockTable;

  /**
   * @param engine the engine whose group commit the decisions and releases
   *        go through (one per process, shared with the rest of the
   *        context; lmdb/engine.ts); by default one of its own on `store`.
   */
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly settings: LockSettings,
    private readonly hooks: LockHooks = {},
    private readonly engine: LmdbEngine = new LmdbEngine(store, clock),
  ) {
    this.wake.setMaxListeners(0);
    this.table = new LockTable(() => store.lockTable);
  }

  /**
   * Acquire `keys` in `mode` for `agent_id`, all or nothing.
   *
   * Without a conflict the grant is immediate. On conflict with `wait_ms` 0
   * the answer is `granted: false, reason: "conflict"`; with `wait_ms` > 0 the
   * request queues FIFO on its keys and is granted when it reaches the front
   * and the holders are gone, or refused with `timeout` when the wait ends,
   * or with `deadlock` if waiting would close a wait-for cycle.
   *
   * @throws Error if `lease_ms` or `wait_ms` is outside the configured bounds,
   *         if `keys` is empty, or if `signal` aborts the wait.
   */
  async acquire(req: AcquireRequest): Promise<AcquireResult> {
    const lease = req.lease_ms ?? this.settings.default_lease_ms;
    const wait = req.wait_ms ?? this.settings.default_wait_ms;
    if (req.keys.length === 0) throw new InvalidArgumentError("paths", "expected at least one key");
    if (!(lease > 0) || lease > this.settings.max_lease_ms) {
      throw new InvalidArgumentError("lease_ms", `expected 1..${this.settings.max_lease_ms} ms, got ${lease}`);
    }
    if (!(wait >= 0) || wait > this.settings.max_wait_ms) {
      throw new InvalidArgumentError("wait_ms", `expected 0..${this.settings.max_wait_ms} ms, got ${wait}`);
    }
    const start = this.clock.monoMs();
    const deadline = start + wait;
    let attempt = await this.attempt(req, lease, null, deadline, start);
    if (attempt.kind === "done") return attempt.result;

    let seq = attempt.seq;
    let lastBlockers = attempt.blockerAgents;
    let lastReport = this.clock.monoMs();
    const report = (b?: Blockers) => {
      if (!req.onWaiting) return;
      lastReport = this.clock.monoMs();
      if (!b) {
        this.store.env.resetReadTxn();
        b = this.blockersOf(req.agent_id, req.mode, req.keys, seq);
      }
      req.onWaiting(this.waitingInfo(seq, b, lastReport - start));
    };
    report();
    // Other processes cannot wake us: poll with a read-only check (a few µs),
    // backing off from 1 ms to POLL_MAX_MS; local releases wake us at once.
    let pollMs = 1;
    try {
      for (;;) {
        const remaining = deadline - this.clock.monoMs();
        await this.sleep(Math.max(0, Math.min(pollMs, remaining)), req.signal);
        pollMs = Math.min(POLL_MAX_MS, pollMs * 1.5);
        if (req.signal?.aborted) throw new Error("acquire_lock: cancelled by the client while waiting");
        const now = this.clock.monoMs();
        if (now < deadline) {
          // Cheap read-only look first; a write transaction only when something changed.
          this.store.env.resetReadTxn();
          const b = this.blockersOf(req.agent_id, req.mode, req.keys, seq);
          const agents = blockerAgents(b);
          if (agents !== "" && agents === lastBlockers) {
            if (now - lastReport >= WAIT_REPORT_MS) report(b);
            continue;
          }
        }
        attempt = await this.attempt(req, lease, seq, deadline, start);
        if (attempt.kind === "done") return attempt.result;
        seq = attempt.seq;
        lastBlockers = attempt.blockerAgents;
        report();
      }
    } catch (err) {
      this.dequeue(seq);
      throw err;
    }
  }

  /** A queued request's standing, from its blockers (read-only). */
  private waitingInfo(seq: number, b: Blockers, waited: number): WaitingInfo {
    return {
      ticket: seq,
      position: uniqueWaiters(b).length + 1,
      behind: [...blockerSet(b)].sort(),
      holders: b.holders.map(({ rec, requested }) => this.holderView(rec, requested)),
      waited_ms: Math.max(0, Math.round(waited)),
    };
  }

  /**
   * One read-check-write step of an acquire, in a single write transaction
   * (committed with the other calls of this process that arrived with it:
   * group commit, lmdb/engine.ts); resolves once it is durable.
   */
  private async attempt(req: AcquireRequest, lease: number, seq: number | null, deadline: number, start: number): Promise<Attempt> {
    let removedWaiter = false;
    const out = await this.engine.write((): Attempt => {
      const decided = this.decide(req, lease, seq, deadline, start, () => (removedWaiter = true));
      if (decided.kind === "done") this.hooks.decided?.(req, decided.result);
      return decided;
    });
    if (removedWaiter) this.wake.emit("change");
    return out;
  }

  /** The decision of one attempt; runs inside the attempt's transaction. */
  private decide(
    req: AcquireRequest,
    lease: number,
    seq: number | null,
    deadline: number,
    start: number,
    onRemoved: () => void,
  ): Attempt {
    const { clock } = this;
    const removeWaiter = () => {
      if (seq !== null && this.removeWaiter(seq)) onRemoved();
    };
    const now = clock.monoMs();
    // Only time spent queued counts as waiting (not a first attempt's wait for the write transaction).
    const waited = seq === null ? 0 : Math.round(now - start);
    const stop = this.hooks.admit?.(req) ?? null;
    if (stop) {
      removeWaiter();
      const reason: RefusalReason = stop.kind === "audit_signal" ? "paused" : "checkpoint";
      const why =
        stop.kind === "audit_signal"
          ? `paused by audit signal ${stop.id} from ${stop.raised_by} (${stop.summary}); write locks are refused until it is resolved (resolve_audit_signal)`
          : `checkpoint "${stop.id}" is open (${stop.summary}, requested by ${stop.raised_by}); reach_checkpoint and wait for resume_checkpoint`;
      return {
        kind: "done",
        result: { granted: false, reason, message: why, stop, holders: [], queued_ahead: [], cycle: null, waited_ms: waited },
      };
    }
    const b = this.blockersOf(req.agent_id, req.mode, req.keys, seq ?? Number.POSITIVE_INFINITY, true);
    if (b.holders.length === 0 && b.waiters.length === 0) {
      this.checkLocksPerAgent(req);
      removeWaiter();
      return { kind: "done", result: { granted: true, locks: this.grant(req, lease, now), waited_ms: waited } };
    }
    const refuse = (reason: RefusalReason, message: string, cycle: string[] | null): Attempt => {
      removeWaiter();
      return {
        kind: "done",
        result: {
          granted: false,
          reason,
          message,
          stop: null,
          holders: b.holders.map(({ rec, requested }) => this.holderView(rec, requested)),
          queued_ahead: uniqueWaiters(b).map((w) => this.waiterAheadView(w)),
          cycle,
          waited_ms: waited,
        },
      };
    };
    if (now >= deadline) {
      const what = describeBlockers(b);
      return seq === null
        ? refuse("conflict", `not granted: ${what}`, null)
        : refuse("timeout", `not granted within ${Math.round(deadline - start)} ms: ${what}`, null);
    }
    const cycle = this.findCycle(req.agent_id, b);
    if (cycle) {
      return refuse("deadlock", `deadlock: waiting would close the wait-for cycle ${cycle.join(" -> ")}`, cycle);
    }
    let mySeq = seq;
    if (mySeq === null) {
      this.checkQueueDepth(req.keys);
      mySeq = this.enqueue(req, now, deadline);
    }
    return { kind: "waiting", seq: mySeq, blockerAgents: blockerAgents(b) };
  }

  /** Write the grant for every key. Call inside the write transaction. */
  private grant(req: AcquireRequest, lease: number, now: number): GrantedLock[] {
    const { clock } = this;
    const acquiredAt = new Date(clock.wallMs()).toISOString();
    const expiresAt = monoToIso(clock, now + lease);
    return req.keys.map((key) => {
      const token = this.table.nextToken();
      const rec: LockRecord = {
        lock_id: LockTable.newLockId(token),
        key,
        mode: req.mode,
        agent_id: req.agent_id,
        feature_id: req.feature_id ?? null,
        fencing_token: token,
        boot: clock.bootId,
        acquired_mono: now,
        expires_mono: now + lease,
        acquired_at: acquiredAt,
        state: "held",
        ended_mono: null,
        ended_at: null,
      };
      this.table.putLock(rec);
      this.table.indexLive(rec);
      return { key, mode: req.mode, lock_id: rec.lock_id, fencing_token: rec.fencing_token, expires_at: expiresAt };
    });
  }

  /**
   * Who stands between a request and its grant: live holders of overlapping
   * keys in a conflicting mode, and live waiters queued earlier than `seq` on
   * overlapping keys in a conflicting mode. The caller's own locks and
   * requests never block it. With `purge`, dead entries met on the way are
   * removed (only inside a write transaction).
   */
  private blockersOf(agent: string, mode: LockMode, keys: string[], seq: number, purge = false): Blockers {
    const { table } = this;
    const out: Blockers = { holders: [], waiters: [] };
    const deadLocks: LockRecord[] = [];
    const danglingHeld: string[] = [];
    const deadWaiters: WaiterRecord[] = [];
    const danglingQueue: string[] = [];
    const seenLocks = new Set<number>();
    const seenWaiters = new Set<number>();
    for (const key of keys) {
      for (const prefix of overlapPrefixes(key)) {
        for (const { index: idx, token } of table.heldUnder(prefix)) {
          if (seenLocks.has(token)) continue;
          seenLocks.add(token);
          const rec = table.lockByToken(token);
          if (!rec || rec.state !== "held") {
            danglingHeld.push(idx);
            continue;
          }
          if (!this.isLive(rec)) {
            deadLocks.push(rec);
            continue;
          }
          if (rec.agent_id === agent || !conflicts(mode, rec.mode)) continue;
          out.holders.push({ rec, requested: key });
        }
        for (const { index: idx, seq: wseq } of table.queuedUnder(prefix)) {
          if (wseq >= seq || seenWaiters.has(wseq)) continue;
          seenWaiters.add(wseq);
          const w = table.getWaiter(wseq);
          if (!w) {
            danglingQueue.push(idx);
            continue;
          }
          if (!this.waiterLive(w)) {
            deadWaiters.push(w);
            continue;
          }
          if (w.agent_id === agent || !conflicts(mode, w.mode)) continue;
          out.waiters.push({ w, requested: key });
        }
      }
    }
    if (purge) {
      for (const rec of deadLocks) this.endLock(rec, "expired");
      for (const idx of danglingHeld) table.removeEntry(idx);
      for (const w of deadWaiters) this.removeWaiter(w.seq);
      for (const idx of danglingQueue) table.removeEntry(idx);
    }
    return out;
  }

  /**
   * Would `agent` waiting on `b` close a cycle in the wait-for graph? The
   * graph's edges run from each live waiter's agent to the agents blocking
   * that waiter. Returns the cycle `[agent, ..., agent]` or null.
   */
  private findCycle(agent: string, b: Blockers): string[] | null {
    const byAgent = new Map<string, WaiterRecord[]>();
    for (const w of this.table.allWaiters()) {
      if (!this.waiterLive(w)) continue;
      const list = byAgent.get(w.agent_id);
      if (list) list.push(w);
      else byAgent.set(w.agent_id, [w]);
    }
    const edges = new Map<string, Set<string>>();
    const edgesOf = (a: string): Set<string> => {
      let set = edges.get(a);
      if (set) return set;
      set = new Set<string>();
      edges.set(a, set);
      for (const w of byAgent.get(a) ?? []) {
        for (const next of blockerSet(this.blockersOf(a, w.mode, w.keys, w.seq))) set.add(next);
      }
      return set;
    };
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

  /**
   * Refuse a grant that would take the agent over `locks_per_agent` live
   * locks (config `limits`; RELIABILITY.md, "Bad input and misuse"). Inside the deciding transaction.
   * @throws Error naming `paths` and the limit.
   */
  private checkLocksPerAgent(req: AcquireRequest): void {
    const max = this.settings.locks_per_agent;
    if (max === undefined) return;
    const indexed = this.table.agentTokens(req.agent_id);
    if (indexed.length + req.keys.length <= max) return;
    const live = indexed.filter((t) => {
      const rec = this.table.lockByToken(t);
      return rec !== undefined && this.isLive(rec);
    }).length;
    if (live + req.keys.length > max) {
      throw new LimitError(
        "paths",
        "limits.locks_per_agent",
        `paths: agent "${req.agent_id}" holds ${live} locks; ${req.keys.length} more would pass ` +
          `limits.locks_per_agent (${max}). Release locks you no longer need first.`,
      );
    }
  }

  /**
   * Refuse to queue on a key that already has `queue_depth_per_key` live
   * waiters (config `limits`; RELIABILITY.md, "Bad input and misuse"). Inside the deciding transaction.
   * @throws Error naming `wait_ms` and the limit.
   */
  private checkQueueDepth(keys: string[]): void {
    const max = this.settings.queue_depth_per_key;
    if (max === undefined) return;
    for (const key of keys) {
      let depth = 0;
      for (const { seq } of this.table.queuedUnder(`${key}\0`)) {
        const w = this.table.getWaiter(seq);
        if (w && this.waiterLive(w)) depth++;
      }
      if (depth >= max) {
        throw new LimitError(
          "wait_ms",
          "limits.queue_depth_per_key",
          `wait_ms: ${key} already has ${depth} queued requests, limits.queue_depth_per_key (${max}); ` +
            "retry later, or call with wait_ms 0 to be answered at once.",
        );
      }
    }
  }

  private enqueue(req: AcquireRequest, now: number, deadline: number): number {
    const { clock } = this;
    const seq = this.table.nextWaiterSeq();
    const w: WaiterRecord = {
      seq,
      agent_id: req.agent_id,
      feature_id: req.feature_id ?? null,
      mode: req.mode,
      keys: req.keys,
      pid: process.pid,
      boot: clock.bootId,
      enqueued_mono: now,
      deadline_mono: deadline,
      enqueued_at: new Date(clock.wallMs()).toISOString(),
    };
    this.table.putWaiter(w);
    return seq;
  }

  /** Remove waiter `seq` and its queue entries. Inside a write transaction. */
  private removeWaiter(seq: number): boolean {
    return this.table.removeWaiter(seq);
  }

  private dequeue(seq: number): void {
    const removed = this.store.write(() => this.removeWaiter(seq));
    if (removed) this.wake.emit("change");
  }

  /** Mark a lock ended and drop it from the live indexes. Inside a write transaction. */
  private endLock(rec: LockRecord, state: "released" | "expired" | "broken"): void {
    const { clock } = this;
    this.table.unindexLive(rec);
    if (state !== "released") this.table.noteEnded(rec);
    this.table.putLock({
      ...rec,
      state,
      ended_mono: clock.monoMs(),
      ended_at: new Date(clock.wallMs()).toISOString(),
    });
  }

  /** The agent's lock records still in the live index (some may have lapsed). */
  private agentLocks(agent: string): LockRecord[] {
    const recs: LockRecord[] = [];
    for (const token of this.table.agentTokens(agent)) {
      const rec = this.table.lockByToken(token);
      if (rec) recs.push(rec);
    }
    return recs;
  }

  private isLive(rec: LockRecord): boolean {
    return isLeaseLive(rec, this.clock.bootId, this.clock.monoMs());
  }

  private waiterLive(w: WaiterRecord): boolean {
    return w.boot === this.clock.bootId && w.deadline_mono > this.clock.monoMs() && pidAlive(w.pid);
  }

  private statusOf(rec: LockRecord): LockStatus {
    if (rec.state === "held") return this.isLive(rec) ? "current" : "expired";
    return rec.state;
  }

  /**
   * Release locks of `agent_id`: by `lock_ids`, by `keys` (normalised, exact
   * match) or `all`. Exactly one selector must be given. One transaction
   * (a housekeeping write, group-committed); resolves once it is durable.
   *
   * @throws Error naming the holder if any target belongs to another agent
   *         (nothing is released then), or if no selector / several are given.
   */
  async release(agent: string, target: { lock_ids?: string[]; keys?: string[]; all?: boolean }): Promise<ReleaseResult> {
    const selectors = [target.lock_ids, target.keys, target.all ? true : undefined].filter((s) => s !== undefined);
    if (selectors.length !== 1) {
      throw new SignalboxError("invalid_argument", "lock_ids", "lock_ids, paths, all: give exactly one of lock_ids, paths or all: true");
    }
    const result = await this.engine.write((): ReleaseResult => {
      const out: ReleaseResult = { released: [], stale: [], not_held: [] };
      const mine: LockRecord[] = [];
      if (target.lock_ids) {
        for (const id of target.lock_ids) {
          const rec = this.table.getLock(id);
          if (!rec) {
            out.stale.push({ key: "", lock_id: id, status: "unknown" });
            continue;
          }
          if (rec.agent_id !== agent) throw new NotHolderError("lock_ids", this.notYours("release", "lock_ids", agent, rec));
          mine.push(rec);
        }
      } else if (target.keys) {
        for (const key of target.keys) {
          const own: LockRecord[] = [];
          const others: LockRecord[] = [];
          for (const { token } of this.table.heldUnder(`${key}\0`)) {
            const rec = this.table.lockByToken(token);
            if (!rec) continue;
            if (rec.agent_id === agent) own.push(rec);
            else if (this.isLive(rec)) others.push(rec);
          }
          if (own.length > 0) {
            mine.push(...own);
            continue;
          }
          // The caller's own lock lapsed (or was broken) and the key may be someone else's now: its token is stale.
          const ended = this.table.takeEnded(agent, key);
          if (ended) out.stale.push({ key, lock_id: ended.lock_id, status: this.statusOf(ended) });
          else if (others[0]) throw new NotHolderError("paths", this.notYours("release", "paths", agent, others[0]));
          else out.not_held.push(key);
        }
      } else {
        mine.push(...this.agentLocks(agent));
      }
      for (const rec of mine) {
        const status = this.statusOf(rec);
        if (status === "current") {
          this.endLock(rec, "released");
          out.released.push({ key: rec.key, mode: rec.mode, fencing_token: rec.fencing_token });
        } else {
          if (rec.state === "held") this.endLock(rec, "expired");
          out.stale.push({ key: rec.key, lock_id: rec.lock_id, status });
        }
      }
      return out;
    }, RELEASE_WRITE);
    if (result.released.length > 0 || result.stale.length > 0) this.wake.emit("change");
    return result;
  }

  /**
   * Release every lock `agent` holds for `featureId` (on completing or
   * failing the feature, parallel-execution-protocol §4.2 "Release all
   * locks"). Runs as a child of the caller's write transaction if one is open.
   */
  releaseFeature(agent: string, featureId: string): ReleaseResult {
    const result = this.store.write((): ReleaseResult => {
      const out: ReleaseResult = { released: [], stale: [], not_held: [] };
      for (const rec of this.agentLocks(agent)) {
        if (rec.feature_id !== featureId) continue;
        if (this.isLive(rec)) {
          this.endLock(rec, "released");
          out.released.push({ key: rec.key, mode: rec.mode, fencing_token: rec.fencing_token });
        } else if (rec.state === "held") {
          this.endLock(rec, "expired");
        }
      }
      return out;
    }, RELEASE_WRITE);
    if (result.released.length > 0) this.wake.emit("change");
    return result;
  }

  /**
   * End every live lock on exactly `key` held by an agent other than
   * `agent`, marking it `broken` (its holder's verify_lock, renew_lease and
   * release_lock then say stale with status `broken`). Only the audited
   * `break_lock` path calls this (control/lock-breaks.ts records who broke
   * what and why, and tells each holder). Runs as a child of the caller's
   * write transaction.
   */
  breakHeld(agent: string, key: string): BrokenLock[] {
    const broken = this.store.write((): BrokenLock[] => {
      const out: BrokenLock[] = [];
      for (const { token } of [...this.table.heldUnder(`${key}\0`)]) {
        const rec = this.table.lockByToken(token);
        if (!rec || rec.agent_id === agent) continue;
        if (!this.isLive(rec)) {
          if (rec.state === "held") this.endLock(rec, "expired");
          continue;
        }
        this.endLock(rec, "broken");
        out.push({ key: rec.key, mode: rec.mode, agent_id: rec.agent_id, feature_id: rec.feature_id, fencing_token: rec.fencing_token });
      }
      return out;
    });
    if (broken.length > 0) this.wake.emit("change");
    return broken;
  }

  /**
   * Extend the leases of `agent`'s locks (`lock_ids`, or all its locks) to
   * now + `lease_ms`; a renewal never shortens a lease (the later expiry
   * wins; release the lock to give it up early). An expired or ended lock is
   * reported stale and is not revived: another agent may already hold a
   * newer token for that key.
   *
   * @throws Error naming the holder if a lock belongs to another agent, or if
   *         `lease_ms` is outside the configured bounds.
   */
  renew(agent: string, lockIds: string[] | undefined, leaseMs?: number): RenewResult {
    const lease = leaseMs ?? this.settings.default_lease_ms;
    if (!(lease > 0) || lease > this.settings.max_lease_ms) {
      throw new InvalidArgumentError("lease_ms", `expected 1..${this.settings.max_lease_ms} ms, got ${lease}`);
    }
    const result = this.store.write((): RenewResult => {
      const out: RenewResult = { renewed: [], stale: [] };
      const targets: [string, LockRecord | undefined][] = lockIds
        ? lockIds.map((id) => [id, this.table.getLock(id)])
        : this.agentLocks(agent).map((rec) => [rec.lock_id, rec]);
      const now = this.clock.monoMs();
      for (const [id, rec] of targets) {
        if (!rec) {
          out.stale.push({ key: "", lock_id: id, status: "unknown" });
          continue;
        }
        if (rec.agent_id !== agent) throw new NotHolderError("lock_ids", this.notYours("renew", "lock_ids", agent, rec));
        const status = this.statusOf(rec);
        if (status !== "current") {
          if (rec.state === "held") this.endLock(rec, "expired");
          out.stale.push({ key: rec.key, lock_id: id, status });
          continue;
        }
        const expires = Math.max(rec.expires_mono, now + lease);
        this.table.putLock({ ...rec, expires_mono: expires });
        out.renewed.push({
          key: rec.key,
          mode: rec.mode,
          lock_id: id,
          fencing_token: rec.fencing_token,
          expires_at: monoToIso(this.clock, expires),
        });
      }
      return out;
    });
    if (result.stale.length > 0) this.wake.emit("change");
    return result;
  }

  /**
   * Is `(lock_id, fencing_token)` still the current grant? What a write path
   * checks right before writing. Read-only.
   */
  verify(lockId: string, token: number): VerifyResult {
    this.store.env.resetReadTxn();
    const rec = this.table.getLock(lockId);
    if (!rec) {
      return {
        valid: false,
        status: "unknown",
        key: null,
        mode: null,
        agent_id: null,
        feature_id: null,
        fencing_token: null,
        expires_at: null,
      };
    }
    const status: LockStatus = rec.fencing_token !== token ? "token_mismatch" : this.statusOf(rec);
    return {
      valid: status === "current",
      status,
      key: rec.key,
      mode: rec.mode,
      agent_id: rec.agent_id,
      feature_id: rec.feature_id,
      fencing_token: rec.fencing_token,
      expires_at: rec.boot === this.clock.bootId ? monoToIso(this.clock, rec.expires_mono) : null,
    };
  }

  /**
   * Agents holding a live lock tagged with feature `featureId`, whoever they
   * are (a test engineer may lock a test file for a coder's feature). Reads
   * in the open transaction, if any (no read-transaction reset).
   */
  holdersOfFeature(featureId: string): string[] {
    const out = new Set<string>();
    for (const { token } of this.table.allHeld()) {
      const rec = this.table.lockByToken(token);
      if (rec && rec.feature_id === featureId && this.isLive(rec)) out.add(rec.agent_id);
    }
    return [...out];
  }

  /** Live locks and waiters, for the `signalbox://locks` resource. Read-only; no lock_id. */
  list(): { locks: LockView[]; waiters: WaiterView[] } {
    this.store.env.resetReadTxn();
    const locks: LockView[] = [];
    for (const { token } of this.table.allHeld()) {
      const rec = this.table.lockByToken(token);
      if (!rec || !this.isLive(rec)) continue;
      locks.push({
        key: rec.key,
        mode: rec.mode,
        agent_id: rec.agent_id,
        feature_id: rec.feature_id,
        fencing_token: rec.fencing_token,
        acquired_at: rec.acquired_at,
        expires_at: monoToIso(this.clock, rec.expires_mono),
      });
    }
    const waiters: WaiterView[] = [];
    for (const w of this.table.allWaiters()) {
      if (!this.waiterLive(w)) continue;
      waiters.push({
        agent_id: w.agent_id,
        mode: w.mode,
        keys: w.keys,
        feature_id: w.feature_id,
        enqueued_at: w.enqueued_at,
        gives_up_at: monoToIso(this.clock, w.deadline_mono),
      });
    }
    return { locks, waiters };
  }

  /**
   * Housekeeping in one transaction: expire lapsed locks, drop dead waiters,
   * and delete ended lock records older than {@link TOMBSTONE_MS} or from
   * another boot. Returns how many records it touched.
   */
  sweep(): number {
    const now = this.clock.monoMs();
    const touched = this.store.write(() => {
      let n = 0;
      const recs = [...this.table.allLocks()];
      for (const rec of recs) {
        if (rec.state === "held" && !this.isLive(rec)) {
          this.endLock(rec, "expired");
          n++;
        } else if (
          rec.state !== "held" &&
          (rec.boot !== this.clock.bootId || (rec.ended_mono !== null && now - rec.ended_mono > TOMBSTONE_MS))
        ) {
          this.table.deleteLock(rec);
          n++;
        }
      }
      const waiters = [...this.table.allWaiters()];
      for (const w of waiters) {
        if (!this.waiterLive(w)) {
          this.removeWaiter(w.seq);
          n++;
        }
      }
      return n;
    }, { housekeeping: true });
    if (touched > 0) this.wake.emit("change");
    return touched;
  }

  private notYours(action: string, field: string, agent: string, rec: LockRecord): string {
    const feature = rec.feature_id ? `, feature ${rec.feature_id}` : "";
    return (
      `${field}: ${action} refused: the ${rec.mode} lock on ${rec.key} belongs to agent "${rec.agent_id}"${feature}, ` +
      `not to "${agent}". Only the holder may ${action} it; wait for its lease to end or ask the orchestrator.`
    );
  }

  private holderView(rec: LockRecord, requested: string): Holder {
    return {
      key: rec.key,
      requested,
      agent_id: rec.agent_id,
      mode: rec.mode,
      feature_id: rec.feature_id,
      fencing_token: rec.fencing_token,
      expires_at: monoToIso(this.clock, rec.expires_mono),
    };
  }

  private waiterAheadView(w: WaiterRecord): QueuedAhead {
    return { agent_id: w.agent_id, mode: w.mode, keys: w.keys, feature_id: w.feature_id, enqueued_at: w.enqueued_at };
  }

  /** Sleep up to `ms`, waking early when this process changes the lock table. */
  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake.off("change", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake.once("change", done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** The index prefixes whose entries can overlap `key`: itself, its ancestor dirs, and (for a dir) everything below. */
function overlapPrefixes(key: string): string[] {
  if (keyKind(key) === "dir") return [key, ...ancestorDirs(key).map((d) => `${d}\0`)];
  return [`${key}\0`, ...ancestorDirs(key).map((d) => `${d}\0`)];
}

function blockerSet(b: Blockers): Set<string> {
  const set = new Set<string>();
  for (const { rec } of b.holders) set.add(rec.agent_id);
  for (const { w } of b.waiters) set.add(w.agent_id);
  return set;
}

function blockerAgents(b: Blockers): string {
  return [...blockerSet(b)].sort().join("\0");
}

function uniqueWaiters(b: Blockers): WaiterRecord[] {
  const seen = new Map<number, WaiterRecord>();
  for (const { w } of b.waiters) seen.set(w.seq, w);
  return [...seen.values()];
}

function describeBlockers(b: Blockers): string {
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
