/**
 * The control layer's hooks into the lock manager (see `LockHooks`): they run
 * inside the lock manager's write transactions, so a pause or checkpoint
 * refusal, and every detector finding about a grant, commit atomically with
 * the decision they concern.
 */
import type { LockHooks } from "../lock-types.js";
import type { ControlEnv } from "./env.js";
import { admitLock } from "./stops.js";

/** Hooks for `new LockManager(store, clock, settings, hooks)`. */
export function controlLockHooks(env: ControlEnv): LockHooks {
  return {
    admit: (req) => admitLock(env, req),
  };
}
