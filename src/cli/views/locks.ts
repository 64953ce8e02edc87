/**
 * `signalbox locks` (README, "For people at a terminal") and the LOCKS section
 * of `signalbox status`: live locks with holder, feature, fencing token and
 * time left on the lease; requests waiting in the FIFO queues with how long
 * they have waited and when they give up. Pure: data from `LockManager.list()`
 * in, text out.
 */
import type { LockView, WaiterView } from "../../locks/types.js";
import { colorsFor, DEFAULT_WIDTH, formatDuration, renderTable, sectionTitle, type Cell, type Colors } from "./text.js";

/** "in 42s", or "lapsed" once the instant (ISO) has passed at `now` (wall ms). */
function until(iso: string, now: number): string {
  const left = Date.parse(iso) - now;
  return left > 0 ? formatDuration(left) : "lapsed";
}

/**
 * Live locks as a table at most `width` columns wide: KEY (cut at the start,
 * so the file name stays), MODE (write in yellow), HOLDER, BRANCH (the
 * holder's git branch, only when `branches` knows one), FEATURE, TOKEN
 * (fencing token) and LEFT (lease time left at `now`, wall ms; red under 10 s).
 * @param branches  agent id -> the branch it works on (from the agent registry)
 */
export function renderLockTable(locks: LockView[], now: number, width: number, colors: Colors, branches: ReadonlyMap<string, string> = new Map()): string {
  const withBranch = locks.some((l) => branches.has(l.agent_id));
  const rows: Cell[][] = locks.map((l) => {
    const left = Date.parse(l.expires_at) - now;
    return [
      l.key,
      { text: l.mode, color: l.mode === "write" ? colors.yellow : colors.green },
      l.agent_id,
      ...(withBranch ? [branches.get(l.agent_id) ?? "-"] : []),
      l.feature_id ?? "-",
      String(l.fencing_token),
      { text: until(l.expires_at, now), color: left < 10_000 ? colors.red : colors.dim },
    ];
  });
  return renderTable(
    [
      { head: "KEY", min: 10, cut: "start" },
      { head: "MODE", min: 5 },
      { head: "HOLDER", min: 8, cut: "middle" },
      ...(withBranch ? [{ head: "BRANCH", min: 6, cut: "middle" as const }] : []),
      { head: "FEATURE", min: 7, cut: "middle" },
      { head: "TOKEN", right: true, min: 5 },
      { head: "LEFT", right: true, min: 6 },
    ],
    rows,
    width,
    colors,
  );
}

/**
 * Waiting requests as a table at most `width` columns wide: WAITER, MODE,
 * KEYS (the first key, `+N` for the others), WAITED and GIVES UP IN at `now`.
 */
export function renderWaiterTable(waiters: WaiterView[], now: number, width: number, colors: Colors): string {
  const rows: Cell[][] = waiters.map((wt) => [
    wt.agent_id,
    { text: wt.mode, color: wt.mode === "write" ? colors.yellow : colors.green },
    wt.keys.length > 1 ? `${wt.keys[0] ?? ""} +${wt.keys.length - 1}` : (wt.keys[0] ?? "-"),
    formatDuration(Math.max(0, now - Date.parse(wt.enqueued_at))),
    until(wt.gives_up_at, now),
  ]);
  return renderTable(
    [
      { head: "WAITER", min: 8, cut: "middle" },
      { head: "MODE", min: 5 },
      { head: "KEYS", min: 10, cut: "start" },
      { head: "WAITED", right: true, min: 6 },
      { head: "GIVES UP", right: true, min: 8 },
    ],
    rows,
    width,
    colors,
  );
}

/** Options of {@link renderLocks}. */
export interface LocksViewOptions {
  width?: number;
  colors?: Colors;
  /** Agent id -> its git branch, for the BRANCH column. */
  branches?: ReadonlyMap<string, string>;
}

/**
 * The whole `signalbox locks` answer: a LOCKS title with counts, the lock
 * table (or "none held") and, when requests wait, the waiter table.
 * `now` is wall-clock ms (the views' times are ISO).
 */
export function renderLocks(list: { locks: LockView[]; waiters: WaiterView[] }, now: number, opts: LocksViewOptions = {}): string {
  const w = opts.width ?? DEFAULT_WIDTH;
  const colors = opts.colors ?? colorsFor(false);
  const out = [sectionTitle("LOCKS", `${list.locks.length} held`, w, colors)];
  out.push(list.locks.length === 0 ? colors.dim("none held") : renderLockTable(list.locks, now, w, colors, opts.branches));
  out.push("", sectionTitle("WAITERS", `${list.waiters.length} waiting`, w, colors));
  out.push(list.waiters.length === 0 ? colors.dim("nobody waiting") : renderWaiterTable(list.waiters, now, w, colors));
  return out.join("\n");
}
