/**
 * The control layer's hooks into the lock manager (see `LockHooks`): they run
 * inside the lock manager's write transactions, so a pause or checkpoint
 * refusal, and every detector finding about a grant, commit atomically with
 * the decision they concern.
 *
 * - `admit`: pauses and checkpoints refuse write locks (stops.ts).
 * - `decided`: every decided request is counted (metrics.ts); every granted
 *   write key feeds the S2 oscillation detector (detectors.ts) and is noted
 *   as locked by its feature (features.ts `noteLockedKeys`: the integration
 *   report tells declared or locked writes from undeclared ones).
 */
import type { LockHooks } from "../lock-types.js";
import { recordWriteGrant } from "./detectors.js";
import type { ControlEnv } from "./env.js";
import { noteLockedKeys } from "./features.js";
import { recordAcquire } from "./metrics.js";
import { admitLock } from "./stops.js";

/** Hooks for `new LockManager(store, clock, settings, hooks)`. */
export function controlLockHooks(env: ControlEnv): LockHooks {
  return {
    admit: (req) => admitLock(env, req),
    decided: (req, result) => {
      recordAcquire(env, req, result);
      if (result.granted && req.mode === "write") {
        for (const lock of result.locks) recordWriteGrant(env, req.agent_id, lock.key);
        noteLockedKeys(env, req.agent_id, req.feature_id ?? null, result.locks.map((l) => l.key));
      }
    },
  };
}
