/**
 * The LMDB store: one environment per process, named databases, schema version.
 *
 * Store rules (DESIGN.md, "Store rules"):
 * - opened once per process with `overlappingSync: false` (classic fsync at
 *   commit); the same options in every process;
 * - every read-check-write is one `transactionSync`, never awaiting inside;
 * - there are no cross-process change notifications: poll `lastTxnId()`.
 *
 * Layout (all keys are strings unless noted):
 * | database     | key                          | value                      |
 * |--------------|------------------------------|----------------------------|
 * | `meta`       | name                         | schema version, counters   |
 * | `lockTable`  | see `lock-table.ts`          | locks, indexes, waiters    |
 * | `decisions`  | sequence number (number)     | {@link DecisionRecord}     |
 * | `plans`      | plan_id                      | stored wave plan           |
 * |              | plan_id `\0spec`             | feature specs (plans.ts)   |
 * | `planIndex`  | plan seq (number)            | plan summary               |
 * | `features`   | see control/records.ts       | feature lifecycle          |
 * | `agents`     | see control/records.ts       | registry, phases           |
 * | `signals`    | see control/records.ts       | audit signals, handoffs    |
 * | `messages`   | see control/records.ts       | inboxes                    |
 * | `conventions`| see control/records.ts       | conventions, escalations   |
 * | `checkpoints`| see control/records.ts       | integration checkpoints    |
 * | `metrics`    | see control/records.ts       | counters, samples, history |
 *
 * The NUL separator is safe because keys holding NUL are refused (paths.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { open, type Database, type RootDatabase } from "lmdb";

/** Version of the layout above; a store written by a newer layout is refused. */
export const SCHEMA_VERSION = 2;

/** Options every process opens the environment with (Store rules: same options everywhere). */
export const ENV_OPTIONS = {
  overlappingSync: false,
  maxDbs: 32,
  maxReaders: 254,
} as const;

/** A lock grant, live or ended. Times: `*_mono` monotonic ms of boot `boot`; `*_at` ISO. */
export interface LockRecord {
  lock_id: string;
  key: string;
  mode: "read" | "write";
  agent_id: string;
  feature_id: string | null;
  fencing_token: number;
  boot: string;
  acquired_mono: number;
  expires_mono: number;
  acquired_at: string;
  state: "held" | "released" | "expired" | "broken";
  ended_mono: number | null;
  ended_at: string | null;
}

/** A request waiting in the FIFO queues of its keys while its `wait_ms` runs. */
export interface WaiterRecord {
  seq: number;
  agent_id: string;
  feature_id: string | null;
  mode: "read" | "write";
  keys: string[];
  pid: number;
  boot: string;
  enqueued_mono: number;
  deadline_mono: number;
  enqueued_at: string;
}

/** One entry of the append-only decision log. */
export interface DecisionRecord {
  seq: number;
  type: string;
  decided_by: string;
  context: string;
  decision: string;
  rationale: string | null;
  refs: string[];
  recorded_at: string;
}

/** The open store: the environment and its named databases. */
export interface Store {
  readonly dir: string;
  readonly env: RootDatabase;
  readonly meta: Database<unknown, string>;
  /** Locks, their indexes, waiters and lock counters: one database (lock-table.ts). */
  readonly lockTable: Database<unknown, string>;
  readonly decisions: Database<DecisionRecord, number>;
  readonly plans: Database<unknown, string>;
  readonly planIndex: Database<unknown, number>;
  /** Control layer (src/control/records.ts documents each key layout). */
  readonly features: Database<unknown, string>;
  readonly agents: Database<unknown, string>;
  readonly signals: Database<unknown, string>;
  readonly messages: Database<unknown, string>;
  readonly conventions: Database<unknown, string>;
  readonly checkpoints: Database<unknown, string>;
  readonly metrics: Database<unknown, string>;
  /** Id of the last committed write transaction by any process (poll it to learn of changes). */
  lastTxnId(): number;
  close(): Promise<void>;
}

/**
 * Open (creating if needed) the store in folder `dir`.
 * @throws Error if the store was written by a newer schema version, or LMDB cannot open it.
 */
export function openStore(dir: string, options: { mapSize?: number } = {}): Store {
  fs.mkdirSync(dir, { recursive: true });
  const env = open({
    path: path.join(dir, "signalbox.mdb"),
    ...ENV_OPTIONS,
    ...(options.mapSize ? { mapSize: options.mapSize } : {}),
  });
  const store: Store = {
    dir,
    env,
    meta: env.openDB({ name: "meta" }),
    lockTable: env.openDB({ name: "lockTable" }),
    decisions: env.openDB({ name: "decisions" }),
    plans: env.openDB({ name: "plans" }),
    planIndex: env.openDB({ name: "planIndex" }),
    features: env.openDB({ name: "features" }),
    agents: env.openDB({ name: "agents" }),
    signals: env.openDB({ name: "signals" }),
    messages: env.openDB({ name: "messages" }),
    conventions: env.openDB({ name: "conventions" }),
    checkpoints: env.openDB({ name: "checkpoints" }),
    metrics: env.openDB({ name: "metrics" }),
    lastTxnId: () => (env.getStats() as { lastTxnId: number }).lastTxnId,
    close: () => env.close(),
  };
  env.transactionSync(() => {
    const version = store.meta.get("schema_version");
    if (version === undefined || (typeof version === "number" && version < SCHEMA_VERSION)) {
      // Version 2 only adds databases; an older store is upgraded in place.
      store.meta.putSync("schema_version", SCHEMA_VERSION);
    } else if (typeof version !== "number" || version > SCHEMA_VERSION) {
      throw new Error(
        `store ${dir} has schema version ${String(version)}; this signalbox understands up to ${SCHEMA_VERSION}. Upgrade signalbox.`,
      );
    }
  });
  return store;
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
