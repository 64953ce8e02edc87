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
 * This class owns the public API, the transactions and the wake-ups; the
 * parts it composes read and test alone:
 * - src/locks/conflicts.ts: the conflict rules (blockers, wait-for graph,
 *   deadlock cycle), pure over a read-only table reader;
 * - src/locks/decide.ts: acquire's decision step;
 * - src/locks/wait.ts: the wait loop (polling with back-off, wake-ups,
 *   progress reports);
 * - src/locks/commands.ts: release, break, renew, sweep;
 * - src/locks/views.ts: list, verify, holders of a feature, holder / waiter views.
 *
 * The table lives on the store port (src/locks/table.ts over store/txn.ts):
 * one write transaction per decision, time and process liveness from the
 * engine; nothing that decides a grant lives only in this process's memory.
 * The wake-ups only shorten waiters' sleeps: this process's own releases
 * wake them at once, other processes' commits through the change feed.
 */
import { InvalidArgumentError, SignalboxError } from "../errors.js";
import type { EngineTime } from "../store/port.js";
import type { ReadTxn, StoreAccess, TxnScope, WriteTxn } from "../store/txn.js";
import {
  breakLocks,
  releaseFeatureLocks,
  releaseLocks,
  removeWaiter,
  renewLocks,
  sweepTable,
} from "./commands.js";
import { blockersOf, type Blockers, type LockTableReader } from "./conflicts.js";
import { decide, type DecideContext } from "./decide.js";
import { LockTable, LockTableView } from "./table.js";
import { tableReader } from "./table-reader.js";
import type {
  AcquireRequest,
  AcquireResult,
  BrokenLock,
  LockHooks,
  LockSettings,
  LockView,
  ReleaseResult,
  RenewResult,
  VerifyResult,
  WaiterView,
} from "./types.js";
import { holdersOfFeature, instantOf, listLive, verifyGrant } from "./views.js";
import { waitForGrant, Wakeups, type Attempt, type ChangeSignal } from "./wait.js";

/**
 * Releases run as housekeeping writes: past `limits.store_mb` (and its
 * headroom) the store refuses new work, but a holder can always give a lock
 * back, which is what lets the store drain (store/lmdb/guard.ts). The disk reserve
 * still applies.
 */
const RELEASE_WRITE = { housekeeping: true } as const;

export type * from "./types.js";
export { TOMBSTONE_MS } from "./commands.js";
export { WAIT_REPORT_MS } from "./wait.js";

/**
 * Where the lock manager keeps its table: `db` for acquire's decision steps
 * and releases (group-committed where the engine does it), `txn` for the
 * synchronous commands (joining the caller's write when one is open), the
 * engine's time for leases and its liveness for waiters.
 */
export type LockStore = StoreAccess;

/**
 * The lock table. One instance per context; it holds no state that decides a
 * grant, only the wake-ups of this process's own waiters.
 */
export class LockManager {
  private readonly wakeups: Wakeups;
  private readonly clock: EngineTime;

  /**
   * @param hooks called inside the deciding transactions (control/lock-hooks.ts)
   * @param changes commits by any process (the context's change feed): wakes
   *        this process's waiters when another process releases; without it
   *        they learn of other processes' releases by polling alone
   */
  constructor(
    private readonly store: LockStore,
    private readonly settings: LockSettings,
    private readonly hooks: LockHooks = {},
    changes?: ChangeSignal,
  ) {
    this.clock = store.time;
    this.wakeups = new Wakeups(changes);
  }

  /**
   * Wake this process's waiters once a change made in `scope` is committed:
   * at once for this manager's own scope (its write has returned), else
   * after the caller's transaction (a use case's scope: the wake-up must not
   * be an effect of a transaction function, which an engine may run again).
   * A wake-up only shortens a waiter's sleep; a spurious one costs a look.
   */
  private notifyAfter(scope: TxnScope): void {
    if (scope === this.store.txn) this.wakeups.notify();
    else setImmediate(() => this.wakeups.notify());
  }

  /** The decision context on write transaction `tx`. */
  private inTxn(tx: WriteTxn): DecideContext {
    const table = new LockTable(() => tx);
    return { table, reader: tableReader(table, this.store.liveness), clock: this.clock, settings: this.settings, hooks: this.hooks, tx };
  }

  /** A reader on `snapshot` (the latest commit when a view asks; the open transaction for a hook). */
  private readerOn(snapshot: ReadTxn): LockTableReader {
    return tableReader(new LockTableView(() => snapshot), this.store.liveness);
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
    const first = await this.attempt(req, lease, null, deadline, start);
    if (first.kind === "done") return first.result;
    return waitForGrant(
      {
        clock: this.clock,
        wakeups: this.wakeups,
        attempt: (seq) => this.attempt(req, lease, seq, deadline, start),
        look: (seq) => this.look(req, seq),
        dequeue: (seq) => this.dequeue(seq),
      },
      req,
      first,
      start,
      deadline,
    );
  }

