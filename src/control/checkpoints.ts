/**
 * Level 3 integration checkpoints (parallelism-framework.md, "Level 3:
 * Integration Point Check", `handle_integration_point`): signal every active
 * stream to pause at a safe point, wait until all have reached it, run the
 * integration, then signal resume.
 *
 * - `requestCheckpoint` opens a named checkpoint. The agents expected to reach
 *   it are the streams active at that moment: every registered agent that is
 *   available (heartbeat), not completed, not the requester, not an
 *   orchestrator (it arbitrates, it does not write) and not part of the
 *   integration work. Each is told (inbox kind `checkpoint`).
 * - The integration work is named when it is requested: the requester, the
 *   agents it names (`integrators`) and the agents registered on the
 *   checkpoint's feature at that moment. Fixed then: joining the feature or
 *   naming it in a lock request later does not make an agent part of it.
 * - While it is open, the lock manager refuses write locks outside the
 *   integration work with reason `checkpoint` (stops.ts `admitLock`), and
 *   `report_status` tells each agent to stop at a safe point (agents.ts).
 * - `reachCheckpoint` records an arrival (idempotent); when the last expected
 *   agent arrives, the requester is told.
 * - `resumeCheckpoint` (the requester or an orchestrator) closes it, tells
 *   every expected agent (inbox kind `resume`) and names who never arrived.
 *
 * Each step logs its activity entry in its transaction (activity.ts):
 * `checkpoint_requested`, `checkpoint_reached` (first arrival of an agent
 * only), `checkpoint_resumed`; `feature_id` is the checkpoint's integration
 * feature.
 *
 * Every read-check-write is one write transaction. Key layout: records.ts
 * (`checkpoints`: `K` name -> record, `O` name -> 1 while open). A resumed
 * checkpoint's name may be used again; the new record replaces the old one.
 */
import { isOrchestrator, NotPermittedError, whoIsOrchestrator, type Vouch } from "./registry/authority.js";
import { recordActivity } from "../log/activity.js";
import { agentsOnFeature, allAgents, isAvailable } from "./registry/agents.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import type { CheckpointRecord } from "./registry/records.js";
import { InvalidArgumentError, InvalidStateError, NotFoundError } from "../errors.js";
import { checkpoints } from "../store/schema.js";

/** Longest checkpoint name accepted (the tool schema enforces the same). */
export const CHECKPOINT_NAME_MAX = 200;
/** At most this many agent ids are listed in `arrived` and in `missing` of one view; `omitted` counts the rest. */
export const CHECKPOINT_LIST_CAP = 100;

/** What `request_checkpoint` supplies. */
export interface CheckpointRequest {
  agent_id: string;
  name: string;
  reason: string;
  /** The integration feature whose work continues while the checkpoint is open. */
  feature_id?: string | null;
  /** Further agents doing the integration work (their writes go on); the requester and the feature's agents always do. */
  integrators?: string[];
}

/**
 * A checkpoint as the tools and the state resource show it. `expected` is the
 * number of agents that must reach it; `arrived` and `missing` list ids
 * (each capped at {@link CHECKPOINT_LIST_CAP}, `omitted` counts ids left out
 * of both). Times are ISO-8601.
 */
export interface CheckpointView {
  name: string;
  status: CheckpointRecord["status"];
  requested_by: string;
  reason: string;
  feature_id: string | null;
  expected: number;
  arrived: string[];
  /** Expected agents that have not reached it (after resume: who never arrived). */
  missing: string[];
  omitted: number;
  all_arrived: boolean;
  requested_at: string;
  resumed_at: string | null;
  resumed_by: string | null;
}

function getRecord(env: ControlEnv, name: string): CheckpointRecord | undefined {
  return env.txn.read().get(checkpoints.checkpoint, [name]);
}

function checkName(name: string): void {
  if (name.length === 0 || name.length > CHECKPOINT_NAME_MAX || name.includes("\0")) {
    throw new InvalidArgumentError("name", `expected 1..${CHECKPOINT_NAME_MAX} characters without NUL`);
  }
}

function missingOf(c: CheckpointRecord): string[] {
  const arrived = new Set(c.arrived.map((a) => a.agent_id));
  return c.expected.filter((a) => !arrived.has(a));
}

/** The view of one record (see {@link CheckpointView}). */
export function checkpointView(c: CheckpointRecord): CheckpointView {
  const arrived = c.arrived.map((a) => a.agent_id);
  const missing = missingOf(c);
  const omitted = Math.max(0, arrived.length - CHECKPOINT_LIST_CAP) + Math.max(0, missing.length - CHECKPOINT_LIST_CAP);
  return {
    name: c.name,
    status: c.status,
    requested_by: c.requested_by,
    reason: c.reason,
    feature_id: c.feature_id,
    expected: c.expected.length,
    arrived: arrived.slice(0, CHECKPOINT_LIST_CAP),
    missing: missing.slice(0, CHECKPOINT_LIST_CAP),
    omitted,
    all_arrived: missing.length === 0,
    requested_at: c.requested_at,
    resumed_at: c.resumed_at,
    resumed_by: c.resumed_by,
  };
}

