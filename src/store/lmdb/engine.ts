/**
 * The LMDB engine of the store port (port.ts) over one open store
 * (store/lmdb/store.ts): reads from the process's current snapshot, writes with
 * group commit.
 *
 * Group commit: every `write` that arrives while the event loop is busy
 * (requests read from several sockets in one turn) is queued and the queue
 * runs as ONE LMDB write transaction, each call in its own child
 * transaction (LMDB nested transactions: an error a call throws undoes only
 * that call's writes, the others commit). The transaction commits with one
 * fsync (`overlappingSync: false`), and no call's promise resolves before
 * that commit returned, so an answer never reports a write that a crash
 * could lose. A call that arrives alone waits one `setImmediate`; a batch
 * of one commits in its own transaction, without a child transaction.
 *
 * With group commit off (the server's default for now, docs/store-port.md)
 * a call commits at once, inside `write` itself, unless a transaction
 * function of this process is running (then it waits its turn, so it is
 * never answered before the enclosing transaction is durable).
 *
 * Housekeeping calls (releases, pruning) share the transaction while the
 * write guard admits plain writes; when it refuses them (the store at its
 * quota, store/lmdb/guard.ts), the housekeeping calls commit in a transaction of
 * their own and only the plain ones are refused.
 *
 * Reads run synchronously on LMDB's snapshot, so a transaction function
 * runs exactly once here (no ReadMiss).
 */
import type { Database } from "lmdb";
import type { Clock } from "../clock.js";
import type { Store } from "./store.js";
import { StoreFullError } from "../../errors.js";
import { storeFailureOf } from "./guard.js";
import { hostLiveness } from "./liveness.js";
import type { EngineReader, EngineTime, EngineWriter, Liveness, RawEntry, RawKey, RawRange, StoreEngine, WriteOptions } from "../port.js";
import { Db, ReadTxn, WriteTxn, type StoreAccess, type TxnScope } from "../txn.js";

interface Pending {
  fn: (writer: EngineWriter) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** Figures of the group commit since the engine was made. */
export interface GroupCommitStats {
  /** Write transactions committed (each holding one or more calls). */
  commits: number;
  /** Calls run. */
  calls: number;
  /** Most calls in one commit. */
  largest: number;
}

/** The store port on an open LMDB store. */
export class LmdbEngine implements StoreEngine {
  readonly kind = "lmdb";
  readonly time: EngineTime;
  readonly liveness: Liveness;
  private readonly queues: Record<"plain" | "housekeeping", Pending[]> = { plain: [], housekeeping: [] };
  private scheduled = false;
  private readonly figures: GroupCommitStats = { commits: 0, calls: 0, largest: 0 };

  /**
   * @param store an open store (openStore); the engine does not close it
   *        unless {@link close} is called.
   * @param clock the host clock: leases compare its monotonic ms within
   *        one boot (locks/lease.ts `isLeaseLive`).
   * @param options `groupCommit: false` commits every call in its own
   *        transaction (the bench's comparison; default true).
   */
  constructor(
    readonly store: Store,
    clock: Clock,
    private readonly options: { groupCommit?: boolean } = {},
  ) {
    this.time = clock;
    this.writer = rawAccess(store);
    this.reader = this.writer;
    this.liveness = hostLiveness(clock.bootId);
  }

  /** Group-commit figures (for the bench and tests). */
  get stats(): Readonly<GroupCommitStats> {
    return this.figures;
  }

