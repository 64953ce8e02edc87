/**
 * The commands that change held locks, as the bodies of their write
 * transactions: release (by lock id, by key, or all), release of a feature's
 * locks, `break_lock`'s ending of another agent's locks, lease renewal, and
 * the housekeeping sweep; plus the record-level steps the acquire decision
 * shares (ending a lock, leaving the queue).
 *
 * Each function runs inside a write transaction the caller opened
 * (src/locks/manager.ts: `store.write` or the group-committing engine) and
 * reads the clock for the instants it records. Which locks are live comes from
 * the conflict rules (src/locks/conflicts.ts) and which state a grant is in
 * from the views (src/locks/views.ts), so a command and `verify_lock` never
 * disagree.
 *
 * Rules: only the holder releases or renews its lock (DESIGN.md, "Lock"); a
 * lapsed or ended lock is reported stale and never revived, since another
 * agent may already hold a newer fencing token for its key (DESIGN.md,
 * "Store rules" and "Lessons").
 */
import { NotHolderError } from "../errors.js";
import type { EngineTime as Clock } from "../store/port.js";
import { monoToIso } from "../store/clock.js";
import type { LockRecord } from "./records.js";
import type { LockTable } from "./table.js";
import { lockIsLive, waiterIsLive, type LockTableReader } from "./conflicts.js";
import type { BrokenLock, LockStatus, ReleaseResult, RenewResult } from "./types.js";
import { instantOf, lockStatus } from "./views.js";

/** How long ended lock records are kept so `verify_lock` can say why a token is stale (ms). */
export const TOMBSTONE_MS = 3_600_000;

/** What a command reads and writes: the lock table (writes), the same table read-only, and the clock. */
export interface CommandContext {
  table: LockTable;
  reader: LockTableReader;
  clock: Clock;
}

/** Which of its locks a release targets: exactly one of the three selectors (checked by the caller). */
export interface ReleaseTarget {
  lock_ids?: string[];
  /** Normalised keys, matched exactly. */
  keys?: string[];
  all?: boolean;
}

/**
 * Mark `rec` ended as `state` at the clock's current instant and drop it from
 * the live indexes. A lock that ended without its holder releasing it is
 * remembered so a later release by key can say it went stale.
 */
export function endLock(ctx: CommandContext, rec: LockRecord, state: "released" | "expired" | "broken"): void {
  const { table, clock } = ctx;
  table.unindexLive(rec);
  if (state !== "released") table.noteEnded(rec);
  table.putLock({
    ...rec,
    state,
    ended_mono: clock.monoMs(),
    ended_at: new Date(clock.wallMs()).toISOString(),
  });
}

/** Remove waiter `seq` and its queue entries; false if it was already gone. */
export function removeWaiter(ctx: CommandContext, seq: number): boolean {
  return ctx.table.removeWaiter(seq);
}

/** The agent's lock records still in the live index (some may have lapsed). */
export function agentLocks(ctx: CommandContext, agent: string): LockRecord[] {
  const recs: LockRecord[] = [];
  for (const token of ctx.table.agentTokens(agent)) {
    const rec = ctx.table.lockByToken(token);
    if (rec) recs.push(rec);
  }
  return recs;
}

/** The message of a NotHolderError: who holds the lock, and that only the holder may `action` it. */
export function notYours(action: string, field: string, agent: string, rec: LockRecord): string {
  const feature = rec.feature_id ? `, feature ${rec.feature_id}` : "";
  return (
    `${field}: ${action} refused: the ${rec.mode} lock on ${rec.key} belongs to agent "${rec.agent_id}"${feature}, ` +
    `not to "${agent}". Only the holder may ${action} it; wait for its lease to end or ask the orchestrator.`
  );
}

/**
 * Release `agent`'s locks named by `target` (see LockManager.release).
 * Live locks are released; lapsed ones are ended as expired and reported
 * stale; a key the agent no longer holds is reported stale when its own lock
 * on it ended without its release, else `not_held`.
 *
 * @throws NotHolderError (code `not_holder`) naming the holder when a target
 *         belongs to another agent; the caller's transaction then writes nothing.
 */
export function releaseLocks(ctx: CommandContext, agent: string, target: ReleaseTarget): ReleaseResult {
  const { table } = ctx;
  const at = instantOf(ctx.clock);
  const out: ReleaseResult = { released: [], stale: [], not_held: [] };
  const mine: LockRecord[] = [];
  if (target.lock_ids) {
    for (const id of target.lock_ids) {
      const rec = table.getLock(id);
      if (!rec) {
        out.stale.push({ key: "", lock_id: id, status: "unknown" });
        continue;
      }
      if (rec.agent_id !== agent) throw new NotHolderError("lock_ids", notYours("release", "lock_ids", agent, rec));
      mine.push(rec);
    }
  } else if (target.keys) {
    for (const key of target.keys) {
      const own: LockRecord[] = [];
      const others: LockRecord[] = [];
      for (const { token } of table.heldUnder(`${key}\0`)) {
        const rec = table.lockByToken(token);
        if (!rec) continue;
        if (rec.agent_id === agent) own.push(rec);
        else if (lockIsLive(rec, at)) others.push(rec);
      }
      if (own.length > 0) {
        mine.push(...own);
        continue;
      }
      // The caller's own lock lapsed (or was broken) and the key may be someone else's now: its token is stale.
      const ended = table.takeEnded(agent, key);
      if (ended) out.stale.push({ key, lock_id: ended.lock_id, status: lockStatus(ended, at) });
      else if (others[0]) throw new NotHolderError("paths", notYours("release", "paths", agent, others[0]));
      else out.not_held.push(key);
    }
  } else {
    mine.push(...agentLocks(ctx, agent));
  }
  for (const rec of mine) {
    const status = lockStatus(rec, at);
    if (status === "current") {
      endLock(ctx, rec, "released");
      out.released.push({ key: rec.key, mode: rec.mode, fencing_token: rec.fencing_token });
    } else {
      if (rec.state === "held") endLock(ctx, rec, "expired");
      out.stale.push({ key: rec.key, lock_id: rec.lock_id, status });
    }
  }
  return out;
}