/** Lookup that names the checkpoint in its error. */
function requireRecord(env: ControlEnv, name: string): CheckpointRecord {
  checkName(name);
  const rec = getRecord(env, name);
  if (!rec) throw new NotFoundError("name", `name: no checkpoint "${name}"; request_checkpoint opens one`);
  return rec;
}

function requireOpen(env: ControlEnv, name: string): CheckpointRecord {
  const rec = requireRecord(env, name);
  if (rec.status !== "open") {
    throw new InvalidStateError("name", `name: checkpoint "${name}" was already resumed by ${rec.resumed_by ?? "?"} at ${rec.resumed_at ?? "?"}`);
  }
  return rec;
}

/**
 * Open checkpoint `name` and tell every active stream to pause at a safe
 * point (parallelism-framework.md, `handle_integration_point`: "Signal all
 * active streams to pause at safe checkpoint"). One write transaction.
 * Returns the view and the id of the message sent to the expected agents
 * (null when nobody is expected).
 * @throws Error naming `name` if a checkpoint of that name is already open
 *         (naming who opened it), or if the name is empty, too long or holds NUL.
 */
export function requestCheckpoint(env: ControlEnv, req: CheckpointRequest): { checkpoint: CheckpointView; message_id: string | null } {
  checkName(req.name);
  const { clock } = env;
  return env.txn.write((tx) => {
    const prev = getRecord(env, req.name);
    if (prev && prev.status === "open") {
      throw new InvalidStateError(
        "name",
        `name: checkpoint "${req.name}" is already open (requested by ${prev.requested_by} at ${prev.requested_at}: ${prev.reason}); ` +
          `resume_checkpoint it first or choose another name`,
      );
    }
    const featureId = req.feature_id ?? null;
    const onFeature = featureId === null ? [] : agentsOnFeature(env, featureId).map((a) => a.agent_id);
    const integrators = [...new Set([req.agent_id, ...(req.integrators ?? []), ...onFeature])];
    const expected = allAgents(env)
      .filter((a) => !integrators.includes(a.agent_id) && a.status !== "completed" && a.role !== "orchestrator" && isAvailable(env, a))
      .map((a) => a.agent_id);
    const rec: CheckpointRecord = {
      name: req.name,
      requested_by: req.agent_id,
      reason: req.reason,
      feature_id: featureId,
      status: "open",
      expected,
      integrators,
      arrived: [],
      requested_at: nowIso(env),
      requested_mono: clock.monoMs(),
      resumed_at: null,
      resumed_by: null,
    };
    tx.put(checkpoints.checkpoint, [req.name], rec);
    tx.put(checkpoints.open, [req.name], 1);
    let messageId: string | null = null;
    if (expected.length > 0) {
      messageId = deliver(env, expected, {
        from: req.agent_id,
        kind: "checkpoint",
        priority: "high",
        summary: `checkpoint "${req.name}" (${req.reason}): stop at a safe point, then reach_checkpoint; write locks are refused until resume`,
        body: { name: req.name, reason: req.reason, feature_id: featureId, requested_by: req.agent_id },
        ref: { kind: "checkpoint", id: req.name },
      }).message_id;
    }
    recordActivity(env, {
      kind: "checkpoint_requested",
      agent_id: req.agent_id,
      feature_id: featureId,
      summary: `${req.agent_id} requested checkpoint "${req.name}" (${req.reason}): ${expected.length} agent(s) to reach it`,
      data: { name: req.name, reason: req.reason, expected: expected.slice(0, 20), expected_count: expected.length, message_id: messageId },
    });
    return { checkpoint: checkpointView(rec), message_id: messageId };
  });
}

/**
 * Record that `agent_id` reached checkpoint `name` (parallelism-framework.md:
 * "Wait for all streams to reach checkpoint"). Idempotent: a second arrival
 * keeps the first time and `newly` is false. An agent that was not expected
 * (e.g. registered after the request) may arrive too; it is listed in
 * `arrived` but never counts as missing. When this arrival completes the
 * expected set, the requester is told (inbox kind `checkpoint`). One write
 * transaction.
 * @throws Error naming `name` if there is no such checkpoint or it was
 *         resumed, or naming `agent_id` if the caller is its requester.
 */
