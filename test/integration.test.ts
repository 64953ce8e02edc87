/**
 * Wave integration and rollback (README, "A wave from dispatch to
 * integration"): each refusal and warning of integrate_wave, rollback_wave and
 * the complete_feature gate check, each paired with the correct sequence that
 * stays silent. Everything goes through a real MCP Client over
 * InMemoryTransport on a fresh store per test, with a manual clock moved
 * between completions so "first to complete" is explicit. Four of them
 * reproduce defects a review found (completion order within one millisecond,
 * lock notes of a failed attempt, locks of unassigned agents on a rolled-back
 * feature, completed dependents two waves away); all fixed.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import type { FeatureRecord } from "../src/control/registry/records.js";
import { getReview, openReviewCount } from "../src/control/reviews.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

interface IntegrateAnswer {
  status: "integrated" | "failed";
  attempt: number;
  reasons: string[];
  actions: string[];
  undeclared_writes: { feature_id: string; file: string; severity: string }[];
  overlapping_changes: { file: string; features: string[]; severity: string }[];
  migration_collisions: {
    kind: string;
    value: string;
    migrations: { feature_id: string; path: string }[];
    renumbering: { path: string; rename_to: string | null; action: string }[];
  }[];
  report_uri: string;
}
interface RollbackAnswer {
  features: string[];
  released: string[];
  commits_to_revert: { feature_id: string; commit: string }[];
  migrations_to_roll_back: { feature_id: string; path: string }[];
  dependents_affected: string[];
  decision_seq: number;
}
interface Report {
  status: string;
  wave_status: string;
  attempt: number;
  gates: { gate: string; feature_id: string | null; required: boolean; status: string }[];
  reviews: { feature_id: string; review_id: string | null; reviewer: string | null; status: string }[];
}
interface Feature {
  id: string;
  writes?: string[];
  blocked_by?: string[];
}
type Done = { files_changed?: string[]; commits?: string[]; migrations?: (string | { path: string })[] };

let h: Harness;
let clock: ManualClock;

beforeEach(async () => {
  clock = manualClock();
  // The well-known migration rules are off (`defaults.migrations`), as in a project that turned
  // them off: features adding migrations then share a wave, and the integration check must catch
  // colliding migration numbers.
  h = await connect({ clock, config: parseConfig({ control: { heartbeat_ms: 3_600_000 }, defaults: { migrations: false } }) });
});

afterEach(async () => {
  await h?.close();
});

/** Plan `features`; checks the waves are as the test expects (feature ids per wave). */
async function plan(features: Feature[], waves: string[][]): Promise<string> {
  const p = await h.ok<{ plan_id: string; waves: { wave_number: number; features: string[] }[] }>("plan_waves", { features });
  expect(p.waves.map((w) => [...w.features].sort())).toEqual(waves);
  return p.plan_id;
}

/** An orchestrator, three coders, an auditor and a test engineer, all in domain app. */
const team = () =>
  h.ok("dispatch_agents", {
    agents: [
      { agent_id: "orch", role: "orchestrator" },
      { agent_id: "c1", role: "coder", domain: "app" },
      { agent_id: "c2", role: "coder", domain: "app" },
      { agent_id: "c3", role: "coder", domain: "app" },
      { agent_id: "aud", role: "auditor", domain: "app" },
      { agent_id: "te", role: "test_engineer", domain: "app" },
    ],
  });

