/**
 * The Locks section of the dashboard state: the live locks and waiters the
 * lock manager lists (the same `LockManager.list()` as `signalbox://locks`),
 * each lock with the queue behind it.
 */
import type { LockManager } from "../locks/manager.js";
import type { KeyKind, LockRow, WaiterRow } from "./types.js";

/** Most locks listed; `locks_omitted` counts the rest. */
export const LOCKS_LISTED = 500;

/** What a key names: `table:x`, `resource:x`, a folder (`src/api/`, ending in `/`) or a file. */
export function keyKind(key: string): KeyKind {
  if (key.startsWith("table:")) return "table";
  if (key.startsWith("resource:")) return "resource";
  return key.endsWith("/") ? "folder" : "file";
}

/**
 * Whether two keys overlap: equal, or one is a folder key (ending in `/`)
 * the other lies below (DESIGN.md, "Domain model": a directory key
 * conflicts with every key below it). Tables and resources overlap only
 * themselves.
 */
export function keysOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  if (keyKind(a) !== "folder" && keyKind(b) !== "folder") return false;
  return (a.endsWith("/") && b.startsWith(a)) || (b.endsWith("/") && a.startsWith(b));
}

/**
 * The live locks in key order, each with the waiters (FIFO) asking for an
 * overlapping key, and the waiters that overlap no held key. `nowWallMs` is
 * the wall-clock time the lease and give-up times are counted from.
 */
export function lockRows(locks: Pick<LockManager, "list">, nowWallMs: number): { locks: LockRow[]; omitted: number; waiting: WaiterRow[] } {
  const live = locks.list();
  const waiters: WaiterRow[] = live.waiters.map((w) => ({
    agent_id: w.agent_id,
    mode: w.mode,
    keys: [...w.keys],
    feature_id: w.feature_id,
    enqueued_at: w.enqueued_at,
    gives_up_at: w.gives_up_at,
    gives_up_in_ms: Math.max(0, Date.parse(w.gives_up_at) - nowWallMs),
  }));
  const behindSome = new Set<WaiterRow>();
  const rows: LockRow[] = live.locks.slice(0, LOCKS_LISTED).map((l) => {
    const queue = waiters.filter((w) => w.keys.some((k) => keysOverlap(k, l.key)));
    for (const w of queue) behindSome.add(w);
    return {
      key: l.key,
      kind: keyKind(l.key),
      mode: l.mode,
      agent_id: l.agent_id,
      feature_id: l.feature_id,
      fencing_token: l.fencing_token,
      acquired_at: l.acquired_at,
      expires_at: l.expires_at,
      lease_left_ms: Math.max(0, Date.parse(l.expires_at) - nowWallMs),
      queue,
    };
  });
  return {
    locks: rows,
    omitted: Math.max(0, live.locks.length - LOCKS_LISTED),
    waiting: waiters.filter((w) => !behindSome.has(w)).slice(0, LOCKS_LISTED),
  };
}
