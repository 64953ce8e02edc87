/**
 * The store port: what the core asks of a store, whatever engine holds it
 * (docs/store-port.md says why it has this shape).
 *
 * - Keyspaces are {@link Collection}s declared once in schema.ts: a database
 *   name, a key prefix and typed key parts. Domain code reads and writes
 *   through a transaction ({@link ReadTxn}, {@link WriteTxn}) with
 *   collections, never with engine handles, casts or hand-built keys.
 * - Transactions are synchronous functions the engine runs:
 *   `await engine.write(tx => ...)`. An engine whose own calls are
 *   asynchronous (over a network) runs the function against what it has
 *   fetched, and when the function reads something not fetched yet
 *   ({@link ReadMiss}) fetches it and runs the function again from the
 *   start, then commits only if nothing it read changed meanwhile
 *   (serializable). So a transaction function must have no effect outside
 *   its transaction and must let every error it does not own pass (never
 *   swallow a ReadMiss).
 * - Lease time and process liveness come from the engine
 *   ({@link EngineTime}, {@link Liveness}): an engine on another host
 *   supplies its own clock and knows its own clients.
 *
 * Raw keys are strings (compared as UTF-8 bytes) or integers (compared as
 * numbers); a database holds one kind. A range is `low` (inclusive) to
 * `high` (exclusive) in either direction.
 */

/** A key as an engine stores it. */
export type RawKey = string | number;

/** One entry of a raw range. */
export interface RawEntry {
  key: RawKey;
  value: unknown;
}

/** A raw range: keys from `low` (inclusive, default the first) to `high` (exclusive, default past the last), ascending or `reverse`d, at most `limit`. */
export interface RawRange {
  low?: RawKey;
  high?: RawKey;
  reverse?: boolean;
  limit?: number;
}

/**
 * The raw reads an engine offers inside a transaction. `get` and `range`
 * return copies (and `put` stores one). `range` is lazy, like a cursor in
 * the live transaction: the transaction's own writes ahead of the walk are
 * seen, those behind it are not. A reader and what it returns are valid
 * only while the transaction function runs.
 */
export interface EngineReader {
  get(db: string, key: RawKey): unknown;
  range(db: string, range: RawRange): Iterable<RawEntry>;
}

/** The raw writes an engine offers inside a write transaction. */
export interface EngineWriter extends EngineReader {
  put(db: string, key: RawKey, value: unknown): void;
  /** Remove `key`; true when it existed. */
  remove(db: string, key: RawKey): boolean;
}

/**
 * Raised by an engine's reader for a key or range it has not fetched yet;
 * the engine catches it, fetches, and runs the transaction again. Domain
 * code never catches it (see the module header).
 */
export class ReadMiss extends Error {
  constructor(readonly db: string, readonly what: { key: RawKey } | { range: RawRange }) {
    super(`store: read of ${db} not fetched yet (the engine runs the transaction again)`);
    this.name = "ReadMiss";
  }
}

/** True for a {@link ReadMiss}: code that must catch broadly rethrows these. */
export function isReadMiss(err: unknown): err is ReadMiss {
  return err instanceof ReadMiss;
}

/** Time as the engine keeps it: leases compare its monotonic ms within one boot. */
export interface EngineTime {
  /** Identifies the clock's epoch: monotonic values of another boot mean nothing. */
  readonly bootId: string;
  /** Monotonic ms. */
  monoMs(): number;
  /** Wall-clock ms since the epoch (display only). */
  wallMs(): number;
  /** Wall minus monotonic time in whole ms, steady between reads: shows a monotonic instant as the same ISO time each time (store/clock.ts). */
  wallOffsetMs(): number;
}

/** Whether the process that wrote a record (a waiter, a session) still runs. */
export interface Liveness {
  /** `pid` and `boot` as the record stored them; false when it is gone for sure. */
  isAlive(owner: { pid: number; boot: string }): boolean;
}

