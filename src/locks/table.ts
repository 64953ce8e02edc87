/**
 * The lock table on the store port: every lock, index entry, waiter and
 * counter in ONE database (schema.ts `lockTable`), so a grant or a release
 * dirties as few pages as possible (each database touched costs its own
 * root at commit, and commits are fsync-bound).
 *
 * | collection        | key                      | value                         |
 * |-------------------|--------------------------|-------------------------------|
 * | `counter`         | `fencing_token`, `waiter_seq` | the counter              |
 * | `lock`            | token (15 digits)        | {@link LockRecord}            |
 * | `liveByKey`       | key, token               | token (live locks by key)     |
 * | `liveByAgent`     | agent_id, token          | key (live locks by agent)     |
 * | `endedByAgentKey` | agent_id, key            | token: the agent's last lock on the key that ended without its release (lapsed, broken) |
 * | `waiter`          | seq (15 digits)          | {@link WaiterRecord}          |
 * | `queueByKey`      | key, seq                 | seq (FIFO queue by key)       |
 *
 * Lock records are keyed by their fencing token, which only rises, so new
 * records append at the right edge of the tree. A `lock_id` is
 * `<token>.<21 random characters>`: the token finds the record, the random
 * part is the holder's secret and must match exactly.
 *
 * Index and queue entries are named by their raw key (`index`), which a
 * caller passes back to {@link LockTable.removeEntry} when the entry turns
 * out dangling.
 */
import { nanoid } from "nanoid";
import { lockTable } from "../store/schema.js";
import type { RangeOptions, ReadTxn, WriteTxn } from "../store/txn.js";
import type { LockRecord, WaiterRecord } from "./records.js";

/** Range options selecting the keys an index prefix names: `app/x.ts\0` is exactly that key, `app/` a folder and everything below it. */
function underPrefix(prefix: string): RangeOptions<[string, number]> {
  return prefix.endsWith("\0") ? { prefix: [prefix.slice(0, -1)] } : { startsWith: prefix };
}

/** Reads of the lock table in whatever transaction `txn()` returns (a write transaction or a snapshot). */
export class LockTableView {
  /** `txn` is called at each use: the transaction open at the time. */
  constructor(protected readonly txn: () => ReadTxn) {}

  /** The record of `lockId`, or undefined if unknown, malformed or the secret part does not match. */
  getLock(lockId: string): LockRecord | undefined {
    const dot = lockId.indexOf(".");
    const token = Number(lockId.slice(0, dot));
    if (dot <= 0 || !Number.isSafeInteger(token) || token < 0) return undefined;
    const rec = this.lockByToken(token);
    return rec && rec.lock_id === lockId ? rec : undefined;
  }

  /** The lock record of fencing token `token`, ended or not. */
  lockByToken(token: number): LockRecord | undefined {
    return this.txn().get(lockTable.lock, [token]);
  }

  /** Live-index entries whose key starts with `prefix` (e.g. `app/` or `app/x.ts\0`), in key then token order. */
  *heldUnder(prefix: string): Generator<{ index: string; token: number }> {
    for (const { key, value } of this.txn().range(lockTable.liveByKey, underPrefix(prefix))) {
      yield { index: lockTable.liveByKey.encode(key) as string, token: value };
    }
  }

  /** Tokens of the agent's locks still in the live index. */
  agentTokens(agent: string): number[] {
    return [...this.txn().range(lockTable.liveByAgent, { prefix: [agent] })].map(({ key }) => key[1]);
  }

  /** Every lock record, oldest token first. */
  allLocks(): Iterable<LockRecord> {
    return this.txn().values(lockTable.lock);
  }

  /** Every live-index entry. */
  allHeld(): Iterable<{ index: string; token: number }> {
    return this.heldUnder("");
  }

  /** Waiter `seq`, or undefined once it left the queue. */
  getWaiter(seq: number): WaiterRecord | undefined {
    return this.txn().get(lockTable.waiter, [seq]);
  }

  /** Queue entries whose key starts with `prefix` (as {@link heldUnder}), seq order per key. */
  *queuedUnder(prefix: string): Generator<{ index: string; seq: number }> {
    for (const { key, value } of this.txn().range(lockTable.queueByKey, underPrefix(prefix))) {
      yield { index: lockTable.queueByKey.encode(key) as string, seq: value };
    }
  }