export function reachCheckpoint(env: ControlEnv, agentId: string, name: string): { checkpoint: CheckpointView; newly: boolean } {
  return env.txn.write((tx) => {
    const rec = requireOpen(env, name);
    if (rec.requested_by === agentId) {
      throw new InvalidStateError("agent_id", `agent_id: ${agentId} requested checkpoint "${name}"; run the integration, then resume_checkpoint`);
    }
    if (rec.arrived.some((a) => a.agent_id === agentId)) return { checkpoint: checkpointView(rec), newly: false };
    const wasComplete = missingOf(rec).length === 0;
    const next: CheckpointRecord = { ...rec, arrived: [...rec.arrived, { agent_id: agentId, at: nowIso(env) }] };
    tx.put(checkpoints.checkpoint, [name], next);
    if (!wasComplete && missingOf(next).length === 0) {
      deliver(env, [rec.requested_by], {
        from: agentId,
        kind: "checkpoint",
        priority: "high",
        summary: `all ${rec.expected.length} expected agent(s) reached checkpoint "${name}": run the integration, then resume_checkpoint`,
        body: { name, arrived: next.arrived.map((a) => a.agent_id) },
        ref: { kind: "checkpoint", id: name },
      });
    }
    const missing = missingOf(next);
    recordActivity(env, {
      kind: "checkpoint_reached",
      agent_id: agentId,
      feature_id: rec.feature_id,
      summary: `${agentId} reached checkpoint "${name}"${missing.length === 0 ? ": all expected agents arrived" : `, ${missing.length} still missing`}`,
      data: { name, all_arrived: missing.length === 0, missing: missing.slice(0, 20), missing_count: missing.length },
    });
    return { checkpoint: checkpointView(next), newly: true };
  });
}

/**
 * Close checkpoint `name` and signal every stream to resume
 * (parallelism-framework.md: "Signal all streams to resume"). Only its
 * requester or an agent registered with role `orchestrator` may. The expected
 * agents and any late arrivals are told (inbox kind `resume`); the view's
 * `missing` names who never arrived. One write transaction.
 * @throws Error naming `name` if there is no such checkpoint or it was already
 *         resumed, or naming `agent_id` (and the requester) if the caller may not resume it.
 */
export function resumeCheckpoint(env: ControlEnv, agentId: string, name: string, vouch?: Vouch | null): CheckpointView {
  return env.txn.write((tx) => {
    const rec = requireOpen(env, name);
    if (rec.requested_by !== agentId && !isOrchestrator(env, agentId, vouch)) {
      throw new NotPermittedError("agent_id", `only the requester or an orchestrator may resume checkpoint "${name}"`, `ask ${rec.requested_by} or ${whoIsOrchestrator(env)}`);
    }
    const done: CheckpointRecord = { ...rec, status: "resumed", resumed_at: nowIso(env), resumed_by: agentId };
    tx.put(checkpoints.checkpoint, [name], done);
    tx.remove(checkpoints.open, [name]);
    const view = checkpointView(done);
    const told = [...new Set([...rec.expected, ...rec.arrived.map((a) => a.agent_id)])].filter((a) => a !== agentId);
    if (told.length > 0) {
      deliver(env, told, {
        from: agentId,
        kind: "resume",
        priority: "high",
        summary: `checkpoint "${name}" resumed by ${agentId}: continue your work`,
        body: { name, never_arrived: missingOf(done) },
        ref: { kind: "checkpoint", id: name },
      });
    }
    const never = missingOf(done);
    recordActivity(env, {
      kind: "checkpoint_resumed",
      agent_id: agentId,
      feature_id: rec.feature_id,
      summary: `${agentId} resumed checkpoint "${name}"${never.length > 0 ? ` (${never.length} never arrived)` : ""}`,
      data: { name, never_arrived: never.slice(0, 20), never_arrived_count: never.length },
    });
    return view;
  });
}

/**
 * Checkpoints for the orchestrator: open ones first, then the most recently
 * requested, at most `limit` (default `control.page_size`); `omitted` counts
 * the rest. Read-only (call inside or outside a transaction).
 */
export function listCheckpoints(env: ControlEnv, opts: { openOnly?: boolean; limit?: number } = {}): {
  checkpoints: CheckpointView[];
  open: number;
  omitted: number;
} {
  const limit = opts.limit ?? env.config.control.page_size;
  const all: CheckpointRecord[] = [];
  for (const rec of env.txn.read().values(checkpoints.checkpoint)) {
    if (opts.openOnly && rec.status !== "open") continue;
    all.push(rec);
  }
  all.sort((a, b) => Number(b.status === "open") - Number(a.status === "open") || b.requested_at.localeCompare(a.requested_at));
  const open = all.filter((c) => c.status === "open").length;
  return { checkpoints: all.slice(0, limit).map(checkpointView), open, omitted: Math.max(0, all.length - limit) };
}
