/**
 * The Signals and messages section of the dashboard state, from the same
 * domain views the resources publish: audit signals (`auditView`, as
 * `signalbox://audit`), open checkpoints (`listCheckpoints`), incidents
 * (`incidentsView`, as `signalbox://incidents`), and the cross-agent
 * handoffs still unacknowledged in some inbox (`listInbox` of every inbox).
 * Read-only.
 */
import { allAgents, orchestratorInboxes } from "../control/registry/agents.js";
import { auditView, type AuditView, type SignalView } from "../control/audit.js";
import { listCheckpoints } from "../control/checkpoints.js";
import type { ControlEnv } from "../control/registry/env.js";
import { listInbox } from "../control/registry/inbox.js";
import { incidentsView } from "../control/incidents.js";
import type { IncidentRecord } from "../control/registry/records.js";
import type { AuditHandoffRow, CheckpointRow, HandoffRow, IncidentRow, IncidentsBlock, SignalRow, SignalsBlock } from "./types.js";

/** Most items of each list of this section. */
export const MESSAGES_LISTED = 50;
/** Most inboxes read for unacknowledged handoffs. */
const INBOXES_READ = 500;

/** Open signals (algedonic first, then oldest) and the newest ones; `pausing` maps a signal id to the agents it pauses. */
export function signalsBlock(audit: AuditView, pausing: ReadonlyMap<string, string[]>): SignalsBlock {
  const row = (s: SignalView): SignalRow => ({
    signal_id: s.signal_id,
    level: s.level,
    algedonic: s.algedonic,
    status: s.status,
    summary: s.summary,
    feature_id: s.feature_id,
    files: s.files.slice(0, 20),
    emitted_by: s.emitted_by,
    emitted_at: s.emitted_at,
    pauses: s.status === "open" ? (pausing.get(s.signal_id) ?? []) : [],
  });
  return { open: audit.open.map(row), open_omitted: audit.open_omitted, recent: audit.recent.slice(0, 20).map(row), total: audit.signals_total };
}

/** The audit view the section is built from (open signals capped at {@link MESSAGES_LISTED}). */
export function readAudit(env: ControlEnv): AuditView {
  return auditView(env, MESSAGES_LISTED);
}

/** Audit handoffs to the test phase that nobody acknowledged yet, oldest first. */
export function auditHandoffRows(audit: AuditView): AuditHandoffRow[] {
  return audit.handoffs
    .filter((h) => h.acknowledged_by === null)
    .reverse()
    .map((h) => ({
      handoff_id: h.handoff_id,
      feature_id: h.feature_id,
      from_agent: h.from_agent,
      concerns: h.concerns,
      created_at: h.created_at,
      delivered_to: h.delivered_to,
    }));
}

/** Open checkpoints, newest first. */
export function checkpointRows(env: ControlEnv): CheckpointRow[] {
  return listCheckpoints(env, { openOnly: true, limit: MESSAGES_LISTED }).checkpoints.map((c) => ({
    name: c.name,
    requested_by: c.requested_by,
    reason: c.reason,
    feature_id: c.feature_id,
    expected: c.expected,
    arrived: c.arrived,
    missing: c.missing,
    requested_at: c.requested_at,
  }));
}

/** Open incidents (oldest first) and the ten newest closed ones. */
export function incidentsBlock(env: ControlEnv): IncidentsBlock {
  const v = incidentsView(env, MESSAGES_LISTED);
  const row = (i: IncidentRecord): IncidentRow => ({
    incident_id: i.incident_id,
    type: i.type,
    description: i.description,
    temporary_measures: i.temporary_measures,
    reported_by: i.reported_by,
    reported_at: i.reported_at,
    escalated_to: i.escalated_to,
    status: i.status,
    closed_at: i.closed_at,
    recovery: i.recovery,
  });
  return { open: v.open.map(row), open_total: v.open_total, closed: v.closed.slice(0, 10).map(row), closed_total: v.closed_total };
}

/**
 * Cross-agent handoffs (message kind `handoff`) that some recipient has not
 * acknowledged, oldest first, one row per handoff with who still has to.
 * Reads the inbox of every registered agent and of the orchestrators.
 */
export function handoffRows(env: ControlEnv): HandoffRow[] {
  const owners = [...new Set([...allAgents(env).map((a) => a.agent_id), ...orchestratorInboxes(env)])].slice(0, INBOXES_READ);
  const rows = new Map<string, HandoffRow>();
  for (const owner of owners) {
    for (const m of listInbox(env, owner, { unread_only: true, limit: 1000 }).items) {
      if (m.kind !== "handoff") continue;
      const known = rows.get(m.message_id);
      if (known) {
        known.waiting_on.push(owner);
        known.delayed ||= m.delayed;
        continue;
      }
      const body = m.body as { discovery?: unknown; affects?: unknown; impact?: unknown; files?: unknown };
      rows.set(m.message_id, {
        message_id: m.message_id,
        from: m.from,
        priority: m.priority,
        discovery: typeof body.discovery === "string" ? body.discovery : m.summary,
        affects: typeof body.affects === "string" ? body.affects : "",
        impact: typeof body.impact === "string" ? body.impact : "",
        files: Array.isArray(body.files) ? body.files.filter((f): f is string => typeof f === "string").slice(0, 20) : [],
        created_at: m.created_at,
        waiting_on: [owner],
        delayed: m.delayed,
      });
    }
  }
  return [...rows.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || idOrder(a.message_id, b.message_id)).slice(0, MESSAGES_LISTED);
}

/** Message ids `m-<n>` in number order. */
function idOrder(a: string, b: string): number {
  return Number(a.slice(2)) - Number(b.slice(2));
}
