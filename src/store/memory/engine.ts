/**
 * An in-memory engine of the store port (port.ts) whose reads really are
 * asynchronous, as they are for an engine over a network: it exists so that
 * the conformance suite (test/store-conformance.test.ts) and the core's tests
 * exercise the port's re-run rule, which the LMDB engine never triggers.
 *
 * How a transaction runs (the rule is port.ts's module header):
 * - The engine keeps a backend of committed rows. A call's transaction
 *   function runs against a reader that answers ONLY from what this call
 *   has fetched; anything else raises {@link ReadMiss}. The engine catches
 *   it, waits one event-loop hop (the request travelling), fetches the key
 *   or the whole `[low, high)` window of the range from the backend, waits
 *   another hop (the answer travelling), and runs the function again from
 *   the start with everything fetched so far. Other transactions interleave
 *   at every hop.
 * - What one call has fetched is always one consistent snapshot: a fetch
 *   first checks that everything fetched earlier is still current, and if
 *   not fetches all of it afresh in the same step (counted as a conflict).
 *   So a run never sees half of another transaction.
 * - Puts and removes of a write transaction go to a local write set that
 *   its own reads overlay (read-your-writes). A range is walked lazily like
 *   LMDB's cursor: the run's writes ahead of the walk show, behind it not.
 * - A reader, and any range taken from it, is valid only while its run
 *   lasts: later use throws (a range must not escape the function).
 * - When a run ends without a miss, the engine validates synchronously that
 *   every key it fetched still has the version it fetched (an absent key
 *   counts as version 0) and every window still holds the same keys with
 *   the same versions, and in the same synchronous step applies the write
 *   set (serializable, optimistic concurrency). If validation fails, what
 *   was fetched is thrown away and the function runs again. An error the
 *   function throws rejects the call only when its reads validate too (so
 *   the error is an answer about the current state); nothing is written.
 *
 * Versions are commit stamps: each committing write transaction takes the
 * next number of a per-engine counter and every key it writes carries it, so
 * a version is never reused (a key removed and written again cannot look
 * unchanged to a reader that fetched it before).
 */
import { randomUUID } from "node:crypto";
import { ReadMiss, type EngineReader, type EngineTime, type EngineWriter, type Liveness, type RawEntry, type RawKey, type RawRange, type StoreEngine, type WriteOptions } from "../port.js";
import { compareRaw } from "../txn.js";

/** Options of a {@link MemoryEngine}; every field has a default. */
export interface MemoryEngineOptions {
  /** The clock's boot id (default `memory-` and a random UUID, distinct per engine). */
  bootId?: string;
  /** Monotonic ms the clock starts at (default 1,000,000). */
  startMonoMs?: number;
  /** Wall-clock ms since the Unix epoch at monotonic 0: `wallMs()` is this plus `monoMs()` (default 2026-01-01T00:00:00Z). */
  epochMs?: number;
  /** Most runs of one transaction function before the call is rejected (default {@link DEFAULT_MAX_RUNS}). */
  maxRuns?: number;
}

/** Default cap on the runs of one transaction function (misses and conflicts each cost a run). */
export const DEFAULT_MAX_RUNS = 1000;

/** A committed record. Rows are never mutated once stored: a write replaces the row. */
interface Row {
  readonly key: RawKey;
  readonly value: unknown;
  /** Stamp of the commit that wrote it (>= 1). */
  readonly version: number;
}

/** A fetched range: every committed row in `[low, high)` at the instant of the fetch, in raw key order. */
interface Window {
  low: RawKey | undefined;
  high: RawKey | undefined;
  rows: Row[];
  byKey: Map<RawKey, Row>;
}

/** A write of the local write set: the value to store (already a copy), or null for a removal. */
type LocalWrite = { value: unknown } | null;

/**
 * Node's own setImmediate, taken when this module loads: a test that fakes
 * timers afterwards (vi.useFakeTimers) still gets transactions that finish.
 */
const realSetImmediate = globalThis.setImmediate;

/** One event-loop hop: a setImmediate, so I/O and other transactions run in between. */
const hop = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));

