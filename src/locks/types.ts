/**
 * The shapes of the lock API (src/locks/manager.ts): requests, grants, refusals and
 * the views the `signalbox://locks` resource shows. Times ending in `_at` are
 * ISO-8601 strings; durations ending in `_ms` are milliseconds.
 */
import type { WriteTxn } from "../store/txn.js";

/** `read` is shared, `write` is exclusive. */
export type LockMode = "read" | "write";

/**
 * Lease and wait bounds in milliseconds (config `locks`) and the lock limits
 * of config `limits` (RELIABILITY.md, "Bad input and misuse"; unlimited when absent).
 */
export interface LockSettings {
  default_lease_ms: number;
  max_lease_ms: number;
  default_wait_ms: number;
  max_wait_ms: number;
  /** Live locks one agent may hold across the store. */
  locks_per_agent?: number;
  /** Requests queued on one key across the store. */
  queue_depth_per_key?: number;
}

/** Where a queued request stands (progress reported while `acquire_lock` waits). */
export interface WaitingInfo {
  /** Its place in the store-wide FIFO order (rises with every enqueue). */
  ticket: number;
  /** 1 + the conflicting requests queued ahead of it on overlapping keys (1: next in line once the holders are gone). */
  position: number;
  /** Agents it waits for (holders and earlier waiters), sorted. */
  behind: string[];
  /** The locks in its way (no lock_id: that is the holder's secret). */
  holders: Holder[];
  /** Time spent queued so far, in ms. */
  waited_ms: number;
}

/** A request for locks. `keys` must already be normalised (paths.ts). */
export interface AcquireRequest {
  agent_id: string;
  keys: string[];
  mode: LockMode;
  feature_id?: string | null;
  /** Lease length in ms; default `settings.default_lease_ms`. */
  lease_ms?: number;
  /** How long to queue for the keys, in ms; 0 refuses at once on conflict. */
  wait_ms?: number;
  /** Aborting leaves the queue and rejects with an Error. */
  signal?: AbortSignal;
  /**
   * Called while the request is queued: once right after the transaction
   * that queued it committed, again whenever what it waits for changes, and
   * at least every `WAIT_REPORT_MS` otherwise.
   */
  onWaiting?: (info: WaitingInfo) => void;
}

/** One lock ended by `break_lock`. */
export interface BrokenLock {
  key: string;
  mode: LockMode;
  agent_id: string;
  feature_id: string | null;
  fencing_token: number;
}

/** One granted key. `lock_id` is secret to the holder; `expires_at` is ISO. */
export interface GrantedLock {
  key: string;
  mode: LockMode;
  lock_id: string;
  fencing_token: number;
  expires_at: string;
}

/** Someone holding a key that conflicts with a request. */
export interface Holder {
  /** The key the holder holds. */
  key: string;
  /** The requested key it conflicts with. */
  requested: string;
  agent_id: string;
  mode: LockMode;
  feature_id: string | null;
  fencing_token: number;
  expires_at: string;
}

/** An earlier request queued on an overlapping key with a conflicting mode. */
export interface QueuedAhead {
  agent_id: string;
  mode: LockMode;
  keys: string[];
  feature_id: string | null;
  enqueued_at: string;
}

/**
 * Why a write lock is refused before any conflict check: an open pausing
 * audit signal (reason `paused`) or an open integration checkpoint (reason
 * `checkpoint`). Produced by the control layer (src/control/registry/stops.ts).
 */
export interface LockStop {
  kind: "audit_signal" | "checkpoint";
  /** signal_id or checkpoint name. */
  id: string;
  summary: string;
  raised_by: string;
}

/** Why a request was not granted. */
export type RefusalReason = "conflict" | "deadlock" | "timeout" | "paused" | "checkpoint";

/**
 * Control-layer hooks the lock manager calls inside its write transactions,
 * so a refusal or a detector's finding commits atomically with the decision.
 * Hooks must not await and must only read and write the store.
 */
export interface LockHooks {
  /** Before conflicts are checked, in the deciding write transaction `tx`: a stop refuses the request. */
  admit?(req: AcquireRequest, tx: WriteTxn): LockStop | null;
  /** After a request is decided (granted or refused), in the same write transaction `tx`. */
  decided?(req: AcquireRequest, result: AcquireResult, tx: WriteTxn): void;
}

/** The outcome of `LockManager.acquire`; a refusal is a normal result. */
export type AcquireResult =
  | { granted: true; locks: GrantedLock[]; waited_ms: number }
  | {
      granted: false;
      reason: RefusalReason;
      message: string;
      /** For `paused` and `checkpoint`: what stops the request. */
      stop: LockStop | null;
      holders: Holder[];
      queued_ahead: QueuedAhead[];
      /** For a deadlock: the wait-for cycle, first agent repeated at the end. */
      cycle: string[] | null;
      waited_ms: number;
    };

/** What a release did. Nothing is silently dropped: every target lands in one list. */
export interface ReleaseResult {
  released: { key: string; mode: LockMode; fencing_token: number }[];
  /** Locks of the caller that had already ended (lease expired, released or broken). */
  stale: { key: string; lock_id: string; status: LockStatus }[];
  /** Requested paths nobody holds. */
  not_held: string[];
}

/** The state of one grant as `verify_lock` sees it. */
export type LockStatus = "current" | "expired" | "released" | "broken" | "unknown" | "token_mismatch";

/** Answer of `LockManager.verify`. */
export interface VerifyResult {
  valid: boolean;
  status: LockStatus;
  key: string | null;
  mode: LockMode | null;
  agent_id: string | null;
  feature_id: string | null;
  fencing_token: number | null;
  expires_at: string | null;
}

/** Answer of `LockManager.renew`. */
export interface RenewResult {
  renewed: GrantedLock[];
  stale: { key: string; lock_id: string; status: LockStatus }[];
}

/** A live lock as the `signalbox://locks` resource shows it (no lock_id). */
export interface LockView {
  key: string;
  mode: LockMode;
  agent_id: string;
  feature_id: string | null;
  fencing_token: number;
  acquired_at: string;
  expires_at: string;
}

/** A live waiter as the `signalbox://locks` resource shows it. */
export interface WaiterView {
  agent_id: string;
  mode: LockMode;
  keys: string[];
  feature_id: string | null;
  enqueued_at: string;
  gives_up_at: string;
}

