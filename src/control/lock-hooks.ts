/**
 * The control layer's hooks into the lock manager (see `LockHooks`): they run
 * inside the lock manager's write transactions, so a pause or checkpoint
 * refusal, and every detector finding about a grant, commit atomically with
 * the decision they concern.
 *
 * - `admit`: pauses and checkpoints refuse write locks (stops.ts).
 * - `decided`: every decided request is counted (metrics.ts) and logged as
 *   one `lock_granted` or `lock_refused` activity entry (activity.ts; the
 *   activity log `signalbox://activity` records grants and refusals); every
 *   granted write key feeds the S2 oscillation detector (detectors.ts) and is
 *   noted as locked by its feature (features.ts `noteLockedKeys`: the
 *   integration report tells declared or locked writes from undeclared ones).
 *
 * A request still queued is not decided: it is logged once, when it is
 * granted or refused.
 */
import type { AcquireRequest, AcquireResult, LockHooks } from "../locks/types.js";
import { lastActivityOf, recordActivity, repeatActivity } from "../log/activity.js";
import type { ActivityRecord } from "./registry/records.js";
import { recordWriteGrant } from "./detectors.js";
import { scopeOf, type ControlEnv } from "./registry/env.js";
import type { WriteTxn } from "../store/txn.js";
import { noteLockedKeys } from "./features.js";
import { recordAcquire } from "./metrics.js";
import { admitLock } from "./registry/stops.js";

/** At most this many keys, fencing tokens and blocking agents are kept in one lock entry's `data`. */
export const LOCK_ACTIVITY_LIST_MAX = 20;

/** `keys` as a summary names them: the first, and how many more. */
function keysText(keys: readonly string[]): string {
  return keys.length > 1 ? `${keys[0]} (+${keys.length - 1} more)` : (keys[0] ?? "");
}

/**
 * Log one decided acquire request, inside its transaction (hot path: builds
 * small arrays only, no reads besides the activity log's last key).
 * `data`: `keys` (first {@link LOCK_ACTIVITY_LIST_MAX}), `keys_total`, `mode`,
 * `waited_ms`, and for a grant `fencing_tokens` (same order as `keys`), for a
 * refusal `reason`, `blocked_by` (holders, then earlier waiters; agent ids),
 * `holder_tokens`, `stop` (signal id or checkpoint name) and `cycle` (a
 * deadlock's wait-for cycle, first agent repeated at the end; capped).
 */
export function recordLockDecision(env: ControlEnv, req: AcquireRequest, result: AcquireResult): void {
  const keys = req.keys.length > LOCK_ACTIVITY_LIST_MAX ? req.keys.slice(0, LOCK_ACTIVITY_LIST_MAX) : req.keys;
  const feature = req.feature_id ?? null;
  const forFeature = feature === null ? "" : ` for ${feature}`;
  if (result.granted) {
    const tokens = result.locks.slice(0, LOCK_ACTIVITY_LIST_MAX).map((l) => l.fencing_token);
    recordActivity(env, {
      kind: "lock_granted",
      agent_id: req.agent_id,
      feature_id: feature,
      summary: `${req.agent_id} acquired ${req.mode} lock on ${keysText(req.keys)}${forFeature} (token ${tokens.join(", ")})`,
      data: { keys, keys_total: req.keys.length, mode: req.mode, fencing_tokens: tokens, waited_ms: result.waited_ms },
    });
    return;
  }
  const blockedBy = [...new Set([...result.holders.map((h) => h.agent_id), ...result.queued_ahead.map((q) => q.agent_id)])].slice(
    0,
    LOCK_ACTIVITY_LIST_MAX,
  );
  const why = result.stop ? `${result.reason} by ${result.stop.id}` : blockedBy.length > 0 ? `${result.reason} with ${blockedBy.join(", ")}` : result.reason;
  const summary = `${req.agent_id} was refused ${req.mode} lock on ${keysText(req.keys)}${forFeature}: ${why}`;
  // An agent polling the same keys (wait_ms 0 in a loop) is refused the same way again and again: one entry counts them.
  const last = lastActivityOf(env, req.agent_id);
  if (last && last.kind === "lock_refused" && sameRefusal(last, req, feature, result.reason, blockedBy, keys)) {
    repeatActivity(env, last, summary);
    return;
  }
  recordActivity(env, {
    kind: "lock_refused",
    agent_id: req.agent_id,
    feature_id: feature,
    summary,
    data: {
      keys,
      keys_total: req.keys.length,
      mode: req.mode,
      reason: result.reason,
      blocked_by: blockedBy,
      holder_tokens: result.holders.slice(0, LOCK_ACTIVITY_LIST_MAX).map((h) => h.fencing_token),
      stop: result.stop?.id ?? null,
      cycle: result.cycle === null ? null : result.cycle.slice(0, LOCK_ACTIVITY_LIST_MAX + 1),
      waited_ms: result.waited_ms,
    },
  });
}

/** Whether `last` (a `lock_refused` entry) records the same refusal: same keys, mode, feature, reason and blockers. */
function sameRefusal(last: ActivityRecord, req: AcquireRequest, feature: string | null, reason: string | null, blockedBy: readonly string[], keys: readonly string[]): boolean {
  const d = last.data;
  const same = (a: unknown, b: readonly string[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
  return (
    last.feature_id === feature &&
    d.mode === req.mode &&
    d.reason === reason &&
    d.keys_total === req.keys.length &&
    same(d.keys, keys) &&
    same(d.blocked_by, blockedBy)
  );
}

/**
 * Hooks for `new LockManager(store, settings, hooks)`: each runs in the
 * deciding transaction `tx`, whatever the engine (`env` bound to it).
 */
export function controlLockHooks(base: ControlEnv): LockHooks {
  const inTxn = (tx: WriteTxn): ControlEnv => ({ ...base, txn: scopeOf(tx, () => base.txn.usedBytes()) });
  return {
    admit: (req, tx) => admitLock(inTxn(tx), req),
    decided: (req, result, tx) => {
      const env = inTxn(tx);
      recordAcquire(env, req, result);
      recordLockDecision(env, req, result);
      if (result.granted && req.mode === "write") {
        for (const lock of result.locks) recordWriteGrant(env, req.agent_id, lock.key);
        noteLockedKeys(env, req.agent_id, req.feature_id ?? null, result.locks.map((l) => l.key));
      }
    },
  };
}