/** Index of the first key of sorted `keys` that is >= `key` in raw order. */
function lowerBound(keys: readonly RawKey[], key: RawKey): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareRaw(keys[mid] as RawKey, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether `key` lies in `[low, high)` (an undefined bound is open). */
function within(key: RawKey, low: RawKey | undefined, high: RawKey | undefined): boolean {
  return (low === undefined || compareRaw(key, low) >= 0) && (high === undefined || compareRaw(key, high) < 0);
}

/** The committed rows of one database, by key and in raw key order. */
class Table {
  private readonly rows = new Map<RawKey, Row>();
  private readonly order: RawKey[] = [];

  get(key: RawKey): Row | undefined {
    return this.rows.get(key);
  }

  /** The rows in `[low, high)`, ascending. */
  window(low: RawKey | undefined, high: RawKey | undefined): Row[] {
    const start = low === undefined ? 0 : lowerBound(this.order, low);
    const end = high === undefined ? this.order.length : lowerBound(this.order, high);
    const out: Row[] = [];
    for (let i = start; i < end; i++) out.push(this.rows.get(this.order[i] as RawKey) as Row);
    return out;
  }

  put(row: Row): void {
    if (!this.rows.has(row.key)) this.order.splice(lowerBound(this.order, row.key), 0, row.key);
    this.rows.set(row.key, row);
  }

  remove(key: RawKey): void {
    if (!this.rows.delete(key)) return;
    this.order.splice(lowerBound(this.order, key), 1);
  }
}

/** What one call has fetched: single keys (undefined for an absent key) and range windows, together one consistent snapshot. */
class Fetched {
  readonly keys = new Map<string, Map<RawKey, Row | undefined>>();
  readonly windows = new Map<string, Window[]>();

  /** `{ row }` when `key` of `db` was fetched (row undefined: absent), undefined when it was not. */
  lookup(db: string, key: RawKey): { row: Row | undefined } | undefined {
    const keys = this.keys.get(db);
    if (keys?.has(key)) return { row: keys.get(key) };
    for (const w of this.windows.get(db) ?? []) if (within(key, w.low, w.high)) return { row: w.byKey.get(key) };
    return undefined;
  }

  /** A fetched window holding all of `[low, high)`, or undefined. */
  windowFor(db: string, low: RawKey | undefined, high: RawKey | undefined): Window | undefined {
    return this.windows.get(db)?.find(
      (w) => (w.low === undefined || (low !== undefined && compareRaw(w.low, low) <= 0)) && (w.high === undefined || (high !== undefined && compareRaw(high, w.high) <= 0)),
    );
  }

  setKey(db: string, key: RawKey, row: Row | undefined): void {
    let keys = this.keys.get(db);
    if (!keys) this.keys.set(db, (keys = new Map()));
    keys.set(key, row);
  }

  /** Replace the rows of window `w` (a fresh fetch of it). */
  static refill(w: Window, rows: Row[]): void {
    w.rows = rows;
    w.byKey = new Map(rows.map((r) => [r.key, r]));
  }

  addWindow(db: string, low: RawKey | undefined, high: RawKey | undefined, rows: Row[]): void {
    let list = this.windows.get(db);
    if (!list) this.windows.set(db, (list = []));
    const w: Window = { low, high, rows: [], byKey: new Map() };
    Fetched.refill(w, rows);
    list.push(w);
  }
}

/** A raw key the engine accepts: a string, or a finite number. */
function checkKey(db: string, key: RawKey): void {
  if (typeof key === "string") return;
  if (typeof key === "number" && Number.isFinite(key)) return;
  throw new TypeError(`store: ${db}: a key must be a string or a finite number, got ${String(key)}`);
}

/**
 * The reader (and writer) one run of a transaction function gets: answers
 * from the call's {@link Fetched} snapshot overlaid with this run's own
 * writes, raises {@link ReadMiss} for anything else, and refuses use after
 * the run ended.
 */
class Run implements EngineWriter {
  /** The misses this run raised (recorded even if the function swallowed them). */
  readonly misses: ReadMiss[] = [];
  /** The local write set: per database, key to write. */
  readonly writes = new Map<string, Map<RawKey, LocalWrite>>();
  private live = true;

  constructor(
    private readonly fetched: Fetched,
    private readonly writable: boolean,
  ) {}

  /** Mark the run over: its reader and writer refuse every later call. */
  end(): void {
    this.live = false;
  }

  /** Whether the write set holds anything to apply. */
  wroteAnything(): boolean {
    for (const m of this.writes.values()) if (m.size > 0) return true;
    return false;
  }

  get(db: string, key: RawKey): unknown {
    const row = this.find(db, key);
    return row === undefined ? undefined : structuredClone(row.value);
  }

  /**
   * The entries of `range`, walked lazily like a cursor in the live
   * transaction (as LMDB does): a key this run puts or removes ahead of the
   * walk is seen or skipped when the walk gets there, one behind it is not.
   * Raises ReadMiss at the call when the window is not fetched.
   */
  range(db: string, range: RawRange): Iterable<RawEntry> {
    this.checkLive();
    const { low, high } = range;
    if (low !== undefined) checkKey(db, low);
    if (high !== undefined) checkKey(db, high);
    const limit = range.limit ?? Infinity;
    if (limit <= 0 || (low !== undefined && high !== undefined && compareRaw(low, high) >= 0)) return [];
    const window = this.fetched.windowFor(db, low, high);
    if (!window) {
      const what: RawRange = {};
      if (low !== undefined) what.low = low;
      if (high !== undefined) what.high = high;
      throw this.miss(new ReadMiss(db, { range: what }));
    }
    // The fetched rows do not change during a run; only the local writes do.
    const base = window.rows.filter((r) => within(r.key, low, high));
    if (range.reverse) base.reverse();
    return this.walk(db, base, low, high, range.reverse === true, limit);
  }

  /** The cursor of {@link range}: merges `base` (in walk order) with the local writes as they are at each step. */
  private *walk(db: string, base: readonly Row[], low: RawKey | undefined, high: RawKey | undefined, reverse: boolean, limit: number): Generator<RawEntry> {
    /** Whether `a` comes before `b` in walk order. */
    const before = (a: RawKey, b: RawKey) => (reverse ? compareRaw(a, b) > 0 : compareRaw(a, b) < 0);
    let last: RawKey | undefined;
    let i = 0;
    let yielded = 0;
    while (yielded < limit) {
      this.checkLive();
      while (i < base.length && last !== undefined && !before(last, (base[i] as Row).key)) i++;
      const local = this.writes.get(db);
      let next: RawKey | undefined = base[i]?.key;
      for (const [key, write] of local ?? []) {
        if (write === null || !within(key, low, high) || (last !== undefined && !before(last, key))) continue;
        if (next === undefined || before(key, next)) next = key;
      }
      if (next === undefined) return;
      last = next;
      let value: unknown;
      if (local?.has(next)) {
        const write = local.get(next);
        if (write === null || write === undefined) continue; // removed by this run
        value = write.value;
      } else {
        value = (base[i] as Row).value;
      }
      yielded++;
      yield { key: next, value: structuredClone(value) };
    }
  }

  put(db: string, key: RawKey, value: unknown): void {
    this.checkWritable();
    checkKey(db, key);
    this.local(db).set(key, { value: structuredClone(value) });
  }

  remove(db: string, key: RawKey): boolean {
    this.checkWritable();
    if (this.find(db, key) === undefined) return false;
    this.local(db).set(key, null);
    return true;
  }

  /** The row `key` holds as this run sees it (its own writes first), undefined when absent; raises ReadMiss when not fetched. */
  private find(db: string, key: RawKey): { value: unknown } | undefined {
    this.checkLive();
    checkKey(db, key);
    const local = this.writes.get(db);
    if (local?.has(key)) return local.get(key) ?? undefined;
    const found = this.fetched.lookup(db, key);
    if (!found) throw this.miss(new ReadMiss(db, { key }));
    return found.row;
  }

  private local(db: string): Map<RawKey, LocalWrite> {
    let m = this.writes.get(db);
    if (!m) this.writes.set(db, (m = new Map()));
    return m;
  }

  private miss(err: ReadMiss): ReadMiss {
    this.misses.push(err);
    return err;
  }

  private checkLive(): void {
    if (!this.live) throw new Error("store: memory engine: a reader was used after its transaction run ended (keep no reader or lazy range past the function)");
  }

  private checkWritable(): void {
    this.checkLive();
    if (!this.writable) throw new Error("store: memory engine: a write inside a read transaction");
  }
}

/** The memory engine's clock: monotonic ms moved by hand, wall ms a fixed epoch plus the monotonic ms. */
class ManualTime implements EngineTime {
  constructor(
    readonly bootId: string,
    private mono: number,
    private readonly epochMs: number,
  ) {}

  monoMs(): number {
    return this.mono;
  }

  wallMs(): number {
    return this.epochMs + this.mono;
  }

  wallOffsetMs(): number {
    return this.epochMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`store: memory engine: the monotonic clock only moves forward (advance by ${ms} ms refused)`);
    this.mono += ms;
  }
}

