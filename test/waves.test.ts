import fs from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig, type Config } from "../src/runtime/config.js";
import { DomainMap } from "../src/analysis/domains.js";
import { KeyError, keysOverlap } from "../src/paths.js";
import type { TaskSpec } from "../src/analysis/tasks.js";
import { planWaves, type WavePlanBody } from "../src/analysis/waves.js";

const ROOT = "/repo";
const protocol = (
  JSON.parse(fs.readFileSync(new URL("../examples/protocol-example.json", import.meta.url), "utf8")) as { features: TaskSpec[] }
).features;

const plan = (features: TaskSpec[], opts: { config?: Config; maxParallel?: number; name?: string } = {}): WavePlanBody =>
  planWaves(features, {
    root: ROOT,
    domains: new DomainMap(opts.config ?? defaultConfig()),
    ...(opts.maxParallel !== undefined ? { maxParallel: opts.maxParallel } : {}),
    ...(opts.name !== undefined ? { name: opts.name } : {}),
  });

const waveLists = (p: WavePlanBody): string[][] => p.waves.map((w) => w.features);

/** The protocol's own reading of its example (§1.2: files, schema, dependencies; a migration is an ordinary file). */
const protocolReading = (): Config => parseConfig({ defaults: { migrations: false } });

describe("planWaves on the protocol example", () => {
  it("puts auth first, then profile and posts together (read as the protocol does: well-known migrations off)", () => {
    const p = plan(protocol, { name: "example", config: protocolReading() });
    expect(p.name).toBe("example");
    expect(waveLists(p)).toEqual([["P1_user_auth"], ["P2_user_profile", "P3_posts"]]);
    expect(p.waves[0]).toEqual({ wave_number: 1, features: ["P1_user_auth"], prerequisites: [], can_parallelize: false, integration_point: false });
    expect(p.waves[1]).toMatchObject({ wave_number: 2, prerequisites: [1], can_parallelize: true, integration_point: false });
    expect(p.feature_count).toBe(3);
    expect(p.dependency_count).toBe(2);
    expect(p.critical_path).toEqual({ features: ["P1_user_auth", "P2_user_profile"], length: 2 });
    // Both pairs with auth conflict beyond the dependency (write_read; schema for profile).
    expect(p.conflicts_total).toBe(2);
    expect(p.conflicts[0]).toEqual({
      a: "P1_user_auth",
      b: "P2_user_profile",
      reasons: ["write_read", "schema", "dependency", "resource_contention"],
      order: "a_first",
      placed: "P1_user_auth in wave 1, P2_user_profile in wave 2",
    });
  });

  it("isolates posts once migrations are integration points, as they are without a config", () => {
    const configured = parseConfig({ defaults: { migrations: false }, integration_points: [{ pattern: "supabase/migrations/**", tag: "migration" }] });
    expect(waveLists(plan(protocol))).toEqual(waveLists(plan(protocol, { config: configured })));
    const p = plan(protocol);
    expect(waveLists(p)).toEqual([["P1_user_auth"], ["P2_user_profile"], ["P3_posts"]]);
    const posts = p.waves.find((w) => w.features.includes("P3_posts"));
    expect(posts).toMatchObject({ features: ["P3_posts"], integration_point: true, can_parallelize: false });
    expect(posts?.prerequisites).toEqual([1, 2]);
    expect(p.conflicts.map((c) => `${c.a}|${c.b}`)).toContain("P2_user_profile|P3_posts");
  });

  it("omits the name when none is given", () => {
    expect("name" in plan(protocol)).toBe(false);
  });
});

