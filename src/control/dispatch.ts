/**
 * Dispatching agents and reassigning features: the two ways an agent gets a
 * role or work from someone else, so the two places authority is judged
 * (control/registry/authority.ts) together with capacity (control/registry/capacity.ts).
 *
 * Who dispatches a batch: `by` when given; else the batch's one entry with
 * role orchestrator; else, for a batch of one agent, that agent registering
 * itself. Dispatching anyone else, or changing another agent's role, takes
 * orchestrator authority; registering oneself takes a role of
 * `roles.self_register` and, to change one's own role, holding no active
 * feature, live lock or pause. While no orchestrator is configured or
 * registered, a dispatcher holding nothing that registers itself as
 * orchestrator, or dispatches others, takes orchestrator authority (it is
 * registered with role orchestrator in the same transaction).
 *
 * Every check, the capacity judgement and the writes are one write
 * transaction: two processes racing cannot both pass a check the other's
 * write would have failed.
 */
import { appendDecision } from "../log/decisions.js";
import { recordActivity } from "../log/activity.js";
import {
  agentView,
  assignFeature,
  DEFAULT_PHASE,
  getAgent,
  isAvailable,
  newAgent,
  settleCoverage,
  unassignFeature,
  type AgentView,
  type AuditCoverage,
  type DispatchEntry,
} from "./registry/agents.js";
import { deliverPendingHandoffs } from "./audit.js";
import {
  describeHoldings,
  holdingsOf,
  isOrchestrator,
  mayClaimOrchestrator,
  NotPermittedError,
  orchestratorsConfigured,
  requireOrchestrator,
  whoIsOrchestrator,
  vouchedOrchestrator,
  type Vouch,
} from "./registry/authority.js";
import { admitActive, checkCapacity, type CapacityUse } from "./registry/capacity.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import type { AgentRecord } from "./registry/records.js";
import { InvalidArgumentError, InvalidStateError, NotFoundError } from "../errors.js";
import { agents, features, meta } from "../store/schema.js";

/** The answer of {@link dispatchAgents}. */
export interface DispatchResult {
  batch: number;
  phase: string;
  agents: AgentView[];
  audit_coverage: AuditCoverage;
  /** Use of each capacity limit the batch is subject to, after it (empty when no limit is set). */
  capacity: CapacityUse[];
}

/** Who dispatches a batch and the argument that names it. */
interface Dispatcher {
  actor: string;
  field: string;
}

/**
 * The dispatcher of a batch (see the module header).
 * @throws Error naming `by` when the batch names several agents and neither
 *         `by` nor exactly one orchestrator entry says who dispatches it.
 */
function dispatcherOf(entries: readonly DispatchEntry[], by: string | undefined): Dispatcher {
  if (by !== undefined) return { actor: by, field: "by" };
  const orchestrators = entries.flatMap((e, i) => (e.role === "orchestrator" ? [{ actor: e.agent_id, field: `agents[${i}].agent_id` }] : []));
  if (orchestrators.length === 1) return orchestrators[0] as Dispatcher;
  if (entries.length === 1) return { actor: (entries[0] as DispatchEntry).agent_id, field: "agents[0].agent_id" };
  throw new InvalidArgumentError(
    "by",
    "name the orchestrator dispatching this batch (without by, a batch is dispatched by its one entry with role orchestrator, or is one agent registering itself)",
  );
}

/**
 * Judge a batch against the authority rules (see the module header).
 * Returns whether the dispatcher acts as orchestrator and whether it takes
 * orchestrator authority now (unconfigured store, none registered).
 * @throws NotPermittedError naming the entry or `by` refused.
 */
function authorize(env: ControlEnv, entries: readonly DispatchEntry[], d: Dispatcher, vouch: Vouch | null | undefined): { orchestrator: boolean; claims: boolean } {
  const ownAt = entries.findIndex((e) => e.agent_id === d.actor);
  const own = ownAt >= 0 ? (entries[ownAt] as DispatchEntry) : undefined;
  const othersAt = entries.findIndex((e) => e.agent_id !== d.actor);
  let orchestrator = isOrchestrator(env, d.actor, vouch);
  let claims = false;
  if (!orchestrator && (othersAt >= 0 || own?.role === "orchestrator") && (own === undefined || own.role === "orchestrator") && mayClaimOrchestrator(env, d.actor)) {
    orchestrator = claims = true;
  }
  if (othersAt >= 0 && !orchestrator) {
    const other = entries[othersAt] as DispatchEntry;
    throw new NotPermittedError(
      `agents[${othersAt}].agent_id`,
      `only an orchestrator dispatches another agent ("${other.agent_id}"); the dispatcher "${d.actor}" (${d.field}) is not one`,
      `ask ${whoIsOrchestrator(env)}, or let "${other.agent_id}" register itself`,
    );
  }
  entries.forEach((e, i) => {
    if (e.role !== "orchestrator") return;
    if (orchestratorsConfigured(env.config)) {
      const granted = env.config.roles.orchestrators.includes(e.agent_id) || vouchedOrchestrator(vouch, e.agent_id);
      if (!granted) {
        throw new NotPermittedError(
          `agents[${i}].role`,
          `"${e.agent_id}" is not configured as an orchestrator (roles.orchestrators, or a token with role orchestrator); a registered role grants no authority`,
          "add it to roles.orchestrators in signalbox.config.json",
        );
      }
    } else if (!orchestrator) {
      throw new NotPermittedError(
        `agents[${i}].role`,
        `"${e.agent_id}" cannot make itself orchestrator: one is already registered, or it holds work (${describeHoldings(holdingsOf(env, e.agent_id)) || "none"})`,
        `ask ${whoIsOrchestrator(env)} to hand the role over`,
      );
    }
  });
  if (own && !orchestrator) selfRegistration(env, own, ownAt);
  return { orchestrator, claims };
}