/**
 * The store port (port.ts) in memory, with asynchronous reads, re-runs on
 * {@link ReadMiss} and serializable optimistic commits (the module header
 * says how). Kind `memory`.
 *
 * Revision: grows by one per committed write transaction that wrote
 * something (a put, or a remove of a record that existed); a write
 * transaction whose write set is empty, and every read, leave it alone (as
 * LMDB, whose last transaction id does not move for a transaction without
 * changes).
 *
 * `WriteOptions.housekeeping` is accepted and ignored: the memory engine
 * has no size quota to exempt housekeeping from.
 *
 * Time and liveness are test knobs: {@link advance} moves the monotonic
 * clock, {@link markDead} makes an owner's pid count as gone; every other
 * owner is alive.
 */
export class MemoryEngine implements StoreEngine {
  readonly kind = "memory";
  readonly time: EngineTime;
  readonly liveness: Liveness;
  private readonly clock: ManualTime;
  private readonly tables = new Map<string, Table>();
  private readonly dead = new Set<number>();
  private readonly maxRuns: number;
  private stamp = 0;
  private rev = 0;
  private closed = false;
  private runCount = 0;
  private missCount = 0;
  private conflictCount = 0;

  /** @param options clock start, boot id and re-run cap ({@link MemoryEngineOptions}). */
  constructor(options: MemoryEngineOptions = {}) {
    this.clock = new ManualTime(options.bootId ?? `memory-${randomUUID()}`, options.startMonoMs ?? 1_000_000, options.epochMs ?? Date.UTC(2026, 0, 1));
    this.time = this.clock;
    this.liveness = { isAlive: ({ pid }) => !this.dead.has(pid) };
    this.maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
  }

