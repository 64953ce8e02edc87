/**
 * Typed transactions over an engine's raw reader and writer (port.ts): what
 * domain code holds inside `db.read(tx => ...)` and `db.write(tx => ...)`.
 * Keys are built and records typed by the {@link Collection}s of schema.ts.
 */
import { prefixEnd, type Collection, type EngineTime, type Liveness, type EngineReader, type EngineWriter, type RawRange, type StoreEngine, type WriteOptions } from "./port.js";

/** One entry of a typed range. */
export interface Entry<K, V> {
  key: K;
  value: V;
}

/** Which keys of a collection a range visits, in key order (or reversed). */
export interface RangeOptions<K extends readonly unknown[]> {
  /**
   * The first parts every visited key has (all keys when absent), optionally
   * followed by `startsWith`: text the next part starts with (a folder
   * prefix such as `app/` of a lock key).
   */
  prefix?: Partial<K> | readonly unknown[];
  startsWith?: string;
  /** Start at this key (inclusive; with `reverse`, the highest key visited). */
  from?: K;
  reverse?: boolean;
  limit?: number;
}

/** Reads inside one transaction. */
export class ReadTxn {
  constructor(protected readonly raw: EngineReader) {}

  /** The record under `key`, or undefined. */
  get<K extends readonly unknown[], V>(c: Collection<K, V>, key: K): V | undefined {
    return this.raw.get(c.db, c.encode(key)) as V | undefined;
  }

  /** Whether a record is stored under `key`. */
  has<K extends readonly unknown[], V>(c: Collection<K, V>, key: K): boolean {
    return this.raw.get(c.db, c.encode(key)) !== undefined;
  }

  /** The entries of `c` that `opts` selects, in key order (see {@link RangeOptions}). */
  *range<K extends readonly unknown[], V>(c: Collection<K, V>, opts: RangeOptions<K> = {}): Generator<Entry<K, V>> {
    for (const { key, value } of this.raw.range(c.db, rawRange(c, opts))) yield { key: c.decode(key), value: value as V };
  }

  /** The values of {@link range}. */
  *values<K extends readonly unknown[], V>(c: Collection<K, V>, opts: RangeOptions<K> = {}): Generator<V> {
    for (const { value } of this.raw.range(c.db, rawRange(c, opts))) yield value as V;
  }

  /** The first entry of {@link range}, or undefined. */
  first<K extends readonly unknown[], V>(c: Collection<K, V>, opts: RangeOptions<K> = {}): Entry<K, V> | undefined {
    for (const e of this.range(c, { ...opts, limit: 1 })) return e;
    return undefined;
  }
}

/** Reads and writes inside one write transaction. */
export class WriteTxn extends ReadTxn {
  constructor(protected override readonly raw: EngineWriter) {
    super(raw);
  }

  /** Store `value` under `key` (replacing any record there). */
  put<K extends readonly unknown[], V>(c: Collection<K, V>, key: K, value: V): void {
    this.raw.put(c.db, c.encode(key), value);
  }

  /** Remove the record under `key`; true when there was one. */
  remove<K extends readonly unknown[], V>(c: Collection<K, V>, key: K): boolean {
    return this.raw.remove(c.db, c.encode(key));
  }

  /** Increment the counter under `key` in collection `c` (a number record, absent = 0) and return the new value. */
  next<K extends readonly unknown[]>(c: Collection<K, number>, key: K): number {
    const value = (this.get(c, key) ?? 0) + 1;
    this.put(c, key, value);
    return value;
  }
}

/** The raw range of a typed one. */
function rawRange<K extends readonly unknown[], V>(c: Collection<K, V>, opts: RangeOptions<K>): RawRange {
  const prefix = (opts.prefix ?? []) as readonly unknown[];
  let { low, high } = c.bounds(prefix);
  if (opts.startsWith !== undefined && opts.startsWith !== "") {
    if (typeof low !== "string") throw new Error(`store: ${c.name}: startsWith needs a string-keyed collection`);
    // low is the prefix (no parts given) or ends with the NUL before the next part.
    low = low + opts.startsWith;
    high = prefixEnd(low);
  }
  if (opts.from !== undefined) {
    const from = c.encode(opts.from);
    if (opts.reverse) {
      // Reversed, the walk begins at `from` itself: the exclusive high bound is its successor.
      const after = typeof from === "string" ? `${from}\0` : from + 1;
      if (compareRaw(after, high) < 0) high = after;
    } else if (compareRaw(from, low) > 0) low = from;
  }
  const range: RawRange = { low, high };
  if (opts.reverse) range.reverse = true;
  if (opts.limit !== undefined) range.limit = opts.limit;
  return range;
}

const utf8 = (s: string) => Buffer.from(s, "utf8");

/** Raw key order: numbers as numbers, strings as their UTF-8 bytes (LMDB's order). */
export function compareRaw(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return Buffer.compare(utf8(a), utf8(b));
}

/**
 * A store as the core sees it: typed transactions on an engine.
 * `await db.write(tx => ...)`: the function runs in one serializable write
 * transaction, possibly more than once (port.ts), and the promise resolves
 * once it is durable.
 */
export class Db {
  constructor(readonly engine: StoreEngine) {}

  /** Run `fn` over one consistent snapshot. */
  read<T>(fn: (tx: ReadTxn) => T): Promise<T> {
    return this.engine.read((r) => fn(new ReadTxn(r)));
  }

  /** Run `fn` in one write transaction; resolves when it is durable. */
  write<T>(fn: (tx: WriteTxn) => T, options?: WriteOptions): Promise<T> {
    return this.engine.write((w) => fn(new WriteTxn(w)), options);
  }
}

/** The transactions domain code works in, whatever engine holds the store. */
export interface TxnScope {
  /**
   * Run `fn` in a write transaction: the enclosing one when a write is
   * already running (its writes then commit or roll back with it),
   * otherwise a new one that is durable when this returns. Throws what
   * `fn` throws, and then none of `fn`'s writes remain.
   * @param options `housekeeping`: allowed past the store's size quota (store/port.ts `WriteOptions`)
   */
  write<T>(fn: (tx: WriteTxn) => T, options?: WriteOptions): T;
  /** Where to read: the enclosing write transaction, else the snapshot this process last read (not renewed). */
  read(): ReadTxn;
  /** As {@link read}, renewed first to the latest commit by any process (a reader that must see others' writes). */
  latest(): ReadTxn;
  /** Bytes the store's data uses now (retention compares them with `limits.store_mb`: port.ts `atStoreQuota`). */
  usedBytes(): number;
}

/**
 * A scope bound to one write transaction that is already running (any
 * engine's `db.write(tx => ...)`): writes and reads all go to `tx`.
 */
export function scopeOf(tx: WriteTxn, usedBytes: () => number = () => 0): TxnScope {
  return { write: (fn) => fn(tx), read: () => tx, latest: () => tx, usedBytes };
}


/**
 * A store as domain code sees it on any engine: asynchronous transactions
 * (`db`), the synchronous scope (`txn`), and the engine's time and
 * liveness (port.ts).
 */
export interface StoreAccess {
  readonly db: Db;
  readonly txn: TxnScope;
  /** Lease time: monotonic ms within one boot. */
  readonly time: EngineTime;
  /** Whether a recorded process still runs. */
  readonly liveness: Liveness;
}
