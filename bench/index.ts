/**
 * `npm run bench`: figures measured side by side in one run, each with a ratio
 * against a floor measured in the same run. Prints a table and a final
 * `BENCH_JSON {...}` line. Never asserts: a missed goal is printed, not thrown.
 *
 * Sections:
 * 1. the in-process lock cycle against bare LMDB write transactions;
 * 2. acquire_lock over stdio against server_info on the same server;
 * 3. check_parallel on the real fastapi history and plan_waves on a 10k DAG
 *    against a trivial pass over the same input;
 * 4. server start to initialize against `node -e ""`, idle RSS against bare node;
 * 5. a subscriber hearing of another process's commit, against that commit's round trip;
 *    5b. the change feed alone: another process's commit to the listener, watching the data file against polling only;
 * 6. the Claude Code PreToolUse hook as a process, against `node -e ""`;
 * 7. the conflict radar (28 predicted merges) against 28 trivial git processes;
 * 8. store growth over 100,000 refused polls of one agent (activity folding and retention);
 * 9. group commit: 16 agents' lock cycles in one process against the bare single-transaction floor.
 */
import fs from "node:fs";
import os from "node:os";
import Table from "cli-table3";
import { benchCompute } from "./compute.js";
import { benchGroupCommit } from "./group-commit.js";
import { CLI, fmt } from "./lib.js";
import { benchHook, hookRows } from "./hook.js";
import { benchLockCycle } from "./lock-cycle.js";
import { benchChangeFeed, benchNotify } from "./notify.js";
import { benchRadar } from "./radar.js";
import { benchRetention } from "./retention.js";
import { benchStartup } from "./startup.js";
import { benchStdio } from "./stdio.js";

function goal(ok: boolean, text: string): string {
  return `${text} ${ok ? "met" : "MISSED"}`;
}

