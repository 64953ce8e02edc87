/**
 * The stored lock table (src/store/lmdb/lock-table.ts, LMDB) seen through the
 * read-only {@link LockTableReader} the conflict rules and the views take
 * (src/locks/conflicts.ts, src/locks/views.ts), with process liveness
 * answered by signal 0. Used by the lock manager and by the hooks' read-only
 * reader (src/store/lmdb/lock-reader.ts), which must stay light: nothing here
 * loads lmdb or src/store/lmdb/store.ts.
 */
import type { LockTable } from "../store/lmdb/lock-table.js";
import type { LockTableReader } from "./conflicts.js";

/**
 * Is process `pid` alive? Signal 0 probes without signalling; EPERM means it
 * exists but belongs to another user. The calling process is always alive.
 */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * `table` as a {@link LockTableReader}. Each call reads in whatever
 * transaction is open at the time (the caller's write transaction, or the
 * current read snapshot). `processAlive` defaults to {@link pidAlive}.
 */
export function tableReader(table: LockTable, processAlive: (pid: number) => boolean = pidAlive): LockTableReader {
  return {
    heldUnder: (prefix) => table.heldUnder(prefix),
    allHeld: () => table.allHeld(),
    queuedUnder: (prefix) => table.queuedUnder(prefix),
    lockByToken: (token) => table.lockByToken(token),
    getLock: (lockId) => table.getLock(lockId),
    getWaiter: (seq) => table.getWaiter(seq),
    allWaiters: () => table.allWaiters(),
    processAlive,
  };
}