/**
 * The rules on an agent registering itself: a role of `roles.self_register`,
 * no re-registration while paused, no change of role while holding work.
 * @throws NotPermittedError naming `agents[i].role` or `agents[i].agent_id`.
 */
function selfRegistration(env: ControlEnv, own: DispatchEntry, at: number): void {
  const allowed = env.config.roles.self_register as readonly string[];
  if (!allowed.includes(own.role)) {
    throw new NotPermittedError(
      `agents[${at}].role`,
      `an agent registers itself only with a role of roles.self_register (${allowed.join(", ") || "none"}), not ${own.role}`,
      `ask ${whoIsOrchestrator(env)} to dispatch it`,
    );
  }
  const held = holdingsOf(env, own.agent_id);
  if (held.pauses.length > 0) {
    throw new NotPermittedError(
      `agents[${at}].agent_id`,
      `"${own.agent_id}" is paused by ${held.pauses.join(", ")} and cannot re-register itself`,
      `the pause is lifted by its emitter, an auditor or ${whoIsOrchestrator(env)} (resolve_audit_signal)`,
    );
  }
  const prev = getAgent(env, own.agent_id);
  const holds = describeHoldings(held);
  if (prev && prev.role !== own.role && holds !== "") {
    throw new NotPermittedError(
      `agents[${at}].role`,
      `"${own.agent_id}" holds ${holds} and cannot change its own role (${prev.role} to ${own.role})`,
      `complete or fail the feature and release the locks first, or ask ${whoIsOrchestrator(env)}`,
    );
  }
}

/**
 * Register a whole batch in one write transaction, then judge the phase's
 * audit coverage over everything dispatched in it. Re-dispatching an agent
 * updates its role, domain, feature and phase, resets its status and records
 * its dispatcher (none when it registered itself).
 * @param by The dispatching orchestrator; see the module header when absent.
 * @param vouch What the transport vouches for about the caller (HTTP token roles).
 * @throws Error naming `agents[i].agent_id` if an id appears twice in the batch,
 *         or `by` when the dispatcher cannot be told; NotPermittedError when an
 *         authority rule refuses it; Error naming the capacity limit
 *         (`capacity.max_agents`, ...) if the batch would pass one. Nothing is
 *         written then.
 */
export function dispatchAgents(env: ControlEnv, entries: DispatchEntry[], phase = DEFAULT_PHASE, by?: string, vouch?: Vouch | null): DispatchResult {
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    if (seen.has(e.agent_id)) throw new InvalidArgumentError(`agents[${i}].agent_id`, `"${e.agent_id}" appears twice in this batch`);
    seen.add(e.agent_id);
  });
  const d = dispatcherOf(entries, by);
  const { clock } = env;
  return env.txn.write((tx) => {
    const { orchestrator, claims } = authorize(env, entries, d, vouch);
    const dispatchedBy = orchestrator ? d.actor : null;
    const capacity = checkCapacity(
      env,
      entries.map((e) => ({ agent_id: e.agent_id, role: e.role, domain: e.domain ?? getAgent(env, e.agent_id)?.domain ?? null })),
      d.actor,
    );
    const batch = tx.next(meta.counter, ["dispatch_batch"]);
    const at = nowIso(env);
    const now = clock.monoMs();
    if (claims && !seen.has(d.actor)) {
      tx.put(agents.agent, [d.actor], { ...(getAgent(env, d.actor) ?? newAgent(env, d.actor, "orchestrator")), role: "orchestrator" });
    }
    const registered: AgentRecord[] = [];
    for (const e of entries) {
      const prev = getAgent(env, e.agent_id);
      if (prev?.phase && prev.phase !== phase) tx.remove(agents.byPhase, [prev.phase, e.agent_id]);
      const base = prev ?? newAgent(env, e.agent_id, e.role);
      const rec: AgentRecord = {
        ...base,
        role: e.role,
        domain: e.domain ?? base.domain,
        phase,
        batch,
        dispatched_by: dispatchedBy,
        status: "dispatched",
        blocking_issues: [],
        dispatched_at: at,
        last_seen_at: at,
        last_seen_mono: now,
        boot: clock.bootId,
      };
      tx.put(agents.agent, [e.agent_id], rec);
      tx.put(agents.byPhase, [phase, e.agent_id], e.role);
      if (e.feature_id) {
        registered.push(assignFeature(env, e.agent_id, e.feature_id));
        // A test engineer arriving after the audit handoff still gets it (S3* handoff must be acknowledged).
        deliverPendingHandoffs(env, e.agent_id, e.feature_id);
      } else {
        registered.push(rec);
      }
      const how = dispatchedBy === null ? "registered itself" : `dispatched by ${d.actor}`;
      recordActivity(env, {
        kind: "agent_dispatched",
        agent_id: e.agent_id,
        feature_id: e.feature_id ?? null,
        summary: `${e.agent_id} (${rec.role}${rec.domain ? `, domain ${rec.domain}` : ""}) ${how} in ${phase}${e.feature_id ? ` on ${e.feature_id}` : ""}`,
        data: { by: dispatchedBy, batch, phase, role: rec.role, domain: rec.domain, ...(claims ? { claimed_orchestrator: d.actor } : {}) },
      });
    }
    const coverage = settleCoverage(env, phase);
    return { batch, phase, agents: registered.map((r) => agentView(env, r)), audit_coverage: coverage, capacity };
  });
}

