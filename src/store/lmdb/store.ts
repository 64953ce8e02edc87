/**
 * The LMDB store: one environment per process, named databases, schema version.
 *
 * Store rules (DESIGN.md, "Store rules"):
 * - opened once per process with `overlappingSync: false` (classic fsync at
 *   commit); the same options in every process;
 * - every read-check-write is one `store.write` (one `transactionSync` behind
 *   the disk guard of guard.ts), never awaiting inside;
 * - there are no cross-process change notifications: poll `lastTxnId()`;
 * - the data file is checked before LMDB maps it (validate.ts): a damaged
 *   file is refused with a StoreDamagedError instead of crashing the
 *   process or being taken as a new store; the side record
 *   `signalbox.mdb-seen` (size and last transaction seen) is refreshed at
 *   open, at most every {@link SEEN_REFRESH_MS} after a write, and at close.
 *
 * Layout (all keys are strings unless noted):
 * | database     | key                          | value                      |
 * |--------------|------------------------------|----------------------------|
 * | `meta`       | name                         | schema version, counters   |
 * | `lockTable`  | see `src/locks/table.ts`     | locks, indexes, waiters    |
 * | `decisions`  | sequence number (number)     | {@link DecisionRecord}     |
 * | `plans`      | plan_id                      | stored wave plan           |
 * |              | plan_id `\0spec`             | feature specs (plans.ts)   |
 * | `planIndex`  | plan seq (number)            | plan summary               |
 * | `features`   | see control/registry/records.ts       | feature lifecycle          |
 * | `agents`     | see control/registry/records.ts       | registry, phases           |
 * | `signals`    | see control/registry/records.ts       | audit signals, handoffs    |
 * | `messages`   | see control/registry/records.ts       | inboxes                    |
 * | `conventions`| see control/registry/records.ts       | conventions, escalations   |
 * | `checkpoints`| see control/registry/records.ts       | integration checkpoints    |
 * | `metrics`    | see control/registry/records.ts       | counters, samples, history |
 * | `quality`    | see control/registry/records.ts       | gates, results, reviews    |
 * | `integrations`| see control/registry/records.ts      | wave integration, rollback |
 * | `incidents`  | see control/registry/records.ts       | emergencies                |
 * | `activity`   | see log/activity.ts      | the activity log           |
 *
 * The NUL separator is safe because keys holding NUL are refused (paths.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { open, type Database, type RootDatabase } from "lmdb";
import { storeFailureOf, WriteGuard, type StoreLimits } from "./guard.js";
import { dbOptionsOf, ENV_OPTIONS, NUMBER_KEYED, SCHEMA_VERSION, unescapeLegacyKey } from "./layout.js";
import { reportUndecodable, validateStoreFile, writeSeenRecord } from "./validate.js";
import type { DecisionRecord } from "../../log/decision-record.js";

export type { StoreLimits } from "./guard.js";

export { ENV_OPTIONS, SCHEMA_VERSION } from "./layout.js";

export { isStoreDamaged, StoreDamagedError, STORE_DAMAGED } from "./validate.js";

/** How often (ms, monotonic) a writing process refreshes the side record `signalbox.mdb-seen` after a commit. */
export const SEEN_REFRESH_MS = 60_000;

export type { LockRecord, WaiterRecord } from "../../locks/records.js";
export type { DecisionRecord } from "../../log/decision-record.js";

/** Names of the named databases, in the order they are opened. */
export const DB_NAMES = [
  "meta",
  "lockTable",
  "decisions",
  "plans",
  "planIndex",
  "features",
  "agents",
  "signals",
  "messages",
  "conventions",
  "checkpoints",
  "metrics",
  "quality",
  "integrations",
  "incidents",
  "activity",
] as const;