  /** Read-only: what blocks queued ticket `seq` of `req` now, in a fresh read snapshot. */
  private look(req: AcquireRequest, seq: number): Promise<Blockers> {
    return this.store.db.read((r) => blockersOf(this.readerOn(r), instantOf(this.clock), req.agent_id, req.mode, req.keys, seq));
  }

  /**
   * One read-check-write step of an acquire, in a single write transaction
   * (committed with the other calls of this process that arrived with it:
   * group commit, lmdb/engine.ts); resolves once it is durable.
   */
  private async attempt(req: AcquireRequest, lease: number, seq: number | null, deadline: number, start: number): Promise<Attempt> {
    let removedWaiter = false;
    const out = await this.store.db.write((tx): Attempt => {
      const decided = decide(this.inTxn(tx), { req, lease, seq, start, deadline }, () => (removedWaiter = true));
      if (decided.kind === "done") this.hooks.decided?.(req, decided.result, tx);
      return decided;
    });
    if (removedWaiter) this.wakeups.notify();
    return out;
  }

  /** Leave the queue (a wait cancelled or failed); resolves once durable. */
  private async dequeue(seq: number): Promise<void> {
    const removed = await this.store.db.write((tx) => removeWaiter(this.inTxn(tx), seq), RELEASE_WRITE);
    if (removed) this.wakeups.notify();
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
    const result = await this.store.db.write((tx): ReleaseResult => releaseLocks(this.inTxn(tx), agent, target), RELEASE_WRITE);
    if (result.released.length > 0 || result.stale.length > 0) this.wakeups.notify();
    return result;
  }

  /**
   * Release every lock `agent` holds for `featureId` (on completing or
   * failing the feature, parallel-execution-protocol §4.2 "Release all
   * locks"). Runs in `scope`'s write transaction: a use case passes its own
   * (`env.txn`) so the release commits with it.
   */
  releaseFeature(agent: string, featureId: string, scope: TxnScope = this.store.txn): ReleaseResult {
    const result = scope.write((tx): ReleaseResult => releaseFeatureLocks(this.inTxn(tx), agent, featureId), RELEASE_WRITE);
    if (result.released.length > 0) this.notifyAfter(scope);
    return result;
  }

  /**
   * End every live lock on exactly `key` held by an agent other than
   * `agent`, marking it `broken` (its holder's verify_lock, renew_lease and
   * release_lock then say stale with status `broken`). Only the audited
   * `break_lock` path calls this (control/lock-breaks.ts records who broke
   * what and why, and tells each holder). Runs in `scope`'s write
   * transaction (the caller's, `env.txn`).
   */
  breakHeld(agent: string, key: string, scope: TxnScope = this.store.txn): BrokenLock[] {
    const broken = scope.write((tx): BrokenLock[] => breakLocks(this.inTxn(tx), agent, key));
    if (broken.length > 0) this.notifyAfter(scope);
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
    const result = this.store.txn.write((tx): RenewResult => renewLocks(this.inTxn(tx), agent, lockIds, lease));
    if (result.stale.length > 0) this.wakeups.notify();
    return result;
  }

  /**
   * Is `(lock_id, fencing_token)` still the current grant? What a write path
   * checks right before writing. Read-only.
   */
  verify(lockId: string, token: number): VerifyResult {
    return verifyGrant(this.readerOn(this.store.txn.latest()), this.clock, lockId, token);
  }

  /**
   * Agents holding a live lock tagged with feature `featureId`, whoever they
   * are (a test engineer may lock a test file for a coder's feature). Reads
   * in `scope`'s transaction (the caller's, `env.txn`), without renewing it.
   */
  holdersOfFeature(featureId: string, scope: TxnScope = this.store.txn): string[] {
    return holdersOfFeature(this.readerOn(scope.read()), instantOf(this.clock), featureId);
  }

  /** Live locks and waiters, for the `signalbox://locks` resource. Read-only; no lock_id. */
  list(): { locks: LockView[]; waiters: WaiterView[] } {
    return listLive(this.readerOn(this.store.txn.latest()), this.clock);
  }

  /**
   * Housekeeping in one transaction: expire lapsed locks, drop dead waiters,
   * and delete ended lock records older than `TOMBSTONE_MS` (commands.ts) or
   * from another boot. Returns how many records it touched.
   */
  sweep(): number {
    const touched = this.store.txn.write((tx) => sweepTable(this.inTxn(tx)), { housekeeping: true });
    if (touched > 0) this.wakeups.notify();
    return touched;
  }
}
