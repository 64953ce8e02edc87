/**
 * Section 9: group commit. 16 agents in one process each run lock cycles
 * (acquire + release of a write lock on a key of its own) at once; cycles
 * per second with the engine's group commit on and off, against the bare
 * single-transaction floor (LMDB `transactionSync` get + put, the store's
 * options) of the same run. Aim: at least 3x the floor with group commit;
 * every call still waits for its own commit to be durable.
 */
import { LockManager } from "../src/locks/manager.js";
import { systemClock } from "../src/store/clock.js";
import { openStore } from "../src/store/lmdb/store.js";
import { LmdbEngine, lmdbAccess } from "../src/store/lmdb/engine.js";
import { median, tempDir } from "./lib.js";

export interface GroupCommitResult {
  agents: number;
  run_s: number;
  /** Lock cycles per second, all agents together, group commit on. */
  cycles_per_s: number;
  /** The same with every call committed alone. */
  cycles_per_s_single: number;
  /** Bare get+put transactions per second, one after another. */
  floor_txn_per_s: number;
  ratio_vs_floor: number;
  ratio_single_vs_floor: number;
  /** Calls per commit with group commit on (mean). */
  calls_per_commit: number;
}

const SETTINGS = { default_lease_ms: 60_000, max_lease_ms: 60_000, default_wait_ms: 0, max_wait_ms: 0 };

/** Cycles per second of `agents` concurrent loops for `runMs` on a fresh store. */
async function concurrentCycles(agents: number, runMs: number, groupCommit: boolean): Promise<{ perS: number; callsPerCommit: number }> {
  const dir = tempDir("signalbox-bench-group-");
  const store = openStore(dir.dir);
  const clock = systemClock();
  const engine = new LmdbEngine(store, clock, { groupCommit });
  const locks = new LockManager(lmdbAccess(store, clock, { engine }), SETTINGS);
  try {
    let cycles = 0;
    const end = performance.now() + runMs;
    const loop = async (a: number) => {
      const agent = `agent-${a}`;
      const key = `src/group/file${a}.ts`;
      while (performance.now() < end) {
        const r = await locks.acquire({ agent_id: agent, keys: [key], mode: "write", wait_ms: 0 });
        if (!r.granted) throw new Error(`group commit bench: ${key} refused: ${r.message}`);
        await locks.release(agent, { lock_ids: r.locks.map((l) => l.lock_id) });
        cycles++;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: agents }, (_, a) => loop(a)));
    const s = engine.stats;
    return { perS: (cycles * 1000) / (performance.now() - t0), callsPerCommit: s.calls / Math.max(1, s.commits) };
  } finally {
    await engine.close();
    dir.cleanup();
  }
}

/** Bare get+put transactions per second for `runMs`. */
function floorRate(runMs: number): number {
  const dir = tempDir("signalbox-bench-group-floor-");
  const store = openStore(dir.dir);
  try {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < runMs) {
      store.env.transactionSync(() => {
        const v = (store.meta.get("bench_counter") as number | undefined) ?? 0;
        store.meta.putSync("bench_counter", v + 1);
      });
      n++;
    }
    return (n * 1000) / (performance.now() - t0);
  } finally {
    void store.close();
    dir.cleanup();
  }
}

export async function benchGroupCommit(agents = 16, runMs = 2000): Promise<GroupCommitResult> {
  // Interleaved: floor, on, off, floor, on, off; medians.
  const floors: number[] = [];
  const on: number[] = [];
  const off: number[] = [];
  let perCommit: number[] = [];
  for (let round = 0; round < 2; round++) {
    floors.push(floorRate(runMs));
    const g = await concurrentCycles(agents, runMs, true);
    on.push(g.perS);
    perCommit.push(g.callsPerCommit);
    off.push((await concurrentCycles(agents, runMs, false)).perS);
  }
  perCommit = perCommit.sort((a, b) => a - b);
  const floor = median(floors);
  return {
    agents,
    run_s: runMs / 1000,
    cycles_per_s: median(on),
    cycles_per_s_single: median(off),
    floor_txn_per_s: floor,
    ratio_vs_floor: median(on) / floor,
    ratio_single_vs_floor: median(off) / floor,
    calls_per_commit: median(perCommit),
  };
}
