/**
 * Emergencies (execution-template.md, "Emergency Coordination Protocols";
 * README, "Quality gates, peer review, integration, emergencies"): an agent
 * reports one, it is escalated to the orchestrator like an algedonic signal,
 * and it stays open until an orchestrator closes it with the recovery and a
 * post-incident review that lands in the decision log.
 *
 * The protocol's "Emergency Response" steps, and where each lives:
 * 1. Alert system: `reportEmergency` stores the incident (`inc-<n>`).
 * 2. Escalation chain: the alert goes to every orchestrator inbox
 *    (agents.ts `orchestratorInboxes`) with priority `algedonic`, kind
 *    `incident`, so it sorts above everything else (inbox.ts); the report is
 *    logged as an `emergency` decision.
 * 3. Temporary measures: what the reporter put in place, stored and sent with
 *    the alert.
 * 4. Recovery procedures and 5. Post-incident review: `closeIncident`, by an
 *    agent registered with role `orchestrator` only, both required; the
 *    review is logged as a `post_incident_review` decision referring to the
 *    incident, and the reporter is told.
 *
 * Every change is one write transaction with its inbox messages, decision and
 * activity entry (`emergency_reported`, `incident_closed`). Key layout
 * (records.ts, `incidents`): `N` seq12 -> {@link IncidentRecord}; `O` seq12 ->
 * 1 while open. Ids come from counter `incident_seq`.
 */
import { requireOrchestrator, type Vouch } from "./registry/authority.js";
import { appendDecision, type DecisionType } from "../log/decisions.js";
import { recordActivity } from "../log/activity.js";
import { orchestratorInboxes } from "./registry/agents.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import type { EmergencyType, IncidentRecord } from "./registry/records.js";
import { InvalidArgumentError, InvalidStateError, NotFoundError } from "../errors.js";
import { incidents, meta } from "../store/schema.js";

/** Counter name of incident sequence numbers. */
export const INCIDENT_COUNTER = "incident_seq";

/** Decision types of this module (src/log/decisions.ts `DECISION_TYPES`). */
const EMERGENCY_DECISION: DecisionType = "emergency";
const REVIEW_DECISION: DecisionType = "post_incident_review";

/** What report_emergency takes. */
export interface EmergencyReport {
  agent_id: string;
  type: EmergencyType;
  description: string;
  temporary_measures?: string | null;
}

/** The answer of {@link reportEmergency}. */
export interface EmergencyAnswer {
  incident: IncidentRecord;
  /** Inboxes the alert went to (the orchestrators, or the `orchestrator` inbox while none is registered). */
  escalated_to: string[];
  /** The `emergency` decision logging the report. */
  decision_seq: number;
  /** One line: what the reporter does now. */
  instruction: string;
}

/** One incident by id (`inc-<n>`), or undefined. */
export function getIncident(env: ControlEnv, incidentId: string): IncidentRecord | undefined {
  const m = /^inc-(\d{1,12})$/.exec(incidentId);
  if (!m) return undefined;
  return env.txn.read().get(incidents.incident, [Number(m[1])]);
}

/** `text` trimmed; throws naming `field` when nothing is left. */
function required(field: string, text: string, what: string): string {
  const t = text.trim();
  if (t === "") throw new InvalidArgumentError(field, `expected ${what}, got an empty text`);
  return t;
}

/**
 * Report an emergency ("Alert System", "Escalation Chain", "Temporary
 * Measures"): store an open incident, deliver it to every orchestrator inbox
 * with priority `algedonic`, log an `emergency` decision and an
 * `emergency_reported` activity entry, in one write transaction. The reporter
 * need not be registered (an agent reporting a communication breakdown may
 * never have been dispatched).
 * @throws Error naming `description` if it is blank.
 */
export function reportEmergency(env: ControlEnv, input: EmergencyReport): EmergencyAnswer {
  const description = required("description", input.description, "what happened");
  const measures = input.temporary_measures?.trim() ? input.temporary_measures.trim() : null;
  return env.txn.write((tx) => {
    const seq = tx.next(meta.counter, [INCIDENT_COUNTER]);
    const incident_id = `inc-${seq}`;
    const escalated_to = orchestratorInboxes(env);
    const rec: IncidentRecord = {
      incident_id,
      seq,
      type: input.type,
      description,
      temporary_measures: measures,
      reported_by: input.agent_id,
      reported_at: nowIso(env),
      escalated_to,
      status: "open",
      closed_by: null,
      closed_at: null,
      recovery: null,
      review: null,
      decision_seq: null,
    };
    tx.put(incidents.incident, [seq], rec);
    tx.put(incidents.open, [seq], 1);
    deliver(env, escalated_to, {
      from: input.agent_id,
      kind: "incident",
      priority: "algedonic",
      summary: `EMERGENCY ${incident_id} ${rec.type} from ${input.agent_id}: ${description.slice(0, 200)}`,
      body: { incident_id, type: rec.type, description, temporary_measures: measures, reported_by: input.agent_id },
      ref: { kind: "incident", id: incident_id },
    });
    const decision = appendDecision(tx, env.clock, {
      type: EMERGENCY_DECISION,
      decided_by: input.agent_id,
      context: `${incident_id} ${rec.type} reported by ${input.agent_id}: ${description}`,
      decision: measures ? `temporary measures: ${measures}` : "escalated to the orchestrator; no temporary measures yet",
      rationale: null,
      refs: [incident_id],
    });
    recordActivity(env, {
      kind: "emergency_reported",
      agent_id: input.agent_id,
      summary: `${incident_id} ${rec.type}: ${description}`,
      data: { incident_id, type: rec.type, escalated_to, decision_seq: decision.seq },
    });
    const instruction =
      `${incident_id} escalated to ${escalated_to.join(", ")}: ` +
      (measures ? "keep the temporary measures in place" : "put temporary measures in place if you can") +
      "; watch your inbox: an orchestrator closes it with close_incident after recovery";
    return { incident: rec, escalated_to, decision_seq: decision.seq, instruction };
  });
}

