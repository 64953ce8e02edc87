/**
 * Proof that the wave lifecycle works end to end across processes: a wave of
 * three features run from dispatch to integration through real MCP clients: the
 * orchestrator over an in-memory client, each coder, the reviewer and the test
 * engineer through their own built server process over stdio, all on one store.
 *
 * - one feature changes a file it never declared nor locked: CRITICAL;
 * The scenario's data (features, team, gate, what each coder locks and
 * reports) is src/cli/scenarios/wave-lifecycle.ts, which the demo plays too.
 *
 * - two add migrations with the same number: the collision is reported with
 *   the renumbering (the first to complete keeps 001). The project has
 *   turned the well-known migration rules off (`defaults.migrations`), so
 *   the planner lets both run in one wave: the integration check is what
 *   catches them;
 * - the review goes to the matching expert, never to the author;
 * - a required gate holds integration back until it passes;
 * - the failed integration is rolled back: the features are pending again
 *   with no locks held, and nothing is deleted from the history.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_FILE, parseConfig } from "../src/runtime/config.js";
import { connect, type Harness } from "./helpers/client.js";
import { ServerProcess } from "./helpers/process.js";
import { WAVE_CONFIG, WAVE_FEATURES, WAVE_GATE, WAVE_ORCHESTRATOR, WAVE_TEAM, WAVE_WORK, type WaveWork } from "../src/cli/scenarios/wave-lifecycle.js";

interface IntegrateAnswer {
  status: string;
  attempt: number;
  reasons: string[];
  actions: string[];
  undeclared_writes: { feature_id: string; file: string; severity: string }[];
  overlapping_changes: { file: string; features: string[] }[];
  migration_collisions: { kind: string; value: string; migrations: { feature_id: string; path: string }[]; renumbering: { path: string; rename_to: string | null }[] }[];
  report_uri: string;
}

describe("a wave of three features, from dispatch to integration and rollback", () => {
  let h: Harness;
  const procs = { c1: new ServerProcess("c1"), c2: new ServerProcess("c2"), c3: new ServerProcess("c3"), aud: new ServerProcess("aud"), te: new ServerProcess("te") };
  let planId = "";

  beforeAll(async () => {
    h = await connect({ config: parseConfig(WAVE_CONFIG) });
    fs.writeFileSync(path.join(h.root, CONFIG_FILE), JSON.stringify(WAVE_CONFIG));
    const env = { ...process.env, SIGNALBOX_ROOT: h.root, SIGNALBOX_DB: h.ctx.store.dir } as Record<string, string>;
    await Promise.all(Object.values(procs).map((p) => p.start(env)));
  });
  afterAll(async () => {
    await Promise.all(Object.values(procs).map((p) => p.client.close()));
    await h.close();
  });

  it("plans one wave and dispatches the team", async () => {
    const plan = await h.ok<{ plan_id: string; waves: { wave_number: number; features: string[] }[] }>("plan_waves", { features: WAVE_FEATURES });
    planId = plan.plan_id;
    expect(plan.waves).toHaveLength(1);
    expect([...plan.waves[0]!.features].sort()).toEqual(["F_posts", "F_profile", "F_search"]);
    await h.ok("dispatch_agents", { agents: [{ agent_id: WAVE_ORCHESTRATOR, role: "orchestrator" }, ...WAVE_TEAM] });
    await h.ok("define_gate", WAVE_GATE);
  });

  it("runs the three features in parallel, each locking what it writes (or not)", async () => {
    const work = async (p: ServerProcess, agent: string, feature: string, locks: string[], done: Record<string, unknown>) => {
      expect((await p.ok<{ started: boolean }>("start_feature", { agent_id: agent, feature_id: feature })).started).toBe(true);
      const lock = await p.ok<{ granted: boolean }>("acquire_lock", { agent_id: agent, feature_id: feature, paths: locks, mode: "write" });
      expect(lock.granted).toBe(true);
      return p.ok<{ released: string[] }>("complete_feature", { agent_id: agent, feature_id: feature, ...done });
    };
    // F_profile completes first (its 001 migration keeps its number); F_posts and F_search at once.
    // F_search also edits app/shared/util.ts, which it never declared nor locked.
    const [profile, postsWork, searchWork] = WAVE_WORK as [WaveWork, WaveWork, WaveWork];
    const on = (w: WaveWork) => procs[w.agent as "c1" | "c2" | "c3"];
    await work(on(profile), profile.agent, profile.feature, profile.locks, profile.done);
    const [posts, search] = await Promise.all([postsWork, searchWork].map((w) => work(on(w), w.agent, w.feature, w.locks, w.done)));
    expect(posts!.released.sort()).toEqual(["app/posts.ts", "db/migrations/001_posts.sql"]);
    expect(search!.released).toEqual(["app/search.ts"]);
  });

  it("assigns the review to the matching expert, never the author", async () => {
    const r = await procs.c1.ok<{ review_id: string; reviewer: string; reason: string }>("request_review", {
      agent_id: "c1",
      feature_id: "F_profile",
      files: ["app/profile.ts"],
    });
    expect(r.reviewer).toBe("aud");
    expect(r.reason).toMatch(/app/);
    const inbox = await procs.aud.ok<{ items: { kind: string }[] }>("get_inbox", { agent_id: "aud" });
    expect(inbox.items.map((m) => m.kind)).toContain("review");
    await procs.aud.ok("submit_review", { agent_id: "aud", review_id: r.review_id, verdict: "approve", findings: [] });
  });

  it("holds integration back until the required gate passes, naming the gate and its criteria", async () => {
    const refused = await h.fails("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 });
    expect(refused).toMatch(/combined-tests/);
    expect(refused).toMatch(/the merged wave passes npm test/);
    await procs.te.ok("record_gate_result", {
      agent_id: "te",
      gate: "combined-tests",
      plan_id: planId,
      wave_number: 1,
      passed: true,
      evidence: "npm test: 212 passed",
    });
  });

  it("fails the integration on the undeclared write and reports the migration collision with its renumbering", async () => {
    const r = await h.ok<IntegrateAnswer>("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 });
    expect(r.status).toBe("failed");
    expect(r.undeclared_writes).toEqual([{ feature_id: "F_search", file: "app/shared/util.ts", severity: "CRITICAL" }]);
    expect(r.reasons[0]).toMatch(/^CRITICAL: 1 undeclared write/);
    expect(r.overlapping_changes).toEqual([]);
    expect(r.migration_collisions).toHaveLength(1);
    const c = r.migration_collisions[0]!;
    expect(c).toMatchObject({ kind: "number", value: "001" });
    expect(c.migrations.map((m) => m.feature_id)).toEqual(["F_profile", "F_posts"]);
    expect(c.renumbering).toEqual([
      { path: "db/migrations/001_posts.sql", rename_to: "db/migrations/002_posts.sql", action: "rename db/migrations/001_posts.sql to db/migrations/002_posts.sql" },
    ]);
    expect(r.actions).toContain("rename db/migrations/001_posts.sql to db/migrations/002_posts.sql");

    const report = await h.readJson<{ status: string; wave_status: string; gates: { gate: string; status: string }[]; reviews: { feature_id: string; status: string }[] }>(r.report_uri);
    expect(report.status).toBe("failed");
    expect(report.wave_status).toBe("failed");
    expect(report.gates).toEqual([expect.objectContaining({ gate: "combined-tests", status: "passed" })]);
    expect(report.reviews.find((x) => x.feature_id === "F_profile")!.status).toBe("approved");
    expect(report.reviews.find((x) => x.feature_id === "F_search")!.status).toBe("none");
    // The orchestrator's process and the agent at fault are told.
    const inbox = await procs.c3.ok<{ items: { kind: string; summary: string }[] }>("get_inbox", { agent_id: "c3" });
    expect(inbox.items.find((m) => m.kind === "integration")!.summary).toMatch(/failed: CRITICAL/);
  });

  it("rolls the failed wave back: features pending, no locks, commits and migrations listed newest first", async () => {
    // A coder cannot roll back; the orchestrator can.
    expect(await procs.c3.fails("rollback_wave", { agent_id: "c3", plan_id: planId, wave_number: 1, reason: "undeclared write" })).toMatch(
      /agent_id: only an orchestrator may roll back a wave; "c3" is registered with role coder; ask an orchestrator \("orch"\)/,
    );
    // A lock taken for the feature after its completion (to fix the undeclared write) is released with it.
    expect((await procs.c3.ok<{ granted: boolean }>("acquire_lock", { agent_id: "c3", feature_id: "F_search", paths: ["app/shared/util.ts"], mode: "write" })).granted).toBe(true);
    const r = await h.ok<{
      features: string[];
      released: string[];
      commits_to_revert: { feature_id: string; commit: string }[];
      migrations_to_roll_back: { feature_id: string; path: string }[];
      decision_seq: number;
    }>("rollback_wave", { agent_id: "orch", plan_id: planId, wave_number: 1, reason: "CRITICAL undeclared write in F_search" });
    expect([...r.features].sort()).toEqual(["F_posts", "F_profile", "F_search"]);
    expect(r.released).toEqual(["app/shared/util.ts"]);
    // Completion order was F_profile, then F_posts and F_search: reverts go newest first, each feature's commits reversed.
    expect(r.commits_to_revert.at(-1)).toEqual({ feature_id: "F_profile", commit: "a1a1a1" });
    const posts = r.commits_to_revert.filter((c) => c.feature_id === "F_posts").map((c) => c.commit);
    expect(posts).toEqual(["b2b2b2", "b1b1b1"]);
    // The failed integration's renumbering was never applied: migrations are rolled back under their recorded names.
    expect(r.migrations_to_roll_back.map((m) => m.path).sort()).toEqual(["db/migrations/001_posts.sql", "db/migrations/001_profiles.sql"]);

    const locks = await h.readJson<{ locks: unknown[] }>("signalbox://locks");
    expect(locks.locks).toEqual([]);
    const state = await h.readJson<{ plans: { plan_id: string; counts: { completed: number; active: number; ready: number } }[] }>("signalbox://state");
    expect(state.plans.find((p) => p.plan_id === planId)!.counts).toMatchObject({ completed: 0, active: 0, ready: 3 });
    const report = await h.readJson<{ wave_status: string; status: string }>(`signalbox://waves/${planId}/integration/1`);
    expect(report).toMatchObject({ wave_status: "rolled_back", status: "failed" });
    const decisions = await h.readJson<{ decisions: { seq: number; type: string; rationale: string | null }[] }>("signalbox://decisions");
    expect(decisions.decisions.find((d) => d.seq === r.decision_seq)).toMatchObject({ type: "rollback", rationale: "CRITICAL undeclared write in F_search" });
    expect(decisions.decisions.some((d) => d.type === "integration")).toBe(true);
  });

  it("lets the features start again, counting attempts, and integrates the fixed wave cleanly", async () => {
    const again = await procs.c3.ok<{ started: boolean; attempts: number }>("start_feature", { agent_id: "c3", feature_id: "F_search" });
    expect(again).toMatchObject({ started: true, attempts: 2 });
    await procs.c3.ok("acquire_lock", { agent_id: "c3", feature_id: "F_search", paths: ["app/search.ts"], mode: "write" });
    await procs.c3.ok("complete_feature", { agent_id: "c3", feature_id: "F_search", files_changed: ["app/search.ts"], commits: ["c2c2c2"] });
    for (const [p, agent, feature, files, migration] of [
      [procs.c1, "c1", "F_profile", ["app/profile.ts"], "db/migrations/001_profiles.sql"],
      [procs.c2, "c2", "F_posts", ["app/posts.ts"], "db/migrations/002_posts.sql"],
    ] as const) {
      await p.ok("start_feature", { agent_id: agent, feature_id: feature });
      await p.ok("acquire_lock", { agent_id: agent, feature_id: feature, paths: [...files, "db/migrations/"], mode: "write" });
      await p.ok("complete_feature", { agent_id: agent, feature_id: feature, files_changed: [...files], migrations: [migration], commits: [`${feature}-2`] });
    }
    // The rollback voided the wave's gate result: the combined tests must pass again on the new work.
    expect(await h.fails("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 })).toMatch(/combined-tests/);
    await procs.te.ok("record_gate_result", { agent_id: "te", gate: "combined-tests", plan_id: planId, wave_number: 1, passed: true, evidence: "npm test: 214 passed" });
    const r = await h.ok<IntegrateAnswer>("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 });
    expect(r).toMatchObject({ status: "integrated", attempt: 2, reasons: [], undeclared_writes: [], overlapping_changes: [], migration_collisions: [] });
    expect(await h.fails("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 })).toMatch(/already integrated \(attempt 2/);
    const activity = await h.readJson<{ items: { kind: string }[] }>(`signalbox://activity?agent_id=orch`);
    expect(activity.items.map((a) => a.kind).slice(0, 3)).toEqual(["wave_integrated", "wave_rolled_back", "wave_integration_failed"]);
  });
});
