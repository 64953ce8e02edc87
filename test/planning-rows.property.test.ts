/**
 * The row-based planner (pairs computed per task on demand, never stored per
 * pair) gives exactly the answers of the planner it replaced (one stored entry
 * per pair, kept as the oracle in helpers/oracle/): same check_parallel report
 * and same wave plan, on random small task sets covering every reason
 * (identical keys, directory keys, reads, artifacts, tables, serialized
 * domains, resources, dependencies, integration points, merge conflicts),
 * `max_pairs` and `max_parallel` caps, and cyclic soft edges.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { DomainMap } from "../src/analysis/domains.js";
import { checkParallel, checkParallelSliced } from "../src/analysis/parallel.js";
import type { TaskSpec } from "../src/analysis/tasks.js";
import { MAX_WAVE_PREREQUISITES, planWaves, planWavesSliced } from "../src/analysis/waves.js";
import { checkParallel as oracleCheck } from "./helpers/oracle/parallel.js";
import { planWaves as oraclePlan } from "./helpers/oracle/waves.js";

const ROOT = "/repo";
const POOL = ["a/", "a/x.ts", "a/y.ts", "a/b/", "a/b/z.ts", "c.ts", "d/e.ts", "d/", "table:t1", "resource:r1"];
const config = parseConfig({
  domains: [{ pattern: "a/b/**", domain: "locked", parallel: "none" }],
  integration_points: [{ pattern: "d/e.ts", tag: "contract" }],
});

const keys = fc.uniqueArray(fc.constantFrom(...POOL), { maxLength: 3 });
const names = (pool: string[]) => fc.uniqueArray(fc.constantFrom(...pool), { maxLength: 2 });
const taskArb = fc.record({
  writes: keys,
  reads: keys,
  inputs: names(["p", "q", "r"]),
  outputs: names(["p", "q", "r"]),
  schema_changes: names(["users", "posts"]),
  shared_resources: names(["auth", "db"]),
  tags: fc.oneof({ weight: 6, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: names(["migration"]) }),
  deps: fc.uniqueArray(fc.nat(15), { maxLength: 3 }),
  domain: fc.option(fc.constantFrom("locked", "ui"), { nil: undefined }),
  estimate: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
});
const taskSet = fc.array(taskArb, { minLength: 1, maxLength: 14 });

type RawTasks = typeof taskSet extends fc.Arbitrary<infer T> ? T : never;

function toSpecs(raw: RawTasks): TaskSpec[] {
  return raw.map((t, i) => ({
    id: `T${i}`,
    writes: t.writes,
    reads: t.reads,
    inputs: t.inputs,
    outputs: t.outputs,
    schema_changes: t.schema_changes,
    shared_resources: t.shared_resources,
    tags: t.tags,
    blocked_by: t.deps.filter((d) => d < i).map((d) => `T${d}`),
    ...(t.domain !== undefined ? { domain: t.domain } : {}),
    ...(t.estimate !== undefined ? { estimate: t.estimate } : {}),
  }));
}

/** The result, or the error message, of a call. */
function outcome<T>(fn: () => T): T | { error: string } {
  try {
    return fn();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe("row-based planner against the per-pair planner it replaced", () => {
  it("check_parallel: identical reports (verdict, counts, pairs, groups, checkpoint)", () => {
    const mergeArb = fc.array(fc.tuple(fc.nat(15), fc.nat(15), names(["c.ts", "a/x.ts"])), { maxLength: 3 });
    fc.assert(
      fc.property(taskSet, mergeArb, fc.integer({ min: 0, max: 40 }), (raw, merges, maxPairs) => {
        const tasks = toSpecs(raw);
        const mergeConflicts = merges.map(([a, b, files]) => ({ a: `T${a}`, b: `T${b}`, files }));
        const opts = { root: ROOT, maxPairs, mergeConflicts };
        const got = outcome(() => checkParallel(tasks, { ...opts, domains: new DomainMap(config) }));
        const want = outcome(() => oracleCheck(tasks, { ...opts, domains: new DomainMap(config) }));
        expect(got).toEqual(want);
      }),
      { numRuns: 400 },
    );
  });

  it("plan_waves: identical plans (waves, prerequisites, conflicts, critical path)", () => {
    fc.assert(
      fc.property(taskSet, fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), (raw, maxParallel) => {
        const features = toSpecs(raw);
        const opts = { root: ROOT, ...(maxParallel !== undefined ? { maxParallel } : {}) };
        const got = outcome(() => planWaves(features, { ...opts, domains: new DomainMap(config) }));
        const want = outcome(() => oraclePlan(features, { ...opts, domains: new DomainMap(config) }));
        expect(got).toEqual(want);
      }),
      { numRuns: 400 },
    );
  });

  it("the sliced drivers give the same answers as the synchronous ones", async () => {
    await fc.assert(
      fc.asyncProperty(taskSet, async (raw) => {
        const tasks = toSpecs(raw);
        const domains = new DomainMap(config);
        expect(await checkParallelSliced(tasks, { root: ROOT, domains }, 0)).toEqual(checkParallel(tasks, { root: ROOT, domains }));
        expect(await planWavesSliced(tasks, { root: ROOT, domains }, 0)).toEqual(planWaves(tasks, { root: ROOT, domains }));
      }),
      { numRuns: 50 },
    );
  });

  it("agrees past the old dense-array size (2,500 sparse tasks, the per-pair map path)", () => {
    const tasks: TaskSpec[] = Array.from({ length: 2500 }, (_, i) => ({
      id: `T${i}`,
      writes: [`m${i % 97}/f${i % 389}.ts`],
      reads: [`m${(i * 7) % 97}/f${(i * 11) % 389}.ts`],
      ...(i > 3 && i % 5 === 0 ? { blocked_by: [`T${i - 3}`] } : {}),
    }));
    const domains = () => new DomainMap(parseConfig({}));
    expect(checkParallel(tasks, { root: ROOT, domains: domains(), maxPairs: 2000 })).toEqual(
      oracleCheck(tasks, { root: ROOT, domains: domains(), maxPairs: 2000 }),
    );
    expect(planWaves(tasks, { root: ROOT, domains: domains() })).toEqual(oraclePlan(tasks, { root: ROOT, domains: domains() }));
  });

  it("a wave following more than MAX_WAVE_PREREQUISITES waves lists the latest ones and counts the rest", () => {
    const n = MAX_WAVE_PREREQUISITES + 30;
    const features: TaskSpec[] = Array.from({ length: n }, (_, i) => ({ id: `F${i}`, writes: ["one.ts"] }));
    const plan = planWaves(features, { root: ROOT, domains: new DomainMap(parseConfig({})) });
    const oracle = oraclePlan(features, { root: ROOT, domains: new DomainMap(parseConfig({})) });
    expect(plan.waves.map((w) => w.features)).toEqual(oracle.waves.map((w) => w.features));
    const last = plan.waves[n - 1];
    const full = oracle.waves[n - 1]?.prerequisites ?? [];
    expect(full).toHaveLength(n - 1);
    expect(last?.prerequisites).toEqual(full.slice(-MAX_WAVE_PREREQUISITES));
    expect(last?.prerequisites_omitted).toBe(n - 1 - MAX_WAVE_PREREQUISITES);
    expect(plan.waves[5]?.prerequisites_omitted).toBeUndefined();
  });
});
