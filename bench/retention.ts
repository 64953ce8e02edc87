/**
 * Section 8: what one agent polling a held lock (acquire_lock with wait_ms 0
 * in a loop) costs the store. In process, on a real LMDB store, through
 * `LockManager.acquire` with the control hooks (what the acquire_lock tool
 * calls): the growth of the data file (its highest page, `Store.usedBytes`)
 * over N refused polls,
 * - identical: the same refusal every time, folded into one activity entry
 *   (goal: 100,000 polls grow the store by under 1 MiB);
 * - differing: two refusals in turn, so nothing folds and every poll appends
 *   an entry; retention (config `retention.activity_max_entries`) bounds the
 *   log, here at `cap` entries, so the growth stops once it is reached.
 */
import { createContext, type Context } from "../src/runtime/context.js";
import { parseConfig } from "../src/runtime/config.js";
import { listActivity } from "../src/log/activity.js";
import { tempDir } from "./lib.js";

/** One run of {@link benchRetention}. */
export interface RetentionRun {
  polls: number;
  /** Growth of the data file over the polls, bytes. */
  growth_bytes: number;
  /** Activity entries at the end. */
  entries: number;
  /** Mean wall time of one refused poll, µs. */
  poll_us: number;
}

/** What {@link benchRetention} measured. */
export interface RetentionResult {
  identical: RetentionRun;
  differing: RetentionRun;
  /** `retention.activity_max_entries` of the differing run. */
  cap: number;
  /** Bytes of data file per kept entry at the end of the differing run (info). */
  bytes_per_entry: number;
}

const HOT = ["src/bench/hot.ts", "src/bench/warm.ts"];

/** `polls` refused polls by `alice` of keys `bob` holds; `differ` alternates two refusals so none folds. */
async function run(polls: number, differ: boolean, config: Record<string, unknown>): Promise<RetentionRun> {
  const root = tempDir("signalbox-bench-root-");
  const storeDir = tempDir("signalbox-bench-retention-");
  const ctx: Context = createContext({ root: root.dir, storeDir: storeDir.dir, config: parseConfig(config), sweepMs: 0, radarPollMs: 0 });
  try {
    const held = await ctx.locks.acquire({ agent_id: "bob", keys: HOT, mode: "write", lease_ms: 3_600_000 });
    if (!held.granted) throw new Error("retention bench: bob was refused");
    const before = ctx.store.usedBytes();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < polls; i++) {
      const keys = differ && i % 2 === 1 ? HOT : HOT.slice(0, 1);
      const r = await ctx.locks.acquire({ agent_id: "alice", keys, mode: "write", wait_ms: 0 });
      if (r.granted) throw new Error("retention bench: a poll was granted");
    }
    const ns = Number(process.hrtime.bigint() - t0);
    return {
      polls,
      growth_bytes: ctx.store.usedBytes() - before,
      entries: listActivity(ctx, { limit: 1 }).total ?? 0,
      poll_us: ns / 1e3 / polls,
    };
  } finally {
    await ctx.close();
    root.cleanup();
    storeDir.cleanup();
  }
}

/** Run both: `polls` identical refused polls with the default config, then `polls` differing ones with the log capped at `cap` entries. */
export async function benchRetention(polls = 100_000, cap = 10_000): Promise<RetentionResult> {
  const identical = await run(polls, false, {});
  const differing = await run(polls, true, { retention: { activity_max_entries: cap } });
  return { identical, differing, cap, bytes_per_entry: differing.growth_bytes / Math.max(1, differing.entries) };
}
