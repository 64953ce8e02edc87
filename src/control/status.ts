/**
 * Status broadcasts (execution-template.md, "Status Broadcasting System"):
 * the heartbeat every agent sends, and the answer telling it what to do now
 * (paused, at a checkpoint, unread messages). A heartbeat that makes an agent
 * active again (after completing, erroring or going silent) takes a capacity
 * slot, judged in the same transaction (control/registry/capacity.ts). An unregistered
 * agent's first report registers it with role `other`, a self-registration
 * `roles.self_register` must allow.
 */
import { checkCapacity, countsTowardCapacity } from "./registry/capacity.js";
import { NotPermittedError, whoIsOrchestrator } from "./registry/authority.js";
import { getAgent, newAgent, settleAllCoverage, withLocation, type AgentLocation } from "./registry/agents.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { unreadCount } from "./registry/inbox.js";
import type { AgentRecord, AgentStatus, CheckpointRecord, SignalRecord } from "./registry/records.js";
import { openCheckpoints, pausesFor } from "./registry/stops.js";
import { agents } from "../store/schema.js";

/** A status broadcast (execution-template.md, "Status Broadcasting System"). */
export interface StatusReport {
  agent_id: string;
  status: Exclude<AgentStatus, "dispatched">;
  current_task?: string | null;
  progress_percentage?: number | null;
  estimated_completion?: string | null;
  blocking_issues?: string[];
  outputs_ready?: string[];
  /** Where the reporting agent works (filled from the calling server's worktree by the tool). */
  location?: AgentLocation;
}

/** What an agent must know now, returned by every heartbeat. */
export interface StatusAnswer {
  agent_id: string;
  status: AgentStatus;
  /** True while an open RED or algedonic signal applies: stop writing. */
  paused: boolean;
  paused_by: { signal_id: string; level: string; summary: string; emitted_by: string; feature_id: string | null }[];
  unread: number;
  /** An open checkpoint this agent has to reach (or has reached and waits on). */
  checkpoint: { name: string; reason: string; requested_by: string; reached: boolean } | null;
  /** One line: what to do next. */
  instruction: string;
}

function checkpointFor(env: ControlEnv, agentId: string, cps: CheckpointRecord[]): StatusAnswer["checkpoint"] {
  const c = cps.find((cp) => cp.requested_by !== agentId && cp.expected.includes(agentId)) ?? cps.find((cp) => cp.requested_by !== agentId);
  if (!c) return null;
  return { name: c.name, reason: c.reason, requested_by: c.requested_by, reached: c.arrived.some((a) => a.agent_id === agentId) };
}

/**
 * Record a status broadcast and heartbeat in one write transaction; unknown
 * agents are registered with role `other`. Settles audit coverage on the way.
 */
export function reportStatus(env: ControlEnv, report: StatusReport): StatusAnswer {
  const { clock } = env;
  return env.txn.write((tx) => {
    const known = getAgent(env, report.agent_id);
    if (!known && !(env.config.roles.self_register as readonly string[]).includes("other")) {
      throw new NotPermittedError(
        "agent_id",
        `"${report.agent_id}" is not registered, and a first report registers it with role other, which roles.self_register does not allow`,
        `register it with dispatch_agents (${whoIsOrchestrator(env)} may dispatch it)`,
      );
    }
    const prev = withLocation(known ?? newAgent(env, report.agent_id, "other"), report.location);
    const rec: AgentRecord = {
      ...prev,
      status: report.status,
      current_task: report.current_task !== undefined ? report.current_task : prev.current_task,
      progress_percentage: report.progress_percentage !== undefined ? report.progress_percentage : prev.progress_percentage,
      estimated_completion: report.estimated_completion !== undefined ? report.estimated_completion : prev.estimated_completion,
      blocking_issues: report.blocking_issues ?? prev.blocking_issues,
      outputs_ready: report.outputs_ready ?? prev.outputs_ready,
      last_seen_at: nowIso(env),
      last_seen_mono: clock.monoMs(),
      boot: clock.bootId,
    };
    if (countsTowardCapacity(env, rec) && !(known && countsTowardCapacity(env, known))) {
      checkCapacity(env, [{ agent_id: rec.agent_id, role: rec.role, domain: rec.domain }], rec.dispatched_by ?? rec.agent_id);
    }
    tx.put(agents.agent, [report.agent_id], rec);
    settleAllCoverage(env);
    const pauses = pausesFor(env, report.agent_id);
    const checkpoint = checkpointFor(env, report.agent_id, openCheckpoints(env));
    const unread = unreadCount(env, report.agent_id);
    let instruction = "continue";
    if (pauses.length > 0) {
      const s = pauses[0] as SignalRecord;
      instruction = `paused by ${s.signal_id} (${s.level}: ${s.summary}): stop writing until it is resolved`;
    } else if (checkpoint && !checkpoint.reached) {
      instruction = `checkpoint "${checkpoint.name}" requested by ${checkpoint.requested_by}: stop at a safe point, then reach_checkpoint`;
    } else if (checkpoint) {
      instruction = `waiting at checkpoint "${checkpoint.name}" until resume_checkpoint`;
    } else if (unread > 0) {
      instruction = `read your inbox (${unread} unread): get_inbox`;
    }
    return {
      agent_id: report.agent_id,
      status: rec.status,
      paused: pauses.length > 0,
      paused_by: pauses.map((s) => ({ signal_id: s.signal_id, level: s.level, summary: s.summary, emitted_by: s.emitted_by, feature_id: s.feature_id })),
      unread,
      checkpoint,
      instruction,
    };
  });
}

