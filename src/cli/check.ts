/**
 * `signalbox check`: open a store and check its integrity (src/store/lmdb/check.ts):
 * every live lock indexed and leased, every index and queue entry pointing at
 * its record, counters ahead of their records, the decision log without gaps.
 * Prints a table and the problems; exits 1 if there is any. Opening a store
 * written by an older schema upgrades it in place first (as a server would).
 *
 * The data file is checked before it is opened (src/store/lmdb/validate.ts): a
 * damaged file (cut short, bad meta pages, emptied, rolled back) is printed
 * as a PROBLEM line and FAILED on stdout, then raised, so the command ends
 * with one `signalbox: store <file> is damaged: ...` line on stderr and exit 1.
 */
import path from "node:path";
import Table from "cli-table3";
import { checkStore } from "../store/lmdb/check.js";
import { openStore } from "../store/lmdb/store.js";
import { isStoreDamaged, StoreDamagedError, validateStoreFile } from "../store/lmdb/validate.js";

/**
 * Check the store in `dir`; resolves to the process exit code (0 clean, 1 problems).
 * @throws Error naming `store` when `dir` holds no store (none is created);
 *         StoreDamagedError (code `store_damaged`) naming the data file when
 *         it is damaged or empty, after printing it as a problem.
 */
export async function runCheck(dir: string): Promise<number> {
  const file = path.join(dir, "signalbox.mdb");
  try {
    const { state } = validateStoreFile(file);
    if (state === "missing") throw new Error(`store: no signalbox store in ${dir}`);
    // check never creates a store: an empty file is a problem here, where a server would initialise it.
    if (state === "empty") throw new StoreDamagedError(file, "the file is empty: no store was ever written to it, or it was emptied");
  } catch (err) {
    if (isStoreDamaged(err)) {
      console.log(`PROBLEM data file ${err.file}: ${err.problem}`);
      console.log("FAILED: 1 problem(s)");
    }
    throw err;
  }
  const store = openStore(dir, { limits: { disk_reserve_mb: 0, store_mb: Number.MAX_SAFE_INTEGER } });
  try {
    const r = checkStore(store);
    const table = new Table({ head: ["store", dir] });
    table.push(
      ["locks held / ended", `${r.locks.held} / ${r.locks.ended}`],
      ["index entries", String(r.index_entries)],
      ["waiters / queue entries", `${r.waiters} / ${r.queue_entries}`],
      ["decisions", String(r.decisions)],
      ["last fencing token", String(r.fencing_token)],
      ["recoveries after LMDB failures", String(r.recoveries)],
      ["problems", String(r.problems.length)],
    );
    console.log(table.toString());
    for (const p of r.problems) console.log(`PROBLEM ${p}`);
    console.log(r.problems.length === 0 ? "OK: the store is consistent" : `FAILED: ${r.problems.length} problem(s)`);
    return r.problems.length === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}
