import fs from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig, type Config } from "../src/runtime/config.js";
import { DomainMap } from "../src/analysis/domains.js";
import { checkParallel, type ParallelReport } from "../src/analysis/parallel.js";
import { KeyError, keysOverlap, normalizeKey } from "../src/paths.js";
import { REASON_TYPES } from "../src/analysis/reasons.js";
import { isCanonicalKey } from "../src/analysis/task-input.js";
import type { PairOrder, PairResult, ReasonType, TaskSpec } from "../src/analysis/tasks.js";

const ROOT = "/repo";
const readJson = (name: string): unknown =>
  JSON.parse(fs.readFileSync(new URL(`../examples/${name}`, import.meta.url), "utf8"));
const protocol = (readJson("protocol-example.json") as { features: TaskSpec[] }).features;
const fastapiConfig = (): Config => parseConfig(readJson("fastapi-template.signalbox.json"));
const migrationConfig = (): Config =>
  parseConfig({ defaults: { migrations: false }, integration_points: [{ pattern: "supabase/migrations/**", tag: "migration" }] });
/**
 * The protocol's own reading of its worked example (§1.2 checks files,
 * schema and dependencies only): P3's migration is an ordinary file there.
 */
const protocolReading = (): Config => parseConfig({ defaults: { migrations: false } });

const check = (tasks: TaskSpec[], config: Config = defaultConfig(), maxPairs?: number): ParallelReport =>
  checkParallel(tasks, { root: ROOT, domains: new DomainMap(config), ...(maxPairs !== undefined ? { maxPairs } : {}) });

const pairOf = (report: ParallelReport, a: string, b: string): PairResult | undefined =>
  report.pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));

const reasonOf = (pair: PairResult | undefined, type: ReasonType) => pair?.reasons.find((r) => r.type === type);

describe("checkParallel on the protocol example, read as the protocol does (well-known migrations off)", () => {
  const report = check(protocol, protocolReading());

  it("serializes auth before profile: dependency, write_read on auth.ts, schema on profiles", () => {
    const p = pairOf(report, "P1_user_auth", "P2_user_profile");
    expect(p?.verdict).toBe("SERIALIZE");
    expect(p?.order).toBe("a_first");
    expect(p?.reasons.map((r) => r.type)).toEqual(["write_read", "schema", "dependency", "resource_contention"]);
    expect(reasonOf(p, "write_read")).toMatchObject({ keys: ["app/actions/auth.ts"], key_count: 1, order: "a_first" });
    expect(reasonOf(p, "schema")).toMatchObject({ keys: ["profiles"], severity: "CRITICAL", order: "either" });
    expect(reasonOf(p, "dependency")).toMatchObject({ keys: ["P1_user_auth"], order: "a_first" });
    expect(p?.same_domain).toBe(true); // both touch app/
  });

  it("lets profile and posts run in parallel with a resource_contention warning", () => {
    const p = pairOf(report, "P2_user_profile", "P3_posts");
    expect(p?.verdict).toBe("PARALLEL");
    expect(p?.order).toBe("none");
    expect(p?.reasons).toEqual([
      { type: "resource_contention", severity: "WARNING", keys: ["supabase_auth"], key_count: 1, order: "none" },
    ]);
  });

  it("summarises, sorts the pairs and groups auth first", () => {
    expect(report.verdict).toBe("SERIALIZE");
    expect(report.summary).toMatchObject({
      tasks: 3,
      pairs_total: 3,
      parallel_pairs: 1,
      serialize_pairs: 2,
      converge_pairs: 0,
      warning_pairs: 3,
    });
    expect(Object.keys(report.summary.by_reason).sort()).toEqual([...REASON_TYPES].sort());
    expect(report.summary.by_reason).toMatchObject({ dependency: 2, write_read: 2, schema: 1, resource_contention: 3, same_file: 0 });
    expect(report.pairs.map((p) => `${p.a}|${p.b}:${p.verdict}`)).toEqual([
      "P1_user_auth|P2_user_profile:SERIALIZE",
      "P1_user_auth|P3_posts:SERIALIZE",
      "P2_user_profile|P3_posts:PARALLEL",
    ]);
    expect(report.pairs_truncated).toBe(0);
    expect(report.groups).toEqual([["P1_user_auth"], ["P2_user_profile", "P3_posts"]]);
    expect(report.tasks[0]).toEqual({ id: "P1_user_auth", domains: ["app", "(root)", "supabase"], integration_tags: [], integration_point: false });
  });

  it("emits the S2 pre-parallel checkpoint", () => {
    const shared = report.checkpoint.shared_files;
    expect(shared.map((s) => s.key)).toEqual(["app/actions/auth.ts"]);
    expect(shared[0]).toMatchObject({ writers: ["P1_user_auth"], readers: ["P2_user_profile", "P3_posts"], writer_count: 1, reader_count: 2 });
    expect(report.checkpoint.anticipated_conflicts[0]).toEqual({
      tasks: ["P1_user_auth", "P2_user_profile"],
      sequencing: "P1_user_auth before P2_user_profile (write_read, schema, dependency)",
    });
    const lines = report.checkpoint.text.split("\n");
    expect(lines[0]).toBe("**S2 Pre-Parallel Check**:");
    expect(lines.slice(1).map((l) => l.split(":")[0])).toEqual([
      "- Shared files",
      "- Shared interfaces",
      "- Conventions",
      "- Anticipated conflicts",
    ]);
    expect(lines[1]).toContain("app/actions/auth.ts");
    expect(lines[2]).toBe("- Shared interfaces: none");
  });
});

