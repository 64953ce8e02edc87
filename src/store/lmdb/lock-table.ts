/**
 * The key layout of the lock table: every lock, index entry, waiter and
 * counter lives in ONE named database, so a grant or a release dirties as few
 * pages as possible (each named database touched costs its own root and a
 * main-database update at commit, and commits are fsync-bound).
 *
 * | key                                   | value                         |
 * |---------------------------------------|-------------------------------|
 * | `#fencing_token`, `#waiter_seq`       | counters                      |
 * | `L` + token (15 digits)               | {@link LockRecord}            |
 * | `H` + key + `\0` + token              | token (live locks by key)     |
 * | `A` + agent_id + `\0` + token         | key (live locks by agent)     |
 * | `E` + agent_id + `\0` + key           | token: the agent's last lock on the key that ended without its release (lapsed, broken) |
 * | `W` + seq (15 digits)                 | {@link WaiterRecord}          |
 * | `Q` + key + `\0` + seq                | seq (FIFO queue by key)       |
 *
 * Lock records are keyed by their fencing token, which only rises, so new
 * records append at the right edge of the tree. A `lock_id` is
 * `<token>.<21 random characters>`: the token finds the record, the random
 * part is the holder's secret and must match exactly.
 *
 * Every method must run inside a write transaction when it writes
 * (`transactionSync`); readers may call the read methods anywhere.
 */
import { nanoid } from "nanoid";
import type { Database } from "lmdb";
import type { LockRecord, WaiterRecord } from "./store.js";
import { prefixEnd } from "../../paths.js";

const WIDTH = 15;
const pad = (n: number) => String(n).padStart(WIDTH, "0");

/** Typed access to the lock table's key layout. */
export class LockTable {
  /** `database` is read at each use: the store swaps its handles when it reopens. */
  constructor(private readonly database: () => Database<unknown, string>) {}

  private get db(): Database<unknown, string> {
    return this.database();
  }

  /** Next value of a counter (1, 2, ...). Inside a write transaction. */
  private bump(name: "fencing_token" | "waiter_seq"): number {
    const value = ((this.db.get(`#${name}`) as number | undefined) ?? 0) + 1;
    this.db.putSync(`#${name}`, value);
    return value;
  }

  /** The next fencing token: strictly increasing across the store. */
  nextToken(): number {
    return this.bump("fencing_token");
  }

  /** The next waiter sequence number: FIFO order across all keys. */
  nextWaiterSeq(): number {
    return this.bump("waiter_seq");
  }

  /** A fresh secret lock id for the grant with this token. */
  static newLockId(token: number): string {
    return `${token}.${nanoid()}`;
  }

  /** The record of `lockId`, or undefined if unknown, malformed or the secret part does not match. */
  getLock(lockId: string): LockRecord | undefined {
    const dot = lockId.indexOf(".");
    const token = Number(lockId.slice(0, dot));
    if (dot <= 0 || !Number.isSafeInteger(token)) return undefined;
    const rec = this.lockByToken(token);
    return rec && rec.lock_id === lockId ? rec : undefined;
  }

  lockByToken(token: number): LockRecord | undefined {
    return this.db.get(`L${pad(token)}`) as LockRecord | undefined;
  }

  /** Store or overwrite a lock record (not its indexes). */
  putLock(rec: LockRecord): void {
    this.db.putSync(`L${pad(rec.fencing_token)}`, rec);
  }

  /** Delete a lock record for good (tombstone housekeeping), and the memory of it as an ended lock. */
  deleteLock(rec: LockRecord): void {
    this.db.removeSync(`L${pad(rec.fencing_token)}`);
    const ended = `E${rec.agent_id}\0${rec.key}`;
    if (this.db.get(ended) === rec.fencing_token) this.db.removeSync(ended);
  }