const start = async (agent: string, feature: string) => {
  const r = await h.ok<{ started: boolean; attempts: number }>("start_feature", { agent_id: agent, feature_id: feature });
  expect(r.started).toBe(true);
  return r.attempts;
};
const lock = async (agent: string, paths: string[], feature?: string, mode: "read" | "write" = "write") => {
  const r = await h.ok<{ granted: boolean }>("acquire_lock", { agent_id: agent, paths, mode, ...(feature ? { feature_id: feature } : {}) });
  expect(r.granted).toBe(true);
};
const complete = async (agent: string, feature: string, done: Done = {}) => {
  await h.ok("complete_feature", { agent_id: agent, feature_id: feature, ...done });
  // The next completion is a second later: completion order is unambiguous.
  clock.advance(1000);
};
/** start_feature, write-lock `locks` for the feature, complete_feature with `done`. */
const work = async (agent: string, feature: string, locks: string[], done: Done = {}) => {
  await start(agent, feature);
  if (locks.length > 0) await lock(agent, locks, feature);
  await complete(agent, feature, done);
};
const integrate = (planId: string, wave = 1) => h.ok<IntegrateAnswer>("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: wave });
const integrateFails = (planId: string, wave = 1) => h.fails("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: wave });
const rollback = (planId: string, wave = 1, agent = "orch", reason = "combined tests failed") =>
  h.ok<RollbackAnswer>("rollback_wave", { agent_id: agent, plan_id: planId, wave_number: wave, reason });
const rollbackFails = (planId: string, wave = 1, agent = "orch") =>
  h.fails("rollback_wave", { agent_id: agent, plan_id: planId, wave_number: wave, reason: "combined tests failed" });
const defineGate = (args: Record<string, unknown>) => h.ok("define_gate", { agent_id: "orch", ...args });
const gateResult = (args: Record<string, unknown>) => h.ok("record_gate_result", { agent_id: "te", evidence: "npm test green", ...args });
const requestReview = (agent: string, feature: string, files: string[]) =>
  h.ok<{ review_id: string; reviewer: string }>("request_review", { agent_id: agent, feature_id: feature, files });
const submitReview = (reviewer: string, reviewId: string, verdict: "approve" | "changes_requested", findings: string[] = []) =>
  h.ok("submit_review", { agent_id: reviewer, review_id: reviewId, verdict, findings });
/** The error text of reading a resource that must fail. */
const readFails = async (uri: string): Promise<string> => {
  try {
    await h.client.readResource({ uri });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`reading ${uri} should have failed`);
};

/** Two features in one wave with disjoint files. */
const PAIR: Feature[] = [
  { id: "F_a", writes: ["app/a.ts"] },
  { id: "F_b", writes: ["app/b.ts"] },
];
const PAIR_WAVES = [["F_a", "F_b"]];
const doPair = async () => {
  await work("c1", "F_a", ["app/a.ts"], { files_changed: ["app/a.ts"], commits: ["a1"] });
  await work("c2", "F_b", ["app/b.ts"], { files_changed: ["app/b.ts"], commits: ["b1"] });
};
const CLEAN = { status: "integrated", reasons: [], undeclared_writes: [], overlapping_changes: [], migration_collisions: [] };

describe("integrate_wave runs once every feature of the wave is completed", () => {
  it("refuses while a feature is not completed, naming each with its state", async () => {
    await team();
    const planId = await plan([...PAIR, { id: "F_c", writes: ["app/c.ts"] }], [["F_a", "F_b", "F_c"]]);
    await work("c1", "F_a", ["app/a.ts"], { files_changed: ["app/a.ts"] });
    await start("c2", "F_b");
    const refused = await integrateFails(planId);
    expect(refused).toMatch(new RegExp(`^wave_number: wave 1 of plan "${planId}" is not complete: `));
    expect(refused).toContain("F_b (active, agent c2)");
    expect(refused).toContain("F_c (not started)");
    expect(refused).not.toContain("F_a");
    expect(await readFails(`signalbox://waves/${planId}/integration/1`)).toMatch(/wave_number: wave 1 of plan .* has not been integrated/);
  });

  it("stays silent once every feature is completed", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await doPair();
    const r = await integrate(planId);
    expect(r).toMatchObject({ ...CLEAN, attempt: 1, actions: [], report_uri: `signalbox://waves/${planId}/integration/1` });
  });

  it("refuses an unknown plan or wave, naming the field", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    expect(await h.fails("integrate_wave", { agent_id: "orch", plan_id: "plan_nope", wave_number: 1 })).toMatch(/^plan_id: no plan "plan_nope"/);
    expect(await integrateFails(planId, 2)).toMatch(new RegExp(`^wave_number: plan "${planId}" has waves 1..1, not 2`));
  });
});

