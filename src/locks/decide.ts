/**
 * The decision step of `acquire_lock`: one read-check-write inside a single
 * write transaction that grants a request, refuses it, or queues it.
 *
 * In order (DESIGN.md, "Lock"; parallel-execution-protocol §3):
 * 1. the control layer may stop the request first (an open pausing audit
 *    signal or checkpoint: reasons `paused`, `checkpoint`; LockHooks.admit);
 * 2. the conflict rules (src/locks/conflicts.ts) find its blockers; dead
 *    locks and waiters met on the way are purged in the same transaction;
 * 3. no blockers: every key is granted at once, each with a fresh fencing
 *    token, all or nothing (within `limits.locks_per_agent`);
 * 4. blockers and its wait is over: refused, `conflict` (never queued) or
 *    `timeout` (queued);
 * 5. waiting would close a wait-for cycle: refused as `deadlock`;
 * 6. else queued FIFO on its keys (within `limits.queue_depth_per_key`),
 *    or left in its place if already queued.
 * A refused or granted request leaves the queue in the same transaction.
 */
import type { WriteTxn } from "../store/txn.js";
import { LimitError } from "../errors.js";
import { monoToIso } from "../store/clock.js";
import type { LockRecord, WaiterRecord } from "./records.js";
import { LockTable } from "./table.js";
import { endLock, removeWaiter, type CommandContext } from "./commands.js";
import {
  blockerAgents,
  blockersOf,
  describeBlockers,
  findCycle,
  isBlocked,
  lockIsLive,
  uniqueWaiters,
  waiterIsLive,
  type Blockers,
  type Instant,
} from "./conflicts.js";
import type { AcquireRequest, GrantedLock, LockHooks, LockSettings, RefusalReason } from "./types.js";
import { holderView, waiterAheadView } from "./views.js";
import type { Attempt } from "./wait.js";

/** What a decision step reads beyond the table: the lock limits and the control layer's hooks. */
export interface DecideContext extends CommandContext {
  settings: LockSettings;
  hooks: LockHooks;
  /** The deciding write transaction (the hooks write in it). */
  tx: WriteTxn;
}

/** One decision step's request: `lease` in ms; `seq` its queue ticket, null before it first queued; `start`, `deadline` monotonic ms. */
export interface DecideInput {
  req: AcquireRequest;
  lease: number;
  seq: number | null;
  start: number;
  deadline: number;
}

/**
 * Decide `input` now, inside the caller's write transaction. `onRemoved` is
 * called when the step took the request off the queue (the caller then wakes
 * this process's other waiters).
 *
 * @throws LimitError (code `limit`) when a grant would pass
 *         `limits.locks_per_agent` or queueing would pass
 *         `limits.queue_depth_per_key`.
 */
export function decide(ctx: DecideContext, input: DecideInput, onRemoved: () => void): Attempt {
  const { req, lease, seq, start, deadline } = input;
  const leave = () => {
    if (seq !== null && removeWaiter(ctx, seq)) onRemoved();
  };
  const now = ctx.clock.monoMs();
  const at: Instant = { bootId: ctx.clock.bootId, now };
  // Only time spent queued counts as waiting (not a first attempt's wait for the write transaction).
  const waited = seq === null ? 0 : Math.round(now - start);
  const stop = ctx.hooks.admit?.(req, ctx.tx) ?? null;
  if (stop) {
    leave();
    const reason: RefusalReason = stop.kind === "audit_signal" ? "paused" : "checkpoint";
    const why =
      stop.kind === "audit_signal"
        ? `paused by audit signal ${stop.id} from ${stop.raised_by} (${stop.summary}); write locks are refused until it is resolved (resolve_audit_signal)`
        : `checkpoint "${stop.id}" is open (${stop.summary}, requested by ${stop.raised_by}); reach_checkpoint and wait for resume_checkpoint`;
    return {
      kind: "done",
      result: { granted: false, reason, message: why, stop, holders: [], queued_ahead: [], cycle: null, waited_ms: waited },
    };
  }
  const b = blockersOf(ctx.reader, at, req.agent_id, req.mode, req.keys, seq ?? Number.POSITIVE_INFINITY);
  purgeDead(ctx, b);
  if (!isBlocked(b)) {
    checkLocksPerAgent(ctx, at, req);
    leave();
    return { kind: "done", result: { granted: true, locks: grant(ctx, req, lease, now), waited_ms: waited } };
  }
  const refuse = (reason: RefusalReason, message: string, cycle: string[] | null): Attempt => {
    leave();
    return {
      kind: "done",
      result: {
        granted: false,
        reason,
        message,
        stop: null,
        holders: b.holders.map(({ rec, requested }) => holderView(rec, requested, ctx.clock)),
        queued_ahead: uniqueWaiters(b).map(waiterAheadView),
        cycle,
        waited_ms: waited,
      },
    };
  };
  if (now >= deadline) {
    const what = describeBlockers(b);
    return seq === null
      ? refuse("conflict", `not granted: ${what}`, null)
      : refuse("timeout", `not granted within ${Math.round(deadline - start)} ms: ${what}`, null);
  }
  const cycle = findCycle(ctx.reader, at, req.agent_id, b);
  if (cycle) {
    return refuse("deadlock", `deadlock: waiting would close the wait-for cycle ${cycle.join(" -> ")}`, cycle);
  }
  let mySeq = seq;
  if (mySeq === null) {
    checkQueueDepth(ctx, at, req.keys);
    mySeq = enqueue(ctx, req, now, deadline);
  }
  return { kind: "waiting", seq: mySeq, blockerAgents: blockerAgents(b) };
}