describe("planWaves validation", () => {
  it("names a dependency cycle in execution order", () => {
    const features: TaskSpec[] = [
      { id: "A", blocked_by: ["C"] },
      { id: "B", blocked_by: ["A"] },
      { id: "C", blocked_by: ["B"] },
      { id: "D" },
    ];
    expect(() => plan(features)).toThrow("features[0].blocked_by: dependency cycle: A -> B -> C -> A");
    expect(() => plan([{ id: "X", blocked_by: ["X"] }])).toThrow("dependency cycle: X -> X");
    expect(() =>
      plan([
        { id: "ok" },
        { id: "P", blocked_by: ["ok", "Q"] },
        { id: "Q", blocked_by: ["P"] },
      ]),
    ).toThrow("features[1].blocked_by: dependency cycle: P -> Q -> P");
  });

  it("names an unknown dependency and the feature naming it", () => {
    expect(() => plan([{ id: "A" }, { id: "B" }, { id: "C", blocked_by: ["A", "X"] }])).toThrow(
      'features[2].blocked_by: unknown feature "X" (named by feature "C")',
    );
  });

  it("refuses duplicate or empty ids, bad keys and bad max_parallel", () => {
    expect(() => plan([{ id: "A" }, { id: "A" }])).toThrow('features[1].id: duplicate id "A" (also features[0])');
    expect(() => plan([{ id: "" }])).toThrow("features[0].id: must be a non-empty string");
    expect(() => plan([{ id: "A", writes: ["../x"] }])).toThrow(KeyError);
    expect(() => plan([{ id: "A", writes: ["../x"] }])).toThrow(/^features\[0\]\.writes\[0\]: /);
    expect(() => plan([{ id: "A" }], { maxParallel: 0 })).toThrow(/max_parallel/);
    expect(() => plan([{ id: "A" }], { maxParallel: 1.5 })).toThrow(/max_parallel/);
  });

  it("plans an empty list", () => {
    expect(plan([])).toMatchObject({ waves: [], conflicts: [], conflicts_total: 0, critical_path: { features: [], length: 0 }, feature_count: 0 });
  });
});

describe("planWaves placement", () => {
  it("caps waves at max_parallel, critical path first", () => {
    const features: TaskSpec[] = [
      { id: "a" },
      { id: "b" },
      { id: "c" },
      { id: "d" },
      { id: "e", blocked_by: ["d"] },
    ];
    const p = plan(features, { maxParallel: 2 });
    // d heads the longest chain, so it is placed first.
    expect(waveLists(p)).toEqual([["a", "d"], ["b", "c"], ["e"]]);
    for (const w of p.waves) expect(w.features.length).toBeLessThanOrEqual(2);
  });

  it("places producers before consumers without a declared dependency", () => {
    const p = plan([
      { id: "reader", reads: ["src/api.ts"] },
      { id: "writer", writes: ["src/api.ts"] },
      { id: "other", writes: ["docs/x.md"] },
    ]);
    expect(waveLists(p)).toEqual([["writer", "other"], ["reader"]]);
    expect(p.conflicts[0]).toMatchObject({ a: "reader", b: "writer", order: "b_first", placed: "reader in wave 2, writer in wave 1" });
    expect(p.waves[1]?.prerequisites).toEqual([1]);
  });

  it("keeps a dependency's order when a flow points the other way (cycle falls back to blocked_by)", () => {
    const p = plan([
      { id: "A", reads: ["b.ts"] },
      { id: "B", writes: ["b.ts"], blocked_by: ["A"] },
    ]);
    expect(waveLists(p)).toEqual([["A"], ["B"]]);
  });

  it("breaks a cycle of flows deterministically and separates the features", () => {
    const features: TaskSpec[] = [
      { id: "A", writes: ["a.ts"], reads: ["c.ts"] },
      { id: "B", writes: ["b.ts"], reads: ["a.ts"] },
      { id: "C", writes: ["c.ts"], reads: ["b.ts"] },
    ];
    const p = plan(features);
    expect(p.waves).toHaveLength(3);
    expect(waveLists(p)).toEqual(waveLists(plan(features)));
    expect(p.conflicts_total).toBe(3);
  });

  it("separates features writing the same file, with directory keys too", () => {
    const p = plan([
      { id: "x", writes: ["app/"] },
      { id: "y", writes: ["app/page.tsx"] },
      { id: "z", writes: ["lib/z.ts"] },
    ]);
    expect(waveLists(p)).toEqual([["x", "z"], ["y"]]);
    expect(p.conflicts[0]).toMatchObject({ a: "x", b: "y", reasons: ["write_write"], order: "either" });
  });

  it("serializes a parallel:none domain and isolates integration points", () => {
    const config = parseConfig({
      domains: [{ pattern: "db/**", domain: "db", parallel: "none" }],
      integration_points: [{ pattern: "api/schema.ts", tag: "api_contract" }],
    });
    const p = plan(
      [
        { id: "m1", writes: ["db/001.sql"] },
        { id: "m2", writes: ["db/002.sql"] },
        { id: "ui", writes: ["web/page.tsx"] },
        { id: "contract", writes: ["api/schema.ts"] },
        { id: "late", writes: ["web/other.tsx"], blocked_by: ["m2"] },
      ],
      { config },
    );
    const waveOf = (id: string) => p.waves.findIndex((w) => w.features.includes(id));
    expect(waveOf("m1")).not.toBe(waveOf("m2"));
    const contract = p.waves[waveOf("contract")];
    expect(contract?.features).toEqual(["contract"]);
    expect(contract?.integration_point).toBe(true);
    expect(waveOf("late")).toBeGreaterThan(waveOf("m2"));
  });

  it("uses estimates for the critical path", () => {
    const p = plan([
      { id: "short", estimate: 1 },
      { id: "long1", estimate: 5 },
      { id: "long2", estimate: 2, blocked_by: ["long1"] },
      { id: "tail", estimate: 1, blocked_by: ["short"] },
    ]);
    expect(p.critical_path).toEqual({ features: ["long1", "long2"], length: 7 });
  });

  it("does not list pure dependencies as conflicts", () => {
    const p = plan([{ id: "A", writes: ["a.ts"] }, { id: "B", writes: ["b.ts"], blocked_by: ["A"] }]);
    expect(p.conflicts_total).toBe(0);
    expect(p.waves[1]?.prerequisites).toEqual([1]);
  });
});

