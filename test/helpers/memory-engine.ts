/**
 * The control layer and the lock manager on the in-memory engine
 * (src/store/memory/engine.ts), for the tests that run them without LMDB:
 * every use case runs as `db.write(tx => f(envInTxn(tx, ...)))`
 * (docs/store-port.md), time is the engine's own clock.
 */
import { controlLockHooks } from "../../src/control/lock-hooks.js";
import { envInTxn, type ControlEnv } from "../../src/control/registry/env.js";
import { LockManager, type LockHooks, type LockSettings } from "../../src/locks/manager.js";
import { parseConfig } from "../../src/runtime/config.js";
import { MemoryEngine } from "../../src/store/memory/engine.js";
import { Db, type StoreAccess, type TxnScope } from "../../src/store/txn.js";

/** The synchronous scope an asynchronous engine cannot give: every use case runs inside `db.write` instead, and acquiring, waiting and releasing never need it. */
export const NO_SYNC_SCOPE: TxnScope = {
  write: () => {
    throw new Error("test: no synchronous transactions on the memory engine");
  },
  read: () => {
    throw new Error("test: no synchronous reads on the memory engine");
  },
  latest: () => {
    throw new Error("test: no synchronous reads on the memory engine");
  },
  usedBytes: () => 0,
};

/** A lock manager on `engine` (its own `Db`, time and liveness; no synchronous scope). */
export function memoryLocks(engine: MemoryEngine, settings: LockSettings, hooks: LockHooks = {}): LockManager {
  const access: StoreAccess = { db: new Db(engine), txn: NO_SYNC_SCOPE, time: engine.time, liveness: engine.liveness };
  return new LockManager(access, settings, hooks);
}

/** A memory engine, a config from `raw`, `run` (one use case in one `db.write`) and a lock manager with the control layer's hooks. */
export function onMemory(raw: Record<string, unknown> = {}) {
  const engine = new MemoryEngine();
  const db = new Db(engine);
  const config = parseConfig(raw);
  const clock = engine.time;
  const run = <T>(fn: (env: ControlEnv) => T): Promise<T> => db.write((tx) => fn(envInTxn(tx, clock, config)));
  const base: ControlEnv = { txn: NO_SYNC_SCOPE, clock, config };
  const locks = memoryLocks(engine, config.locks, controlLockHooks(base));
  return { engine, db, config, run, locks };
}

/** The error a rejected use case threw. */
export async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error("expected the use case to throw");
  return err;
}