/** Remove the dead entries the conflict rules met: lapsed locks end as expired, dead waiters and dangling entries go. */
function purgeDead(ctx: CommandContext, b: Blockers): void {
  for (const rec of b.dead.locks) endLock(ctx, rec, "expired");
  for (const w of b.dead.waiters) removeWaiter(ctx, w.seq);
  for (const index of b.dead.entries) ctx.table.removeEntry(index);
}

/** Write the grant for every key, each with its own fencing token. */
function grant(ctx: DecideContext, req: AcquireRequest, lease: number, now: number): GrantedLock[] {
  const { clock, table } = ctx;
  const acquiredAt = new Date(clock.wallMs()).toISOString();
  const expiresAt = monoToIso(clock, now + lease);
  return req.keys.map((key) => {
    const token = table.nextToken();
    const rec: LockRecord = {
      lock_id: LockTable.newLockId(token),
      key,
      mode: req.mode,
      agent_id: req.agent_id,
      feature_id: req.feature_id ?? null,
      fencing_token: token,
      boot: clock.bootId,
      acquired_mono: now,
      expires_mono: now + lease,
      acquired_at: acquiredAt,
      state: "held",
      ended_mono: null,
      ended_at: null,
    };
    table.putLock(rec);
    table.indexLive(rec);
    return { key, mode: req.mode, lock_id: rec.lock_id, fencing_token: rec.fencing_token, expires_at: expiresAt };
  });
}

/**
 * Refuse a grant that would take the agent over `locks_per_agent` live
 * locks (config `limits`; RELIABILITY.md, "Bad input and misuse").
 * @throws LimitError naming `paths` and the limit.
 */
function checkLocksPerAgent(ctx: DecideContext, at: Instant, req: AcquireRequest): void {
  const max = ctx.settings.locks_per_agent;
  if (max === undefined) return;
  const indexed = ctx.table.agentTokens(req.agent_id);
  if (indexed.length + req.keys.length <= max) return;
  const live = indexed.filter((t) => {
    const rec = ctx.table.lockByToken(t);
    return rec !== undefined && lockIsLive(rec, at);
  }).length;
  if (live + req.keys.length > max) {
    throw new LimitError(
      "paths",
      "limits.locks_per_agent",
      `paths: agent "${req.agent_id}" holds ${live} locks; ${req.keys.length} more would pass ` +
        `limits.locks_per_agent (${max}). Release locks you no longer need first.`,
    );
  }
}

/**
 * Refuse to queue on a key that already has `queue_depth_per_key` live
 * waiters (config `limits`; RELIABILITY.md, "Bad input and misuse").
 * @throws LimitError naming `wait_ms` and the limit.
 */
function checkQueueDepth(ctx: DecideContext, at: Instant, keys: string[]): void {
  const max = ctx.settings.queue_depth_per_key;
  if (max === undefined) return;
  for (const key of keys) {
    let depth = 0;
    for (const { seq } of ctx.table.queuedUnder(`${key}\0`)) {
      const w = ctx.table.getWaiter(seq);
      if (w && waiterIsLive(ctx.reader, w, at)) depth++;
    }
    if (depth >= max) {
      throw new LimitError(
        "wait_ms",
        "limits.queue_depth_per_key",
        `wait_ms: ${key} already has ${depth} queued requests, limits.queue_depth_per_key (${max}); ` +
          "retry later, or call with wait_ms 0 to be answered at once.",
      );
    }
  }
}

/** Queue `req` FIFO on its keys as this process's waiter until `deadline` (monotonic ms); returns its ticket. */
function enqueue(ctx: DecideContext, req: AcquireRequest, now: number, deadline: number): number {
  const { clock, table } = ctx;
  const seq = table.nextWaiterSeq();
  const w: WaiterRecord = {
    seq,
    agent_id: req.agent_id,
    feature_id: req.feature_id ?? null,
    mode: req.mode,
    keys: req.keys,
    pid: process.pid,
    boot: clock.bootId,
    enqueued_mono: now,
    deadline_mono: deadline,
    enqueued_at: new Date(clock.wallMs()).toISOString(),
  };
  table.putWaiter(w);
  return seq;
}
