/**
 * The store side of the people commands (cli/people.ts): open the store
 * for reading, gather what a view shows, watch for changes. Loaded only when
 * one of those commands runs.
 */
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createContext, type Context } from "../runtime/context.js";
import { allAgents, statusBoard } from "../control/registry/agents.js";
import { allFeatures, coordinationState } from "../control/features.js";
import { listSignals } from "../control/signals.js";
import { decisionPage } from "../log/decisions.js";
import { getPlan, getPlanSpec, listPlans, planCount, type StoredPlan } from "../analysis/plans.js";
import { resolveRoot, resolveStoreDir } from "../runtime/root.js";
import type { DecisionRecord } from "../log/decision-record.js";
import { messages } from "../store/schema.js";
import { UsageError, type PeopleIo } from "./people-io.js";
import { renderDecisions } from "./views/decisions.js";
import { renderLocks } from "./views/locks.js";
import { renderMermaid } from "./views/mermaid.js";
import { nextChangeMs, renderStatus, type StatusData, type StatusInbox } from "./views/status.js";
import { colorsFor, DEFAULT_WIDTH, type Colors } from "./views/text.js";
import { renderPlanList, renderWavesTable, type FeatureProgress } from "./views/waves.js";

export { colorsFor, getPlan, getPlanSpec, listPlans, planCount, renderDecisions, renderLocks, renderMermaid, renderPlanList, renderStatus, renderWavesTable };

/** Mermaid's default `maxEdges`: a larger flowchart is refused when rendered (e.g. on GitHub). */
export const MERMAID_MAX_EDGES = 500;

/** The store has not been created (no `signalbox.mdb`): exit code 1. */
class NoStoreError extends Error {}

/**
 * Open the store of the project root for reading, never creating one.
 * @throws UsageError `--root: ...` for a root that is not a directory;
 *         NoStoreError `store: no signalbox store in <dir>` when none exists.
 */
export function openForReading(rootOption: string | undefined, env: NodeJS.ProcessEnv): Context {
  let root: string;
  try {
    root = resolveRoot(rootOption !== undefined ? { root: rootOption, env } : { env });
  } catch (err) {
    throw new UsageError(`--${(err as Error).message}`);
  }
  const storeDir = resolveStoreDir(root, env);
  if (!fs.existsSync(path.join(storeDir, "signalbox.mdb"))) throw new NoStoreError(`store: no signalbox store in ${storeDir}`);
  return createContext({ root, storeDir, sweepMs: 0 });
}

/** The folder of the open store (a fact of the store itself, not of its records: the port does not carry it). */
export function storeDirOf(ctx: Context): string {
  return ctx.store.dir;
}

/**
 * The id of the store's last committed write transaction, by any process:
 * what the watch compares (the port offers it only asynchronously, as
 * `engine.revision()`).
 */
function lastTxnIdOf(ctx: Context): number {
  return ctx.store.lastTxnId();
}

/**
 * Unacknowledged messages per recipient, from the `U` index (control/registry/records.ts
 * `messages`: `U` seq12 `\0` agent_id -> created_mono), most unread first.
 */
function unreadInboxes(ctx: Context): StatusInbox[] {
  const now = ctx.clock.monoMs();
  const byAgent = new Map<string, StatusInbox>();
  const tx = ctx.txn.read();
  for (const { key, value: created } of tx.range(messages.unacknowledged)) {
    const [seq, agent] = key;
    let box = byAgent.get(agent);
    if (!box) {
      box = { agent_id: agent, unread: 0, oldest_ms: Math.max(0, Math.round(now - created)), delayed: 0, kinds: {} };
      byAgent.set(agent, box);
    }
    box.unread++;
    if (now - created > ctx.config.control.ack_limit_ms) box.delayed++;
    const rec = tx.get(messages.message, [agent, seq]);
    const kind = rec?.kind ?? "?";
    box.kinds[kind] = (box.kinds[kind] ?? 0) + 1;
  }
  return [...byAgent.values()].sort((a, b) => b.unread - a.unread || a.agent_id.localeCompare(b.agent_id));
}

/** Agent id -> the git branch it works on, for every registered agent that has one. */
export function agentBranches(ctx: Context): Map<string, string> {
  return new Map(
    allAgents(ctx)
      .filter((a) => typeof a.branch === "string")
      .map((a) => [a.agent_id, a.branch as string]),
  );
}

/**
 * A snapshot of the status board from the open store: agents (first 200)
 * with heartbeat ages, live locks and waiters, open audit signals (first 50),
 * unread inboxes, and the progress of the newest plans (coordinationState).
 */
