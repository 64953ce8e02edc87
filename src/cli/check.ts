/**
 * `signalbox check`: open a store and check its integrity (src/store/check.ts):
 * every live lock indexed and leased, every index and queue entry pointing at
 * its record, counters ahead of their records, the decision log without gaps.
 * Prints a table and the problems; exits 1 if there is any. Opening a store
 * written by an older schema upgrades it in place first (as a server would).
 */
import fs from "node:fs";
import path from "node:path";
import Table from "cli-table3";
import { checkStore } from "../store/check.js";
import { openStore } from "../store/index.js";

/**
 * Check the store in `dir`; resolves to the process exit code (0 clean, 1 problems).
 * @throws Error naming `store` when `dir` holds no store (none is created).
 */
export async function runCheck(dir: string): Promise<number> {
  if (!fs.existsSync(path.join(dir, "signalbox.mdb"))) throw new Error(`store: no signalbox store in ${dir}`);
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
