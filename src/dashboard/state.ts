/**
 * The dashboard's state at one moment ({@link DashboardState}), assembled
 * from the domain functions the MCP resources use: `statusBoard` (as
 * `signalbox://agents`), `LockManager.list` (`signalbox://locks`),
 * `auditView` (`signalbox://audit`), `listCheckpoints`, `incidentsView`
 * (`signalbox://incidents`), inboxes, stored plans and integration reports
 * (`signalbox://waves/...`), the latest radar matrix (`signalbox://radar`,
 * as recorded: the dashboard never recomputes it) and the activity log.
 * Read-only: nothing here writes to the store.
 */
import type { AgentView } from "../control/registry/agents.js";
import { statusBoard } from "../control/registry/agents.js";
import { latestRadar } from "../control/radar.js";
import { listActivity } from "../log/activity.js";
import type { Context } from "../runtime/context.js";
import { lockRows } from "./state-locks.js";
import { auditHandoffRows, checkpointRows, handoffRows, incidentsBlock, readAudit, signalsBlock } from "./state-messages.js";
import { planGraph, planRows } from "./state-plan.js";
import type { AgentRow, DashboardState, RadarState, SignalRow } from "./types.js";

/** What the dashboard reads of a Context. */
export type DashboardContext = Pick<Context, "root" | "store" | "txn" | "db" | "clock" | "config" | "locks" | "changes" | "logger">;

/**
 * Assemble the state, with the graph of plan `planId` (the newest plan when
 * null or unknown). Reads the latest snapshot of the store.
 * @throws what the store throws when it cannot be read (e.g. closed).
 */
export async function dashboardState(ctx: DashboardContext, planId: string | null): Promise<DashboardState> {
  const now = ctx.clock.wallMs();
  return ctx.db.read((tx) => {
    const board = statusBoard(ctx);
    const audit = readAudit(ctx);
    const pausing = new Map<string, string[]>();
    for (const a of board.agents) {
      for (const id of a.paused_by) {
        const list = pausing.get(id);
        if (list) list.push(a.agent_id);
        else pausing.set(id, [a.agent_id]);
      }
    }
    const signals = signalsBlock(audit, pausing);
    const locks = lockRows(ctx.locks, now);
    const plans = planRows(tx);
    const head = listActivity(ctx, { limit: 1, since_ms: 0 }).items[0];
    return {
      generated_at: new Date(now).toISOString(),
      root: ctx.root,
      store: ctx.store.dir,
      heartbeat_ms: ctx.config.control.heartbeat_ms,
      agents: board.agents.map((a) => agentRow(a, signals.open)),
      agents_omitted: board.omitted,
      locks: locks.locks,
      locks_omitted: locks.omitted,
      waiting: locks.waiting,
      signals,
      checkpoints: checkpointRows(ctx),
      incidents: incidentsBlock(ctx),
      handoffs: handoffRows(ctx),
      audit_handoffs: auditHandoffRows(audit),
      plans,
      plan: planGraph(ctx, tx, planId, plans[0]?.plan_id ?? null),
      radar: radarState(ctx),
      activity_head: head?.seq ?? null,
    };
  });
}

/** One agent's row; `open` are the open signals, to name what pauses it. */
function agentRow(a: AgentView, open: readonly SignalRow[]): AgentRow {
  return {
    agent_id: a.agent_id,
    role: a.role,
    domain: a.domain,
    status: a.status,
    feature_id: a.feature_id,
    current_task: a.current_task,
    progress: a.progress_percentage,
    blocking_issues: a.blocking_issues.slice(0, 10),
    worktree: a.worktree,
    branch: a.branch,
    head: a.head === null ? null : a.head.slice(0, 12),
    available: a.available,
    silent_ms: a.silent_ms,
    last_seen_at: a.last_seen_at,
    paused_by: a.paused_by.map((id) => {
      const s = open.find((x) => x.signal_id === id);
      return { signal_id: id, level: s?.level ?? "RED", algedonic: s?.algedonic ?? false, summary: s?.summary ?? "" };
    }),
  };
}

/** The latest recorded radar matrix, or why there is none. */
function radarState(ctx: DashboardContext): RadarState {
  const m = latestRadar(ctx);
  if (!m) {
    return {
      available: false,
      reason: "no prediction recorded yet: the radar compares feature branches once features with branches are active (servers in git worktrees)",
      computed_at: null,
      target: null,
      branches: [],
      pairs: [],
    };
  }
  return {
    available: true,
    reason: null,
    computed_at: m.computed_at,
    target: m.target,
    branches: m.branches.map((b) => ({ branch: b.branch, feature_id: b.feature_id, agent_id: b.agent_id })),
    pairs: m.pairs.map((p) => ({
      a: p.a.branch,
      b: p.b.branch,
      status: p.status,
      conflicts: p.conflicts.slice(0, 100).map((c) => ({ path: c.path, kind: c.kind })),
      both_changed: p.both_changed.slice(0, 100),
    })),
  };
}