describe("checkParallel with integration points", () => {
  it("makes a task touching a migration an integration point that converges and stands alone", () => {
    const report = check(protocol, migrationConfig());
    expect(report.verdict).toBe("CONVERGE");
    const posts = report.tasks.find((t) => t.id === "P3_posts");
    expect(posts).toMatchObject({ integration_point: true, integration_tags: ["migration"] });
    const p23 = pairOf(report, "P2_user_profile", "P3_posts");
    expect(p23?.verdict).toBe("CONVERGE");
    expect(p23?.order).toBe("b_first"); // the integration point first
    expect(reasonOf(p23, "integration_point")).toMatchObject({ keys: ["migration"], order: "b_first" });
    // P1 also writes a migration: both are integration points, the dependency gives the order.
    const p13 = pairOf(report, "P1_user_auth", "P3_posts");
    expect(reasonOf(p13, "integration_point")?.order).toBe("either");
    expect(p13?.order).toBe("a_first");
    for (const g of report.groups) if (g.includes("P3_posts")) expect(g).toEqual(["P3_posts"]);
    expect(report.groups.flat().sort()).toEqual(["P1_user_auth", "P2_user_profile", "P3_posts"]);
    expect(report.pairs[0]?.verdict).toBe("CONVERGE");
    expect(report.checkpoint.text).toContain("integration point P1_user_auth [migration]");
  });

  it("without a config, the well-known migration folder does the same, and the migrations domain serializes", () => {
    const report = check(protocol);
    const posts = report.tasks.find((t) => t.id === "P3_posts");
    expect(posts).toMatchObject({ integration_point: true, integration_tags: ["migration"] });
    expect(posts?.domains).toContain("migrations");
    const p23 = pairOf(report, "P2_user_profile", "P3_posts");
    expect(p23?.verdict).toBe("CONVERGE");
    expect(reasonOf(p23, "integration_point")).toMatchObject({ keys: ["migration"], order: "b_first" });
    expect(reasonOf(pairOf(report, "P1_user_auth", "P3_posts"), "serialized_domain")?.keys).toEqual(["migrations"]);
    for (const g of report.groups) if (g.includes("P3_posts")) expect(g).toEqual(["P3_posts"]);
  });

  it("without a config, serializes two new migrations and two lockfile writers, and converges on a contract change", () => {
    const report = check([
      { id: "users", writes: ["db/migrations/0007_users.sql", "app/users.py"] },
      { id: "orders", writes: ["db/migrations/0008_orders.sql", "app/orders.py"] },
      { id: "dep_a", writes: ["web/package-lock.json", "web/a.ts"] },
      { id: "dep_b", writes: ["web/package-lock.json", "web/b.ts"] },
      { id: "docs", writes: ["docs/intro.md"] },
    ]);
    const users = pairOf(report, "users", "orders");
    expect(users?.verdict).not.toBe("PARALLEL");
    expect(reasonOf(users, "serialized_domain")?.keys).toEqual(["migrations"]);
    expect(reasonOf(users, "integration_point")?.keys).toEqual(["migration"]);
    expect(reasonOf(pairOf(report, "dep_a", "dep_b"), "serialized_domain")?.keys).toEqual(["lockfiles"]);
    expect(report.groups.find((g) => g.includes("docs"))?.length).toBeGreaterThan(1);
    const contract = check([{ id: "api", writes: ["openapi.json"] }, { id: "ui", writes: ["web/page.tsx"] }]);
    expect(pairOf(contract, "api", "ui")?.verdict).toBe("CONVERGE");
    expect(contract.tasks[0]).toMatchObject({ integration_point: true, integration_tags: ["api_contract"] });
    const off = check([{ id: "api", writes: ["openapi.json"] }, { id: "ui", writes: ["web/page.tsx"] }], parseConfig({ defaults: { contracts: false } }));
    expect(off.verdict).toBe("PARALLEL");
    expect(off.groups).toEqual([["api", "ui"]]);
  });

  it("treats explicit tags as integration points", () => {
    const report = check([
      { id: "a", writes: ["x.ts"] },
      { id: "b", writes: ["y.ts"], tags: ["release"] },
      { id: "c", writes: ["z.ts"] },
    ]);
    expect(report.verdict).toBe("CONVERGE");
    expect(report.summary.converge_pairs).toBe(2);
    expect(report.groups).toEqual([["b"], ["a", "c"]]);
  });
});