/** Input of {@link reassignFeature}. */
export interface Reassignment {
  feature_id: string;
  from_agent: string;
  to_agent: string;
  /** Who decided: an orchestrator. */
  by: string;
  rationale?: string | null;
}

/**
 * Move `feature_id` from `from_agent` to `to_agent` in one write transaction,
 * log a `reallocation` decision, and tell both agents. `from_agent`'s locks
 * stay until their leases end (the new agent acquires its own). Only an
 * orchestrator reassigns, and `to_agent` must fit the capacity limits if it
 * does not hold a slot already.
 * @throws NotPermittedError naming `by` unless it is an orchestrator; Error if
 *         `to_agent` was never dispatched, if the feature is not
 *         `from_agent`'s (naming whose it is), if it is already completed, or
 *         naming the capacity limit `to_agent` would pass.
 */
export function reassignFeature(
  env: ControlEnv,
  r: Reassignment,
  vouch?: Vouch | null,
): { feature_id: string; from_agent: string; to_agent: string; from_available: boolean; decision_seq: number } {
  const { clock } = env;
  if (r.from_agent === r.to_agent) throw new InvalidArgumentError("to_agent", `must differ from from_agent ("${r.from_agent}")`);
  return env.txn.write((tx) => {
    requireOrchestrator(env, r.by, vouch, "by", "reassign a feature");
    const to = getAgent(env, r.to_agent);
    if (!to) throw new NotFoundError("to_agent", `to_agent: "${r.to_agent}" is not registered; dispatch it first with dispatch_agents`);
    const from = getAgent(env, r.from_agent);
    const feature = tx.get(features.feature, [r.feature_id]);
    const owner = feature?.status === "active" ? feature.agent_id : from?.feature_id === r.feature_id ? r.from_agent : null;
    if (owner !== r.from_agent) {
      const whose = feature ? `${feature.status}, agent "${feature.agent_id}"` : "not assigned to it";
      throw new InvalidStateError("from_agent", `from_agent: feature ${r.feature_id} is not ${r.from_agent}'s (${whose})`);
    }
    if (feature?.status === "completed") throw new InvalidStateError("feature_id", `feature_id: ${r.feature_id} is already completed`);
    admitActive(env, to.agent_id, to.role, r.by);
    const fromAvailable = from ? isAvailable(env, from) : false;
    unassignFeature(env, r.from_agent, r.feature_id);
    assignFeature(env, r.to_agent, r.feature_id);
    if (feature) tx.put(features.feature, [r.feature_id], { ...feature, agent_id: r.to_agent });
    const decision = appendDecision(tx, clock, {
      type: "reallocation",
      decided_by: r.by,
      context: `feature ${r.feature_id} held by ${r.from_agent}${fromAvailable ? "" : " (unavailable: silent past the heartbeat limit)"}`,
      decision: `reassign ${r.feature_id} from ${r.from_agent} to ${r.to_agent}`,
      rationale: r.rationale ?? null,
      refs: [r.feature_id, r.from_agent, r.to_agent],
    });
    recordActivity(env, {
      kind: "feature_reassigned",
      agent_id: r.by,
      feature_id: r.feature_id,
      summary: `${r.feature_id} reassigned from ${r.from_agent} to ${r.to_agent} by ${r.by}`,
      data: { from_agent: r.from_agent, to_agent: r.to_agent, from_available: fromAvailable, decision_seq: decision.seq },
    });
    deliver(env, [r.from_agent, r.to_agent], {
      from: r.by,
      kind: "reassignment",
      priority: "high",
      summary: `${r.feature_id} reassigned from ${r.from_agent} to ${r.to_agent}`,
      body: { feature_id: r.feature_id, from_agent: r.from_agent, to_agent: r.to_agent, decision_seq: decision.seq },
    });
    return { feature_id: r.feature_id, from_agent: r.from_agent, to_agent: r.to_agent, from_available: fromAvailable, decision_seq: decision.seq };
  });
}