  /** Transaction function executions so far (every run, including re-runs). */
  get runs(): number {
    return this.runCount;
  }

  /** ReadMisses raised so far (each costs a fetch and a re-run). */
  get misses(): number {
    return this.missCount;
  }

  /**
   * Validation failures so far: at the end of a run (what was fetched is
   * thrown away and the function runs again) or at a fetch that found the
   * earlier fetched reads changed (they are fetched afresh).
   */
  get conflicts(): number {
    return this.conflictCount;
  }

  /**
   * Move the monotonic clock (and so the wall clock) forward by `ms` milliseconds.
   * @throws RangeError for a negative or non-finite `ms`.
   */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /** From now on, {@link liveness} answers false for owners with process id `pid` (whatever their boot). */
  markDead(pid: number): void {
    this.dead.add(pid);
  }

  /**
   * Run `fn` over one consistent snapshot (validated like a write, see the
   * module header); it may run more than once. Resolves with its result.
   * @throws (rejects with) the Error `fn` threw; an Error when `fn` tried
   *         to write, returned a promise, ran {@link MemoryEngineOptions.maxRuns}
   *         times without finishing, or the engine is closed.
   */
  read<T>(fn: (reader: EngineReader) => T): Promise<T> {
    return this.execute(fn, false);
  }

  /**
   * Run `fn` in one serializable write transaction and resolve with its
   * result once its writes are applied; it may run more than once.
   * `options.housekeeping` is ignored (no quota in memory).
   * @throws (rejects with) the Error `fn` threw, with nothing of this call
   *         written; an Error when `fn` returned a promise, ran
   *         {@link MemoryEngineOptions.maxRuns} times without finishing, or
   *         the engine is closed.
   */
  write<T>(fn: (writer: EngineWriter) => T, options?: WriteOptions): Promise<T> {
    void options;
    return this.execute(fn, true);
  }