/** The open store: the environment and its named databases. */
export interface Store {
  readonly dir: string;
  /**
   * The LMDB environment. Read it at each use, never keep it: after an LMDB
   * failure the store reopens the environment and every handle changes.
   */
  readonly env: RootDatabase;
  readonly meta: Database<unknown, string>;
  /** Locks, their indexes, waiters and lock counters: one database (src/locks/table.ts). */
  readonly lockTable: Database<unknown, string>;
  readonly decisions: Database<DecisionRecord, number>;
  readonly plans: Database<unknown, string>;
  readonly planIndex: Database<unknown, number>;
  /** Control layer (src/control/registry/records.ts documents each key layout). */
  readonly features: Database<unknown, string>;
  readonly agents: Database<unknown, string>;
  readonly signals: Database<unknown, string>;
  readonly messages: Database<unknown, string>;
  readonly conventions: Database<unknown, string>;
  readonly checkpoints: Database<unknown, string>;
  readonly metrics: Database<unknown, string>;
  /** The wave lifecycle's databases: quality gates and reviews, wave integrations, incidents, the activity log (control/registry/records.ts). */
  readonly quality: Database<unknown, string>;
  readonly integrations: Database<unknown, string>;
  readonly incidents: Database<unknown, string>;
  readonly activity: Database<unknown, string>;
  /**
   * Run `fn` in ONE write transaction (`transactionSync`) and return its
   * result; a call inside another `write` runs as a child transaction of the
   * outer one (commits with it; an error it throws that the outer code
   * catches undoes only the child's writes). The
   * outermost call first passes the write guard (guard.ts): it refuses the
   * write, with nothing written, when the disk is below
   * `limits.disk_reserve_mb` or (unless `housekeeping`) the store is at
   * `limits.store_mb`, and reopens the environment after an LMDB failure.
   *
   * @throws the Error `fn` throws (the transaction is aborted), the guard's
   *         Error, or an Error saying LMDB failed and the store will be
   *         reopened before the next write (nothing of this call committed).
   */
  write<T>(fn: () => T, options?: { housekeeping?: boolean }): T;
  /** How often this process reopened the environment after an LMDB failure. */
  readonly recoveries: number;
  /**
   * The named database `name` (one of {@link DB_NAMES}), for engine code
   * that addresses databases by name (lmdb/engine.ts). Read it at each use.
   * @throws Error for a name that is not a database of the store.
   */
  database(name: string): Database<unknown, string | number>;
  /** Whether a transaction function of {@link write} is running in this process now. */
  inTransaction(): boolean;
  /**
   * Id of the last write transaction by any process that a read started now
   * sees (poll it, or look after a change of the data file, to learn of
   * changes): this process's read transaction is renewed first, so a caller
   * that sees the id move can read what that commit wrote
   * ({@link readerVisibleTxnId}).
   */
  lastTxnId(): number;
  /**
   * Bytes of the data file in use: its highest page. LMDB files never shrink;
   * pages freed by deletions are reused inside the file.
   */
  usedBytes(): number;
  close(): Promise<void>;
}

/** Defaults of {@link StoreLimits} (config `limits`), in MiB. */
export const DEFAULT_STORE_LIMITS: StoreLimits = { disk_reserve_mb: 64, store_mb: 1024 };

type Handles = { env: RootDatabase } & Record<(typeof DB_NAMES)[number], Database<never, never>>;

/**
 * Check data file `file` (validate.ts), then open the environment and every
 * named database. A missing or never-initialised file is created by LMDB.
 * A value that cannot be decoded later raises StoreDamagedError (validate.ts `reportUndecodable`).
 * @throws StoreDamagedError naming the file when it is damaged; LMDB's Error when it cannot open it.
 */
function openHandles(file: string): Handles {
  validateStoreFile(file);
  const env = open({ path: file, ...ENV_OPTIONS });
  const handles = { env } as Record<string, unknown>;
  for (const name of DB_NAMES) handles[name] = reportUndecodable(env.openDB(dbOptionsOf(name)), file, name);
  return handles as Handles;
}

/**
 * Open (creating if needed) the store in folder `dir`. `limits` are the
 * write guard's (default {@link DEFAULT_STORE_LIMITS}). The data file is
 * checked before LMDB maps it (validate.ts `validateStoreFile`).
 * @throws StoreDamagedError (code `store_damaged`) naming the data file when
 *         it is damaged (cut short, bad meta pages, emptied, rolled back);
 *         Error if the store was written by a newer schema version, or LMDB cannot open it.
 */
