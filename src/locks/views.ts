/**
 * The read-only views of the lock table, as functions over a
 * {@link LockTableReader} and the clock: the live locks and waiters the
 * `signalbox://locks` resource lists, `verify_lock`'s answer, the holders of
 * a feature, the live locks covering a key (shared by the server and the
 * hooks' reader, src/store/lmdb/lock-reader.ts), and the holder / waiter shapes a
 * refusal or a queued request's progress report carries.
 *
 * A lock counts as live exactly as the conflict rules count it
 * (src/locks/conflicts.ts `lockIsLive`: state `held`, this boot, lease not
 * lapsed on the monotonic clock; DESIGN.md "Store rules"). Times ending in
 * `_at` are ISO strings derived from monotonic instants (store/clock.ts
 * `monoToIso`); `_ms` values are milliseconds. No lock_id leaves a view
 * except to its holder: it is the holder's secret.
 *
 * Nothing here writes, and nothing here loads lmdb: the hooks import it.
 */
import { monoToIso } from "../store/clock.js";
import type { EngineTime as Clock } from "../store/port.js";
import type { LockRecord, WaiterRecord } from "./records.js";
import {
  blockerSet,
  coveringPrefixes,
  lockIsLive,
  uniqueWaiters,
  waiterIsLive,
  type Blockers,
  type Instant,
  type LockTableReader,
} from "./conflicts.js";
import type { Holder, LockMode, LockStatus, LockView, QueuedAhead, VerifyResult, WaiterView, WaitingInfo } from "./types.js";

/** A live lock as a hook reports it. `expires_at` is ISO; `expires_in_ms` is from the moment of the read. */
export interface LiveLock {
  /** The key the lock is on: the file itself or a folder key (`src/api/`) covering it. */
  key: string;
  mode: LockMode;
  agent_id: string;
  feature_id: string | null;
  fencing_token: number;
  expires_at: string;
  expires_in_ms: number;
}

/** The instant `clock` reads now: its boot id and monotonic ms. */
export function instantOf(clock: Clock): Instant {
  return { bootId: clock.bootId, now: clock.monoMs() };
}

/**
 * What `verify_lock` says of `rec` at `at`: `current` while the lease is
 * live, `expired` for a held record whose lease lapsed (or that another boot
 * wrote), else its ended state (`released`, `expired`, `broken`).
 */
export function lockStatus(rec: LockRecord, at: Instant): LockStatus {
  if (rec.state === "held") return lockIsLive(rec, at) ? "current" : "expired";
  return rec.state;
}

/** A holder in a request's way, as a refusal or a progress report shows it (no lock_id). */
export function holderView(rec: LockRecord, requested: string, clock: Clock): Holder {
  return {
    key: rec.key,
    requested,
    agent_id: rec.agent_id,
    mode: rec.mode,
    feature_id: rec.feature_id,
    fencing_token: rec.fencing_token,
    expires_at: monoToIso(clock, rec.expires_mono),
  };
}

/** An earlier waiter in a request's way, as a refusal shows it. */
export function waiterAheadView(w: WaiterRecord): QueuedAhead {
  return { agent_id: w.agent_id, mode: w.mode, keys: w.keys, feature_id: w.feature_id, enqueued_at: w.enqueued_at };
}

/**
 * A queued request's standing (ticket `seq`) behind blockers `b`, after
 * `waitedMs` ms queued: its place in line is 1 + the distinct earlier
 * waiters in its way.
 */
export function waitingInfo(seq: number, b: Blockers, waitedMs: number, clock: Clock): WaitingInfo {
  return {
    ticket: seq,
    position: uniqueWaiters(b).length + 1,
    behind: [...blockerSet(b)].sort(),
    holders: b.holders.map(({ rec, requested }) => holderView(rec, requested, clock)),
    waited_ms: Math.max(0, Math.round(waitedMs)),
  };
}