describe("integrate_wave and required gates", () => {
  it("is held back by a required wave_integration gate, naming the gate and its criteria, until it passes", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await defineGate({ name: "combined", trigger: "wave_integration", criteria: "the merged wave passes npm test", responsible_role: "test_engineer" });
    await doPair();
    const missing = await integrateFails(planId);
    expect(missing).toMatch(/^wave_number: wave 1 of plan .* is held back by 1 required gate\(s\): Gate "combined" \(criteria: the merged wave passes npm test/);
    expect(missing).toContain("missing");
    await gateResult({ gate: "combined", plan_id: planId, wave_number: 1, passed: false, evidence: "3 tests red" });
    expect(await integrateFails(planId)).toMatch(/Gate "combined".*failed: 3 tests red \(recorded by te\)/);
    await gateResult({ gate: "combined", plan_id: planId, wave_number: 1, passed: true });
    const r = await integrate(planId);
    expect(r).toMatchObject({ ...CLEAN, actions: [] });
    const report = await h.readJson<Report>(r.report_uri);
    expect(report.gates).toEqual([expect.objectContaining({ gate: "combined", feature_id: null, required: true, status: "passed" })]);
  });

  it("is held back by a required before_merge gate for each feature, naming gate, criteria and feature, until each passes", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await defineGate({ name: "rebased", trigger: "before_merge", criteria: "rebased on main", responsible_role: "coder" });
    await doPair();
    const both = await integrateFails(planId);
    expect(both).toMatch(/held back by 2 required gate\(s\)/);
    expect(both).toContain('Gate "rebased" (criteria: rebased on main; validated by role coder) has not passed for feature F_a');
    expect(both).toContain("has not passed for feature F_b");
    await h.ok("record_gate_result", { agent_id: "c1", gate: "rebased", feature_id: "F_a", passed: true, evidence: "rebased" });
    const one = await integrateFails(planId);
    expect(one).toMatch(/held back by 1 required gate\(s\): Gate "rebased" .* for feature F_b/);
    await h.ok("record_gate_result", { agent_id: "c2", gate: "rebased", feature_id: "F_b", passed: true, evidence: "rebased" });
    expect(await integrate(planId)).toMatchObject({ ...CLEAN, actions: [] });
  });

  it("never refuses for an optional gate, which shows in the report's actions", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await defineGate({ name: "perf", trigger: "wave_integration", criteria: "p95 under 200 ms", responsible_role: "test_engineer", required: false });
    await defineGate({ name: "docs", trigger: "before_merge", criteria: "docs updated", responsible_role: "coder", required: false });
    await doPair();
    await gateResult({ gate: "perf", plan_id: planId, wave_number: 1, passed: false, evidence: "p95 340 ms" });
    await h.ok("record_gate_result", { agent_id: "c1", gate: "docs", feature_id: "F_a", passed: true, evidence: "README" });
    const r = await integrate(planId);
    expect(r).toMatchObject(CLEAN);
    expect(r.actions).toEqual(['optional gate "perf" failed', 'optional gate "docs" missing for F_b']);
    const report = await h.readJson<Report>(r.report_uri);
    expect(report.gates.map((g) => [g.gate, g.feature_id, g.required, g.status])).toEqual([
      ["perf", null, false, "failed"],
      ["docs", "F_a", false, "passed"],
      ["docs", "F_b", false, "missing"],
    ]);
  });
});

describe("integrate_wave once per wave", () => {
  it("refuses a wave already integrated, and integrates it again after rollback_wave", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await doPair();
    expect((await integrate(planId)).attempt).toBe(1);
    expect(await integrateFails(planId)).toMatch(/^wave_number: wave 1 of plan .* is already integrated \(attempt 1, by orch at .*\); rollback_wave first/);
    await rollback(planId);
    // Rolled back: the features are pending, so integration waits for them again.
    expect(await integrateFails(planId)).toMatch(/is not complete: F_a \(not started\), F_b \(not started\)/);
    await doPair();
    expect(await integrate(planId)).toMatchObject({ ...CLEAN, attempt: 2 });
  });

  it("integrates a failed wave again without a rollback (a failure is not a final state)", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await work("c1", "F_a", ["app/a.ts"], { files_changed: ["app/a.ts", "app/stray.ts"] });
    await work("c2", "F_b", ["app/b.ts"], { files_changed: ["app/b.ts"] });
    expect((await integrate(planId)).status).toBe("failed");
    expect(await integrate(planId)).toMatchObject({ status: "failed", attempt: 2 });
  });
});