describe("checkParallel pair rules", () => {
  it("finds write_write through a directory key and write_read both ways", () => {
    const report = check([
      { id: "A", writes: ["app/"] },
      { id: "B", writes: ["app/x.ts"] },
      { id: "C", reads: ["app/y.ts"] },
      { id: "D", reads: ["app/"] },
      { id: "E", reads: ["app/x.ts", "lib/a.ts"] },
      { id: "F", reads: ["lib/a.ts"] },
    ]);
    const ab = pairOf(report, "A", "B");
    expect(ab?.reasons.map((r) => r.type)).toEqual(["write_write"]);
    expect(reasonOf(ab, "write_write")?.keys).toEqual(["app/x.ts"]);
    expect(ab?.order).toBe("either");
    expect(pairOf(report, "A", "C")).toMatchObject({ verdict: "SERIALIZE", order: "a_first" });
    expect(reasonOf(pairOf(report, "B", "D"), "write_read")).toMatchObject({ keys: ["app/x.ts"], order: "a_first" });
    expect(reasonOf(pairOf(report, "A", "D"), "write_read")?.keys).toEqual(["app/"]);
    expect(pairOf(report, "B", "E")?.order).toBe("a_first");
    // Read-read is fine.
    expect(pairOf(report, "C", "D")).toBeUndefined();
    expect(pairOf(report, "E", "F")).toBeUndefined();
    expect(pairOf(report, "B", "C")).toBeUndefined();
  });

  it("puts the writer first when the reader comes first in the input", () => {
    const report = check([
      { id: "reader", reads: ["src/a.ts"] },
      { id: "writer", writes: ["src/a.ts"] },
    ]);
    expect(report.pairs[0]).toMatchObject({ a: "reader", b: "writer", order: "b_first" });
    expect(report.groups).toEqual([["writer"], ["reader"]]);
  });

  it("flags the same file even across domains (domains only route)", () => {
    const config = parseConfig({
      domains: [
        { pattern: "shared/util.ts", domain: "platform" },
        { pattern: "web/**", domain: "frontend" },
      ],
    });
    const report = check(
      [
        { id: "api", writes: ["shared/util.ts", "api/x.ts"] },
        { id: "web", writes: ["web/y.ts", "./shared//util.ts"], domain: "frontend" },
      ],
      config,
    );
    const p = pairOf(report, "api", "web");
    expect(p?.verdict).toBe("SERIALIZE");
    expect(reasonOf(p, "same_file")?.keys).toEqual(["shared/util.ts"]);
    expect(p?.same_domain).toBe(true); // web also touches platform through shared/util.ts
    const separate = check(
      [
        { id: "a", writes: ["api/x.ts"] },
        { id: "b", writes: ["web/y.ts"] },
      ],
      config,
    );
    expect(separate.verdict).toBe("PARALLEL");
    expect(separate.pairs).toEqual([]);
  });

  it("orders data flow, detects schema clashes and treats table names alike", () => {
    const report = check([
      { id: "consumer", inputs: ["report.csv"] },
      { id: "producer", outputs: ["report.csv"] },
      { id: "s1", schema_changes: ["users"] },
      { id: "s2", schema_changes: ["table:users", "posts"] },
    ]);
    expect(pairOf(report, "consumer", "producer")).toMatchObject({ verdict: "SERIALIZE", order: "b_first" });
    expect(reasonOf(pairOf(report, "consumer", "producer"), "data_flow")?.keys).toEqual(["report.csv"]);
    expect(reasonOf(pairOf(report, "s1", "s2"), "schema")?.keys).toEqual(["users"]);
  });

  it("gives `either` when directional reasons disagree", () => {
    const report = check([
      { id: "A", outputs: ["a"], inputs: ["b"] },
      { id: "B", outputs: ["b"], inputs: ["a"] },
    ]);
    const p = pairOf(report, "A", "B");
    expect(p?.order).toBe("either");
    expect(reasonOf(p, "data_flow")?.order).toBe("either");
    expect(report.groups).toEqual([["A"], ["B"]]);
  });

  it("breaks a cycle of order edges deterministically and still separates the tasks", () => {
    const tasks: TaskSpec[] = [
      { id: "A", writes: ["a.ts"], reads: ["c.ts"] },
      { id: "B", writes: ["b.ts"], reads: ["a.ts"] },
      { id: "C", writes: ["c.ts"], reads: ["b.ts"] },
      { id: "D", writes: ["d.ts"] },
    ];
    const report = check(tasks);
    expect(report.groups.flat().sort()).toEqual(["A", "B", "C", "D"]);
    for (const g of report.groups) expect(g.filter((x) => x !== "D").length).toBeLessThanOrEqual(1);
    expect(check(tasks).groups).toEqual(report.groups);
  });

  it("follows dependencies transitively and says through which task", () => {
    const report = check([
      { id: "A", writes: ["a.ts"] },
      { id: "B", writes: ["b.ts"], blocked_by: ["A"] },
      { id: "C", writes: ["c.ts"], blocked_by: ["B"] },
    ]);
    const ac = pairOf(report, "A", "C");
    expect(ac).toMatchObject({ verdict: "SERIALIZE", order: "a_first" });
    expect(reasonOf(ac, "dependency")?.keys).toEqual(["A (via B)"]);
    expect(report.groups).toEqual([["A"], ["B"], ["C"]]);
  });

  it("stays silent on tasks the protocol lets run side by side", () => {
    // Read-read on one file, one domain with different files, different tables,
    // disjoint artifacts, no tags, no shared resources: no reason may fire.
    const report = check(
      [
        { id: "a", reads: ["lib/shared.ts"], writes: ["app/a.ts"], outputs: ["a.json"], schema_changes: ["posts"] },
        { id: "b", reads: ["lib/shared.ts"], writes: ["app/b.ts"], inputs: ["c.json"], schema_changes: ["profiles"] },
        { id: "c", reads: ["lib/"], writes: ["docs/c.md"], shared_resources: ["mailer"] },
      ],
      fastapiConfig(),
    );
    expect(report.verdict).toBe("PARALLEL");
    expect(report.pairs).toEqual([]);
    expect(report.summary.parallel_pairs).toBe(3);
    expect(Object.values(report.summary.by_reason).every((n) => n === 0)).toBe(true);
    expect(report.groups).toEqual([["a", "b", "c"]]);
    expect(report.checkpoint.shared_files).toEqual([]);
  });

  it("serializes tasks writing into a parallel:none domain", () => {
    const report = check(
      [
        { id: "m1", writes: ["backend/app/alembic/versions/001.py"] },
        { id: "m2", writes: ["backend/app/alembic/env.py"] },
        { id: "api", writes: ["backend/app/api/routes/items.py"] },
        { id: "reader", reads: ["backend/app/alembic/env.py"] },
      ],
      fastapiConfig(),
    );
    const p = pairOf(report, "m1", "m2");
    expect(reasonOf(p, "serialized_domain")?.keys).toEqual(["migrations"]);
    expect(p?.verdict).toBe("CONVERGE"); // m1 writes a migration version: integration point
    expect(reasonOf(pairOf(report, "m2", "reader"), "serialized_domain")).toBeUndefined();
    expect(reasonOf(pairOf(report, "m2", "api"), "serialized_domain")).toBeUndefined();
    expect(report.summary.by_reason.serialized_domain).toBe(1);
  });

  it("lists CONVERGE, SERIALIZE, then warnings, and truncates at maxPairs", () => {
    const tasks: TaskSpec[] = [
      { id: "w1", shared_resources: ["db"] },
      { id: "w2", shared_resources: ["resource:db"] },
      { id: "s1", writes: ["f.ts"] },
      { id: "s2", writes: ["f.ts"] },
      { id: "ip", tags: ["release"] },
    ];
    const full = check(tasks);
    expect(full.pairs.map((p) => p.verdict)).toEqual([...Array<string>(4).fill("CONVERGE"), "SERIALIZE", "PARALLEL"]);
    expect(full.pairs.at(-1)).toMatchObject({ a: "w1", b: "w2", order: "none" });
    const cut = check(tasks, defaultConfig(), 2);
    expect(cut.pairs).toHaveLength(2);
    expect(cut.pairs_truncated).toBe(4);
    expect(cut.summary.converge_pairs).toBe(4);
  });

  it("keeps at most 10 keys per reason with the full count", () => {
    const files = Array.from({ length: 25 }, (_, i) => `src/f${String(i).padStart(2, "0")}.ts`);
    const report = check([
      { id: "a", writes: files },
      { id: "b", writes: [...files].reverse() },
    ]);
    const r = reasonOf(report.pairs[0], "same_file");
    expect(r?.key_count).toBe(25);
    expect(r?.keys).toEqual(files.slice(0, 10));
  });

  it("handles one task and no tasks", () => {
    expect(check([{ id: "solo", writes: ["a.ts"] }])).toMatchObject({ verdict: "PARALLEL", groups: [["solo"]] });
    expect(check([])).toMatchObject({ verdict: "PARALLEL", groups: [], pairs: [] });
  });
});