/**
 * Live lock records on `key` or on any folder key above it (`src/a.ts` is
 * covered by `src/a.ts` and `src/`), in fencing-token order per key, the key
 * itself first.
 */
export function liveLockRecordsCovering(reader: LockTableReader, at: Instant, key: string): LockRecord[] {
  const out: LockRecord[] = [];
  for (const prefix of coveringPrefixes(key)) {
    for (const { token } of reader.heldUnder(prefix)) {
      const rec = reader.lockByToken(token);
      if (rec && lockIsLive(rec, at)) out.push(rec);
    }
  }
  return out;
}

/** {@link liveLockRecordsCovering} as the hooks report it, judged and timed at one read of `clock`. */
export function liveLocksCovering(reader: LockTableReader, clock: Clock, key: string): LiveLock[] {
  const at = instantOf(clock);
  return liveLockRecordsCovering(reader, at, key).map((rec) => ({
    key: rec.key,
    mode: rec.mode,
    agent_id: rec.agent_id,
    feature_id: rec.feature_id,
    fencing_token: rec.fencing_token,
    expires_at: monoToIso(clock, rec.expires_mono),
    expires_in_ms: Math.round(rec.expires_mono - at.now),
  }));
}

/** Live locks (key order) and live waiters (FIFO order), for the `signalbox://locks` resource. No lock_id. */
export function listLive(reader: LockTableReader, clock: Clock): { locks: LockView[]; waiters: WaiterView[] } {
  const at = instantOf(clock);
  const locks: LockView[] = [];
  for (const { token } of reader.allHeld()) {
    const rec = reader.lockByToken(token);
    if (!rec || !lockIsLive(rec, at)) continue;
    locks.push({
      key: rec.key,
      mode: rec.mode,
      agent_id: rec.agent_id,
      feature_id: rec.feature_id,
      fencing_token: rec.fencing_token,
      acquired_at: rec.acquired_at,
      expires_at: monoToIso(clock, rec.expires_mono),
    });
  }
  const waiters: WaiterView[] = [];
  for (const w of reader.allWaiters()) {
    if (!waiterIsLive(reader, w, at)) continue;
    waiters.push({
      agent_id: w.agent_id,
      mode: w.mode,
      keys: w.keys,
      feature_id: w.feature_id,
      enqueued_at: w.enqueued_at,
      gives_up_at: monoToIso(clock, w.deadline_mono),
    });
  }
  return { locks, waiters };
}

/**
 * Is `(lockId, token)` still the current grant? `unknown` for a lock id the
 * table does not know (or whose secret part does not match),
 * `token_mismatch` when the token is not the one granted with it, else
 * {@link lockStatus}. `expires_at` is null for a lock another boot wrote.
 */
export function verifyGrant(reader: LockTableReader, clock: Clock, lockId: string, token: number): VerifyResult {
  const rec = reader.getLock(lockId);
  if (!rec) {
    return {
      valid: false,
      status: "unknown",
      key: null,
      mode: null,
      agent_id: null,
      feature_id: null,
      fencing_token: null,
      expires_at: null,
    };
  }
  const status: LockStatus = rec.fencing_token !== token ? "token_mismatch" : lockStatus(rec, instantOf(clock));
  return {
    valid: status === "current",
    status,
    key: rec.key,
    mode: rec.mode,
    agent_id: rec.agent_id,
    feature_id: rec.feature_id,
    fencing_token: rec.fencing_token,
    expires_at: rec.boot === clock.bootId ? monoToIso(clock, rec.expires_mono) : null,
  };
}

/** Agents holding a live lock tagged with feature `featureId`, each once, in key order of their first such lock. */
export function holdersOfFeature(reader: LockTableReader, at: Instant, featureId: string): string[] {
  const out = new Set<string>();
  for (const { token } of reader.allHeld()) {
    const rec = reader.lockByToken(token);
    if (rec && rec.feature_id === featureId && lockIsLive(rec, at)) out.add(rec.agent_id);
  }
  return [...out];
}
