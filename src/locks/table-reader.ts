/**
 * The stored lock table (src/locks/table.ts) seen through the read-only
 * {@link LockTableReader} the conflict rules and the views take
 * (src/locks/conflicts.ts, src/locks/views.ts), with process liveness
 * answered by the engine (store/port.ts `Liveness`: on LMDB, signal 0 to a
 * process of this boot). Used by the lock manager and by the hooks'
 * read-only reader (src/store/lmdb/lock-reader.ts), which must stay light.
 */
import type { Liveness } from "../store/port.js";
import type { LockTableReader } from "./conflicts.js";
import type { LockTableView } from "./table.js";

/**
 * `table` as a {@link LockTableReader}. Each call reads in whatever
 * transaction the view reads in at the time (the caller's write
 * transaction, or a snapshot).
 */
export function tableReader(table: LockTableView, liveness: Liveness): LockTableReader {
  return {
    heldUnder: (prefix) => table.heldUnder(prefix),
    allHeld: () => table.allHeld(),
    queuedUnder: (prefix) => table.queuedUnder(prefix),
    lockByToken: (token) => table.lockByToken(token),
    getLock: (lockId) => table.getLock(lockId),
    getWaiter: (seq) => table.getWaiter(seq),
    allWaiters: () => table.allWaiters(),
    processAlive: (owner) => liveness.isAlive(owner),
  };
}