describe("checkParallel errors name the field", () => {
  const keyError = (tasks: TaskSpec[]): unknown => {
    try {
      check(tasks);
    } catch (err) {
      return err;
    }
    return undefined;
  };

  it("refuses bad keys", () => {
    const nul = keyError([{ id: "a" }, { id: "b", writes: ["ok.ts", "bad\0.ts"] }]);
    expect(nul).toBeInstanceOf(KeyError);
    expect((nul as KeyError).field).toBe("tasks[1].writes[1]");
    expect((nul as Error).message).toMatch(/^tasks\[1\]\.writes\[1\]: contains a NUL byte/);
    expect(() => check([{ id: "a", reads: ["../x"] }])).toThrow(/^tasks\[0\]\.reads\[0\]: .*leaves the project root/);
    expect(() => check([{ id: "a", writes: [""] }])).toThrow(/^tasks\[0\]\.writes\[0\]: is empty/);
    expect(() => check([{ id: "a", writes: ["/elsewhere/x.ts"] }])).toThrow(/tasks\[0\]\.writes\[0\]: .*outside the project root/);
  });

  it("refuses duplicate and empty ids", () => {
    expect(() => check([{ id: "a" }, { id: "b" }, { id: "a" }])).toThrow('tasks[2].id: duplicate id "a" (also tasks[0])');
    expect(() => check([{ id: " " }])).toThrow("tasks[0].id: must be a non-empty string");
  });

  it("refuses unknown blockers, cycles and bad options", () => {
    expect(() => check([{ id: "a" }, { id: "b", blocked_by: ["a", "zz"] }])).toThrow('tasks[1].blocked_by: unknown task "zz"');
    expect(() =>
      check([
        { id: "a", blocked_by: ["b"] },
        { id: "b", blocked_by: ["a"] },
      ]),
    ).toThrow("tasks[0].blocked_by: dependency cycle: a -> b -> a");
    expect(() => check([{ id: "a", estimate: -1 }])).toThrow(/^tasks\[0\]\.estimate/);
    expect(() => check([{ id: "a", inputs: [" "] }])).toThrow("tasks[0].inputs[0]: is empty");
    expect(() => check([{ id: "a" }], defaultConfig(), -1)).toThrow(/max_pairs/);
  });
});

