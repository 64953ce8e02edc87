/**
 * The `signalbox status` board (README, "For people at a terminal"): agents
 * with status and heartbeat age, locks with holders and expiry, waiters, open
 * audit signals, unread inbox messages per recipient, and the current wave of
 * the newest plans, as compact tables that fit the terminal width (80 columns
 * by default).
 *
 * Pure: {@link renderStatus} takes a {@link StatusData} snapshot (gathered by
 * src/cli/people.ts) and the time elapsed since it was taken, so a watcher can
 * refresh ages without reading the store again.
 */
import type { LockView, WaiterView } from "../../locks/types.js";
import { renderLockTable, renderWaiterTable } from "./locks.js";
import { colorsFor, DEFAULT_WIDTH, formatDuration, line, renderTable, sectionTitle, type Cell, type Colors } from "./text.js";

/** One agent as the board shows it (from `statusBoard`, src/control/registry/agents.ts). */
export interface StatusAgent {
  agent_id: string;
  role: string;
  status: string;
  /** The git branch it works on; null when unknown. */
  branch: string | null;
  feature_id: string | null;
  current_task: string | null;
  progress_percentage: number | null;
  /** False once silent past `control.heartbeat_ms`. */
  available: boolean;
  /** Heartbeat age when the snapshot was taken, ms; -1 when last seen under another boot. */
  silent_ms: number;
  /** Open pausing signals that apply to it (signal ids). */
  paused_by: string[];
}

/** An open (pausing) audit signal. */
export interface StatusSignal {
  signal_id: string;
  level: string;
  algedonic: boolean;
  feature_id: string | null;
  emitted_by: string;
  summary: string;
  /** ISO time it was emitted. */
  emitted_at: string;
}

/** The unacknowledged messages of one inbox. */
export interface StatusInbox {
  /** Recipient: an agent id, or `orchestrator` while no orchestrator is registered. */
  agent_id: string;
  unread: number;
  /** Age of the oldest unacknowledged message when the snapshot was taken, ms. */
  oldest_ms: number;
  /** How many are unacknowledged past `control.ack_limit_ms` (communication delays). */
  delayed: number;
  /** Unread count by message kind (handoff, pause, notice, ...). */
  kinds: Record<string, number>;
}

/** One plan's progress (from `coordinationState`, src/control/features.ts). */
export interface StatusPlan {
  plan_id: string;
  name: string | null;
  /** First wave with a feature not completed; null when all are completed. */
  current_wave: number | null;
  wave_count: number;
  counts: { features: number; completed: number; active: number; failed: number; blocked: number; ready: number };
}

/** A snapshot of everything the board shows, taken at one moment. */
export interface StatusData {
  root: string;
  store_dir: string;
  /** `store.lastTxnId()` when the snapshot was taken. */
  txn: number;
  /** Wall-clock ms when the snapshot was taken (lock and waiter times are ISO and compared with it). */
  observed_wall_ms: number;
  heartbeat_ms: number;
  agents: StatusAgent[];
  agents_total: number;
  by_status: Record<string, number>;
  unavailable: number;
  locks: LockView[];
  waiters: WaiterView[];
  signals: StatusSignal[];
  signals_total: number;
  inboxes: StatusInbox[];
  plans: StatusPlan[];
  plans_total: number;
}

/** Options of {@link renderStatus}. */
export interface StatusViewOptions {
  /** Terminal columns (default 80). */
  width?: number;
  colors?: Colors;
  /** Ms since the snapshot was taken (monotonic): ages and expiries move on by it. Default 0. */
  elapsedMs?: number;
  /** Most rows per section (default 20; waiters, signals and inboxes 10; plans 3). */
  maxRows?: number;
  /** A dim last line (e.g. how to stop watching). */
  footer?: string;
}

const STATUS_COLOR: Record<string, keyof Colors> = {
  working: "green",
  dispatched: "blue",
  blocked: "red",
  error: "red",
  paused: "yellow",
  completed: "dim",
};

function paint(colors: Colors, name: keyof Colors | undefined): ((s: string) => string) | undefined {
  if (!name) return undefined;
  const f = colors[name];
  return typeof f === "function" ? (s: string) => f(s) : undefined;
}

function more(n: number, what: string, width: number, colors: Colors): string[] {
  return n > 0 ? [colors.dim(line(`… ${n} more ${what}`, width))] : [];
}