/** What close_incident takes. */
export interface IncidentClosure {
  /** The closing orchestrator. */
  agent_id: string;
  incident_id: string;
  /** How normal operation was restored ("Recovery Procedures"). */
  recovery: string;
  /** What was learned ("Post-Incident Review"). */
  review: string;
}

/** The answer of {@link closeIncident}. */
export interface ClosureAnswer {
  incident: IncidentRecord;
  /** The `post_incident_review` decision. */
  decision_seq: number;
  /** Who was told it closed: the reporter and the other inboxes it was escalated to. */
  notified: string[];
}

/**
 * Close an open incident with its recovery and post-incident review, in one
 * write transaction: the review is logged as a `post_incident_review`
 * decision (refs: the incident id) whose seq is stored on the incident, an
 * `incident_closed` activity entry is written, and the reporter and the other
 * escalation inboxes are told (kind `incident`).
 * @throws Error naming `recovery` or `review` if blank; `incident_id` if
 *         unknown, or already closed (naming who closed it and when);
 *         `agent_id` if the caller is not registered with role `orchestrator`.
 */
export function closeIncident(env: ControlEnv, input: IncidentClosure, vouch?: Vouch | null): ClosureAnswer {
  const recovery = required("recovery", input.recovery, "how normal operation was restored");
  const review = required("review", input.review, "the post-incident review (what happened, why, what changes)");
  return env.txn.write((tx) => {
    const rec = getIncident(env, input.incident_id);
    if (!rec) throw new NotFoundError("incident_id", `incident_id: no incident "${input.incident_id}" (ids look like inc-3; see signalbox://incidents)`);
    if (rec.status === "closed") {
      throw new InvalidStateError("incident_id", `incident_id: ${rec.incident_id} was already closed by ${rec.closed_by} at ${rec.closed_at} (decision #${rec.decision_seq})`);
    }
    requireOrchestrator(env, input.agent_id, vouch, "agent_id", "close an incident");
    const decision = appendDecision(tx, env.clock, {
      type: REVIEW_DECISION,
      decided_by: input.agent_id,
      context:
        `${rec.incident_id} ${rec.type} reported by ${rec.reported_by} at ${rec.reported_at}: ${rec.description}` +
        (rec.temporary_measures ? `; temporary measures: ${rec.temporary_measures}` : "") +
        `; recovery: ${recovery}`,
      decision: review,
      rationale: null,
      refs: [rec.incident_id],
    });
    const done: IncidentRecord = {
      ...rec,
      status: "closed",
      closed_by: input.agent_id,
      closed_at: nowIso(env),
      recovery,
      review,
      decision_seq: decision.seq,
    };
    tx.put(incidents.incident, [rec.seq], done);
    tx.remove(incidents.open, [rec.seq]);
    recordActivity(env, {
      kind: "incident_closed",
      agent_id: input.agent_id,
      summary: `${rec.incident_id} ${rec.type} closed: ${recovery}`,
      data: { incident_id: rec.incident_id, type: rec.type, reported_by: rec.reported_by, decision_seq: decision.seq },
    });
    const to = [rec.reported_by, ...rec.escalated_to].filter((a) => a !== input.agent_id);
    const notified =
      to.length === 0
        ? []
        : deliver(env, to, {
            from: input.agent_id,
            kind: "incident",
            priority: "high",
            summary: `${rec.incident_id} closed by ${input.agent_id}: ${recovery.slice(0, 200)}`,
            body: { incident_id: rec.incident_id, recovery, review, decision_seq: decision.seq },
            ref: { kind: "incident", id: rec.incident_id },
          }).delivered_to;
    return { incident: done, decision_seq: decision.seq, notified };
  });
}

/** The `signalbox://incidents` view. */
export interface IncidentsView {
  /** Open incidents, oldest first (at most `limit`). */
  open: IncidentRecord[];
  open_total: number;
  /** Closed incidents, newest first (at most `limit`). */
  closed: IncidentRecord[];
  closed_total: number;
}

/** Open incidents oldest first, then closed ones newest first, each list capped at `limit`. Read-only. */
export function incidentsView(env: ControlEnv, limit = 100): IncidentsView {
  const tx = env.txn.latest();
  const open: IncidentRecord[] = [];
  let openTotal = 0;
  for (const { key } of tx.range(incidents.open)) {
    openTotal++;
    if (open.length >= limit) continue;
    const rec = tx.get(incidents.incident, key);
    if (rec) open.push(rec);
  }
  const closed: IncidentRecord[] = [];
  for (const rec of tx.values(incidents.incident, { reverse: true })) {
    if (closed.length >= limit) break;
    if (rec.status === "closed") closed.push(rec);
  }
  const total = tx.get(meta.counter, [INCIDENT_COUNTER]) ?? 0;
  return { open, open_total: openTotal, closed, closed_total: total - openTotal };
}