function step(name: string): void {
  process.stderr.write(`bench: ${name}...\n`);
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`build first: ${CLI} is missing (npm run build)`);
  const t0 = performance.now();
  const loadStart = os.loadavg();

  step("1. lock cycle in process (4 x 3 s)");
  const lock = await benchLockCycle();
  step("2. acquire_lock vs server_info over stdio (1,000 each)");
  const stdio = await benchStdio();
  step("3. check_parallel (fastapi history), plan_waves (10k synthetic), 10,000 tasks writing one file");
  const compute = await benchCompute();
  step("4. server start and idle memory (5 starts)");
  const start = await benchStartup();
  step("5. resource update latency across processes (40 commits)");
  const notify = await benchNotify();
  step("5b. change feed: another process's commit to the listener, watch vs poll (40 commits)");
  const feed = await benchChangeFeed();
  step("6. the PreToolUse hook process (40 runs each, 1,000 live locks)");
  const hook = await benchHook();
  step("7. the conflict radar: 8 branches, 28 merges, on the fastapi history");
  const radar = await benchRadar();
  step("8. store growth over 100,000 refused polls of one agent (twice)");
  const retention = await benchRetention();
  step("9. group commit: 16 agents' lock cycles in one process (2 x 2 s each way)");
  const group = await benchGroupCommit();
  const totalS = (performance.now() - t0) / 1000;

  const cp = compute.check_parallel;
  const pw = compute.plan_waves;
  const t = new Table({
    head: ["#", "figure", "measured", "floor (same run)", "floor", "ratio", "goal"],
    style: { head: [], border: [] },
  });
  t.push(
    [
      "1",
      "lock cycle in process: acquire + release of 1 write lock",
      `${fmt(lock.cycles_per_s, 0)} cycles/s`,
      "bare LMDB txn (get+put, same ENV_OPTIONS)",
      `${fmt(lock.floor_txn_per_s, 0)} txn/s`,
      fmt(lock.ratio_vs_single_txn),
      goal(lock.ratio_vs_single_txn >= 0.5, ">= 0.5"),
    ],
    [
      "1",
      "  same, against a floor cycle of 2 bare txns",
      `${fmt(lock.cycles_per_s, 0)} cycles/s`,
      "floor txn/s ÷ 2",
      `${fmt(lock.floor_txn_per_s / 2, 0)} cycles/s`,
      fmt(lock.ratio_vs_two_txn_cycle),
      "(info; 1.0 = no overhead)",
    ],
    [
      "1",
      "  wall time per call: acquire / release",
      `${fmt(lock.acquire_us, 0)} / ${fmt(lock.release_us, 0)} µs`,
      "one bare txn",
      `${fmt(lock.floor_txn_us, 0)} µs`,
      `${fmt(lock.acquire_us / lock.floor_txn_us)} / ${fmt(lock.release_us / lock.floor_txn_us)}`,
      "(info)",
    ],
    [
      "2",
      `acquire_lock over stdio, p50 (${stdio.calls} calls)`,
      `${fmt(stdio.acquire_p50_ms)} ms`,
      "server_info, same server, interleaved",
      `${fmt(stdio.server_info_p50_ms)} ms`,
      fmt(stdio.ratio_p50),
      goal(stdio.ratio_p50 <= 1.5, "<= 1.5"),
    ],
    [
      "2",
      "acquire_lock over stdio, p99",
      `${fmt(stdio.acquire_p99_ms)} ms`,
      "server_info p99",
      `${fmt(stdio.server_info_p99_ms)} ms`,
      fmt(stdio.ratio_p99),
      "(info)",
    ],
    [
      "2",
      "  acquire_lock p50 vs server_info + one bare txn",
      `${fmt(stdio.acquire_p50_ms)} ms`,
      "server_info p50 + bare txn p50 (interleaved)",
      `${fmt(stdio.server_info_p50_ms)} + ${fmt(stdio.bare_txn_p50_ms)} ms`,
      fmt(stdio.ratio_p50_vs_info_plus_txn),
      "(info; 1.0 = only the commit)",
    ],
    [
      "3",
      `check_parallel core, ${cp.tasks} real changes (median of 5)`,
      `${fmt(cp.core_ms, 1)} ms`,
      "input pass (normalise keys, key + id index)",
      `${fmt(cp.floor_ms, 1)} ms`,
      fmt(cp.ratio, 1),
      goal(cp.core_ms < cp.goal_ms, `< ${cp.goal_ms} ms`),
    ],
    [
      "3",
      "check_parallel over stdio (warm; cold in JSON)",
      `${fmt(cp.stdio_warm_ms, 1)} ms`,
      "check_parallel core",
      `${fmt(cp.core_ms, 1)} ms`,
      fmt(cp.stdio_ratio_vs_core),
      goal(cp.stdio_warm_ms < cp.goal_ms, `< ${cp.goal_ms} ms`),
    ],
    [
      "3",
      `plan_waves core, ${fmt(pw.features, 0)} features / ${fmt(pw.dependencies, 0)} deps (median of 3)`,
      `${fmt(pw.core_ms, 1)} ms`,
      "input pass (normalise keys, key + id index)",
      `${fmt(pw.floor_ms, 1)} ms`,
      fmt(pw.ratio, 1),
      goal(pw.core_ms < pw.goal_ms, `< ${pw.goal_ms} ms`),
    ],
    [
      "3",
      `check_parallel / plan_waves, ${fmt(compute.one_file.tasks, 0)} tasks writing one file (${fmt(compute.one_file.pairs, 0)} pairs)`,
      `${fmt(compute.one_file.check_parallel_ms, 0)} / ${fmt(compute.one_file.plan_waves_ms, 0)} ms`,
      "input pass",
      `${fmt(compute.one_file.floor_ms, 1)} ms`,
      `${fmt(compute.one_file.check_parallel_ratio, 0)} / ${fmt(compute.one_file.plan_waves_ratio, 0)}`,
      "(info; pairs grow as n², yields every 8 ms)",
    ],
    [
      "4",
      `server start to initialize answer (median of ${start.runs})`,
      `${fmt(start.connect_ms, 0)} ms`,
      'node -e "" spawn to exit',
      `${fmt(start.node_exit_ms, 0)} ms`,
      fmt(start.ratio, 1),
      goal(start.ratio <= 2, "<= 2"),
    ],
    [
      "4",
      `server start to the first tools/list answer (median of ${start.runs})`,
      `${fmt(start.ready_ms, 0)} ms`,
      'node -e "" spawn to exit',
      `${fmt(start.node_exit_ms, 0)} ms`,
      fmt(start.ready_ratio, 1),
      "(info; the SDK and every tool loaded)",
    ],
    [
      "4",
      "server idle RSS after connect + a few calls",
      `${fmt(start.idle_rss_mib, 1)} MiB`,
      "bare idle node",
      `${fmt(start.node_idle_rss_mib, 1)} MiB`,
      fmt(start.rss_ratio),
      "(info)",
    ],
    [
      "5",
      `resources/updated after another process's acquire/release call, p50 (${notify.samples})`,
      `${fmt(notify.latency_p50_ms)} ms`,
      "that commit's acquire_lock round trip p50",
      `${fmt(notify.acquire_p50_ms)} ms`,
      fmt(notify.ratio_p50, 1),
      goal(notify.latency_max_ms < 1000, "max < 1000 ms"),
    ],
    [
      "5b",
      `change feed: another process's store.write call to the listener, p50 (${feed.samples}; ${feed.mode}, reader-visible id)`,
      `${fmt(feed.watch.p50_ms)} ms`,
      `same commits, a feed polling every ${feed.poll_ms} ms`,
      `${fmt(feed.poll.p50_ms)} ms`,
      fmt(feed.ratio_p50, 3),
      goal(feed.watch.p50_ms < 20, "< 20 ms"),
    ],
    [
      "5b",
      "  same, p95",
      `${fmt(feed.watch.p95_ms)} ms`,
      "polling feed p95",
      `${fmt(feed.poll.p95_ms)} ms`,
      fmt(feed.watch.p95_ms / feed.poll.p95_ms, 3),
      "(info)",
    ],
    [
      "5b",
      "  same, against the commit itself",
      `${fmt(feed.watch.p50_ms)} ms`,
      "the writer's store.write p50, call to return",
      `${fmt(feed.commit_p50_ms)} ms`,
      fmt(feed.ratio_vs_commit),
      "(info; 1.0 = heard as the commit ends)",
    ],
    [
      "5b",
      "  listener calls whose read missed the commit: watch+visible id / watch+meta id / poll",
      `${feed.watch.stale_reads} / ${feed.watch_meta.stale_reads} / ${feed.poll.stale_reads}`,
      "commits",
      `${feed.samples}`,
      "",
      goal(feed.watch.stale_reads === 0, "0 with the visible id"),
    ],
    ...hookRows(hook, fmt),
    [
      "7",
      `radar: ${radar.branches} branches, ${radar.pairs} merge-tree merges (median of 3)`,
      `${fmt(radar.scan_ms, 0)} ms`,
      `${radar.pairs} x git rev-parse, 2 at a time`,
      `${fmt(radar.floor_ms, 0)} ms`,
      fmt(radar.ratio, 1),
      goal(radar.scan_ms < radar.goal_ms, `< ${radar.goal_ms} ms`),
    ],
    [
      "8",
      `store growth, ${fmt(retention.identical.polls, 0)} identical refused polls of one agent (folded)`,
      `${fmt(retention.identical.growth_bytes / 1024, 1)} KiB`,
      "the goal",
      "1,024 KiB",
      fmt(retention.identical.growth_bytes / (1024 * 1024)),
      goal(retention.identical.growth_bytes < 1024 * 1024, "< 1 MiB"),
    ],
    [
      "8",
      `  same, ${fmt(retention.differing.polls, 0)} differing refusals, log capped at ${fmt(retention.cap, 0)} entries`,
      `${fmt(retention.differing.growth_bytes / 1024, 0)} KiB`,
      `${fmt(retention.differing.entries, 0)} entries kept`,
      `${fmt(retention.bytes_per_entry, 0)} B/entry`,
      "",
      "(info; bounded by the cap)",
    ],
    [
      "9",
      `lock cycles/s, ${group.agents} agents in one process, group commit (${fmt(group.calls_per_commit, 1)} calls per commit)`,
      `${fmt(group.cycles_per_s, 0)}/s`,
      "bare get+put transactions, one after another",
      `${fmt(group.floor_txn_per_s, 0)}/s`,
      fmt(group.ratio_vs_floor),
      goal(group.ratio_vs_floor >= 3, ">= 3"),
    ],
    [
      "9",
      `  same, every call committed alone`,
      `${fmt(group.cycles_per_s_single, 0)}/s`,
      "same floor",
      `${fmt(group.floor_txn_per_s, 0)}/s`,
      fmt(group.ratio_single_vs_floor),
      "(info)",
    ],
  );

  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  console.log(
    `signalbox bench: node ${process.version}, ${os.cpus().length} CPU(s), ${os.platform()} ${os.release()}, temp dir ${os.tmpdir()}; ` +
      `load average at start ${load(loadStart)}, at end ${load(os.loadavg())} (other processes skew every figure; ratios are taken in the same run)`,
  );
  console.log(t.toString());
  console.log(
    [
      `1: ${lock.run_s} s per run, runs floor/subject/subject/floor (ABBA), median of 0.5 s windows; per-run medians: ` +
        lock.runs.map((r) => `${r.kind} ${fmt(r.per_s, 0)}/s`).join(", "),
      `2: acquire mean ${fmt(stdio.acquire_mean_ms)} ms, server_info mean ${fmt(stdio.server_info_mean_ms)} ms, ` +
        `release p50 ${fmt(stdio.release_p50_ms)} ms (untimed in the ratio); server RSS after ${stdio.calls * 3} calls ${fmt(stdio.rss_after_calls_mib, 1)} MiB`,
      `3: check_parallel: ${fmt(cp.pairs_total, 0)} pairs, ${fmt(cp.serialize_pairs, 0)} serialize, ${fmt(cp.converge_pairs, 0)} converge, ` +
        `${cp.groups} groups; runs ${cp.core_runs_ms.map((x) => fmt(x, 0)).join("/")} ms; stdio cold ${fmt(cp.stdio_cold_ms, 0)} ms, ` +
        `response ${fmt(cp.response_bytes / 1024, 0)} KiB`,
      `3: plan_waves: ${pw.waves} waves, ${fmt(pw.conflicts_total, 0)} conflicts, critical path ${pw.critical_path_length}, ` +
        `${fmt(pw.write_keys, 0)} writes + ${fmt(pw.read_keys, 0)} reads over ${fmt(pw.files_pool, 0)} files; runs ${pw.core_runs_ms.map((x) => fmt(x, 0)).join("/")} ms`,
      `4: start runs ${start.connect_runs_ms.map((x) => fmt(x, 0)).join("/")} ms; node importing the SDK server, lmdb, zod, commander, picomatch: ${fmt(start.node_import_deps_ms, 0)} ms to exit`,
      `5: latency p95 ${fmt(notify.latency_p95_ms)} ms, max ${fmt(notify.latency_max_ms)} ms, from B's answer p50 ${fmt(notify.after_answer_p50_ms)} ms ` +
        `(the server's feed watches the data file when the context gives it the file, else polls every ${notify.poll_ms} ms)`,
      `5b: max: watch ${fmt(feed.watch.max_ms)} ms, watch+meta id ${fmt(feed.watch_meta.max_ms)} ms (p50 ${fmt(feed.watch_meta.p50_ms)}), poll ${fmt(feed.poll.max_ms)} ms; ` +
        `from store.write returning to the watching listener p50 ${fmt(feed.watch_after_return_p50_ms)} ms; safety poll every ${feed.safety_poll_ms} ms while watching`,
      `7: ${radar.commits} commits, ${radar.files} files, ${radar.conflicting_pairs} of ${radar.pairs} pairs conflict; runs ${radar.scan_runs_ms.map((x) => fmt(x, 0)).join("/")} ms; repository built in ${fmt(radar.build_ms, 0)} ms (git fast-import)`,
      `8: poll ${fmt(retention.identical.poll_us, 0)} µs identical, ${fmt(retention.differing.poll_us, 0)} µs differing (pruning included); ` +
        `${fmt(retention.identical.entries, 0)} / ${fmt(retention.differing.entries, 0)} activity entries at the end`,
      `total ${fmt(totalS, 1)} s`,
    ].join("\n"),
  );
  const json = {
    node: process.version,
    cpus: os.cpus().length,
    total_s: totalS,
    loadavg_start: loadStart,
    loadavg_end: os.loadavg(),
    lock_cycle: lock,
    stdio,
    check_parallel: cp,
    plan_waves: pw,
    startup: start,
    notify,
    change_feed: feed,
    hook,
    radar,
    retention,
    group_commit: group,
  };
  console.log(`BENCH_JSON ${JSON.stringify(json)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