describe("checkParallel on the fastapi-template history", () => {
  const history = (readJson("fastapi-template-history.json") as { tasks: { id: string; writes: string[] }[] }).tasks;

  it("analyses the latest 300 commits with the template's domain map", () => {
    const latest = history.slice(-300).map((t) => ({ id: t.id, writes: t.writes }));
    const report = check(latest, fastapiConfig(), 100_000);
    expect(report.summary.tasks).toBe(300);
    expect(report.summary.serialize_pairs).toBeGreaterThan(0);
    expect(report.summary.parallel_pairs).toBeGreaterThan(0);
    expect(report.summary.by_reason.same_file).toBeGreaterThan(0);
    expect(report.checkpoint.shared_files.map((s) => s.key)).toContain("release-notes.md");
    expect(report.checkpoint.shared_files[0]?.key).toBe("release-notes.md");
    expect(report.checkpoint.shared_files.length).toBeLessThanOrEqual(50);

    const migrations = latest.filter((t) => t.writes.some((w) => w.startsWith("backend/app/alembic/versions/")));
    expect(migrations.length).toBeGreaterThan(0);
    expect(report.verdict).toBe("CONVERGE");
    for (const m of migrations) {
      expect(report.tasks.find((t) => t.id === m.id)?.integration_tags).toContain("migration");
      const mine = report.pairs.filter((p) => p.a === m.id || p.b === m.id);
      expect(mine).toHaveLength(299);
      for (const p of mine) expect(p.verdict).toBe("CONVERGE");
    }

    // Groups: every task once; no group holds a non-PARALLEL pair; integration points alone.
    expect(report.groups.flat().sort()).toEqual(latest.map((t) => t.id).sort());
    const groupOf = new Map<string, number>();
    report.groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    for (const p of report.pairs) if (p.verdict !== "PARALLEL") expect(groupOf.get(p.a)).not.toBe(groupOf.get(p.b));
    for (const t of report.tasks) if (t.integration_point) expect(report.groups[groupOf.get(t.id) as number]).toEqual([t.id]);
  });
});