  /** Index a live lock by key and by agent (a new lock supersedes the agent's ended one on the key). */
  indexLive(rec: LockRecord): void {
    this.db.putSync(`H${rec.key}\0${pad(rec.fencing_token)}`, rec.fencing_token);
    this.db.putSync(`A${rec.agent_id}\0${pad(rec.fencing_token)}`, rec.key);
    this.db.removeSync(`E${rec.agent_id}\0${rec.key}`);
  }

  /**
   * Remember `rec` as its agent's last lock on its key that ended without the
   * agent releasing it (its lease lapsed, or it was broken), so a later
   * release by key can say the lock went stale rather than name whoever
   * holds the key now.
   */
  noteEnded(rec: LockRecord): void {
    this.db.putSync(`E${rec.agent_id}\0${rec.key}`, rec.fencing_token);
  }

  /** The agent's last lock on `key` that ended without its release, if remembered; the memory is dropped. */
  takeEnded(agent: string, key: string): LockRecord | undefined {
    const index = `E${agent}\0${key}`;
    const token = this.db.get(index) as number | undefined;
    if (token === undefined) return undefined;
    this.db.removeSync(index);
    const rec = this.lockByToken(token);
    return rec && rec.agent_id === agent && rec.key === key ? rec : undefined;
  }

  /** Drop a lock from the live indexes. */
  unindexLive(rec: LockRecord): void {
    this.db.removeSync(`H${rec.key}\0${pad(rec.fencing_token)}`);
    this.db.removeSync(`A${rec.agent_id}\0${pad(rec.fencing_token)}`);
  }

  /** Live-index entries whose key starts with `prefix` (e.g. `app/` or `app/x.ts\0`). */
  *heldUnder(prefix: string): Generator<{ index: string; token: number }> {
    for (const { key, value } of this.range(`H${prefix}`)) yield { index: key, token: value as number };
  }

  /** Tokens of the agent's locks still in the live index. */
  agentTokens(agent: string): number[] {
    return [...this.range(`A${agent}\0`)].map(({ key }) => Number(key.slice(agent.length + 2)));
  }

  /** Every lock record, oldest token first. */
  *allLocks(): Generator<LockRecord> {
    for (const { value } of this.range("L")) yield value as LockRecord;
  }

  /** Every live-index entry. */
  *allHeld(): Generator<{ index: string; token: number }> {
    yield* this.heldUnder("");
  }

  /** Queue every key of a new waiter and store it. */
  putWaiter(w: WaiterRecord): void {
    this.db.putSync(`W${pad(w.seq)}`, w);
    for (const key of w.keys) this.db.putSync(`Q${key}\0${pad(w.seq)}`, w.seq);
  }

  getWaiter(seq: number): WaiterRecord | undefined {
    return this.db.get(`W${pad(seq)}`) as WaiterRecord | undefined;
  }

  /** Remove a waiter and its queue entries; false if it was already gone. */
  removeWaiter(seq: number): boolean {
    const w = this.getWaiter(seq);
    if (!w) return false;
    for (const key of w.keys) this.db.removeSync(`Q${key}\0${pad(seq)}`);
    this.db.removeSync(`W${pad(seq)}`);
    return true;
  }

  /** Queue entries whose key starts with `prefix`. */
  *queuedUnder(prefix: string): Generator<{ index: string; seq: number }> {
    for (const { key, value } of this.range(`Q${prefix}`)) yield { index: key, seq: value as number };
  }

  /** Every waiter, in FIFO order. */
  *allWaiters(): Generator<WaiterRecord> {
    for (const { value } of this.range("W")) yield value as WaiterRecord;
  }

  /** Remove an index or queue entry found dangling (its record is gone). */
  removeEntry(index: string): void {
    this.db.removeSync(index);
  }

  private *range(prefix: string): Generator<{ key: string; value: unknown }> {
    for (const { key, value } of this.db.getRange({ start: prefix, end: prefixEnd(prefix) })) yield { key, value };
  }
}
