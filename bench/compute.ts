/**
 * Section 3: the two computations an orchestrator waits on.
 * - check_parallel over all changes of the real fastapi-template history with
 *   its domain map (core function, and once through the stdio client);
 * - plan_waves over a seeded synthetic DAG of 10,000 features / 30,000 edges;
 * - both over 10,000 tasks that all write one file (50 million conflicting
 *   pairs, computed as pair rows; printed as its own line).
 * Floor: one trivial pass over the same input (normalise every key, build the
 * key -> writers/readers index and the id index, resolve every blocked_by).
 */
import fs from "node:fs";
import path from "node:path";
import { parseConfig, defaultConfig } from "../src/runtime/config.js";
import { DomainMap } from "../src/analysis/domains.js";
import { checkParallel } from "../src/analysis/parallel.js";
import { normalizeKeys } from "../src/paths.js";
import type { TaskSpec } from "../src/analysis/tasks.js";
import { planWaves } from "../src/analysis/waves.js";
import { EXAMPLES, median, prng, startServer, tempDir, timeSync } from "./lib.js";

export interface ComputeResult {
  check_parallel: {
    tasks: number;
    pairs_total: number;
    serialize_pairs: number;
    converge_pairs: number;
    groups: number;
    core_ms: number;
    core_runs_ms: number[];
    floor_ms: number;
    ratio: number;
    goal_ms: number;
    stdio_cold_ms: number;
    stdio_warm_ms: number;
    stdio_ratio_vs_core: number;
    response_bytes: number;
  };
  plan_waves: {
    features: number;
    dependencies: number;
    files_pool: number;
    write_keys: number;
    read_keys: number;
    waves: number;
    conflicts_total: number;
    critical_path_length: number;
    core_ms: number;
    core_runs_ms: number[];
    floor_ms: number;
    ratio: number;
    goal_ms: number;
  };
  one_file: OneFileResult;
}

/** check_parallel and plan_waves over `tasks` tasks that all write one file. */
export interface OneFileResult {
  tasks: number;
  pairs: number;
  check_parallel_ms: number;
  plan_waves_ms: number;
  waves: number;
  floor_ms: number;
  check_parallel_ratio: number;
  plan_waves_ratio: number;
}

/**
 * The clique case: `n` tasks writing one file, once each through the core
 * check_parallel and plan_waves (one run each: seconds, not milliseconds),
 * against the input-pass floor (median of 3).
 */
export function benchOneFile(root: string, n = 10_000): OneFileResult {
  const tasks: TaskSpec[] = Array.from({ length: n }, (_, i) => ({ id: `T${i}`, writes: ["app/shared.ts"] }));
  const floor: number[] = [];
  for (let r = 0; r < 3; r++) floor.push(timeSync(() => inputPass(tasks, root)).ms);
  const defaults = defaultConfig();
  const cp = timeSync(() => checkParallel(tasks, { root, domains: new DomainMap(defaults) }));
  const pw = timeSync(() => planWaves(tasks, { root, domains: new DomainMap(defaults) }));
  const floorMs = median(floor);
  return {
    tasks: n,
    pairs: cp.value.summary.serialize_pairs,
    check_parallel_ms: cp.ms,
    plan_waves_ms: pw.ms,
    waves: pw.value.waves.length,
    floor_ms: floorMs,
    check_parallel_ratio: cp.ms / floorMs,
    plan_waves_ratio: pw.ms / floorMs,
  };
}

/** The trivial pass used as floor: what any implementation must at least do with the input. */
export function inputPass(tasks: readonly TaskSpec[], root: string): number {
  const byId = new Map<string, number>();
  tasks.forEach((t, i) => byId.set(t.id, i));
  const index = new Map<string, { w: number[]; r: number[] }>();
  let edges = 0;
  tasks.forEach((t, i) => {
    for (const k of normalizeKeys(t.writes ?? [], root, "writes")) {
      let e = index.get(k);
      if (!e) index.set(k, (e = { w: [], r: [] }));
      e.w.push(i);
    }
    for (const k of normalizeKeys(t.reads ?? [], root, "reads")) {
      let e = index.get(k);
      if (!e) index.set(k, (e = { w: [], r: [] }));
      e.r.push(i);
    }
    for (const dep of t.blocked_by ?? []) {
      if (byId.get(dep) === undefined) throw new Error(`unknown ${dep}`);
      edges++;
    }
  });
  return index.size + edges;
}

/** 10,000 features, exactly 30,000 blocked_by edges to earlier features, writes/reads from a pool of files. */
export function syntheticFeatures(
  n = 10_000,
  deps = 30_000,
  pool = 20_000,
  seed = 20260101,
): { features: TaskSpec[]; writeKeys: number; readKeys: number } {
  const rnd = prng(seed);
  const int = (k: number) => Math.floor(rnd() * k);
  const file = (k: number) => `pkg${k % 20}/mod${Math.floor(k / 20) % 50}/f${k}.ts`;
  const id = (i: number) => `F${String(i).padStart(5, "0")}`;
  const depSets: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  let total = 0;
  for (let i = 1; i < n; i++) {
    const want = Math.min(i, 3);
    while ((depSets[i] as Set<number>).size < want) (depSets[i] as Set<number>).add(int(i));
    total += want;
  }
  while (total < deps) {
    const i = 4 + int(n - 4);
    const s = depSets[i] as Set<number>;
    const before = s.size;
    s.add(int(i));
    total += s.size - before;
  }
  let writeKeys = 0;
  let readKeys = 0;
  const features = depSets.map((s, i): TaskSpec => {
    const writes = Array.from({ length: 1 + int(4) }, () => file(int(pool)));
    const reads = Array.from({ length: int(3) }, () => file(int(pool)));
    writeKeys += writes.length;
    readKeys += reads.length;
    return { id: id(i), writes, reads, blocked_by: [...s].sort((a, b) => a - b).map(id) };
  });
  return { features, writeKeys, readKeys };
}