export function gatherStatus(ctx: Context): StatusData {
  ctx.txn.latest();
  const txn = lastTxnIdOf(ctx);
  const board = statusBoard(ctx, 200);
  const { locks, waiters } = ctx.locks.list();
  const signals = listSignals(ctx, { openOnly: true, limit: 50 });
  const state = coordinationState(ctx);
  const waveCounts = new Map(listPlans(ctx.txn.latest(), state.plans.length || 1).map((p) => [p.plan_id, p.wave_count]));
  return {
    root: ctx.root,
    store_dir: storeDirOf(ctx),
    txn,
    observed_wall_ms: ctx.clock.wallMs(),
    heartbeat_ms: ctx.config.control.heartbeat_ms,
    agents: board.agents.map((a) => ({
      agent_id: a.agent_id,
      role: a.role,
      branch: a.branch,
      status: a.status,
      feature_id: a.feature_id,
      current_task: a.current_task,
      progress_percentage: a.progress_percentage,
      available: a.available,
      silent_ms: a.silent_ms,
      paused_by: a.paused_by,
    })),
    agents_total: board.agents.length + board.omitted,
    by_status: board.by_status,
    unavailable: board.unavailable.length,
    locks,
    waiters,
    signals: signals.signals.map((s) => ({
      signal_id: s.signal_id,
      level: s.level,
      algedonic: s.algedonic,
      feature_id: s.feature_id,
      emitted_by: s.emitted_by,
      summary: s.summary,
      emitted_at: s.emitted_at,
    })),
    signals_total: signals.total,
    inboxes: unreadInboxes(ctx),
    plans: state.plans.map((p) => ({
      plan_id: p.plan_id,
      name: p.name,
      current_wave: p.current_wave,
      wave_count: waveCounts.get(p.plan_id) ?? 0,
      counts: p.counts,
    })),
    plans_total: planCount(ctx.txn.latest()),
  };
}

/** Options of {@link watchStatus}. */
export interface WatchOptions {
  intervalMs: number;
  width: number;
  colors: Colors;
  /** Abort to stop (Ctrl-C does). */
  signal: AbortSignal;
}

/** Move the cursor home and clear the screen (a TTY only). */
const CLEAR = "\u001b[H\u001b[2J";

/**
 * Redraw the status board until `signal` aborts. Each tick (every
 * `intervalMs`) compares `store.lastTxnId()` with the snapshot's; the store
 * is read again only when it moved or when something lapses on its own
 * ({@link nextChangeMs}); the board is written only when its text changed
 * (e.g. an age ticked). On a TTY each frame clears the screen first;
 * otherwise frames follow each other separated by a blank line.
 * Resolves to the number of frames written.
 */
export async function watchStatus(ctx: Context, io: PeopleIo, opts: WatchOptions): Promise<number> {
  const mono = () => performance.now();
  let data = gatherStatus(ctx);
  let takenAt = mono();
  let lastFrame = "";
  let frames = 0;
  const footer = `every ${opts.intervalMs}ms · redrawn on change · Ctrl-C to stop`;
  while (!opts.signal.aborted) {
    const elapsed = mono() - takenAt;
    if (lastTxnIdOf(ctx) !== data.txn || elapsed >= nextChangeMs(data)) {
      data = gatherStatus(ctx);
      takenAt = mono();
    }
    const frame = renderStatus(data, { width: opts.width, colors: opts.colors, elapsedMs: mono() - takenAt, footer });
    if (frame !== lastFrame) {
      io.out(io.isTTY ? `${CLEAR}${frame}\n` : `${frames > 0 ? "\n" : ""}${frame}\n`);
      lastFrame = frame;
      frames++;
    }
    try {
      await sleep(opts.intervalMs, undefined, { signal: opts.signal });
    } catch {
      break;
    }
  }
  return frames;
}

/** feature id -> lifecycle state, for the features of `plan` that were started. */
export function progressOf(ctx: Context, plan: StoredPlan): Map<string, FeatureProgress> {
  const inPlan = new Set(plan.waves.flatMap((w) => w.features));
  const out = new Map<string, FeatureProgress>();
  for (const f of allFeatures(ctx)) if (inPlan.has(f.feature_id)) out.set(f.feature_id, { status: f.status, agent_id: f.agent_id });
  return out;
}

/**
 * The newest decisions, newest first: at most `limit`, and with `sinceMs`
 * only those recorded at or after it (paging stops at the first older one).
 */
export function decisionsSince(ctx: Context, limit: number, sinceMs: number | null): { decisions: DecisionRecord[]; total: number } {
  const out: DecisionRecord[] = [];
  let before: number | undefined;
  let total = 0;
  for (;;) {
    const page = decisionPage(ctx.txn.latest(), { limit: Math.min(500, limit - out.length), ...(before !== undefined ? { before } : {}) });
    total = page.total;
    for (const d of page.decisions) {
      if (sinceMs !== null && Date.parse(d.recorded_at) < sinceMs) return { decisions: out, total };
      out.push(d);
    }
    const last = page.decisions[page.decisions.length - 1];
    if (!last || out.length >= limit || last.seq <= 1) return { decisions: out, total };
    before = last.seq;
  }
}


/** Columns to lay out for: the terminal's (60..200) on a TTY, else 80. */
export function widthOf(io: PeopleIo): number {
  return io.isTTY && io.columns ? Math.max(60, Math.min(200, io.columns)) : DEFAULT_WIDTH;
}
