/**
 * Capacity limits: how many agents may work in parallel, in all, per
 * dispatching orchestrator and per domain (config.ts `capacity`; README, "The
 * config file"). `dispatch_agents` checks a batch here inside the write
 * transaction that would register it, and refuses the whole batch, naming the
 * limit, if registering it would pass one.
 *
 * Who counts: a registered agent whose role is not `orchestrator`, whose
 * status is not `completed` or `error`, and that is available (reported
 * within `control.heartbeat_ms`, agents.ts `isAvailable`). So an agent that
 * completes, fails or goes silent frees its slot; a paused or blocked agent
 * keeps it. Toward `per_orchestrator` count the agents whose `dispatched_by`
 * is that orchestrator (agents that registered themselves, or whose record
 * an older schema wrote without `dispatched_by`, count toward no orchestrator);
 * toward a domain's limit the agents of that domain (agents without a domain
 * toward none).
 *
 * Agents the batch re-dispatches are counted once, as members of the batch
 * (with the role and domain the batch gives them); orchestrator-role entries
 * of the batch do not count.
 */
import { LimitError } from "../../errors.js";
import { allAgents, getAgent, isAvailable } from "./agents.js";
import type { ControlEnv } from "./env.js";
import type { AgentRecord, Role } from "./records.js";

/** One agent of a batch as the capacity check sees it: the role and domain it will have once registered. */
export interface CapacityEntry {
  agent_id: string;
  role: Role;
  domain: string | null;
}

/**
 * One limit that is set, with its use once the batch is registered. Only
 * the limits the batch is subject to: `max_agents`, the dispatching
 * orchestrator's `per_orchestrator`, and the limit of each domain the batch
 * adds agents to.
 */
export interface CapacityUse {
  /** The config field: `capacity.max_agents`, `capacity.per_orchestrator`, `capacity.per_domain` or `capacity.domains.<domain>`. */
  limit: string;
  /** The orchestrator or domain it applies to; null for `max_agents`. */
  scope: string | null;
  /** Agents counting toward it after the batch. */
  in_use: number;
  max: number;
}

/** Most agent ids a refusal names per list (the count is always exact). */
const NAMES_SHOWN = 10;

/** Does `rec` hold a capacity slot now? (See the header: role, status, availability.) */
export function countsTowardCapacity(env: ControlEnv, rec: AgentRecord): boolean {
  return rec.role !== "orchestrator" && rec.status !== "completed" && rec.status !== "error" && isAvailable(env, rec);
}

/** The limit on `domain`: its `capacity.domains` entry, else `capacity.per_domain`, else none. */
export function domainLimit(env: ControlEnv, domain: string): { limit: string; max: number } | null {
  const { domains, per_domain } = env.config.capacity;
  const own = Object.hasOwn(domains, domain) ? domains[domain] : undefined;
  if (own !== undefined) return { limit: `capacity.domains.${domain}`, max: own };
  return per_domain !== undefined ? { limit: "capacity.per_domain", max: per_domain } : null;
}

function names(ids: string[]): string {
  const shown = ids.slice(0, NAMES_SHOWN).join(", ");
  return ids.length > NAMES_SHOWN ? `${shown}, +${ids.length - NAMES_SHOWN} more` : shown;
}

function counted(n: number, ids: string[], verb: string): string {
  return n === 0 ? `none ${verb}` : `${n} ${verb} (${names(ids)})`;
}

/**
 * Check a batch about to be dispatched by `by` against every capacity limit
 * that is set. Read-only; call inside the write transaction that registers
 * the batch (before writing anything), so the check and the registration are
 * one step for every process on the store.
 * Returns the use of each limit the batch is subject to, after the batch.
 * @throws Error starting with the limit's config field, e.g.
 *         `capacity.per_domain: domain "backend" allows 2 agents in parallel; 2 running (a, b) and this batch adds 1 (c)`;
 *         every limit the batch would pass is named, separated by "; ".
 */
export function checkCapacity(env: ControlEnv, batch: CapacityEntry[], by: string): CapacityUse[] {
  const settings = env.config.capacity;
  const limitsSet =
    settings.max_agents !== undefined || settings.per_orchestrator !== undefined || settings.per_domain !== undefined || Object.keys(settings.domains).length > 0;
  if (!limitsSet) return [];
  const inBatch = new Set(batch.map((e) => e.agent_id));
  const running = allAgents(env).filter((a) => !inBatch.has(a.agent_id) && countsTowardCapacity(env, a));
  const adding = batch.filter((e) => e.role !== "orchestrator");
  const uses: CapacityUse[] = [];
  const refusals: string[] = [];
  const passed: string[] = [];
  const judge = (limit: string, scope: string | null, max: number, subject: string, run: { agent_id: string }[], add: { agent_id: string }[]) => {
    const inUse = run.length + add.length;
    uses.push({ limit, scope, in_use: inUse, max });
    if (add.length === 0 || inUse <= max) return;
    const runIds = run.map((a) => a.agent_id);
    const addIds = add.map((a) => a.agent_id);
    passed.push(limit);
    refusals.push(
      `${limit}: ${subject}allows ${max} agent${max === 1 ? "" : "s"} in parallel; ` +
        `${counted(run.length, runIds, "running")} and this batch adds ${add.length} (${names(addIds)})`,
    );
  };
  if (settings.max_agents !== undefined) judge("capacity.max_agents", null, settings.max_agents, "", running, adding);
  if (settings.per_orchestrator !== undefined) {
    const mine = running.filter((a) => (a.dispatched_by ?? null) === by);
    judge("capacity.per_orchestrator", by, settings.per_orchestrator, `orchestrator "${by}" `, mine, adding);
  }
  const domains = [...new Set(adding.map((e) => e.domain).filter((d): d is string => d !== null))].sort();
  for (const domain of domains) {
    const lim = domainLimit(env, domain);
    if (!lim) continue;
    const run = running.filter((a) => a.domain === domain);
    const add = adding.filter((e) => e.domain === domain);
    judge(lim.limit, domain, lim.max, `domain "${domain}" `, run, add);
  }
  if (refusals.length > 0) {
    throw new LimitError(
      null,
      passed.join(", "),
      `${refusals.join("; ")}. Nothing was dispatched; a slot frees when an agent completes, reports error or goes silent ` +
        "past control.heartbeat_ms (or raise the limit in signalbox.config.json)",
    );
  }
  return uses;
}

/**
 * Admit agent `agentId` to a capacity slot on a path that makes it active
 * (starting a feature, a reassignment): nothing to check if its stored record
 * holds a slot already, else the limits are judged as for a batch of one
 * (its stored role and domain, else `role` and no domain) dispatched by its
 * dispatcher, else `by`. Read-only; call inside the write transaction that
 * makes it active.
 * @throws Error naming the capacity limit it would pass (see {@link checkCapacity}).
 */
export function admitActive(env: ControlEnv, agentId: string, role: Role, by: string): void {
  const rec = getAgent(env, agentId);
  if (rec && countsTowardCapacity(env, rec)) return;
  checkCapacity(env, [{ agent_id: agentId, role: rec?.role ?? role, domain: rec?.domain ?? null }], rec?.dispatched_by ?? by);
}
