/**
 * Escalations: questions only the orchestrator (or the architect, or the
 * user) may settle. A convention clash (coordination-skill.md, "Convention
 * Drift Check": escalate, don't silently change) and an oscillation (S2
 * "Anti-Oscillation Protocol": pause both, diagnose, resolve, document) open
 * one. Recording a decision whose `refs` name the escalation id resolves it
 * ("Document: record resolution, then resume"), and with it the
 * non-algedonic signals it raised. Key layout: records.ts (`conventions`, `E`).
 */
import { recordActivity } from "../log/activity.js";
import { appendDecision, type DecisionInput } from "../log/decisions.js";
import type { DecisionRecord } from "../log/decision-record.js";
import { getAgent, orchestratorInboxes } from "./registry/agents.js";
import { isOrchestrator, NotPermittedError, whoIsOrchestrator, type Vouch } from "./registry/authority.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import type { EscalationRecord } from "./registry/records.js";
import { autoResolveSignals } from "./signals.js";
import { conventions, meta } from "../store/schema.js";

/** What opens an escalation. */
export interface EscalationInput {
  kind: EscalationRecord["kind"];
  opened_by: string;
  summary: string;
  detail?: Record<string, unknown>;
  agents?: string[];
}

/** One escalation by id (`esc-<n>`), or undefined. */
export function getEscalation(env: ControlEnv, id: string): EscalationRecord | undefined {
  const m = /^esc-(\d{1,12})$/.exec(id);
  if (!m) return undefined;
  return env.txn.read().get(conventions.escalation, [Number(m[1])]);
}

/**
 * Open an escalation and deliver it to the orchestrator's inbox (kind
 * `escalation`, high priority). Runs in the caller's write transaction.
 */
export function openEscalation(env: ControlEnv, input: EscalationInput): EscalationRecord {
  const { clock } = env;
  return env.txn.write((tx) => {
    const seq = tx.next(meta.counter, ["escalation_seq"]);
    const rec: EscalationRecord = {
      escalation_id: `esc-${seq}`,
      seq,
      kind: input.kind,
      opened_by: input.opened_by,
      summary: input.summary,
      detail: input.detail ?? {},
      agents: input.agents ?? [],
      status: "open",
      opened_at: nowIso(env),
      opened_mono: clock.monoMs(),
      resolved_at: null,
      resolved_mono: null,
      decision_seq: null,
    };
    tx.put(conventions.escalation, [seq], rec);
    deliver(env, orchestratorInboxes(env), {
      from: input.opened_by,
      kind: "escalation",
      priority: "high",
      summary: `${rec.escalation_id} (${rec.kind}): ${rec.summary}; record_decision with refs ["${rec.escalation_id}"] to resolve`,
      body: { escalation_id: rec.escalation_id, kind: rec.kind, detail: rec.detail, agents: rec.agents },
      ref: { kind: "escalation", id: rec.escalation_id },
    });
    return rec;
  });
}

/**
 * Resolve every open escalation named in `decision.refs`, and auto-resolve the
 * non-algedonic signals raised with them. Call in the transaction that
 * appended the decision. Returns the escalations resolved.
 */
export function resolveByDecision(env: ControlEnv, decision: DecisionRecord): EscalationRecord[] {
  return env.txn.write((tx) => {
    const out: EscalationRecord[] = [];
    for (const ref of decision.refs) {
      const rec = getEscalation(env, ref);
      if (!rec || rec.status !== "open") continue;
      const done: EscalationRecord = {
        ...rec,
        status: "resolved",
        resolved_at: nowIso(env),
        resolved_mono: env.clock.monoMs(),
        decision_seq: decision.seq,
      };
      tx.put(conventions.escalation, [rec.seq], done);
      autoResolveSignals(env, (s) => s.escalation_id === rec.escalation_id, decision.decided_by, `decision #${decision.seq}: ${decision.decision}`);
      out.push(done);
    }
    return out;
  });
}

/** Escalations, newest first; `openOnly` skips resolved ones. Read-only. */
export function listEscalations(env: ControlEnv, opts: { openOnly?: boolean; limit?: number } = {}): { escalations: EscalationRecord[]; open: number } {
  const limit = opts.limit ?? env.config.control.page_size;
  const escalations: EscalationRecord[] = [];
  let open = 0;
  for (const rec of env.txn.read().values(conventions.escalation, { reverse: true })) {
    if (rec.status === "open") open++;
    if (opts.openOnly && rec.status !== "open") continue;
    if (escalations.length < limit) escalations.push(rec);
  }
  return { escalations, open };
}

/**
 * Refuse a decision whose `refs` name an open escalation the decider may not
 * settle: an oscillation only an orchestrator, a convention clash an
 * orchestrator or an architect, and never one of the agents it is about (an
 * agent paused for oscillation cannot resume itself by deciding).
 * @throws NotPermittedError naming `decided_by`.
 */
function mayResolveEscalations(env: ControlEnv, refs: readonly string[], decider: string, vouch: Vouch | null | undefined): void {
  for (const ref of refs) {
    const rec = getEscalation(env, ref);
    if (!rec || rec.status !== "open") continue;
    const who = rec.kind === "oscillation" ? whoIsOrchestrator(env) : `${whoIsOrchestrator(env)} or an architect`;
    if (rec.agents.includes(decider)) {
      throw new NotPermittedError("decided_by", `${rec.escalation_id} (${rec.kind}) is about "${decider}", which cannot settle it itself`, `ask ${who} to record the decision`);
    }
    if (isOrchestrator(env, decider, vouch)) continue;
    if (rec.kind === "convention_clash" && getAgent(env, decider)?.role === "architect") continue;
    throw new NotPermittedError("decided_by", `${rec.escalation_id} (${rec.kind}) is settled by ${who}; "${decider}" is not one`, `ask ${who} to record the decision`);
  }
}

/**
 * Append a decision and, in the same transaction, resolve the escalations its
 * `refs` name (see {@link resolveByDecision}) once the decider may settle
 * them (see {@link mayResolveEscalations}).
 * @throws NotPermittedError naming `decided_by`; nothing is written then.
 */
export function recordDecisionResolving(env: ControlEnv, input: DecisionInput, vouch?: Vouch | null): { entry: DecisionRecord; resolved: EscalationRecord[] } {
  return env.txn.write((tx) => {
    mayResolveEscalations(env, input.refs ?? [], input.decided_by, vouch);
    const entry = appendDecision(tx, env.clock, input);
    const resolved = resolveByDecision(env, entry);
    recordActivity(env, {
      kind: "decision_recorded",
      agent_id: entry.decided_by,
      summary: `${entry.decided_by} recorded decision #${entry.seq} (${entry.type}): ${entry.decision}`,
      data: { seq: entry.seq, type: entry.type, resolved_escalations: resolved.map((e) => e.escalation_id) },
    });
    return { entry, resolved };
  });
}
