/**
 * Section 1: the in-process lock cycle (LockManager.acquire + release of one
 * write lock) against the store's floor, a bare LMDB write transaction doing
 * get + put on an environment opened with the same options (openStore).
 */
import { createContext } from "../src/runtime/context.js";
import { defaultConfig } from "../src/runtime/config.js";
import { openStore } from "../src/store/lmdb/store.js";
import { median, tempDir } from "./lib.js";

export interface LockCycleResult {
  /** Median over 0.5 s windows of both subject runs. */
  cycles_per_s: number;
  /** Median over 0.5 s windows of both floor runs: bare get+put transactions per second. */
  floor_txn_per_s: number;
  /** cycles/s ÷ floor txn/s (goal >= 0.5). */
  ratio_vs_single_txn: number;
  /** cycles/s ÷ (floor txn/s / 2): against a floor "cycle" of two bare transactions. */
  ratio_vs_two_txn_cycle: number;
  /** Mean wall time per call during the subject runs, µs. */
  acquire_us: number;
  release_us: number;
  floor_txn_us: number;
  /** Per-run medians, in run order, for drift. */
  runs: { kind: "floor" | "subject"; per_s: number; windows: number }[];
  run_s: number;
}

const WINDOW_MS = 500;

/** Call `step` repeatedly for `durationMs`; the rate of each WINDOW_MS window. */
async function runFor(durationMs: number, step: () => void | Promise<void>): Promise<number[]> {
  const rates: number[] = [];
  const end = performance.now() + durationMs;
  let windowStart = performance.now();
  let count = 0;
  for (;;) {
    const r = step();
    if (r) await r;
    count++;
    const now = performance.now();
    if (now - windowStart >= WINDOW_MS) {
      rates.push((count * 1000) / (now - windowStart));
      count = 0;
      windowStart = now;
      if (now >= end) break;
    }
  }
  return rates;
}

export async function benchLockCycle(runMs = 3000, warmMs = 500): Promise<LockCycleResult> {
  const subjectRoot = tempDir("signalbox-bench-root-");
  const subjectStore = tempDir("signalbox-bench-locks-");
  const floorStore = tempDir("signalbox-bench-floor-");
  const ctx = createContext({ root: subjectRoot.dir, storeDir: subjectStore.dir, config: defaultConfig(), sweepMs: 0 });
  const floor = openStore(floorStore.dir);
  try {
    const keys = Array.from({ length: 64 }, (_, k) => `src/bench/file${k}.ts`);
    let i = 0;
    let acquireNs = 0n;
    let releaseNs = 0n;
    let cycles = 0;
    const cycle = async (): Promise<void> => {
      const key = keys[i % keys.length] as string;
      const agent = `agent-${i % 4}`;
      i++;
      const t0 = process.hrtime.bigint();
      const r = await ctx.locks.acquire({ agent_id: agent, keys: [key], mode: "write", wait_ms: 0 });
      const t1 = process.hrtime.bigint();
      if (!r.granted) throw new Error(`lock cycle: ${key} refused: ${r.message}`);
      await ctx.locks.release(agent, { lock_ids: r.locks.map((l) => l.lock_id) });
      const t2 = process.hrtime.bigint();
      acquireNs += t1 - t0;
      releaseNs += t2 - t1;
      cycles++;
    };
    let floorNs = 0n;
    let floorOps = 0;
    const bare = (): void => {
      const t0 = process.hrtime.bigint();
      floor.env.transactionSync(() => {
        const v = (floor.meta.get("bench_counter") as number | undefined) ?? 0;
        floor.meta.putSync("bench_counter", v + 1);
      });
      floorNs += process.hrtime.bigint() - t0;
      floorOps++;
    };

    // Warm-up, then ABBA: floor, subject, subject, floor (cancels linear drift).
    await runFor(warmMs, bare);
    await runFor(warmMs, cycle);
    acquireNs = releaseNs = floorNs = 0n;
    cycles = floorOps = 0;
    const floorRates: number[] = [];
    const subjectRates: number[] = [];
    const runs: LockCycleResult["runs"] = [];
    for (const kind of ["floor", "subject", "subject", "floor"] as const) {
      const rates = await runFor(runMs, kind === "floor" ? bare : cycle);
      (kind === "floor" ? floorRates : subjectRates).push(...rates);
      runs.push({ kind, per_s: median(rates), windows: rates.length });
    }
    const cyclesPerS = median(subjectRates);
    const floorPerS = median(floorRates);
    return {
      cycles_per_s: cyclesPerS,
      floor_txn_per_s: floorPerS,
      ratio_vs_single_txn: cyclesPerS / floorPerS,
      ratio_vs_two_txn_cycle: cyclesPerS / (floorPerS / 2),
      acquire_us: Number(acquireNs) / 1e3 / cycles,
      release_us: Number(releaseNs) / 1e3 / cycles,
      floor_txn_us: Number(floorNs) / 1e3 / floorOps,
      runs,
      run_s: runMs / 1000,
    };
  } finally {
    await ctx.close();
    await floor.close();
    subjectRoot.cleanup();
    subjectStore.cleanup();
    floorStore.cleanup();
  }
}
