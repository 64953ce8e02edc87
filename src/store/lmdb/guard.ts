/**
 * The write guard: what stands between a write transaction and a disk that
 * is full or failing.
 *
 * Measured on this project's machine (RELIABILITY.md, the disk fault): when the disk under an LMDB
 * store fills, lmdb-js commits fail with ENOSPC or EIO; committed data stays
 * intact, but a process that keeps writing into the full disk has its heap
 * corrupted within a few dozen failed commits and aborts (`malloc(): invalid
 * next size`). So signalbox never lets a write reach a nearly full disk:
 * - before every outermost write transaction, `statfs` on the store's folder
 *   (about 2 µs): fewer free bytes than `limits.disk_reserve_mb` refuses the
 *   write with an Error naming that limit, before anything is written;
 * - the store's size (its data file's highest page, looked at most every
 *   {@link QUOTA_CHECK_MS} below the quota, at every write from it on) at or
 *   over `limits.store_mb` plus a small headroom ({@link quotaHeadroomBytes})
 *   refuses writes other than housekeeping. LMDB files never shrink, but the
 *   pages that deletions free are reused inside the file: from the quota on,
 *   retention prunes harder ({@link atStoreQuota}; log/activity.ts,
 *   control/registry/inbox.ts), and writes that fit in the freed pages (a release, a
 *   renewal, an append that pruning paid for) go on without growing the file.
 *   So a store at its quota still lets holders release; only a store whose
 *   live records grew through the headroom refuses every write but
 *   housekeeping (then the quota must be raised);
 * - an LMDB failure inside a commit suspends writes in this process: a disk
 *   error (ENOSPC, EDQUOT, EIO) until free space has grown past what it was at
 *   the failure and the reserve, any other LMDB error (MDB_BAD_TXN, MDB_PANIC,
 *   ...) until the next write; that write first reopens the environment.
 */
import { StoreFullError } from "../../errors.js";
import { atStoreQuota } from "../port.js";
import fs from "node:fs";

/** Store limits from the config (`limits`), in MiB. */
export interface StoreLimits {
  /** Writes are refused while the store's filesystem has fewer free MiB than this. */
  disk_reserve_mb: number;
  /** The store's quota: from it on retention prunes harder; writes (except housekeeping) are refused once the store uses it plus {@link quotaHeadroomBytes}. */
  store_mb: number;
}

/** How often the size quota is looked at, ms. */
export const QUOTA_CHECK_MS = 250;

const MIB = 1024 * 1024;

/** Errno names LMDB passes through from the filesystem that mean the disk, not the data, failed. */
const DISK_CODES = new Set([28 /* ENOSPC */, 122 /* EDQUOT */, 5 /* EIO */]);

/** A failure LMDB reported, as opposed to an Error a transaction's own code threw. */
export interface StoreFailure {
  /** The disk is full or failing (ENOSPC, EDQUOT, EIO). */
  disk: boolean;
  message: string;
}

/**
 * Classify an error thrown out of `transactionSync`: LMDB's own errors carry
 * a numeric `code` (an errno or an MDB_* code) or name an MDB_* condition;
 * domain Errors thrown by the transaction's callback carry neither.
 */
export function storeFailureOf(err: unknown): StoreFailure | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  const numeric = typeof code === "number";
  if (!numeric && !/\bMDB_[A-Z_]+\b|No space left on device|Input\/output error/.test(err.message)) return null;
  const disk = (numeric && DISK_CODES.has(code)) || /No space left|Input\/output error|ENOSPC|EDQUOT/.test(err.message);
  return { disk, message: err.message.split("\n")[0] ?? err.message };
}

/** Free bytes for an unprivileged writer on the filesystem holding `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Bytes as MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

/**
 * How far past `limits.store_mb` (MiB) the data file may grow before writes
 * other than housekeeping are refused, in bytes: 1/16 of the quota, at least
 * 256 KiB, at most 64 MiB. Room for the writes that go on at the quota while
 * retention frees pages for them.
 */
export function quotaHeadroomBytes(storeMb: number): number {
  return Math.min(Math.max((storeMb * MIB) / 16, 256 * 1024), 64 * MIB);
}


/**
 * The per-process guard state of one store. It decides nothing about grants;
 * it only refuses writes the disk cannot take.
 */
export class WriteGuard {
  private failure: (StoreFailure & { freeAtFailure: number }) | null = null;
  private quotaCheckedAt = Number.NEGATIVE_INFINITY;
  private usedBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly limits: StoreLimits,
    private readonly usedNow: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Throw if a write must not start now. Returns true when the environment
   * must be reopened first (a failure happened and its condition has cleared).
   *
   * @throws Error naming `limits.disk_reserve_mb` or `limits.store_mb` (the
   *         store at its quota plus headroom), or the suspending failure;
   *         nothing has been written when it throws.
   */
  check(housekeeping: boolean): boolean {
    const free = freeBytes(this.dir);
    const reserve = this.limits.disk_reserve_mb * MIB;
    if (this.failure?.disk && free <= Math.max(this.failure.freeAtFailure, reserve)) {
      throw new StoreFullError(
        `store: writes are suspended after a disk error (${this.failure.message}); the disk holding ${this.dir} ` +
          `has ${mib(free)} MiB free. Nothing was written; free disk space and retry.`,
      );
    }
    if (free < reserve) {
      throw new StoreFullError(
        `store: refused to write: the disk holding ${this.dir} has ${mib(free)} MiB free, below ` +
          `limits.disk_reserve_mb (${this.limits.disk_reserve_mb} MiB). Nothing was written; free disk space and retry.`,
      );
    }
    if (!housekeeping) {
      const t = this.now();
      // From the quota on, the size is looked at before every write (about 8 µs): the headroom is small.
      if (t - this.quotaCheckedAt >= QUOTA_CHECK_MS || atStoreQuota(this.usedBytes, this.limits.store_mb)) {
        this.usedBytes = this.usedNow();
        this.quotaCheckedAt = t;
      }
      const headroom = quotaHeadroomBytes(this.limits.store_mb);
      if (this.usedBytes >= this.limits.store_mb * MIB + headroom) {
        throw new StoreFullError(
          `store: refused to write: the store uses ${mib(this.usedBytes)} MiB, past limits.store_mb ` +
            `(${this.limits.store_mb} MiB) and its headroom of ${mib(headroom)} MiB. ` +
            `Nothing was written; raise limits.store_mb in signalbox.config.json.`,
        );
      }
    }
    return this.failure !== null;
  }

  /** Remember a failure of a commit; the next write waits for its condition to clear. */
  failed(failure: StoreFailure): void {
    let freeAtFailure = 0;
    try {
      freeAtFailure = freeBytes(this.dir);
    } catch {
      // The folder is gone: the next check throws on its own.
    }
    this.failure = { ...failure, freeAtFailure };
  }

  /** The environment was reopened: writes go ahead again. */
  recovered(): void {
    this.failure = null;
    this.quotaCheckedAt = Number.NEGATIVE_INFINITY;
  }
}
