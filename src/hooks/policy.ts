/**
 * The hooks' rule for writing a file (README, "Hooks: enforcement where
 * agents forget"), and the words a refusal is given in.
 *
 * - Writing is a write: any live lock of ANOTHER agent on the file's key or a
 *   folder key above it conflicts, in either mode (a reader relies on the
 *   file not changing under it), exactly as `acquire_lock` in write mode
 *   would be refused.
 * - With an unknown caller (no `--agent-id`, no `SIGNALBOX_AGENT_ID`) every
 *   holder is another agent.
 * - With `hooks.require_lock` the caller must also hold a live WRITE lock
 *   covering the file (its own read lock is not enough); an unknown caller
 *   cannot, and is told to name itself.
 *
 * Pure functions over what src/store/lmdb/lock-reader.ts read; no store, no I/O.
 */
import type { LiveLock } from "../store/lmdb/lock-reader.js";
import { AGENT_ID_ENV } from "./settings.js";

/** The answer for one file. */
export type WriteJudgement =
  | { allowed: true }
  /** Other agents hold locks covering the file. */
  | { allowed: false; why: "held_by_others"; others: LiveLock[] }
  /** `require_lock`, and the caller is unknown. */
  | { allowed: false; why: "identity_required" }
  /** `require_lock`, and the caller holds no write lock covering the file (`own`: its read locks, if any). */
  | { allowed: false; why: "lock_required"; own: LiveLock[] };

/**
 * May `agent` (null: unknown) write a file whose covering live locks are
 * `locks`? Rules in the module docstring.
 */
export function judgeWrite(locks: readonly LiveLock[], agent: string | null, requireLock: boolean): WriteJudgement {
  const others = locks.filter((l) => agent === null || l.agent_id !== agent);
  if (others.length > 0) return { allowed: false, why: "held_by_others", others };
  if (!requireLock) return { allowed: true };
  if (agent === null) return { allowed: false, why: "identity_required" };
  if (locks.some((l) => l.mode === "write")) return { allowed: true };
  return { allowed: false, why: "lock_required", own: [...locks] };
}

/**
 * The `permissionDecisionReason` Claude is shown for a refused edit of file
 * key `key`: who holds what, in which mode, until when, and what to do next
 * (an `acquire_lock` call it can copy).
 */
export function denyReason(key: string, j: Exclude<WriteJudgement, { allowed: true }>, agent: string | null): string {
  const acquire = acquireCall(key, agent, j.why === "held_by_others");
  switch (j.why) {
    case "held_by_others":
      return (
        `signalbox: ${key} is locked by another agent: ${j.others.map((l) => describeLock(l, key)).join("; ")}. ` +
        `Do not edit it now: work on something else until the lock is released, or call ${acquire} to queue for it and edit once granted.` +
        (agent === null ? ` ${unknownIdentityNote()}` : "")
      );
    case "identity_required":
      return (
        `signalbox: editing ${key} needs your write lock (hooks.require_lock in signalbox.config.json), ` +
        `but this hook does not know which agent you are. ${unknownIdentityNote()} Then call ${acquire} and retry the edit.`
      );
    case "lock_required": {
      const reads = j.own.filter((l) => l.mode === "read");
      const have = reads.length > 0 ? ` (you hold only a read lock on ${reads.map((l) => l.key).join(", ")})` : "";
      return (
        `signalbox: editing ${key} needs a write lock held by you, agent "${agent}" (hooks.require_lock in signalbox.config.json)${have}. ` +
        `Call ${acquire}, then retry the edit.`
      );
    }
  }
}

/** One live lock in words: `"bob" holds a write lock on src/api/ (covers src/api/x.ts; feature F1, fencing token 12) until <ISO> (in 9 min)`. */
export function describeLock(l: LiveLock, key: string): string {
  const details = [
    l.key === key ? null : `covers ${key}`,
    l.feature_id ? `feature ${l.feature_id}` : null,
    `fencing token ${l.fencing_token}`,
  ].filter((d) => d !== null);
  return `"${l.agent_id}" holds a ${l.mode} lock on ${l.key} (${details.join("; ")}) until ${l.expires_at} (in ${duration(l.expires_in_ms)})`;
}

function unknownIdentityNote(): string {
  return (
    `signalbox does not know which agent is editing, so every lock counts as another agent's: ` +
    `set ${AGENT_ID_ENV}=<your agent_id> in the agent's environment (or add --agent-id <id> to the hook command).`
  );
}

function acquireCall(key: string, agent: string | null, queue: boolean): string {
  const args: Record<string, unknown> = { agent_id: agent ?? "<your agent_id>", paths: [key], mode: "write" };
  if (queue) args.wait_ms = 60_000;
  return `acquire_lock ${JSON.stringify(args)}`;
}

/** `42 s`, `9 min`, `2 h 5 min` (rounded up, so a lock never looks shorter than it is). */
export function duration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.ceil(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}