  /** The number of committed write transactions that wrote something (see the class doc). */
  revision(): Promise<number> {
    return Promise.resolve(this.rev);
  }

  /** Close the engine: calls in flight and later calls reject. Keeps nothing to release. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** The run loop of one call (module header): run, fetch what missed, validate, commit. */
  private async execute<T>(fn: (run: Run) => T, writable: boolean): Promise<T> {
    // The call travels to the engine before anything runs: fn never runs inside the caller's stack.
    await hop();
    let fetched = new Fetched();
    for (let n = 1; ; n++) {
      this.checkOpen();
      if (n > this.maxRuns) {
        throw new Error(`store: memory engine: a transaction ran ${this.maxRuns} times without finishing (its reads kept missing or conflicting with other writers)`);
      }
      this.runCount++;
      const run = new Run(fetched, writable);
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: fn(run) };
      } catch (error) {
        outcome = { ok: false, error };
      } finally {
        run.end();
      }
      if (run.misses.length > 0) {
        this.missCount += run.misses.length;
        await hop();
        this.checkOpen();
        this.fetch(fetched, run.misses);
        await hop();
        continue;
      }
      // Validation and commit: one synchronous step, no await in between.
      if (!this.isCurrent(fetched)) {
        this.conflictCount++;
        fetched = new Fetched();
        continue;
      }
      if (!outcome.ok) throw outcome.error;
      if (isThenable(outcome.value)) {
        Promise.resolve(outcome.value).catch(() => undefined);
        throw new Error("store: memory engine: a transaction function returned a promise; transaction functions are synchronous (port.ts)");
      }
      if (writable && run.wroteAnything()) this.apply(run.writes);
      return outcome.value;
    }
  }

  /** Fetch what `misses` asked for into `fetched`, first fetching afresh everything already there if any of it changed. */
  private fetch(fetched: Fetched, misses: readonly ReadMiss[]): void {
    if (!this.isCurrent(fetched)) {
      this.conflictCount++;
      for (const [db, keys] of fetched.keys) for (const key of keys.keys()) keys.set(key, this.tables.get(db)?.get(key));
      for (const [db, list] of fetched.windows) for (const w of list) Fetched.refill(w, this.rowsIn(db, w.low, w.high));
    }
    for (const m of misses) {
      if ("key" in m.what) fetched.setKey(m.db, m.what.key, this.tables.get(m.db)?.get(m.what.key));
      else fetched.addWindow(m.db, m.what.range.low, m.what.range.high, this.rowsIn(m.db, m.what.range.low, m.what.range.high));
    }
  }

  private rowsIn(db: string, low: RawKey | undefined, high: RawKey | undefined): Row[] {
    return this.tables.get(db)?.window(low, high) ?? [];
  }

  /** Whether every key and window of `fetched` still holds what was fetched (same keys, same versions; absent = 0). */
  private isCurrent(fetched: Fetched): boolean {
    for (const [db, keys] of fetched.keys) {
      const table = this.tables.get(db);
      for (const [key, row] of keys) if ((table?.get(key)?.version ?? 0) !== (row?.version ?? 0)) return false;
    }
    for (const [db, list] of fetched.windows) {
      for (const w of list) {
        const now = this.rowsIn(db, w.low, w.high);
        if (now.length !== w.rows.length) return false;
        for (let i = 0; i < now.length; i++) {
          const a = now[i] as Row;
          const b = w.rows[i] as Row;
          if (a.key !== b.key || a.version !== b.version) return false;
        }
      }
    }
    return true;
  }

  /** Apply a validated write set atomically under the next commit stamp, and count the revision. */
  private apply(writes: ReadonlyMap<string, ReadonlyMap<RawKey, LocalWrite>>): void {
    const version = ++this.stamp;
    for (const [db, m] of writes) {
      let table = this.tables.get(db);
      if (!table) this.tables.set(db, (table = new Table()));
      for (const [key, write] of m) {
        if (write === null) table.remove(key);
        else table.put({ key, value: write.value, version });
      }
    }
    this.rev++;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("store: memory engine: closed");
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function";
}