describe("complete_feature and feature_complete gates", () => {
  it("is held back by a required feature_complete gate, naming it; completes once the result passes", async () => {
    await team();
    await plan(PAIR, PAIR_WAVES);
    await defineGate({ name: "unit", trigger: "feature_complete", criteria: "unit tests pass", responsible_role: "test_engineer" });
    await start("c1", "F_a");
    const refused = await h.fails("complete_feature", { agent_id: "c1", feature_id: "F_a" });
    expect(refused).toMatch(/^feature_id: "F_a" is held back by 1 required gate\(s\): Gate "unit" \(criteria: unit tests pass; validated by role test_engineer\) has not passed for feature F_a: missing/);
    const state = await h.readJson<{ plans: { active: { feature_id: string }[] }[] }>("signalbox://state");
    expect(state.plans[0]!.active.map((a) => a.feature_id)).toEqual(["F_a"]);
    await gateResult({ gate: "unit", feature_id: "F_a", passed: false, evidence: "2 failing" });
    expect(await h.fails("complete_feature", { agent_id: "c1", feature_id: "F_a" })).toMatch(/Gate "unit".*failed: 2 failing/);
    await gateResult({ gate: "unit", feature_id: "F_a", passed: true });
    await complete("c1", "F_a");
  });

  it("never holds completion back for an optional feature_complete gate", async () => {
    await team();
    await plan(PAIR, PAIR_WAVES);
    await defineGate({ name: "lint", trigger: "feature_complete", criteria: "eslint clean", responsible_role: "coder", required: false });
    await start("c1", "F_a");
    await complete("c1", "F_a");
  });

  it("with requires_review: review_missing until the latest review is approved", async () => {
    await team();
    await plan(PAIR, PAIR_WAVES);
    await defineGate({ name: "unit", trigger: "feature_complete", criteria: "unit tests pass", responsible_role: "test_engineer", requires_review: true });
    await start("c1", "F_a");
    await gateResult({ gate: "unit", feature_id: "F_a", passed: true });
    expect(await h.fails("complete_feature", { agent_id: "c1", feature_id: "F_a" })).toMatch(/Gate "unit".*has not passed for feature F_a: review_missing/);
    const first = await requestReview("c1", "F_a", ["app/a.ts"]);
    expect(first.reviewer).toBe("aud");
    // An open review is not an approval.
    expect(await h.fails("complete_feature", { agent_id: "c1", feature_id: "F_a" })).toMatch(/review_missing/);
    await submitReview("aud", first.review_id, "changes_requested", ["no input validation"]);
    expect(await h.fails("complete_feature", { agent_id: "c1", feature_id: "F_a" })).toMatch(/review_missing/);
    const second = await requestReview("c1", "F_a", ["app/a.ts"]);
    await submitReview(second.reviewer, second.review_id, "approve");
    await complete("c1", "F_a");
  });
});

describe("undeclared writes", () => {
  it("flags CRITICAL a changed file neither declared nor write-locked for the feature, and fails the wave", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    // c1 write-locks app/before.ts before starting F_a (no active feature: not F_a's lock),
    // read-locks app/read.ts for F_a (not a write lock), and F_b changes app/a-lock.ts that c1 locked for F_a.
    await lock("c1", ["app/before.ts"]);
    await start("c1", "F_a");
    await lock("c1", ["app/a.ts", "app/a-lock.ts"], "F_a");
    await lock("c1", ["app/read.ts"], "F_a", "read");
    await complete("c1", "F_a", { files_changed: ["app/a.ts", "app/before.ts", "app/read.ts"] });
    await work("c2", "F_b", ["app/b.ts"], { files_changed: ["app/b.ts", "app/a-lock.ts"], migrations: ["db/migrations/001_b.sql"] });
    const r = await integrate(planId);
    expect(r.status).toBe("failed");
    expect(r.undeclared_writes).toEqual([
      { feature_id: "F_a", file: "app/before.ts", severity: "CRITICAL" },
      { feature_id: "F_a", file: "app/read.ts", severity: "CRITICAL" },
      { feature_id: "F_b", file: "app/a-lock.ts", severity: "CRITICAL" },
      { feature_id: "F_b", file: "db/migrations/001_b.sql", severity: "CRITICAL" },
    ]);
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0]).toMatch(/^CRITICAL: 4 undeclared write\(s\): app\/before.ts by F_a/);
    expect(r.overlapping_changes).toEqual([]);
    // The agents at fault are told.
    const inbox = await h.ok<{ items: { kind: string; summary: string }[] }>("get_inbox", { agent_id: "c2" });
    expect(inbox.items.find((m) => m.kind === "integration")?.summary).toMatch(/failed: CRITICAL/);
  });

  it("does not flag a file declared through a folder key", async () => {
    await team();
    const planId = await plan(
      [
        { id: "F_a", writes: ["app/"] },
        { id: "F_b", writes: ["lib/b.ts"] },
      ],
      PAIR_WAVES,
    );
    await work("c1", "F_a", [], { files_changed: ["app/deep/x.ts", "./app/y.ts"] });
    await work("c2", "F_b", ["lib/b.ts"], { files_changed: ["lib/b.ts"] });
    expect(await integrate(planId)).toMatchObject({ ...CLEAN, actions: [] });
  });

  it("does not flag a file write-locked for the feature through a folder lock", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await work("c1", "F_a", ["app/a.ts", "app/extra/"], { files_changed: ["app/a.ts", "app/extra/deep/y.ts"] });
    await work("c2", "F_b", ["app/b.ts"], { files_changed: ["app/b.ts"] });
    expect(await integrate(planId)).toMatchObject({ ...CLEAN, actions: [] });
  });

  it("does not flag a file locked without feature_id while the feature was the agent's active one", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await start("c1", "F_a");
    await lock("c1", ["app/a.ts", "app/helper.ts"]);
    await complete("c1", "F_a", { files_changed: ["app/a.ts", "app/helper.ts"] });
    await work("c2", "F_b", ["app/b.ts"], { files_changed: ["app/b.ts"] });
    expect(await integrate(planId)).toMatchObject({ ...CLEAN, actions: [] });
  });

  it("checks a restarted feature's writes against the locks of its own attempt, not of a failed earlier one", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await start("c1", "F_a");
    await lock("c1", ["app/a.ts", "app/x.ts"], "F_a");
    await h.ok("fail_feature", { agent_id: "c1", feature_id: "F_a", reason: "wrong approach" });
    // Attempt 2 changes app/x.ts without locking it: attempt 1's lock ended when it failed.
    expect(await start("c1", "F_a")).toBe(2);
    await lock("c1", ["app/a.ts"], "F_a");
    await complete("c1", "F_a", { files_changed: ["app/a.ts", "app/x.ts"] });
    await work("c2", "F_b", ["app/b.ts"], { files_changed: ["app/b.ts"] });
    expect((await integrate(planId)).undeclared_writes).toEqual([{ feature_id: "F_a", file: "app/x.ts", severity: "CRITICAL" }]);
  });
});

