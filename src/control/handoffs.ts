/**
 * Cross-agent discovery handoffs and inbox acknowledgement
 * (coordination-skill.md, "Cross-Agent Discovery Handoff": when you discover
 * something affecting another domain, report it in the CROSS-AGENT format to
 * the orchestrator immediately; do not attempt cross-domain fixes).
 *
 * A handoff is one inbox message (kind `handoff`, high priority) delivered to
 * the affected agents and the orchestrator in one write transaction; the
 * message is the record, its `message_id` the handoff's id, and it stays
 * unread until each recipient acknowledges it (execution-template.md,
 * "Communication Delays": unacknowledged past `control.ack_limit_ms` it shows
 * as delayed). Key layout: records.ts (`messages`).
 *
 * Activity log (activity.ts): `handoff_sent` per handoff, and
 * `handoff_acknowledged` when a recipient acknowledges its copy (other inbox
 * messages are acknowledged without an entry).
 */
import { recordActivity } from "../log/activity.js";
import { markHandoffAcknowledged } from "./audit.js";
import { agentsInDomain, getAgent, ORCHESTRATOR_INBOX, orchestratorInboxes } from "./registry/agents.js";
import type { ControlEnv } from "./registry/env.js";
import { acknowledgeMessages, deliver } from "./registry/inbox.js";
import { cap } from "./registry/page.js";
import { InvalidArgumentError } from "../errors.js";

/** What the discovering agent reports. `files` are normalised keys (the caller normalises). */
export interface HandoffInput {
  /** The sender; never receives its own handoff. */
  from: string;
  /** What was discovered. */
  discovery: string;
  /** An agent id or a domain name (both when both match). */
  affects: string;
  /** What they need to know or do. */
  impact: string;
  files?: string[];
}

/** The answer of {@link crossAgentHandoff}. */
export interface HandoffResult {
  /** The message id shared by every recipient's copy: the handoff's id. */
  message_id: string;
  /** False when `affects` named no registered agent, domain or the orchestrator: only the orchestrator was told. */
  matched: boolean;
  /** `affects` is a registered agent id. */
  matched_agent: boolean;
  /** How many agents have `affects` as their domain. */
  matched_domain_agents: number;
  /** Recipients (first 50); `delivered_omitted` counts the rest. */
  delivered_to: string[];
  delivered_omitted: number;
  /** The protocol's three-line CROSS-AGENT text. */
  text: string;
}

/** Most recipients listed in a handoff answer. */
const RECIPIENTS_SHOWN = 50;

/** The protocol's CROSS-AGENT format (coordination-skill.md, "Cross-Agent Discovery Handoff"). */
export function crossAgentText(discovery: string, affects: string, impact: string, files: readonly string[] = []): string {
  const lines = [`⚠️ CROSS-AGENT: ${discovery}`, `Affects: ${affects}`, `Impact: ${impact}`];
  if (files.length > 0) lines.push(`Files: ${files.join(", ")}`);
  return lines.join("\n");
}

/**
 * Deliver a discovery to the agent `affects` names and/or every agent of the
 * domain it names, plus the orchestrator's inbox (a registered
 * orchestrator-role agent, else `orchestrator`), never to the sender, in one
 * write transaction. When `affects` matches nobody the orchestrator still gets
 * it and `matched` is false.
 */
export function crossAgentHandoff(env: ControlEnv, input: HandoffInput): HandoffResult {
  return env.txn.write(() => {
    const files = input.files ?? [];
    const agent = getAgent(env, input.affects);
    const domainAgents = agentsInDomain(env, input.affects).map((a) => a.agent_id);
    const orchestrators = orchestratorInboxes(env);
    const isOrchestrator = input.affects === ORCHESTRATOR_INBOX || orchestrators.includes(input.affects);
    const recipients = [...(agent ? [agent.agent_id] : []), ...domainAgents, ...orchestrators].filter((id) => id !== input.from);
    const text = crossAgentText(input.discovery, input.affects, input.impact, files);
    const matched = agent !== undefined || domainAgents.length > 0 || isOrchestrator;
    const { message_id, delivered_to } = deliver(env, recipients, {
      from: input.from,
      kind: "handoff",
      priority: "high",
      summary: text,
      body: { discovery: input.discovery, affects: input.affects, impact: input.impact, files, matched },
      ref: null,
    });
    recordActivity(env, {
      kind: "handoff_sent",
      agent_id: input.from,
      summary: `${input.from} sent cross-agent handoff ${message_id} to ${input.affects}${matched ? "" : " (unmatched: orchestrator only)"}: ${input.discovery}`,
      data: {
        message_id,
        affects: input.affects,
        matched,
        delivered_to: delivered_to.slice(0, 20),
        delivered_count: delivered_to.length,
        files: files.slice(0, 20),
      },
    });
    const shown = cap(delivered_to, RECIPIENTS_SHOWN);
    return {
      message_id,
      matched,
      matched_agent: agent !== undefined,
      matched_domain_agents: domainAgents.length,
      delivered_to: shown.items,
      delivered_omitted: shown.omitted,
      text,
    };
  });
}

/** The answer of {@link acknowledgeInbox}: every distinct id lands in exactly one of the three lists. */
export interface AcknowledgeResult {
  acknowledged: string[];
  already: string[];
  /** Ids not in this agent's inbox. */
  unknown: string[];
  /** Audit handoff ids (`ref.id`) whose acknowledgement started the feature's test phase. */
  audit_handoffs: string[];
}

/**
 * Acknowledge `ids` in `agent`'s inbox in one write transaction; an
 * acknowledged message about an audit handoff (`ref.kind` `audit_handoff`)
 * also marks that handoff acknowledged (coordination-skill.md, "S3* Audit
 * Handoff Format") in the same transaction. Duplicate ids count once. Each
 * newly acknowledged cross-agent handoff is logged (`handoff_acknowledged`).
 * @throws Error naming `message_ids[i]` for an id not of the form `m-<n>`.
 */
export function acknowledgeInbox(env: ControlEnv, agent: string, ids: readonly string[]): AcknowledgeResult {
  ids.forEach((id, i) => {
    if (!/^m-\d{1,12}$/.test(id)) throw new InvalidArgumentError(`message_ids[${i}]`, `expected a message id like m-12, got "${id}"`);
  });
  const distinct = [...new Set(ids)];
  return env.txn.write(() => {
    const r = acknowledgeMessages(env, agent, distinct);
    const audit_handoffs: string[] = [];
    for (const m of r.acknowledged) {
      if (m.ref?.kind === "audit_handoff" && markHandoffAcknowledged(env, m)) audit_handoffs.push(m.ref.id);
      if (m.kind === "handoff") {
        recordActivity(env, {
          kind: "handoff_acknowledged",
          agent_id: agent,
          summary: `${agent} acknowledged cross-agent handoff ${m.message_id} from ${m.from}`,
          data: { message_id: m.message_id, from: m.from },
        });
      }
    }
    return { acknowledged: r.acknowledged.map((m) => m.message_id), already: r.already, unknown: r.unknown, audit_handoffs };
  });
}