  read<T>(fn: (reader: EngineReader) => T): Promise<T> {
    try {
      this.store.env.resetReadTxn();
      return Promise.resolve(fn(this.reader));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  write<T>(fn: (writer: EngineWriter) => T, options: WriteOptions = {}): Promise<T> {
    if (this.options.groupCommit === false && !this.store.inTransaction()) {
      // Nothing to batch with: commit now, in this call (resolved only after the commit returned).
      // Inside a running transaction function the call waits its turn instead: committed there,
      // as a child, it would be answered before the enclosing transaction is durable.
      return new Promise<T>((resolve, reject) => {
        this.commitAlone({ fn, resolve: resolve as (v: unknown) => void, reject }, options.housekeeping ?? false);
      });
    }
    return new Promise<T>((resolve, reject) => {
      this.queues[options.housekeeping ? "housekeeping" : "plain"].push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  revision(): Promise<number> {
    return Promise.resolve(this.store.lastTxnId());
  }

  /** Resolves once every write queued so far has been committed or refused. */
  idle(): Promise<void> {
    if (!this.scheduled) return Promise.resolve();
    return new Promise((resolve) => setImmediate(() => void this.idle().then(resolve)));
  }

  /** Commit what is queued, then close the store. */
  async close(): Promise<void> {
    await this.idle();
    return this.store.close();
  }

  /** Run every queued call: one transaction per kind, a child transaction per call. */
  private flush(): void {
    this.scheduled = false;
    const plain = this.queues.plain.splice(0);
    const housekeeping = this.queues.housekeeping.splice(0);
    if (this.options.groupCommit === false) {
      for (const p of plain) this.commit([p], false);
      for (const p of housekeeping) this.commit([p], true);
      return;
    }
    if (plain.length === 0) {
      if (housekeeping.length > 0) this.commit(housekeeping, true);
      return;
    }
    // One transaction for both kinds while the guard admits plain writes; when it refuses
    // (nothing written), the housekeeping calls still get their own transaction.
    const refused = this.commit([...plain, ...housekeeping], false, housekeeping);
    if (refused) this.commit(housekeeping, true);
  }

  /**
   * Run `batch` in one transaction, each call in a child transaction.
   * Returns true when the guard refused the transaction before it began and
   * the `spared` calls were left pending (the caller commits them apart);
   * every other call of a refused or failed batch is rejected.
   */
  private commit(batch: Pending[], housekeeping: boolean, spared: readonly Pending[] = []): boolean {
    const [only] = batch;
    if (batch.length === 1 && only && spared.length === 0) return this.commitAlone(only, housekeeping);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.store.write(
        () => {
          for (const p of batch) {
            try {
              // A nested store.write is an LMDB child transaction (store.ts).
              outcomes.push({ ok: true, value: this.store.write(() => p.fn(this.writer)) });
            } catch (error) {
              // LMDB's own failure ends the whole batch, as it would end a call alone (guard.ts
              // reopens the store); an error the call's own code threw is that call's answer.
              if (storeFailureOf(error)) throw error;
              outcomes.push({ ok: false, error });
            }
          }
        },
        { housekeeping },
      );
    } catch (err) {
      // The guard refused or LMDB failed: nothing of the batch is committed.
      const spare = spared.length > 0 && outcomes.length === 0 && err instanceof StoreFullError;
      for (const p of batch) if (!(spare && spared.includes(p))) p.reject(err);
      return spare;
    }
    this.figures.commits++;
    this.figures.calls += batch.length;
    this.figures.largest = Math.max(this.figures.largest, batch.length);
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o?.ok) p.resolve(o.value);
      else p.reject(o?.error);
    });
    return false;
  }

  /**
   * A call alone: its own write transaction, no child transaction (what
   * one would buy it is already what the transaction does: a call that
   * throws aborts it, and it holds nothing else). Returns false (nothing
   * spared).
   */
  private commitAlone(p: Pending, housekeeping: boolean): boolean {
    let value: unknown;
    try {
      value = this.store.write(() => p.fn(this.writer), { housekeeping });
    } catch (err) {
      p.reject(err);
      return false;
    }
    this.figures.commits++;
    this.figures.calls++;
    this.figures.largest = Math.max(this.figures.largest, 1);
    p.resolve(value);
    return false;
  }

  private readonly writer: EngineWriter;
  private readonly reader: EngineReader;
}

/**
 * A port range on an lmdb-js database: forward is `getRange({start: low,
 * end: high})`; reversed, lmdb-js starts AT `start` inclusively, so the
 * exclusive `high` itself is skipped if it exists.
 */
function* rangeOf(db: Database<unknown, RawKey>, r: RawRange): Generator<RawEntry> {
  const limit = r.limit ?? Infinity;
  if (limit <= 0) return;
  let n = 0;
  if (!r.reverse) {
    // lmdb-js's own entries ({key, value}) are yielded as they come: the hot path (lock table, activity) walks here.
    const options: { start?: RawKey; end?: RawKey; limit?: number } = {};
    if (r.low !== undefined) options.start = r.low;
    if (r.high !== undefined) options.end = r.high;
    if (r.limit !== undefined) options.limit = r.limit;
    yield* db.getRange(options) as Iterable<RawEntry>;
    return;
  }
  const entries = db.getRange({
    reverse: true,
    ...(r.high !== undefined ? { start: r.high } : {}),
    ...(r.low !== undefined ? { end: r.low } : {}),
  });
  for (const { key, value } of entries) {
    // `end` is exclusive in lmdb-js's reversed walk too; `low` is inclusive in the port: visit it.
    if (r.high !== undefined && key === r.high) continue;
    yield { key: key as RawKey, value };
    if (++n >= limit) return;
  }
  if (r.low !== undefined && n < limit) {
    const lowValue = db.get(r.low);
    if (lowValue !== undefined) yield { key: r.low, value: lowValue };
  }
}

/**
 * The LMDB engine on `store` with the host `clock` (a convenience for the
 * context and tests).
 */
export function lmdbEngine(store: Store, clock: Clock): LmdbEngine {
  return new LmdbEngine(store, clock);
}

/** The raw reader and writer of `store`'s databases, in whatever LMDB transaction is current. */
/**
 * A raw reader of one opened LMDB database `db` standing for database `name`
 * (the hooks' read-only reader opens only the lock table): reads go to
 * whatever transaction or snapshot the environment has open.
 * @throws Error on a read of another database
 */
export function databaseReader(name: string, db: Database<unknown, string>): EngineReader {
  const only = (n: string) => {
    if (n !== name) throw new Error(`store: this reader opened only database "${name}", not "${n}"`);
    return db as unknown as Database<unknown, RawKey>;
  };
  return {
    get: (n, key) => only(n).get(key),
    range: (n, range) => rangeOf(only(n), range),
  };
}

function rawAccess(store: Store): EngineWriter {
  const db = (name: string) => store.database(name) as Database<unknown, RawKey>;
  return {
    get: (name, key) => db(name).get(key),
    range: (name, range) => rangeOf(db(name), range),
    put: (name, key, value) => void db(name).putSync(key, value),
    remove: (name, key) => db(name).removeSync(key),
  };
}

/**
 * A typed write transaction on the LMDB transaction that is open now: for
 * code still inside `store.write(() => ...)` that calls a domain function
 * taking a {@link WriteTxn}. Valid only inside that `store.write`.
 */
export function lmdbTxn(store: Store): WriteTxn {
  return new WriteTxn(rawAccess(store));
}

/** A typed read transaction on `store`'s latest snapshot (the read transaction is renewed first). */
export function lmdbSnapshot(store: Store): ReadTxn {
  store.env.resetReadTxn();
  return new ReadTxn(rawAccess(store));
}

/**
 * The transaction scope on `store` for synchronous domain code: `write`
 * joins the LMDB write transaction already open in this process or opens
 * one (Store.write: nested calls share the outer transaction), `read` reads
 * in the current transaction or snapshot, `latest` renews the snapshot.
 */
export function lmdbScope(store: Store): TxnScope {
  return {
    write: (fn, options) => store.write(() => fn(lmdbTxn(store)), options),
    read: () => lmdbTxn(store),
    latest: () => lmdbSnapshot(store),
    usedBytes: () => store.usedBytes(),
  };
}

/**
 * Everything domain code needs of an open LMDB `store`: the engine on it
 * (group commit per `options`), its `Db`, the synchronous scope, the host
 * clock as lease time and host process liveness.
 */
export function lmdbAccess(store: Store, clock: Clock, options: { groupCommit?: boolean; engine?: LmdbEngine } = {}): StoreAccess & { engine: LmdbEngine } {
  const engine = options.engine ?? new LmdbEngine(store, clock, options.groupCommit === undefined ? {} : { groupCommit: options.groupCommit });
  return { engine, db: new Db(engine), txn: lmdbScope(store), time: engine.time, liveness: engine.liveness };
}