describe("overlapping changes", () => {
  it("flags a file changed by two features of the wave and fails it", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    // Each locks the shared file in turn: no undeclared write, only the overlap.
    await work("c1", "F_a", ["app/a.ts", "app/shared.ts"], { files_changed: ["app/a.ts", "app/shared.ts"] });
    await work("c2", "F_b", ["app/b.ts", "app/shared.ts"], { files_changed: ["app/b.ts", "app/shared.ts"] });
    const r = await integrate(planId);
    expect(r).toMatchObject({ status: "failed", undeclared_writes: [] });
    expect(r.overlapping_changes).toEqual([{ file: "app/shared.ts", features: ["F_a", "F_b"], severity: "HIGH" }]);
    expect(r.reasons).toEqual(["1 file(s) changed by more than one feature: app/shared.ts (F_a, F_b)"]);
    expect(r.actions).toEqual([expect.stringMatching(/^merge the overlapping changes by hand/)]);
  });

  it("stays silent when the features' files are disjoint", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await doPair();
    expect((await integrate(planId)).overlapping_changes).toEqual([]);
  });
});

describe("migration collisions", () => {
  const MIGRATING: Feature[] = [
    { id: "F_a", writes: ["db/migrations/001_a.sql"] },
    { id: "F_b", writes: ["db/migrations/001_b.sql"] },
  ];

  it("reports two features' migrations with the same number in one folder, with the renumbering; the wave is still integrated", async () => {
    await team();
    const planId = await plan(MIGRATING, PAIR_WAVES);
    // F_b completes first: it keeps 001.
    await work("c2", "F_b", ["db/migrations/001_b.sql"], { migrations: ["db/migrations/001_b.sql"] });
    await work("c1", "F_a", ["db/migrations/001_a.sql"], { migrations: [{ path: "db/migrations/001_a.sql" }] });
    const r = await integrate(planId);
    expect(r).toMatchObject({ status: "integrated", reasons: [], undeclared_writes: [], overlapping_changes: [] });
    expect(r.migration_collisions).toEqual([
      {
        kind: "number",
        value: "001",
        migrations: [
          { feature_id: "F_b", path: "db/migrations/001_b.sql" },
          { feature_id: "F_a", path: "db/migrations/001_a.sql" },
        ],
        renumbering: [{ path: "db/migrations/001_a.sql", rename_to: "db/migrations/002_a.sql", action: "rename db/migrations/001_a.sql to db/migrations/002_a.sql" }],
      },
    ]);
    expect(r.actions).toEqual(["rename db/migrations/001_a.sql to db/migrations/002_a.sql"]);
    // The agent whose file is renamed is told.
    const inbox = await h.ok<{ items: { kind: string; summary: string }[] }>("get_inbox", { agent_id: "c1" });
    expect(inbox.items.find((m) => m.kind === "integration")?.summary).toMatch(/integrated; 1 action/);
  });

  it("reports a collision with a migration of an earlier completed wave of the plan, which keeps its number", async () => {
    await team();
    const planId = await plan(
      [
        { id: "F_a", writes: ["db/migrations/001_a.sql"] },
        { id: "F_b", writes: ["db/migrations/001_b.sql"], blocked_by: ["F_a"] },
      ],
      [["F_a"], ["F_b"]],
    );
    await work("c1", "F_a", ["db/migrations/001_a.sql"], { migrations: ["db/migrations/001_a.sql"] });
    expect(await integrate(planId, 1)).toMatchObject(CLEAN);
    await work("c2", "F_b", ["db/migrations/001_b.sql"], { migrations: ["db/migrations/001_b.sql"] });
    const r = await integrate(planId, 2);
    expect(r.status).toBe("integrated");
    expect(r.migration_collisions).toEqual([
      {
        kind: "number",
        value: "001",
        migrations: [
          { feature_id: "(before this wave)", path: "db/migrations/001_a.sql" },
          { feature_id: "F_b", path: "db/migrations/001_b.sql" },
        ],
        renumbering: [{ path: "db/migrations/001_b.sql", rename_to: "db/migrations/002_b.sql", action: "rename db/migrations/001_b.sql to db/migrations/002_b.sql" }],
      },
    ]);
  });

  it("stays silent for distinct numbers in one folder and for the same number in different folders", async () => {
    await team();
    const planId = await plan(
      [
        { id: "F_a", writes: ["db/migrations/001_a.sql", "db/audit/001_log.sql"] },
        { id: "F_b", writes: ["db/migrations/002_b.sql"] },
      ],
      PAIR_WAVES,
    );
    await work("c1", "F_a", ["db/migrations/001_a.sql", "db/audit/001_log.sql"], { migrations: ["db/migrations/001_a.sql", "db/audit/001_log.sql"] });
    await work("c2", "F_b", ["db/migrations/002_b.sql"], { migrations: ["db/migrations/002_b.sql"] });
    expect(await integrate(planId)).toMatchObject({ ...CLEAN, actions: [] });
  });

  it("the first to complete keeps the number even when two completions share a millisecond", async () => {
    await team();
    const planId = await plan(
      [
        { id: "F_a", writes: ["db/migrations/001_a.sql"] },
        { id: "F_z", writes: ["db/migrations/001_z.sql"] },
      ],
      [["F_a", "F_z"]],
    );
    // F_z completes first, F_a second, on the same wall-clock millisecond (no clock.advance between them).
    await start("c1", "F_z");
    await start("c2", "F_a");
    await h.ok("complete_feature", { agent_id: "c1", feature_id: "F_z", migrations: ["db/migrations/001_z.sql"] });
    await h.ok("complete_feature", { agent_id: "c2", feature_id: "F_a", migrations: ["db/migrations/001_a.sql"] });
    const r = await integrate(planId);
    expect(r.migration_collisions[0]?.renumbering).toEqual([
      { path: "db/migrations/001_a.sql", rename_to: "db/migrations/002_a.sql", action: "rename db/migrations/001_a.sql to db/migrations/002_a.sql" },
    ]);
  });
});