/**
 * Release every live lock `agent` holds for `featureId`, ending lapsed ones
 * as expired (parallel-execution-protocol §4.2, "Release all locks").
 */
export function releaseFeatureLocks(ctx: CommandContext, agent: string, featureId: string): ReleaseResult {
  const at = instantOf(ctx.clock);
  const out: ReleaseResult = { released: [], stale: [], not_held: [] };
  for (const rec of agentLocks(ctx, agent)) {
    if (rec.feature_id !== featureId) continue;
    if (lockIsLive(rec, at)) {
      endLock(ctx, rec, "released");
      out.released.push({ key: rec.key, mode: rec.mode, fencing_token: rec.fencing_token });
    } else if (rec.state === "held") {
      endLock(ctx, rec, "expired");
    }
  }
  return out;
}

/**
 * End every live lock on exactly `key` held by an agent other than `agent`
 * as `broken` (lapsed ones as expired); returns the broken locks. Only the
 * audited `break_lock` path calls this (control/lock-breaks.ts).
 */
export function breakLocks(ctx: CommandContext, agent: string, key: string): BrokenLock[] {
  const at = instantOf(ctx.clock);
  const out: BrokenLock[] = [];
  for (const { token } of [...ctx.table.heldUnder(`${key}\0`)]) {
    const rec = ctx.table.lockByToken(token);
    if (!rec || rec.agent_id === agent) continue;
    if (!lockIsLive(rec, at)) {
      if (rec.state === "held") endLock(ctx, rec, "expired");
      continue;
    }
    endLock(ctx, rec, "broken");
    out.push({ key: rec.key, mode: rec.mode, agent_id: rec.agent_id, feature_id: rec.feature_id, fencing_token: rec.fencing_token });
  }
  return out;
}

/**
 * Extend `agent`'s locks (`lockIds`, or all its locks) to now + `leaseMs`
 * ms, never shortening a lease (the later expiry wins). A lapsed or ended
 * lock is reported stale (lapsed ones ended as expired), never revived.
 *
 * @throws NotHolderError (code `not_holder`) naming the holder when a lock
 *         belongs to another agent.
 */
export function renewLocks(ctx: CommandContext, agent: string, lockIds: string[] | undefined, leaseMs: number): RenewResult {
  const { table, clock } = ctx;
  const out: RenewResult = { renewed: [], stale: [] };
  const targets: [string, LockRecord | undefined][] = lockIds
    ? lockIds.map((id) => [id, table.getLock(id)])
    : agentLocks(ctx, agent).map((rec) => [rec.lock_id, rec]);
  const at = instantOf(clock);
  for (const [id, rec] of targets) {
    if (!rec) {
      out.stale.push({ key: "", lock_id: id, status: "unknown" });
      continue;
    }
    if (rec.agent_id !== agent) throw new NotHolderError("lock_ids", notYours("renew", "lock_ids", agent, rec));
    const status: LockStatus = lockStatus(rec, at);
    if (status !== "current") {
      if (rec.state === "held") endLock(ctx, rec, "expired");
      out.stale.push({ key: rec.key, lock_id: id, status });
      continue;
    }
    const expires = Math.max(rec.expires_mono, at.now + leaseMs);
    table.putLock({ ...rec, expires_mono: expires });
    out.renewed.push({
      key: rec.key,
      mode: rec.mode,
      lock_id: id,
      fencing_token: rec.fencing_token,
      expires_at: monoToIso(clock, expires),
    });
  }
  return out;
}

/**
 * Housekeeping: end lapsed locks as expired, drop waiters no longer live, and
 * delete ended lock records older than {@link TOMBSTONE_MS} or from another
 * boot. Returns how many records it touched.
 */
export function sweepTable(ctx: CommandContext): number {
  const { table, reader, clock } = ctx;
  const at = instantOf(clock);
  let n = 0;
  const recs = [...table.allLocks()];
  for (const rec of recs) {
    if (rec.state === "held" && !lockIsLive(rec, at)) {
      endLock(ctx, rec, "expired");
      n++;
    } else if (rec.state !== "held" && (rec.boot !== at.bootId || (rec.ended_mono !== null && at.now - rec.ended_mono > TOMBSTONE_MS))) {
      table.deleteLock(rec);
      n++;
    }
  }
  const waiters = [...table.allWaiters()];
  for (const w of waiters) {
    if (!waiterIsLive(reader, w, at)) {
      removeWaiter(ctx, w.seq);
      n++;
    }
  }
  return n;
}