export function openStore(dir: string, options: { limits?: StoreLimits } = {}): Store {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "signalbox.mdb");
  let h = openHandles(file);
  let depth = 0;
  let recoveries = 0;
  let seenAt = -Infinity;
  /** Refresh the side record with the last committed transaction (validate.ts `writeSeenRecord`; never throws). */
  const recordSeen = () => {
    seenAt = performance.now();
    let txnId: number;
    try {
      txnId = (h.env.getStats() as { lastTxnId: number }).lastTxnId;
    } catch {
      return; // closed already: the record written at the first close stands
    }
    writeSeenRecord(file, txnId);
  };
  const usedBytes = () => {
    const s = h.env.getStats() as { pageSize: number; lastPageNumber: number };
    return (s.lastPageNumber + 1) * s.pageSize;
  };
  const guard = new WriteGuard(dir, options.limits ?? DEFAULT_STORE_LIMITS, usedBytes);

  /** Close the failed environment and open it again; counted in this process and in `meta`. */
  const reopen = () => {
    const old = h.env;
    old.close().catch(() => undefined);
    h = openHandles(file);
    recoveries++;
    guard.recovered();
  };

  const store: Store = {
    dir,
    get env() {
      return h.env;
    },
    get meta() {
      return h.meta as Database<unknown, string>;
    },
    get lockTable() {
      return h.lockTable as Database<unknown, string>;
    },
    get decisions() {
      return h.decisions as Database<DecisionRecord, number>;
    },
    get plans() {
      return h.plans as Database<unknown, string>;
    },
    get planIndex() {
      return h.planIndex as Database<unknown, number>;
    },
    get features() {
      return h.features as Database<unknown, string>;
    },
    get agents() {
      return h.agents as Database<unknown, string>;
    },
    get signals() {
      return h.signals as Database<unknown, string>;
    },
    get messages() {
      return h.messages as Database<unknown, string>;
    },
    get conventions() {
      return h.conventions as Database<unknown, string>;
    },
    get checkpoints() {
      return h.checkpoints as Database<unknown, string>;
    },
    get metrics() {
      return h.metrics as Database<unknown, string>;
    },
    get quality() {
      return h.quality as Database<unknown, string>;
    },
    get integrations() {
      return h.integrations as Database<unknown, string>;
    },
    get incidents() {
      return h.incidents as Database<unknown, string>;
    },
    get activity() {
      return h.activity as Database<unknown, string>;
    },
    get recoveries() {
      return recoveries;
    },
    database(name: string) {
      if (!(DB_NAMES as readonly string[]).includes(name)) throw new Error(`store: no database "${name}"; databases: ${DB_NAMES.join(", ")}`);
      return h[name as (typeof DB_NAMES)[number]] as unknown as Database<unknown, string | number>;
    },
    write<T>(fn: () => T, opts: { housekeeping?: boolean } = {}): T {
      // A transaction function must not return a promise: lmdb-js would keep the transaction open
      // across event-loop turns, and every later write of this process would run inside it.
      const sync = (): T => {
        const result = fn();
        if (isThenable(result)) throw new Error("store.write: the transaction function returned a promise; a transaction must be synchronous");
        return result;
      };
      if (depth > 0) return h.env.transactionSync(sync);
      const reopened = guard.check(opts.housekeeping ?? false);
      if (reopened) reopen();
      depth++;
      try {
        const result = h.env.transactionSync(() => {
          // The reopening is counted in the store with the first write after it.
          if (reopened) nextCounter(store, "store_recoveries");
          return sync();
        });
        if (performance.now() - seenAt >= SEEN_REFRESH_MS) recordSeen();
        return result;
      } catch (err) {
        const failure = storeFailureOf(err);
        if (!failure) throw err;
        guard.failed(failure);
        throw new Error(
          `store: LMDB failed (${failure.message}); nothing of this step was committed. ` +
            (failure.disk ? "Writes wait for free disk space; " : "This process reopens the store before its next write; ") +
            "retry.",
        );
      } finally {
        depth--;
      }
    },
    inTransaction: () => depth > 0,
    lastTxnId: () => readerVisibleTxnId(h.env),
    usedBytes,
    close: () => {
      recordSeen();
      return h.env.close();
    },
  };
  // Only a new or older store is written to at open (a read-only look first, so a store on a nearly full disk still opens).
  if (needsUpgrade(dir, store.meta.get("schema_version"))) {
    store.write(
      () => {
        // Looked at again inside the transaction: another process may have upgraded it meanwhile.
        // Version 2 only added databases; version 3 rewrites the string keys (layout.ts STRING_KEYS).
        const version = store.meta.get("schema_version");
        if (!needsUpgrade(dir, version)) return;
        if (version !== undefined) rewriteLegacyKeys(store.env);
        store.meta.putSync("schema_version", SCHEMA_VERSION);
      },
      { housekeeping: true },
    );
  }
  if (seenAt === -Infinity) recordSeen(); // the upgrade's write has just written it otherwise
  return store;
}

