/**
 * Who may do what: authority is granted, never claimed.
 *
 * - Orchestrator authority comes from the configuration: `roles.orchestrators`
 *   (agent ids), and over HTTP a token whose `roles` include `orchestrator`
 *   (the transport vouches for it, {@link Vouch}). With neither configured
 *   anywhere, the store decides: the first agent registered as orchestrator
 *   while none is registered, holding nothing itself, holds it until an
 *   existing orchestrator hands it over (registers another orchestrator).
 *   A role stored on an agent record grants nothing once orchestrators are
 *   configured.
 * - Only an orchestrator dispatches other agents, changes any role, reassigns
 *   features, defines or redefines gates, rolls back waves, closes incidents,
 *   breaks locks and resolves algedonic signals and escalations.
 * - An agent registers itself only with a role of `roles.self_register`, and
 *   cannot change its own role while it holds an active feature, a live lock
 *   or a pause; a paused agent cannot re-register at all.
 * - A pause is lifted only by someone else with authority (control/signals.ts,
 *   control/escalations.ts, control/features.ts say which).
 *
 * Every refusal is a {@link NotPermittedError}: the field, the rule, and who
 * may do it instead. All reads here run inside the caller's transaction, so
 * the check and the change it guards are one step for every process.
 */
import type { Config } from "../../runtime/config.js";
import { isLeaseLive } from "../../locks/lease.js";
import { lockTable } from "../../store/schema.js";
import { activeFeaturesOf, allAgents, getAgent } from "./agents.js";
import type { ControlEnv } from "./env.js";
import { pausesFor } from "./stops.js";

/**
 * What the transport vouches for about the caller: over HTTP its token (the
 * agent ids it may act as, `"*"` for any, and the roles it grants them, config
 * `http.tokens[]`); over stdio nothing (null).
 */
export interface Vouch {
  readonly agents: readonly string[];
  readonly roles: readonly string[];
}

/** Does `vouch` make `agentId` an orchestrator: a token with role orchestrator that covers the id? */
export function vouchedOrchestrator(vouch: Vouch | null | undefined, agentId: string): boolean {
  return !!vouch && vouch.roles.includes("orchestrator") && (vouch.agents.includes("*") || vouch.agents.includes(agentId));
}

/** A refusal because the caller lacks the authority for an action. `code` is `not_permitted`. */
export class NotPermittedError extends Error {
  readonly code = "not_permitted";
  /**
   * @param field The argument naming the agent refused (`agent_id`, `by`, `agents[2].role`, ...).
   * @param rule What the rule says and why this caller does not meet it.
   * @param instead Who may do it instead.
   */
  constructor(
    readonly field: string,
    readonly rule: string,
    readonly instead: string,
  ) {
    super(`${field}: ${rule}; ${instead}`);
    this.name = "NotPermittedError";
  }
}

/** Is orchestrator authority configured (`roles.orchestrators`, or a token with role orchestrator)? */
export function orchestratorsConfigured(config: Config): boolean {
  return config.roles.orchestrators.length > 0 || config.http.tokens.some((t) => t.roles.includes("orchestrator"));
}

/** Registered agents holding role orchestrator in the store (what authority rests on while none is configured). */
function storedOrchestrators(env: ControlEnv): string[] {
  return allAgents(env)
    .filter((a) => a.role === "orchestrator")
    .map((a) => a.agent_id);
}

/**
 * Does `agentId` hold orchestrator authority? Configured: it is in
 * `roles.orchestrators`, or the caller's token (`vouch`) covers it and has
 * role orchestrator.
 * Not configured: it is registered with role orchestrator.
 */
export function isOrchestrator(env: ControlEnv, agentId: string, vouch?: Vouch | null): boolean {
  if (env.config.roles.orchestrators.includes(agentId)) return true;
  if (vouchedOrchestrator(vouch, agentId)) return true;
  if (orchestratorsConfigured(env.config)) return false;
  return getAgent(env, agentId)?.role === "orchestrator";
}

/** Who may act as orchestrator now, for refusals: the configured ids, or the registered ones. */
export function whoIsOrchestrator(env: ControlEnv): string {
  const configured = env.config.roles.orchestrators;
  const tokens = env.config.http.tokens.filter((t) => t.roles.includes("orchestrator")).map((t) => `token "${t.name}"`);
  if (configured.length > 0 || tokens.length > 0) {
    const ids = configured.map((a) => `"${a}"`);
    return `an orchestrator (${[...ids, ...(tokens.length > 0 ? [`agents of ${tokens.join(", ")}`] : [])].join(", ")}; config roles.orchestrators)`;
  }
  const stored = storedOrchestrators(env);
  return stored.length > 0
    ? `an orchestrator (${stored.map((a) => `"${a}"`).join(", ")})`
    : "an orchestrator (none yet: the first agent registered with role orchestrator holds it, or set roles.orchestrators)";
}

/** What an agent holds that fixes its role: active features, live locks and the pausing signals on it. */
export interface Holdings {
  features: string[];
  locks: number;
  pauses: string[];
}

/** Active features, live locks and open pauses of `agentId` (reads in the caller's transaction). */
export function holdingsOf(env: ControlEnv, agentId: string): Holdings {
  const tx = env.txn.read();
  const now = env.clock.monoMs();
  let locks = 0;
  const tokens = [...tx.range(lockTable.liveByAgent, { prefix: [agentId] })].map(({ key }) => key[1]);
  for (const token of tokens) {
    const rec = tx.get(lockTable.lock, [token]);
    if (rec && isLeaseLive(rec, env.clock.bootId, now)) locks++;
  }
  return { features: activeFeaturesOf(env, agentId), locks, pauses: pausesFor(env, agentId).map((s) => s.signal_id) };
}

/** "feature F1, 2 live lock(s), pause sig-3", or "" when it holds nothing. */
export function describeHoldings(h: Holdings): string {
  const parts = [
    ...(h.features.length > 0 ? [`active feature ${h.features.join(", ")}`] : []),
    ...(h.locks > 0 ? [`${h.locks} live lock(s)`] : []),
    ...(h.pauses.length > 0 ? [`pause ${h.pauses.join(", ")}`] : []),
  ];
  return parts.join(", ");
}

/**
 * May `agentId` take orchestrator authority by registering as one? Only while
 * none is configured and none is registered, and only holding nothing (a
 * coder with work, a lock or a pause cannot promote itself).
 */
export function mayClaimOrchestrator(env: ControlEnv, agentId: string): boolean {
  if (orchestratorsConfigured(env.config) || storedOrchestrators(env).length > 0) return false;
  return describeHoldings(holdingsOf(env, agentId)) === "";
}

/**
 * Refuse unless `agentId` holds orchestrator authority.
 * @param field The argument naming the acting agent.
 * @param action What is being done, as a verb phrase ("roll back a wave").
 * @throws NotPermittedError `<field>: only an orchestrator may <action>; "<id>" is not one; ask <who>`.
 */
export function requireOrchestrator(env: ControlEnv, agentId: string, vouch: Vouch | null | undefined, field: string, action: string): void {
  if (isOrchestrator(env, agentId, vouch)) return;
  const rec = getAgent(env, agentId);
  const now = rec ? `registered with role ${rec.role}` : "not registered";
  const configured = orchestratorsConfigured(env.config) && rec?.role === "orchestrator" ? ", and its stored role grants nothing while orchestrators are configured" : "";
  throw new NotPermittedError(field, `only an orchestrator may ${action}; "${agentId}" is ${now}${configured}`, `ask ${whoIsOrchestrator(env)}`);
}