describe("planWaves property: dependencies, caps and conflicts always hold", () => {
  it("holds for random DAGs", () => {
    const files = ["a.ts", "b.ts", "c.ts", "d/", "d/e.ts", "f.ts"];
    const featureArb = fc.record({
      deps: fc.uniqueArray(fc.nat(29), { maxLength: 3 }),
      writes: fc.uniqueArray(fc.constantFrom(...files), { maxLength: 2 }),
      reads: fc.uniqueArray(fc.constantFrom(...files), { maxLength: 2 }),
      tag: fc.integer({ min: 0, max: 7 }).map((x) => x === 0),
      estimate: fc.integer({ min: 0, max: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(featureArb, { minLength: 1, maxLength: 30 }),
        fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        (raw, maxParallel) => {
          const features: TaskSpec[] = raw.map((f, i) => ({
            id: `F${i}`,
            blocked_by: f.deps.filter((d) => d < i).map((d) => `F${d}`),
            writes: f.writes,
            reads: f.reads,
            estimate: f.estimate,
            ...(f.tag ? { tags: ["release"] } : {}),
          }));
          const p = plan(features, maxParallel !== undefined ? { maxParallel } : {});
          const waveOf = new Map<string, number>();
          for (const w of p.waves) for (const id of w.features) waveOf.set(id, w.wave_number);
          expect(waveOf.size).toBe(features.length);
          expect(p.waves.every((w) => w.features.length > 0)).toBe(true);
          for (const f of features) {
            for (const d of f.blocked_by ?? []) expect(waveOf.get(d) as number).toBeLessThan(waveOf.get(f.id) as number);
          }
          for (const w of p.waves) {
            if (maxParallel !== undefined) expect(w.features.length).toBeLessThanOrEqual(maxParallel);
            expect(w.can_parallelize).toBe(w.features.length > 1);
            const hasTag = w.features.some((id) => features.find((f) => f.id === id)?.tags !== undefined);
            if (hasTag) expect(w.features).toHaveLength(1);
            expect(w.prerequisites.every((x) => x < w.wave_number)).toBe(true);
          }
          const conflicting = (a: TaskSpec, b: TaskSpec): boolean => {
            const wa = a.writes ?? [];
            const wb = b.writes ?? [];
            const ra = (a.reads ?? []).filter((k) => !wa.includes(k));
            const rb = (b.reads ?? []).filter((k) => !wb.includes(k));
            return (
              a.tags !== undefined ||
              b.tags !== undefined ||
              wa.some((x) => wb.some((y) => keysOverlap(x, y)) || rb.some((y) => keysOverlap(x, y))) ||
              wb.some((x) => ra.some((y) => keysOverlap(x, y)))
            );
          };
          for (let i = 0; i < features.length; i++) {
            for (let j = i + 1; j < features.length; j++) {
              const a = features[i] as TaskSpec;
              const b = features[j] as TaskSpec;
              if (conflicting(a, b)) expect(waveOf.get(a.id), `${a.id}|${b.id}`).not.toBe(waveOf.get(b.id));
            }
          }
          // The critical path is a chain of order edges.
          expect(p.critical_path.features.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