// ---------------------------------------------------------------------------
// Property: the indexed analysis agrees with a naive pairwise reference
// ---------------------------------------------------------------------------

const POOL = ["a/", "a/x.ts", "a/y.ts", "a/b/", "a/b/z.ts", "c.ts", "d/e.ts", "table:t1", "resource:r1"];

interface Expected {
  reasons: Map<ReasonType, { keys: Set<string>; dir: number }>;
}

/** O(n^2 * keys^2) reference of the pair rules, straight from the protocol text. */
function reference(tasks: TaskSpec[], domains: DomainMap): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const writes = tasks.map((t) => t.writes ?? []);
  const reads = tasks.map((t, i) => (t.reads ?? []).filter((k) => !(writes[i] as string[]).includes(k)));
  const ancestors = (i: number): Set<string> => {
    const seen = new Set<string>();
    const stack = [...(tasks[i]?.blocked_by ?? [])];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(tasks.find((t) => t.id === id)?.blocked_by ?? []));
    }
    return seen;
  };
  const tagsOf = (i: number): string[] => [
    ...(tasks[i]?.tags ?? []),
    ...(writes[i] as string[]).flatMap((k) => [...domains.tagsOf(k)]),
  ];
  const serializedOf = (i: number): string[] =>
    (writes[i] as string[]).flatMap((k) => [...domains.domainsOf(k)]).filter((d) => domains.isSerialized(d));
  for (let i = 0; i < tasks.length; i++) {
    for (let j = i + 1; j < tasks.length; j++) {
      const reasons = new Map<ReasonType, { keys: Set<string>; dir: number }>();
      const add = (type: ReasonType, key: string, dir: number): void => {
        const r = reasons.get(type) ?? { keys: new Set<string>(), dir: 0 };
        r.keys.add(key);
        r.dir |= dir;
        reasons.set(type, r);
      };
      const wi = writes[i] as string[];
      const wj = writes[j] as string[];
      for (const x of wi) {
        for (const y of wj) {
          if (x === y) add("same_file", x, 0);
          else if (keysOverlap(x, y)) add("write_write", x.length >= y.length ? x : y, 0);
        }
        for (const y of reads[j] as string[]) if (keysOverlap(x, y)) add("write_read", x.length >= y.length ? x : y, 1);
      }
      for (const x of wj) for (const y of reads[i] as string[]) if (keysOverlap(x, y)) add("write_read", x.length >= y.length ? x : y, 2);
      for (const o of tasks[i]?.outputs ?? []) if (tasks[j]?.inputs?.includes(o)) add("data_flow", o, 1);
      for (const o of tasks[j]?.outputs ?? []) if (tasks[i]?.inputs?.includes(o)) add("data_flow", o, 2);
      for (const t of tasks[i]?.schema_changes ?? []) if (tasks[j]?.schema_changes?.includes(t)) add("schema", t, 0);
      for (const r of tasks[i]?.shared_resources ?? []) if (tasks[j]?.shared_resources?.includes(r)) add("resource_contention", r, 0);
      if (ancestors(j).has(tasks[i]?.id as string)) add("dependency", "x", 1);
      if (ancestors(i).has(tasks[j]?.id as string)) add("dependency", "x", 2);
      for (const d of serializedOf(i)) if (serializedOf(j).includes(d)) add("serialized_domain", d, 0);
      const ti = tagsOf(i);
      const tj = tagsOf(j);
      if (ti.length > 0 || tj.length > 0) {
        for (const t of [...ti, ...tj]) add("integration_point", t, ti.length > 0 && tj.length > 0 ? 3 : ti.length > 0 ? 1 : 2);
      }
      if (reasons.size > 0) out.set(`${tasks[i]?.id}|${tasks[j]?.id}`, { reasons });
    }
  }
  return out;
}