function agentRows(data: StatusData, colors: Colors, elapsed: number, max: number, withBranch: boolean): Cell[][] {
  return data.agents.slice(0, max).map((a) => {
    const seen = a.silent_ms < 0 ? "?" : formatDuration(a.silent_ms + elapsed);
    const status = a.paused_by.length > 0 ? `paused:${a.paused_by[0] ?? ""}` : a.status;
    const task = [a.progress_percentage !== null ? `${a.progress_percentage}%` : "", a.current_task ?? ""].filter((s) => s !== "").join(" ");
    return [
      a.agent_id,
      a.role,
      ...(withBranch ? [a.branch ?? "-"] : []),
      { text: status, color: paint(colors, a.paused_by.length > 0 ? "yellow" : STATUS_COLOR[a.status]) },
      a.feature_id ?? "-",
      a.available ? seen : { text: `!${seen}`, color: colors.red },
      task === "" ? "-" : task,
    ];
  });
}

function agentSection(data: StatusData, w: number, colors: Colors, elapsed: number, max: number): string[] {
  const counts = Object.entries(data.by_status)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s} ${n}`);
  const unavailable = data.unavailable > 0 ? [`unavailable ${data.unavailable} (!: silent > ${formatDuration(data.heartbeat_ms)})`] : [];
  const title = sectionTitle("AGENTS", [String(data.agents_total), ...counts, ...unavailable].join(" · "), w, colors);
  if (data.agents_total === 0) return [title, colors.dim("none registered (dispatch_agents, report_status)")];
  const withBranch = data.agents.some((a) => a.branch !== null);
  const table = renderTable(
    [
      { head: "AGENT", min: 8, cut: "middle" },
      { head: "ROLE", min: 4, max: 13 },
      ...(withBranch ? [{ head: "BRANCH", min: 6, cut: "middle" as const }] : []),
      { head: "STATUS", min: 6, cut: "middle" },
      { head: "FEATURE", min: 7, cut: "middle" },
      { head: "SEEN", min: 4, right: true },
      { head: "TASK", min: 4 },
    ],
    agentRows(data, colors, elapsed, max, withBranch),
    w,
    colors,
  );
  return [title, table, ...more(Math.max(0, data.agents_total - max), "agents (signalbox://agents)", w, colors)];
}

/** Agent id -> branch of the agents that have one. */
function branchesOf(data: StatusData): Map<string, string> {
  return new Map(data.agents.filter((a) => a.branch !== null).map((a) => [a.agent_id, a.branch as string]));
}

function lockSection(data: StatusData, w: number, colors: Colors, now: number, max: number): string[] {
  const title = sectionTitle("LOCKS", `${data.locks.length} held · ${data.waiters.length} waiting`, w, colors);
  const out = [title];
  if (data.locks.length === 0) out.push(colors.dim("none held"));
  else out.push(renderLockTable(data.locks.slice(0, max), now, w, colors, branchesOf(data)), ...more(data.locks.length - max, "locks (signalbox locks)", w, colors));
  const wmax = Math.min(max, 10);
  if (data.waiters.length > 0) {
    out.push(renderWaiterTable(data.waiters.slice(0, wmax), now, w, colors), ...more(data.waiters.length - wmax, "waiters", w, colors));
  }
  return out;
}

function signalSection(data: StatusData, w: number, colors: Colors, now: number, max: number): string[] {
  const title = sectionTitle("SIGNALS", `${data.signals_total} open (RED or algedonic: they pause)`, w, colors);
  if (data.signals.length === 0) return [title, colors.dim("none open")];
  const rows: Cell[][] = data.signals.slice(0, max).map((s) => [
    s.signal_id,
    { text: s.algedonic ? `${s.level}!ALG` : s.level, color: s.algedonic ? colors.magenta : s.level === "RED" ? colors.red : colors.yellow },
    s.feature_id ?? "-",
    s.emitted_by,
    { text: formatDuration(now - Date.parse(s.emitted_at)), color: colors.dim },
    s.summary,
  ]);
  const table = renderTable(
    [
      { head: "ID", min: 5, cut: "middle" },
      { head: "LEVEL", min: 5 },
      { head: "FEATURE", min: 7, cut: "middle" },
      { head: "BY", min: 4, cut: "middle" },
      { head: "AGE", min: 4, right: true },
      { head: "SUMMARY", min: 7 },
    ],
    rows,
    w,
    colors,
  );
  return [title, table, ...more(data.signals_total - Math.min(max, data.signals.length), "open signals (signalbox://audit)", w, colors)];
}

function inboxSection(data: StatusData, w: number, colors: Colors, elapsed: number, max: number): string[] {
  const unread = data.inboxes.reduce((n, i) => n + i.unread, 0);
  const title = sectionTitle("UNREAD", `${unread} unacknowledged in ${data.inboxes.length} inbox(es)`, w, colors);
  if (data.inboxes.length === 0) return [title, colors.dim("every message acknowledged")];
  const rows: Cell[][] = data.inboxes.slice(0, max).map((i) => [
    i.agent_id,
    String(i.unread),
    i.delayed > 0 ? { text: `!${formatDuration(i.oldest_ms + elapsed)}`, color: colors.yellow } : formatDuration(i.oldest_ms + elapsed),
    Object.entries(i.kinds)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ${n}`)
      .join(", "),
  ]);
  const table = renderTable(
    [
      { head: "INBOX", min: 8, cut: "middle" },
      { head: "UNREAD", right: true },
      { head: "OLDEST", right: true },
      { head: "KINDS", min: 5 },
    ],
    rows,
    w,
    colors,
  );
  return [title, table, ...more(data.inboxes.length - max, "inboxes", w, colors)];
}