/** Options of a write transaction. */
export interface WriteOptions {
  /**
   * Housekeeping (releases, pruning, upgrades): allowed past the store's
   * size quota, so a holder can always give its locks back.
   */
  housekeeping?: boolean;
}

/**
 * An engine: runs transaction functions, tells its revision (what the change
 * feed watches), its time and liveness. Every engine passes
 * test/store-conformance.test.ts.
 */
export interface StoreEngine {
  /** A name for messages (`lmdb`, `memory`). */
  readonly kind: string;
  /**
   * Run `fn` over one consistent snapshot; it may run more than once. Every
   * run sees one consistent snapshot, and an error `fn` throws rejects only
   * if what that run read is still current (else `fn` runs again).
   */
  read<T>(fn: (reader: EngineReader) => T): Promise<T>;
  /**
   * Run `fn` in one serializable write transaction and resolve with its
   * result once the transaction is durable; it may run more than once. An
   * error `fn` throws rejects with nothing of this call written (other
   * calls committed alongside are unaffected).
   */
  write<T>(fn: (writer: EngineWriter) => T, options?: WriteOptions): Promise<T>;
  /**
   * A number that grows, by any process, whenever committed data changes (at
   * least once per committed write transaction that changed something;
   * several calls may share one step); what changes nothing leaves it alone.
   */
  revision(): Promise<number>;
  readonly time: EngineTime;
  readonly liveness: Liveness;
  close(): Promise<void>;
}

/** How a typed key part becomes text in a raw key (parts are joined by NUL). */
export interface KeyPart<T> {
  encode(value: T): string;
  decode(text: string): T;
}

/** Typed key parts, one per element of the key tuple `K`. */
export type KeyParts<K extends readonly unknown[]> = { readonly [I in keyof K]: KeyPart<K[I]> };

/**
 * A keyspace: records `V` under keys `K` in database `db`. A string-keyed
 * collection's raw key is `prefix` then the encoded parts joined by NUL
 * (the separator is safe: keys holding NUL are refused, paths.ts); a
 * number-keyed one ({@link numberCollection}) stores its one number part as
 * the raw key.
 */
export interface Collection<K extends readonly unknown[], V> {
  /** `<db>.<what>`, for messages and the schema listing. */
  readonly name: string;
  readonly db: string;
  readonly prefix: string;
  /** Record version of `V` written today (schema.ts says what changed). */
  readonly version: number;
  encode(key: K): RawKey;
  decode(raw: RawKey): K;
  /** The raw bounds (low inclusive, high exclusive) of every key whose first parts are `prefix` (all keys for `[]`). */
  bounds(prefix: readonly unknown[]): { low: RawKey; high: RawKey };
  /** Marks the record type (never read at run time). */
  readonly _record?: V;
}

/** A lone surrogate: LMDB stores it as U+FFFD, so two different keys would meet there. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string that may appear in a key (it may be empty); NUL and lone surrogates are refused. */
export const text: KeyPart<string> = {
  encode(value) {
    if (value.includes("\0")) throw new Error("store: a key part holds NUL");
    if (LONE_SURROGATE.test(value)) throw new Error("store: a key part holds a lone surrogate");
    return value;
  },
  decode: (s) => s,
};

/** A non-negative integer zero-padded to `width` digits, so keys sort numerically. */
export function padded(width: number): KeyPart<number> {
  return {
    encode(value) {
      if (!Number.isSafeInteger(value) || value < 0) throw new Error(`store: key part ${value} is not a non-negative integer`);
      const s = String(value);
      if (s.length > width) throw new Error(`store: key part ${value} is wider than ${width} digits`);
      return s.padStart(width, "0");
    },
    decode: (s) => Number(s),
  };
}

/** A sequence number as 12 digits (control/registry/records.ts `seq12`). */
export const seq12 = padded(12);
/** A wave number or attempt as 6 digits. */
export const pad6 = padded(6);