const orderOf = (dir: number): PairOrder => (dir === 1 ? "a_first" : dir === 2 ? "b_first" : "either");

describe("checkParallel property tests", () => {
  it("matches the naive reference on random small task sets", () => {
    const config = parseConfig({
      domains: [{ pattern: "a/b/**", domain: "locked", parallel: "none" }],
      integration_points: [{ pattern: "d/**", tag: "contract" }],
    });
    const domains = new DomainMap(config);
    const keys = fc.uniqueArray(fc.constantFrom(...POOL), { maxLength: 3 });
    const names = (pool: string[]) => fc.uniqueArray(fc.constantFrom(...pool), { maxLength: 2 });
    const taskArb = fc.record({
      writes: keys,
      reads: keys,
      inputs: names(["p", "q"]),
      outputs: names(["p", "q"]),
      schema_changes: names(["users", "posts"]),
      shared_resources: names(["auth"]),
      deps: fc.uniqueArray(fc.nat(7), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(fc.array(taskArb, { minLength: 1, maxLength: 8 }), (raw) => {
        const tasks: TaskSpec[] = raw.map((t, i) => ({
          id: `T${i}`,
          writes: t.writes,
          reads: t.reads,
          inputs: t.inputs,
          outputs: t.outputs,
          schema_changes: t.schema_changes,
          shared_resources: t.shared_resources,
          blocked_by: t.deps.filter((d) => d < i).map((d) => `T${d}`),
        }));
        const report = checkParallel(tasks, { root: ROOT, domains, maxPairs: 10_000 });
        const expected = reference(tasks, domains);
        const got = new Map(report.pairs.map((p) => [`${p.a}|${p.b}`, p]));
        for (const [name, exp] of expected) {
          const p = got.get(name);
          const critical = [...exp.reasons.keys()].some((r) => r !== "resource_contention");
          if (!critical && !exp.reasons.has("resource_contention")) continue;
          expect(p, name).toBeDefined();
          expect(new Set(p?.reasons.map((r) => r.type)), name).toEqual(new Set(exp.reasons.keys()));
          for (const r of p?.reasons ?? []) {
            const e = exp.reasons.get(r.type);
            expect(r.key_count, `${name} ${r.type}`).toBeGreaterThan(0);
            if (r.type === "same_file" || r.type === "schema" || r.type === "data_flow" || r.type === "serialized_domain") {
              expect(new Set(r.keys), `${name} ${r.type}`).toEqual(e?.keys);
            }
            if (r.type === "write_read" || r.type === "data_flow" || r.type === "dependency" || r.type === "integration_point") {
              expect(r.order, `${name} ${r.type}`).toBe(orderOf(e?.dir ?? 0));
            }
          }
          const verdict = exp.reasons.has("integration_point") ? "CONVERGE" : critical ? "SERIALIZE" : "PARALLEL";
          expect(p?.verdict, name).toBe(verdict);
        }
        for (const name of got.keys()) expect(expected.has(name), name).toBe(true);
        // Groups never hold a conflicting pair, and respect every dependency.
        const groupOf = new Map<string, number>();
        report.groups.forEach((g, gi) => g.forEach((id) => groupOf.set(id, gi)));
        expect(groupOf.size).toBe(tasks.length);
        for (const p of report.pairs) if (p.verdict !== "PARALLEL") expect(groupOf.get(p.a)).not.toBe(groupOf.get(p.b));
        for (const t of tasks) {
          for (const d of t.blocked_by ?? []) expect(groupOf.get(d) as number).toBeLessThan(groupOf.get(t.id) as number);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("only takes the key fast path for keys normalizeKey leaves unchanged", () => {
    const chars = fc.constantFrom("a", "b", ".", "/", " ", "\\", ":", "é", "\t", "~");
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 12 }).map((cs) => cs.join("")), (raw) => {
        if (isCanonicalKey(raw)) expect(normalizeKey(raw, ROOT, "k")).toBe(raw);
      }),
      { numRuns: 2000 },
    );
    expect(isCanonicalKey("app/actions/auth.ts")).toBe(true);
    expect(isCanonicalKey("{{cookiecutter.project_slug}}/backend/app/main.py")).toBe(true);
    for (const bad of ["./a", "a//b", "a/", "/a", "a/../b", " a", "table:x", "a\\b", ".."]) expect(isCanonicalKey(bad)).toBe(false);
  });
});