function planSection(data: StatusData, w: number, colors: Colors, max: number): string[] {
  const title = sectionTitle("WAVES", `${data.plans_total} plan(s) stored; newest first`, w, colors);
  if (data.plans.length === 0) return [title, colors.dim("no wave plans (plan_waves)")];
  const rows: Cell[][] = data.plans.slice(0, max).map((p) => {
    const c = p.counts;
    const pct = c.features === 0 ? 100 : Math.floor((c.completed * 100) / c.features);
    return [
      p.plan_id,
      p.name ?? "-",
      p.current_wave === null ? { text: "done", color: colors.green } : `${p.current_wave}/${p.wave_count}`,
      `${c.completed}/${c.features} ${pct}%`,
      String(c.active),
      c.failed > 0 ? { text: String(c.failed), color: colors.red } : "0",
      String(c.ready),
      c.blocked > 0 ? { text: String(c.blocked), color: colors.red } : "0",
    ];
  });
  const table = renderTable(
    [
      { head: "PLAN", min: 8, cut: "middle" },
      { head: "NAME", min: 4 },
      { head: "WAVE", right: true },
      { head: "DONE", right: true, min: 4 },
      { head: "ACTIVE", right: true },
      { head: "FAILED", right: true },
      { head: "READY", right: true },
      { head: "BLOCKED", right: true },
    ],
    rows,
    w,
    colors,
  );
  return [title, table];
}

/**
 * The board as text, every line at most `width` columns (default 80).
 * Untrusted strings are escaped (no control sequences) and cut with `…`;
 * with colour off the text holds no ANSI codes. Sections: header, AGENTS,
 * LOCKS (and waiters), SIGNALS, UNREAD, WAVES, then the footer if any.
 */
export function renderStatus(data: StatusData, opts: StatusViewOptions = {}): string {
  const w = opts.width ?? DEFAULT_WIDTH;
  const colors = opts.colors ?? colorsFor(false);
  const elapsed = opts.elapsedMs ?? 0;
  const max = opts.maxRows ?? 20;
  const now = data.observed_wall_ms + elapsed;
  const header = `${colors.bold("signalbox status")}${colors.dim(line(`  ${data.root} · txn ${data.txn}`, w - 16, "start"))}`;
  const blocks = [
    [header],
    agentSection(data, w, colors, elapsed, max),
    lockSection(data, w, colors, now, max),
    signalSection(data, w, colors, now, Math.min(max, 10)),
    inboxSection(data, w, colors, elapsed, Math.min(max, 10)),
    planSection(data, w, colors, Math.min(max, 3)),
  ];
  if (opts.footer) blocks.push([colors.dim(line(opts.footer, w))]);
  return blocks.map((b) => b.join("\n")).join("\n\n");
}

/**
 * Ms after the snapshot when the board changes without any write to the
 * store: the first lock lease or waiter deadline that runs out, or the first
 * available agent crossing the heartbeat limit. Infinity when none will.
 * A watcher reads the store again then, even if `lastTxnId()` did not move.
 */
export function nextChangeMs(data: StatusData): number {
  let next = Infinity;
  for (const l of data.locks) next = Math.min(next, Date.parse(l.expires_at) - data.observed_wall_ms);
  for (const wt of data.waiters) next = Math.min(next, Date.parse(wt.gives_up_at) - data.observed_wall_ms);
  for (const a of data.agents) {
    if (a.available && a.silent_ms >= 0 && a.status !== "completed") next = Math.min(next, data.heartbeat_ms - a.silent_ms + 1);
  }
  return Math.max(0, next);
}