describe("reviews at integration", () => {
  it("fails the wave when a feature's latest review requested changes; integrates once the latest is approved", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await doPair();
    const first = await requestReview("c1", "F_a", ["app/a.ts"]);
    await submitReview("aud", first.review_id, "changes_requested", ["no input validation"]);
    const failed = await integrate(planId);
    expect(failed).toMatchObject({ status: "failed", undeclared_writes: [], overlapping_changes: [] });
    expect(failed.reasons).toEqual([`review ${first.review_id} of F_a by aud requested changes`]);
    let report = await h.readJson<Report>(failed.report_uri);
    expect(report.reviews).toEqual([
      { feature_id: "F_a", review_id: first.review_id, reviewer: "aud", status: "changes_requested" },
      { feature_id: "F_b", review_id: null, reviewer: null, status: "none" },
    ]);

    const second = await requestReview("c1", "F_a", ["app/a.ts"]);
    await submitReview(second.reviewer, second.review_id, "approve");
    const r = await integrate(planId);
    expect(r).toMatchObject({ ...CLEAN, attempt: 2 });
    report = await h.readJson<Report>(r.report_uri);
    expect(report.reviews[0]).toMatchObject({ review_id: second.review_id, status: "approved" });
  });
});

describe("rollback_wave", () => {
  it("refuses an agent that is not an orchestrator, naming its role", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await doPair();
    expect(await rollbackFails(planId, 1, "c1")).toMatch(/^agent_id: only an orchestrator may roll back a wave; "c1" is registered with role coder; ask an orchestrator \("orch"\)/);
    expect(await rollbackFails(planId, 1, "ghost")).toMatch(/^agent_id: .*"ghost" is not registered/);
    expect((await rollback(planId)).features.sort()).toEqual(["F_a", "F_b"]);
  });

  it("refuses a wave none of whose features started; rolls back one with a started feature, releasing its lock", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    expect(await rollbackFails(planId)).toMatch(new RegExp(`^wave_number: nothing to roll back: no feature of wave 1 of plan "${planId}" has started`));
    expect(await rollbackFails(planId, 3)).toMatch(/^wave_number: plan .* has waves 1..1, not 3/);
    await start("c2", "F_b");
    await lock("c2", ["app/b.ts"], "F_b");
    const r = await rollback(planId);
    expect(r).toMatchObject({ features: ["F_b"], released: ["app/b.ts"], commits_to_revert: [], migrations_to_roll_back: [], dependents_affected: [] });
    expect((await h.readJson<{ locks: unknown[] }>("signalbox://locks")).locks).toEqual([]);
    // Once rolled back there is nothing left to roll back.
    expect(await rollbackFails(planId)).toMatch(/nothing to roll back/);
  });

  it("returns an integrated wave to pending: no locks, reviews withdrawn, rollback decision, archive kept, dependents named", async () => {
    await team();
    const planId = await plan([...PAIR, { id: "F_c", writes: ["app/c.ts"], blocked_by: ["F_a"] }], [["F_a", "F_b"], ["F_c"]]);
    await doPair();
    expect((await integrate(planId)).status).toBe("integrated");
    // After integration: c1 locks a file for F_a to fix something, F_b is under review, F_c has started.
    await lock("c1", ["app/a-fix.ts"], "F_a");
    const review = await requestReview("c2", "F_b", ["app/b.ts"]);
    expect(openReviewCount(h.ctx, review.reviewer)).toBe(1);
    await start("c3", "F_c");

    const r = await rollback(planId, 1, "orch", "checkout broken after merge");
    expect(r.features.sort()).toEqual(["F_a", "F_b"]);
    expect(r.released).toEqual(["app/a-fix.ts"]);
    expect(r.commits_to_revert).toEqual([
      { feature_id: "F_b", commit: "b1" },
      { feature_id: "F_a", commit: "a1" },
    ]);
    expect(r.dependents_affected).toEqual(["F_c"]);

    expect((await h.readJson<{ locks: unknown[] }>("signalbox://locks")).locks).toEqual([]);
    expect(getReview(h.ctx, review.review_id)?.status).toBe("withdrawn");
    expect(openReviewCount(h.ctx, review.reviewer)).toBe(0);
    const decisions = await h.readJson<{ decisions: { seq: number; type: string; rationale: string | null }[] }>("signalbox://decisions");
    expect(decisions.decisions.find((d) => d.seq === r.decision_seq)).toMatchObject({ type: "rollback", rationale: "checkout broken after merge" });
    const report = await h.readJson<Report>(`signalbox://waves/${planId}/integration/1`);
    expect(report).toMatchObject({ status: "integrated", wave_status: "rolled_back", attempt: 1 });

    // Nothing is deleted: the archive keeps the completed records with the rollback noted.
    const archived = [...h.ctx.store.integrations.getRange({ start: "X", end: "Y" }).map(({ value }) => value as FeatureRecord)];
    expect(archived.map((f) => [f.feature_id, f.status, f.attempts, f.commits, f.rolled_back?.reason, f.rolled_back?.by]).sort()).toEqual([
      ["F_a", "completed", 1, ["a1"], "checkout broken after merge", "orch"],
      ["F_b", "completed", 1, ["b1"], "checkout broken after merge", "orch"],
    ]);
    // The keys locked while F_a was active (a lock taken after completion is not F_a's work).
    expect(archived.find((f) => f.feature_id === "F_a")?.locked_keys).toEqual(["app/a.ts"]);

    // Pending again: each starts anew, counting attempts.
    expect(await start("c1", "F_a")).toBe(2);
    expect(await start("c2", "F_b")).toBe(2);
  });

  it("rolls back an integrated wave's migrations under the names its report renumbered them to", async () => {
    await team();
    const planId = await plan(
      [
        { id: "F_a", writes: ["db/migrations/001_a.sql"] },
        { id: "F_b", writes: ["db/migrations/001_b.sql"] },
        { id: "F_c", writes: ["db/migrations/002_c.sql"], blocked_by: ["F_a"] },
      ],
      [["F_a", "F_b"], ["F_c"]],
    );
    await work("c1", "F_a", ["db/migrations/001_a.sql"], { migrations: ["db/migrations/001_a.sql"], commits: ["a1"] });
    await work("c2", "F_b", ["db/migrations/001_b.sql"], { migrations: ["db/migrations/001_b.sql"], commits: ["b1"] });
    const w1 = await integrate(planId, 1);
    expect(w1.actions).toEqual(["rename db/migrations/001_b.sql to db/migrations/002_b.sql"]);
    // Wave 2's 002_c collides with 002_b, the name wave 1 renumbered 001_b to.
    await work("c3", "F_c", ["db/migrations/002_c.sql"], { migrations: ["db/migrations/002_c.sql"] });
    const w2 = await integrate(planId, 2);
    expect(w2.migration_collisions.map((c) => [c.value, c.migrations.map((m) => m.path), c.renumbering.map((f) => f.rename_to)])).toEqual([
      ["002", ["db/migrations/002_b.sql", "db/migrations/002_c.sql"], ["db/migrations/003_c.sql"]],
    ]);

    const r = await rollback(planId, 1);
    expect(r.migrations_to_roll_back).toEqual([
      { feature_id: "F_b", path: "db/migrations/002_b.sql" },
      { feature_id: "F_a", path: "db/migrations/001_a.sql" },
    ]);
    expect(r.dependents_affected).toEqual(["F_c"]);
  });

  it("releases a lock taken for a feature of the wave by an agent not assigned to it", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    await start("c1", "F_a");
    // te writes a test file for F_a and locks it for F_a; te was never assigned to F_a.
    await lock("te", ["app/a.test.ts"], "F_a");
    const r = await rollback(planId);
    expect(r.released).toEqual(["app/a.test.ts"]);
    expect((await h.readJson<{ locks: unknown[] }>("signalbox://locks")).locks).toEqual([]);
  });

  it("names a completed dependent two waves later among dependents_affected, as it does an active one", async () => {
    await team();
    const planId = await plan(
      [
        { id: "F_a", writes: ["app/a.ts"] },
        { id: "F_b", writes: ["app/b.ts"], blocked_by: ["F_a"] },
        { id: "F_c", writes: ["app/c.ts"], blocked_by: ["F_b"] },
      ],
      [["F_a"], ["F_b"], ["F_c"]],
    );
    await work("c1", "F_a", ["app/a.ts"], { files_changed: ["app/a.ts"] });
    await work("c2", "F_b", ["app/b.ts"], { files_changed: ["app/b.ts"] });
    await work("c3", "F_c", ["app/c.ts"], { files_changed: ["app/c.ts"] });
    // F_c is built on F_b, which is built on F_a: rolling back wave 1 affects both.
    const r = await rollback(planId, 1);
    expect([...r.dependents_affected].sort()).toEqual(["F_b", "F_c"]);
  });
});

describe("the integration report resource", () => {
  it("names the field for an unknown plan, a wave never integrated and a bad wave_number; reads a report once there is one", async () => {
    await team();
    const planId = await plan(PAIR, PAIR_WAVES);
    expect(await readFails("signalbox://waves/plan_nope/integration/1")).toMatch(/plan_id: no plan "plan_nope"/);
    expect(await readFails(`signalbox://waves/${planId}/integration/1`)).toMatch(new RegExp(`wave_number: wave 1 of plan "${planId}" has not been integrated`));
    expect(await readFails(`signalbox://waves/${planId}/integration/2`)).toMatch(/wave_number: wave 2 of plan .* has not been integrated/);
    expect(await readFails(`signalbox://waves/${planId}/integration/one`)).toMatch(/wave_number: expected a positive integer, got "one"/);
    await doPair();
    await integrate(planId);
    expect(await h.readJson<Report>(`signalbox://waves/${planId}/integration/1`)).toMatchObject({ status: "integrated", wave_status: "integrated", attempt: 1 });
  });
});
