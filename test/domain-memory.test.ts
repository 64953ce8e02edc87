/**
 * Domain modules on the port run on an engine whose reads are asynchronous
 * (src/store/memory/engine.ts): the decision log and the stored wave plans,
 * directly against the modules, no LMDB and no MCP. The engine re-runs a
 * transaction after every read it had not fetched, so these also show the
 * modules keep to the port's rule (no effect outside the transaction).
 */
import { describe, expect, it } from "vitest";
import { DomainMap } from "../src/analysis/domains.js";
import { getPlan, getPlanSpec, listPlans, newestPlanWith, planCount, planSpecOf, savePlan } from "../src/analysis/plans.js";
import { normalizeTasks } from "../src/analysis/task-input.js";
import { planWaves } from "../src/analysis/waves.js";
import { listDecisions, recordDecision } from "../src/log/decisions.js";
import { parseConfig } from "../src/runtime/config.js";
import { manualClock } from "../src/store/clock.js";
import { MemoryEngine } from "../src/store/memory/engine.js";
import { Db } from "../src/store/txn.js";

const clock = manualClock();

describe("the decision log on the in-memory engine", () => {
  it("numbers 20 concurrent decisions 1..20 once each and pages newest first", async () => {
    const engine = new MemoryEngine();
    const db = new Db(engine);
    const entries = await Promise.all(
      Array.from({ length: 20 }, (_, i) => recordDecision(db, clock, { type: "other", decided_by: `a${i}`, context: `c${i}`, decision: `d${i}` })),
    );
    expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const page = await listDecisions(db, { limit: 3 });
    expect(page.total).toBe(20);
    expect(page.decisions.map((d) => d.seq)).toEqual([20, 19, 18]);
    expect((await listDecisions(db, { limit: 2, before: 18 })).decisions.map((d) => d.seq)).toEqual([17, 16]);
    // The engine really went back to its backend: transactions ran again after misses, and concurrent ones conflicted.
    expect(engine.misses).toBeGreaterThan(0);
    expect(engine.runs).toBeGreaterThan(20);
    expect(engine.conflicts).toBeGreaterThan(0);
  });
});

describe("stored wave plans on the in-memory engine", () => {
  it("stores plans with their specs and finds the newest plan holding a feature", async () => {
    const db = new Db(new MemoryEngine());
    const opts = { root: "/repo", domains: new DomainMap(parseConfig({})), field: "features", noun: "feature" };
    const plan = async (name: string, feats: { id: string; blocked_by?: string[] }[]) =>
      savePlan(db, clock, { ...planWaves(feats, opts), name }, planSpecOf(normalizeTasks(feats, opts)));
    const one = await plan("one", [{ id: "A" }, { id: "B", blocked_by: ["A"] }]);
    const two = await plan("two", [{ id: "B" }]);
    const seen = await db.read((tx) => ({
      names: listPlans(tx).map((p) => p.name),
      count: planCount(tx),
      first: getPlan(tx, one.plan_id)?.waves.map((w) => w.features),
      spec: [...(getPlanSpec(tx, one.plan_id)?.keys() ?? [])],
      newestB: newestPlanWith(tx, "B")?.plan_id,
      newestA: newestPlanWith(tx, "A")?.plan_id,
      none: newestPlanWith(tx, "Z"),
    }));
    expect(seen).toEqual({
      names: ["two", "one"],
      count: 2,
      first: [["A"], ["B"]],
      spec: ["A", "B"],
      newestB: two.plan_id,
      newestA: one.plan_id,
      none: undefined,
    });
  });
});