  /** Every waiter, in FIFO order. */
  allWaiters(): Iterable<WaiterRecord> {
    return this.txn().values(lockTable.waiter);
  }
}

/** Reads and writes of the lock table; every write runs inside the write transaction `txn()` returns. */
export class LockTable extends LockTableView {
  constructor(private readonly writeTxn: () => WriteTxn) {
    super(writeTxn);
  }

  private get w(): WriteTxn {
    return this.writeTxn();
  }

  /** The next fencing token: strictly increasing across the store. */
  nextToken(): number {
    return this.w.next(lockTable.counter, ["fencing_token"]);
  }

  /** The next waiter sequence number: FIFO order across all keys. */
  nextWaiterSeq(): number {
    return this.w.next(lockTable.counter, ["waiter_seq"]);
  }

  /** A fresh secret lock id for the grant with this token. */
  static newLockId(token: number): string {
    return `${token}.${nanoid()}`;
  }

  /** Store or overwrite a lock record (not its indexes). */
  putLock(rec: LockRecord): void {
    this.w.put(lockTable.lock, [rec.fencing_token], rec);
  }

  /** Delete a lock record for good (tombstone housekeeping), and the memory of it as an ended lock. */
  deleteLock(rec: LockRecord): void {
    const w = this.w;
    w.remove(lockTable.lock, [rec.fencing_token]);
    if (w.get(lockTable.endedByAgentKey, [rec.agent_id, rec.key]) === rec.fencing_token) w.remove(lockTable.endedByAgentKey, [rec.agent_id, rec.key]);
  }

  /** Index a live lock by key and by agent (a new lock supersedes the agent's ended one on the key). */
  indexLive(rec: LockRecord): void {
    const w = this.w;
    w.put(lockTable.liveByKey, [rec.key, rec.fencing_token], rec.fencing_token);
    w.put(lockTable.liveByAgent, [rec.agent_id, rec.fencing_token], rec.key);
    w.remove(lockTable.endedByAgentKey, [rec.agent_id, rec.key]);
  }

  /**
   * Remember `rec` as its agent's last lock on its key that ended without the
   * agent releasing it (its lease lapsed, or it was broken), so a later
   * release by key can say the lock went stale rather than name whoever
   * holds the key now.
   */
  noteEnded(rec: LockRecord): void {
    this.w.put(lockTable.endedByAgentKey, [rec.agent_id, rec.key], rec.fencing_token);
  }

  /** The agent's last lock on `key` that ended without its release, if remembered; the memory is dropped. */
  takeEnded(agent: string, key: string): LockRecord | undefined {
    const w = this.w;
    const token = w.get(lockTable.endedByAgentKey, [agent, key]);
    if (token === undefined) return undefined;
    w.remove(lockTable.endedByAgentKey, [agent, key]);
    const rec = this.lockByToken(token);
    return rec && rec.agent_id === agent && rec.key === key ? rec : undefined;
  }

  /** Drop a lock from the live indexes. */
  unindexLive(rec: LockRecord): void {
    const w = this.w;
    w.remove(lockTable.liveByKey, [rec.key, rec.fencing_token]);
    w.remove(lockTable.liveByAgent, [rec.agent_id, rec.fencing_token]);
  }

  /** Queue every key of a new waiter and store it. */
  putWaiter(wr: WaiterRecord): void {
    const w = this.w;
    w.put(lockTable.waiter, [wr.seq], wr);
    for (const key of wr.keys) w.put(lockTable.queueByKey, [key, wr.seq], wr.seq);
  }

  /** Remove a waiter and its queue entries; false if it was already gone. */
  removeWaiter(seq: number): boolean {
    const wr = this.getWaiter(seq);
    if (!wr) return false;
    const w = this.w;
    for (const key of wr.keys) w.remove(lockTable.queueByKey, [key, seq]);
    w.remove(lockTable.waiter, [seq]);
    return true;
  }

  /** Remove an index or queue entry found dangling (its record is gone); `index` as {@link heldUnder} or {@link queuedUnder} named it. */
  removeEntry(index: string): void {
    const c = index.startsWith(lockTable.liveByKey.prefix) ? lockTable.liveByKey : lockTable.queueByKey;
    this.w.remove(c, c.decode(index));
  }
}