/**
 * The id of the snapshot a read transaction started now sees: this
 * process's read transaction is renewed, then its id is read from LMDB's
 * reader table (`mdb_reader_list`: pid, thread, txn id per slot; the
 * highest of this process's slots). Not the meta page's id
 * (`mdb_env_info`, `getStats().lastTxnId`): LMDB writes the meta page of a
 * commit before its final disk sync returns, and until it does a new reader
 * still gets the previous snapshot, so a look woken by that id can read the
 * old state and then miss the change for good (docs/change-feed.md). Falls
 * back to the meta page's id when the reader table names no slot of this
 * process.
 */
export function readerVisibleTxnId(env: RootDatabase): number {
  env.resetReadTxn();
  env.get("\0"); // any read renews the read transaction
  let id = 0;
  for (const line of env.readerList().split("\n")) {
    const [pid, , txn] = line.trim().split(/\s+/);
    if (Number(pid) === process.pid && txn !== undefined && /^\d+$/.test(txn)) id = Math.max(id, Number(txn));
  }
  return id > 0 ? id : (env.getStats() as { lastTxnId: number }).lastTxnId;
}

/**
 * Schema 1/2 -> 3: rewrite every string key that ordered-binary stored
 * escaped as its plain UTF-8 bytes (layout.ts `unescapeLegacyKey`). Call
 * inside the upgrade's write transaction; values are moved unchanged.
 */
function rewriteLegacyKeys(env: RootDatabase): void {
  for (const name of DB_NAMES) {
    if (NUMBER_KEYED.has(name)) continue;
    const raw = env.openDB<unknown, Buffer>({ name, keyEncoding: "binary" });
    const moves: { from: Buffer; to: Buffer; value: unknown }[] = [];
    for (const { key, value } of raw.getRange({ start: Buffer.from([0]) })) {
      const to = Buffer.from(unescapeLegacyKey(key));
      if (!to.equals(key)) moves.push({ from: Buffer.from(key), to, value });
    }
    for (const m of moves) {
      raw.removeSync(m.from);
      raw.putSync(m.to, m.value);
    }
  }
}

/**
 * Whether a store whose `meta.schema_version` is `version` must be upgraded
 * (absent or older). @throws Error if it was written by a newer or unknown schema.
 */
function needsUpgrade(dir: string, version: unknown): boolean {
  if (version === SCHEMA_VERSION) return false;
  if (version === undefined || (typeof version === "number" && version < SCHEMA_VERSION)) return true;
  throw new Error(
    `store ${dir} has schema version ${String(version)}; this signalbox understands up to ${SCHEMA_VERSION}. Upgrade signalbox.`,
  );
}

/** Whether `value` looks like a promise (has a `then` method). */
function isThenable(value: unknown): boolean {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/**
 * Increment and return the counter `name` (1, 2, 3...). Call only inside a
 * write transaction: the read and the write must be one atomic step.
 */
export function nextCounter(store: Store, name: string): number {
  const value = ((store.meta.get(name) as number | undefined) ?? 0) + 1;
  store.meta.putSync(name, value);
  return value;
}
