/**
 * The `merge_conflict` reason of check_parallel: supplied by the caller from
 * git's predicted merge of two tasks' branches, it turns an otherwise
 * PARALLEL pair into SERIALIZE (order either), combines with the other
 * reasons like any CRITICAL reason, separates the two tasks in the groups and
 * names the conflicting files. Without it the same tasks stay PARALLEL.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig } from "../src/runtime/config.js";
import { DomainMap } from "../src/analysis/domains.js";
import { checkParallel } from "../src/analysis/parallel.js";
import type { PairResult, TaskSpec } from "../src/analysis/tasks.js";

const opts = { root: "/repo", domains: new DomainMap(defaultConfig()) };
const TASKS: TaskSpec[] = [
  { id: "F1", writes: ["app/a.py"] },
  { id: "F2", writes: ["app/b.py"] },
  { id: "F3", writes: ["lib/c.py"] },
];

describe("merge_conflict in check_parallel", () => {
  it("is silent without a predicted conflict: disjoint writes stay PARALLEL", () => {
    const r = checkParallel(TASKS, opts);
    expect(r.verdict).toBe("PARALLEL");
    expect(r.summary.by_reason.merge_conflict).toBe(0);
    expect(r.groups).toEqual([["F1", "F2", "F3"]]);
  });

  it("serializes the pair git predicts to conflict, naming the files, and keeps the tasks in different groups", () => {
    const r = checkParallel(TASKS, { ...opts, mergeConflicts: [{ a: "F2", b: "F1", files: ["app/shared.py", "app/models.py"] }] });
    expect(r.verdict).toBe("SERIALIZE");
    const pair = r.pairs.find((p) => p.a === "F1" && p.b === "F2");
    expect(pair).toMatchObject({ verdict: "SERIALIZE", order: "either" });
    expect(pair?.reasons).toEqual([{ type: "merge_conflict", severity: "CRITICAL", keys: ["app/models.py", "app/shared.py"], key_count: 2, order: "either" }]);
    expect(r.summary.by_reason.merge_conflict).toBe(1);
    expect(r.summary.serialize_pairs).toBe(1);
    const groupOf = (id: string) => r.groups.findIndex((g) => g.includes(id));
    expect(groupOf("F1")).not.toBe(groupOf("F2"));
    expect(r.pairs.some((p) => (p.a === "F3" || p.b === "F3") && p.verdict !== "PARALLEL")).toBe(false);
  });

  it("keeps a dependency's order, merges duplicate predictions, caps listed files at 10 and ignores unknown ids", () => {
    const tasks: TaskSpec[] = [
      { id: "F1", writes: ["app/a.py"] },
      { id: "F2", writes: ["app/b.py"], blocked_by: ["F1"] },
    ];
    const files = Array.from({ length: 12 }, (_, i) => `app/f${String(i).padStart(2, "0")}.py`);
    const r = checkParallel(tasks, {
      ...opts,
      mergeConflicts: [
        { a: "F1", b: "F2", files: files.slice(0, 8) },
        { a: "F2", b: "F1", files: files.slice(6) },
        { a: "F1", b: "ghost", files: ["x"] },
      ],
    });
    const pair = r.pairs[0];
    expect(pair?.order).toBe("a_first");
    expect(pair?.reasons.map((x) => x.type)).toEqual(["dependency", "merge_conflict"]);
    const merge = pair?.reasons.find((x) => x.type === "merge_conflict");
    expect(merge?.key_count).toBe(12);
    expect(merge?.keys).toEqual(files.slice(0, 10));
    expect(r.groups).toEqual([["F1"], ["F2"]]);
  });

  it("combines with an integration point like write_write: CONVERGE, the integration point first, alone in its group", () => {
    const tasks: TaskSpec[] = [
      { id: "F1", writes: ["app/a.py"] },
      { id: "F2", writes: ["app/b.py"], tags: ["release"] },
    ];
    const r = checkParallel(tasks, { ...opts, mergeConflicts: [{ a: "F1", b: "F2", files: ["app/shared.py"] }] });
    expect(r.verdict).toBe("CONVERGE");
    const pair = r.pairs[0];
    expect(pair).toMatchObject({ verdict: "CONVERGE", order: "b_first" });
    expect(pair?.reasons.map((x) => [x.type, x.order])).toEqual([
      ["integration_point", "b_first"],
      ["merge_conflict", "either"],
    ]);
    expect(r.summary).toMatchObject({ converge_pairs: 1, serialize_pairs: 0 });
    expect(r.summary.by_reason).toMatchObject({ integration_point: 1, merge_conflict: 1 });
    expect(r.groups).toEqual([["F2"], ["F1"]]);
  });

  it("ignores unknown ids and a task named twice, and names the pair in the checkpoint", () => {
    const ignored = checkParallel(TASKS, {
      ...opts,
      mergeConflicts: [
        { a: "F1", b: "ghost", files: ["x.py"] },
        { a: "ghost", b: "other", files: ["y.py"] },
        { a: "F2", b: "F2", files: ["z.py"] },
      ],
    });
    expect(ignored.verdict).toBe("PARALLEL");
    expect(ignored.pairs).toEqual([]);
    expect(ignored.summary.by_reason.merge_conflict).toBe(0);
    expect(ignored.groups).toEqual([["F1", "F2", "F3"]]);

    const r = checkParallel(TASKS, { ...opts, mergeConflicts: [{ a: "F3", b: "F1", files: ["lib/c.py"] }] });
    expect(r.checkpoint.anticipated_conflicts).toEqual([{ tasks: ["F1", "F3"], sequencing: "F1 and F3 one at a time (merge_conflict)" }]);
  });

  it("only adds itself: every other pair, reason and order is unchanged, and groups separate every conflicting pair", () => {
    const config = parseConfig({
      domains: [{ pattern: "a/b/**", domain: "locked", parallel: "none" }],
      integration_points: [{ pattern: "d/**", tag: "contract" }],
    });
    const domains = new DomainMap(config);
    const pool = ["a/", "a/x.ts", "a/b/z.ts", "c.ts", "d/e.ts", "table:t1", "resource:r1"];
    const taskArb = fc.record({
      writes: fc.uniqueArray(fc.constantFrom(...pool), { maxLength: 2 }),
      reads: fc.uniqueArray(fc.constantFrom(...pool), { maxLength: 2 }),
      shared_resources: fc.uniqueArray(fc.constantFrom("auth"), { maxLength: 1 }),
      deps: fc.uniqueArray(fc.nat(6), { maxLength: 2 }),
    });
    const conflictArb = fc.record({
      a: fc.nat(7),
      b: fc.nat(7),
      files: fc.uniqueArray(fc.constantFrom("m.py", "n.py", "o.py"), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(taskArb, { minLength: 2, maxLength: 7 }), fc.array(conflictArb, { maxLength: 6 }), (raw, rawConflicts) => {
        const tasks: TaskSpec[] = raw.map((t, i) => ({
          id: `T${i}`,
          writes: t.writes,
          reads: t.reads,
          shared_resources: t.shared_resources,
          blocked_by: t.deps.filter((d) => d < i).map((d) => `T${d}`),
        }));
        const mergeConflicts = rawConflicts.map((c) => ({ a: `T${c.a}`, b: `T${c.b}`, files: c.files }));
        const base = checkParallel(tasks, { root: "/repo", domains, maxPairs: 10_000 });
        const withMerge = checkParallel(tasks, { root: "/repo", domains, maxPairs: 10_000, mergeConflicts });

        // Expected files per pair (a before b in input order), from the caller's list.
        const expected = new Map<string, Set<string>>();
        for (const c of rawConflicts) {
          if (c.a === c.b || c.a >= tasks.length || c.b >= tasks.length) continue;
          const name = `T${Math.min(c.a, c.b)}|T${Math.max(c.a, c.b)}`;
          const files = expected.get(name) ?? new Set<string>();
          for (const f of c.files) files.add(f);
          expected.set(name, files);
        }
        const byName = (r: typeof base) => new Map<string, PairResult>(r.pairs.map((p) => [`${p.a}|${p.b}`, p]));
        const before = byName(base);
        const after = byName(withMerge);
        expect(withMerge.summary.by_reason.merge_conflict).toBe(expected.size);
        for (const [name, p] of after) {
          const files = expected.get(name);
          const old = before.get(name);
          const others = p.reasons.filter((x) => x.type !== "merge_conflict");
          expect(others, name).toEqual(old?.reasons ?? []);
          if (files === undefined) {
            expect(p, name).toEqual(old);
            continue;
          }
          const merge = p.reasons.find((x) => x.type === "merge_conflict");
          expect(merge, name).toEqual({ type: "merge_conflict", severity: "CRITICAL", keys: [...files].sort(), key_count: files.size, order: "either" });
          if (old === undefined || old.verdict === "PARALLEL") {
            expect(p, name).toMatchObject({ verdict: "SERIALIZE", order: "either" });
          } else {
            expect(p, name).toMatchObject({ verdict: old.verdict, order: old.order });
          }
        }
        for (const name of before.keys()) expect(after.has(name), name).toBe(true);
        for (const name of expected.keys()) expect(after.has(name), name).toBe(true);
        // Groups never hold a conflicting pair, and respect every dependency.
        const groupOf = new Map<string, number>();
        withMerge.groups.forEach((g, gi) => g.forEach((id) => groupOf.set(id, gi)));
        expect(groupOf.size).toBe(tasks.length);
        for (const p of withMerge.pairs) if (p.verdict !== "PARALLEL") expect(groupOf.get(p.a), `${p.a}|${p.b}`).not.toBe(groupOf.get(p.b));
        for (const t of tasks) {
          for (const d of t.blocked_by ?? []) expect(groupOf.get(d) as number).toBeLessThan(groupOf.get(t.id) as number);
        }
      }),
      { numRuns: 300 },
    );
  });
});