/**
 * A string-keyed collection (see {@link Collection}), curried so the record
 * type is given and the key type inferred: `collection<AgentRecord>()("agents", "A", "byId", [text])`.
 */
export function collection<V>() {
  return <K extends readonly unknown[]>(db: string, prefix: string, what: string, parts: KeyParts<K>, version = 1): Collection<K, V> =>
    makeCollection<K, V>(db, prefix, what, parts, version);
}

function makeCollection<K extends readonly unknown[], V>(db: string, prefix: string, what: string, parts: KeyParts<K>, version: number): Collection<K, V> {
  const partList = parts as unknown as readonly KeyPart<unknown>[];
  const encodeParts = (values: readonly unknown[]) => values.map((v, i) => (partList[i] as KeyPart<unknown>).encode(v)).join("\0");
  return {
    name: `${db}.${what}`,
    db,
    prefix,
    version,
    encode: (key) => prefix + encodeParts(key),
    decode(raw) {
      if (typeof raw !== "string" || !raw.startsWith(prefix)) throw new Error(`store: ${db}.${what}: key ${String(raw)} is not of this collection`);
      const rest = raw.slice(prefix.length);
      if (partList.length === 0) {
        if (rest !== "") throw new Error(`store: ${db}.${what}: key ${raw} is not of this collection`);
        return [] as unknown as K;
      }
      const texts = partList.length === 1 ? [rest] : rest.split("\0");
      return texts.map((t, i) => (partList[i] as KeyPart<unknown>).decode(t)) as unknown as K;
    },
    bounds(prefixValues) {
      const head = prefix + encodeParts(prefixValues);
      // A whole key when every part is given (a collection of one key has no parts).
      if (prefixValues.length === partList.length) return { low: head, high: `${head}\0` };
      if (prefixValues.length === 0) return { low: prefix, high: prefixEnd(prefix) };
      // Else the keys continuing with a NUL after the given parts.
      return { low: `${head}\0`, high: `${head}\u0001` };
    },
  };
}

/** A collection whose raw keys are numbers (a database of numbers only). */
export function numberCollection<V>(db: string, what: string, version = 1): Collection<[number], V> {
  return {
    name: `${db}.${what}`,
    db,
    prefix: "",
    version,
    encode([n]) {
      if (!Number.isSafeInteger(n)) throw new Error(`store: ${db}.${what}: key ${n} is not an integer`);
      return n;
    },
    decode(raw) {
      if (typeof raw !== "number") throw new Error(`store: ${db}.${what}: key ${String(raw)} is not a number`);
      return [raw];
    },
    bounds(prefix) {
      if (prefix.length === 0) return { low: -Number.MAX_VALUE, high: Number.MAX_VALUE };
      const n = prefix[0] as number;
      return { low: n, high: n + 1 };
    },
  };
}

/**
 * The first string after every string starting with `prefix` in UTF-8 byte
 * order: the last code point below U+10FFFF raised by one (skipping the
 * surrogate range), the ones after it dropped; past every valid key when
 * none can be raised.
 */
export function prefixEnd(prefix: string): string {
  const cps = [...prefix];
  while (cps.length > 0) {
    const cp = (cps.pop() as string).codePointAt(0) as number;
    if (cp < 0x10ffff) return cps.join("") + String.fromCodePoint(cp === 0xd7ff ? 0xe000 : cp + 1);
  }
  return "\u{10FFFF}";
}

/** Bytes in one MiB. */
const MIB = 1024 * 1024;

/**
 * Whether a store whose data file uses `usedBytes` is at or over its quota
 * `storeMb` (MiB, config `limits.store_mb`): retention then frees pages for
 * the writes that go on in the headroom.
 */
export function atStoreQuota(usedBytes: number, storeMb: number): boolean {
  return usedBytes >= storeMb * MIB;
}