export async function benchCompute(): Promise<ComputeResult> {
  const root = tempDir("signalbox-bench-root-");
  const store = tempDir("signalbox-bench-store-");
  try {
    // --- check_parallel over the real history ---
    const history = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "fastapi-template-history.json"), "utf8")) as {
      tasks: { id: string; writes?: string[] }[];
    };
    const configJson: unknown = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "fastapi-template.signalbox.json"), "utf8"));
    const tasks: TaskSpec[] = history.tasks.map((t) => ({ id: t.id, writes: t.writes ?? [] }));
    const config = parseConfig(configJson);
    const cpRuns: number[] = [];
    const cpFloor: number[] = [];
    let report: ReturnType<typeof checkParallel> | undefined;
    for (let r = 0; r < 5; r++) {
      cpFloor.push(timeSync(() => inputPass(tasks, root.dir)).ms);
      const domains = new DomainMap(config); // fresh per run: its key cache starts cold, as on a first request
      const t = timeSync(() => checkParallel(tasks, { root: root.dir, domains }));
      cpRuns.push(t.ms);
      report = t.value;
    }
    if (!report) throw new Error("no check_parallel report");

    // Once through the stdio client (cold = first request of the server, warm = second).
    fs.writeFileSync(path.join(root.dir, "signalbox.config.json"), JSON.stringify(configJson));
    const s = await startServer(root.dir, store.dir);
    let coldMs: number;
    let warmMs: number;
    let bytes: number;
    try {
      let t0 = performance.now();
      await s.call("check_parallel", { tasks });
      coldMs = performance.now() - t0;
      t0 = performance.now();
      const r = await s.client.callTool({ name: "check_parallel", arguments: { tasks } }, undefined, { timeout: 120_000 });
      warmMs = performance.now() - t0;
      bytes = Buffer.byteLength(JSON.stringify(r));
    } finally {
      await s.close();
    }

    // --- plan_waves over the synthetic DAG ---
    const syn = syntheticFeatures();
    const dependencies = syn.features.reduce((a, f) => a + (f.blocked_by?.length ?? 0), 0);
    const pwRuns: number[] = [];
    const pwFloor: number[] = [];
    let plan: ReturnType<typeof planWaves> | undefined;
    const defaults = defaultConfig();
    for (let r = 0; r < 3; r++) {
      pwFloor.push(timeSync(() => inputPass(syn.features, root.dir)).ms);
      const domains = new DomainMap(defaults);
      const t = timeSync(() => planWaves(syn.features, { root: root.dir, domains }));
      pwRuns.push(t.ms);
      plan = t.value;
    }
    if (!plan) throw new Error("no plan");

    // --- the clique: 10,000 tasks writing one file ---
    const oneFile = benchOneFile(root.dir);
    console.log(
      `3: one file, ${oneFile.tasks} tasks (${oneFile.pairs} pairs): check_parallel ${oneFile.check_parallel_ms.toFixed(0)} ms ` +
        `(${oneFile.check_parallel_ratio.toFixed(0)}x floor), plan_waves ${oneFile.plan_waves_ms.toFixed(0)} ms ` +
        `(${oneFile.plan_waves_ratio.toFixed(0)}x floor, ${oneFile.waves} waves); floor ${oneFile.floor_ms.toFixed(2)} ms`,
    );

    const cpMs = median(cpRuns);
    const cpFloorMs = median(cpFloor);
    const pwMs = median(pwRuns);
    const pwFloorMs = median(pwFloor);
    return {
      check_parallel: {
        tasks: tasks.length,
        pairs_total: report.summary.pairs_total,
        serialize_pairs: report.summary.serialize_pairs,
        converge_pairs: report.summary.converge_pairs,
        groups: report.groups.length,
        core_ms: cpMs,
        core_runs_ms: cpRuns,
        floor_ms: cpFloorMs,
        ratio: cpMs / cpFloorMs,
        goal_ms: 1000,
        stdio_cold_ms: coldMs,
        stdio_warm_ms: warmMs,
        stdio_ratio_vs_core: warmMs / cpMs,
        response_bytes: bytes,
      },
      plan_waves: {
        features: syn.features.length,
        dependencies,
        files_pool: 20_000,
        write_keys: syn.writeKeys,
        read_keys: syn.readKeys,
        waves: plan.waves.length,
        conflicts_total: plan.conflicts_total,
        critical_path_length: plan.critical_path.length,
        core_ms: pwMs,
        core_runs_ms: pwRuns,
        floor_ms: pwFloorMs,
        ratio: pwMs / pwFloorMs,
        goal_ms: 1000,
      },
      one_file: oneFile,
    };
  } finally {
    root.cleanup();
    store.cleanup();
  }
}
