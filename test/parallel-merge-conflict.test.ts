/**
 * The `merge_conflict` reason of check_parallel: supplied by the caller from
 * git's predicted merge of two tasks' branches, it turns an otherwise
 * PARALLEL pair into SERIALIZE (order either), combines with the other
 * reasons like any CRITICAL reason, separates the two tasks in the groups and
 * names the conflicting files. Without it the same tasks stay PARALLEL.
 */
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config.js";
import { DomainMap } from "../src/domains.js";
import { checkParallel } from "../src/parallel.js";
import type { TaskSpec } from "../src/tasks.js";

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
});
