/**
 * Git's truth over self-reports, through a real MCP Client on a real
 * repository with real worktrees: complete_feature fills in or checks what
 * the branch changed, integrate_wave judges branches and builds the wave's
 * speculative merge, wave gate results count for the merged commit only,
 * and predict_conflicts / signalbox://radar predict conflicts between active
 * branches and tell both agents once. Each warning has its silent case; no
 * call changes a working tree, an index or a branch.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { connect, type Harness } from "./helpers/client.js";
import { makeRepo, type TempRepo } from "./helpers/git-repo.js";

interface Completed {
  source: "git" | "declared";
  branch: string | null;
  files_changed: string[];
  commits: string[];
  uncommitted: string[];
  differences: { files_only_declared: string[]; files_only_in_git: string[]; commits_only_declared: string[]; commits_only_in_git: string[] } | null;
  warnings: string[];
}
interface Integrated {
  status: "integrated" | "failed";
  reasons: string[];
  actions: string[];
  undeclared_writes: { feature_id: string; file: string }[];
  overlapping_changes: { file: string; features: string[] }[];
  merge: { ref: string; commit: string | null; status: string; first_conflict: { feature_id: string; branch: string; files: string[] } | null } | null;
  notes: string[];
  report_uri: string;
}
interface Radar {
  pairs: { a: { branch: string; feature_id: string | null }; b: { branch: string; feature_id: string | null }; status: string; conflicts: { path: string; kind: string }[]; both_changed: string[] }[];
  conflicting_pairs: number;
}

let h: Harness;
let r: TempRepo;
afterEach(async () => {
  await h?.close();
  r?.cleanup();
});

const FILES = { "app/a.py": "a = 1\n", "app/b.py": "b = 1\n", "app/shared.py": "one\ntwo\nthree\nfour\nfive\nsix\n" };

/** A repository, a server on its main worktree, an orchestrator, two coders and a test engineer. */
async function setup(config: Record<string, unknown> = {}): Promise<void> {
  r = makeRepo({ files: FILES });
  h = await connect({ root: r.dir, storeDir: undefined, radarPollMs: 0, config: parseConfig({ control: { heartbeat_ms: 3_600_000 }, ...config }) });
  await h.ok("dispatch_agents", {
    agents: [
      { agent_id: "orch", role: "orchestrator" },
      { agent_id: "c1", role: "coder" },
      { agent_id: "c2", role: "coder" },
      { agent_id: "te", role: "test_engineer" },
    ],
  });
}

/** A worktree on `branch`, its feature started on it (start_feature names the branch), and `commits` committed there. */
async function branchWork(agent: string, feature: string, branch: string, commits: Record<string, string | null>[]): Promise<string> {
  const wt = r.worktree(`wt-${branch.replace(/\//g, "-")}`, branch);
  const started = await h.ok<{ started: boolean; branch: string | null }>("start_feature", { agent_id: agent, feature_id: feature, branch });
  expect(started).toMatchObject({ started: true, branch });
  commits.forEach((files, i) => r.commit(files, `${feature} step ${i + 1}`, wt));
  return wt;
}

async function plan(features: { id: string; writes: string[] }[]): Promise<string> {
  return (await h.ok<{ plan_id: string }>("plan_waves", { features })).plan_id;
}

describe("complete_feature asks git", () => {
  it("fills files and commits from the branch since its merge base; a clean worktree gives no warning", async () => {
    await setup();
    const wt = await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n" }, { "app/new.py": "n\n" }]);
    r.commit({ "app/b.py": "b = 9\n" }, "the target moves on"); // not the feature's work
    const before = [r.fingerprint(), r.fingerprint(wt)];
    const c = await h.ok<Completed>("complete_feature", { agent_id: "c1", feature_id: "F1" });
    expect(c).toMatchObject({ source: "git", branch: "feature/one", files_changed: ["app/a.py", "app/new.py"], uncommitted: [], differences: null, warnings: [] });
    expect(c.commits).toEqual(r.git(["rev-list", "--reverse", "main..feature/one"]).split("\n"));
    expect([r.fingerprint(), r.fingerprint(wt)]).toEqual(before);
  });

  it("lists uncommitted edits apart, with a warning", async () => {
    await setup();
    const wt = await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n" }]);
    r.write({ "app/forgotten.py": "x\n" }, wt);
    const c = await h.ok<Completed>("complete_feature", { agent_id: "c1", feature_id: "F1" });
    expect(c.files_changed).toEqual(["app/a.py"]);
    expect(c.uncommitted).toEqual(["app/forgotten.py"]);
    expect(c.warnings.join("\n")).toMatch(/1 uncommitted change\(s\) in .*wt-feature-one.*app\/forgotten\.py/);
  });

  it("records a declaration unchecked, with a warning, when the feature's branch is gone", async () => {
    await setup();
    const wt = await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n" }]);
    r.git(["worktree", "remove", "--force", wt]);
    r.git(["branch", "-D", "feature/one"]);
    const c = await h.ok<Completed>("complete_feature", { agent_id: "c1", feature_id: "F1", files_changed: ["app/a.py"] });
    expect(c).toMatchObject({ source: "declared", files_changed: ["app/a.py"], differences: null });
    expect(c.warnings.join("\n")).toMatch(/branch feature\/one could not be read from git/);
  });

  it("checks a declaration against git and names every difference; a true declaration is silent", async () => {
    await setup();
    await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n" }]);
    const c = await h.ok<Completed>("complete_feature", { agent_id: "c1", feature_id: "F1", files_changed: ["app/b.py"], commits: ["deadbeef"] });
    expect(c.source).toBe("declared");
    expect(c.differences).toEqual({
      files_only_declared: ["app/b.py"],
      files_only_in_git: ["app/a.py"],
      commits_only_declared: ["deadbeef"],
      commits_only_in_git: [r.git(["rev-parse", "feature/one"])],
    });
    expect(c.warnings).toHaveLength(4);
    expect(c.warnings[0]).toMatch(/declared but not changed on branch feature\/one: app\/b\.py/);

    await branchWork("c2", "F2", "feature/two", [{ "app/b.py": "b = 2\n" }]);
    const head = r.git(["rev-parse", "feature/two"]);
    const ok = await h.ok<Completed>("complete_feature", { agent_id: "c2", feature_id: "F2", files_changed: ["app/b.py"], commits: [head.slice(0, 10)] });
    expect(ok.warnings).toEqual([]);
    expect(ok.commits).toEqual([head]);
    expect(ok.differences).toEqual({ files_only_declared: [], files_only_in_git: [], commits_only_declared: [], commits_only_in_git: [] });
  });
});

describe("integrate_wave judges branches from git", () => {
  it("builds the wave's merged commit under refs/signalbox/ and finds an undeclared write the agent never reported", async () => {
    await setup();
    const planId = await plan([
      { id: "F1", writes: ["app/a.py"] },
      { id: "F2", writes: ["app/b.py"] },
    ]);
    const wt1 = await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n", "app/secret.py": "s\n" }]);
    const wt2 = await branchWork("c2", "F2", "feature/two", [{ "app/b.py": "b = 2\n" }]);
    await h.ok("complete_feature", { agent_id: "c1", feature_id: "F1", files_changed: ["app/a.py"] }); // an incomplete self-report
    await h.ok("complete_feature", { agent_id: "c2", feature_id: "F2" });
    const before = [r.fingerprint(), r.fingerprint(wt1), r.fingerprint(wt2)];
    const rep = await h.ok<Integrated>("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 });
    expect(rep.status).toBe("failed");
    expect(rep.undeclared_writes).toEqual([expect.objectContaining({ feature_id: "F1", file: "app/secret.py" })]);
    expect(rep.merge).toMatchObject({ ref: `refs/signalbox/waves/${planId}/1`, status: "clean", first_conflict: null });
    expect(r.git(["rev-parse", rep.merge!.ref])).toBe(rep.merge!.commit);
    expect(r.git(["show", `${rep.merge!.ref}:app/b.py`])).toBe("b = 2");
    expect(rep.notes).toEqual([]);
    expect([r.fingerprint(), r.fingerprint(wt1), r.fingerprint(wt2)]).toEqual(before);
    const report = await h.readJson<{ features: { feature_id: string; source: string; branch: string | null; files_changed: string[] }[] }>(rep.report_uri);
    expect(report.features.map((f) => [f.feature_id, f.source, f.branch, f.files_changed])).toEqual([
      ["F1", "git", "feature/one", ["app/a.py", "app/secret.py"]],
      ["F2", "git", "feature/two", ["app/b.py"]],
    ]);
  });

  it("fails a wave whose branches do not merge, naming the first feature that conflicts and the files", async () => {
    await setup();
    const planId = await plan([
      { id: "F1", writes: ["app/shared.py"] },
      { id: "F2", writes: ["app/a.py"] },
    ]);
    // F2 does not declare app/shared.py: check_parallel let them run together, git knows better.
    await branchWork("c1", "F1", "feature/one", [{ "app/shared.py": "ONE\ntwo\nthree\nfour\nfive\nsix\n" }]);
    await branchWork("c2", "F2", "feature/two", [{ "app/a.py": "a = 3\n", "app/shared.py": "uno\ntwo\nthree\nfour\nfive\nsix\n" }]);
    await h.ok("complete_feature", { agent_id: "c1", feature_id: "F1" });
    await h.ok("complete_feature", { agent_id: "c2", feature_id: "F2" });
    const rep = await h.ok<Integrated>("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 });
    expect(rep.status).toBe("failed");
    expect(rep.merge).toMatchObject({ status: "conflict", commit: null, first_conflict: { feature_id: "F2", branch: "feature/two", files: ["app/shared.py"] } });
    expect(rep.reasons.join("\n")).toMatch(/branch feature\/two of F2 does not merge cleanly onto main .*app\/shared\.py/);
    expect(rep.overlapping_changes).toEqual([expect.objectContaining({ file: "app/shared.py", features: ["F1", "F2"] })]);
  });

  it("finds a migration number collision from the branches alone, with the renumbering, when nobody declared a migration", async () => {
    await setup({ integration_points: [{ pattern: "db/migrations/**", tag: "migration" }] });
    const planId = await plan([
      { id: "F1", writes: ["app/a.py"] },
      { id: "F2", writes: ["app/b.py"] },
    ]);
    await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n", "db/migrations/001_users.sql": "create table users();\n" }]);
    await branchWork("c2", "F2", "feature/two", [{ "app/b.py": "b = 2\n", "db/migrations/001_posts.sql": "create table posts();\n" }]);
    await h.ok("complete_feature", { agent_id: "c1", feature_id: "F1" });
    await h.ok("complete_feature", { agent_id: "c2", feature_id: "F2" });
    const rep = await h.ok<Integrated & { migration_collisions: { kind: string; value: string; renumbering: { path: string; rename_to: string | null }[] }[] }>("integrate_wave", {
      agent_id: "orch",
      plan_id: planId,
      wave_number: 1,
    });
    expect(rep.migration_collisions).toEqual([
      expect.objectContaining({ kind: "number", value: "001", renumbering: [expect.objectContaining({ path: "db/migrations/001_posts.sql", rename_to: "db/migrations/002_posts.sql" })] }),
    ]);
  });

  it("judges a feature without a branch from its declaration and says so", async () => {
    await setup();
    const planId = await plan([
      { id: "F1", writes: ["app/a.py"] },
      { id: "F2", writes: ["app/b.py"] },
    ]);
    await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n" }]);
    await h.ok("start_feature", { agent_id: "c2", feature_id: "F2" }); // the server runs on main: no branch
    await h.ok("complete_feature", { agent_id: "c1", feature_id: "F1" });
    await h.ok("complete_feature", { agent_id: "c2", feature_id: "F2", files_changed: ["app/b.py"] });
    const rep = await h.ok<Integrated>("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 });
    expect(rep.status).toBe("integrated");
    expect(rep.notes).toEqual(["F2: no branch recorded; judged from its declared files_changed"]);
  });

  it("counts a wave gate result only for the wave's current merged commit", async () => {
    await setup();
    const planId = await plan([
      { id: "F1", writes: ["app/a.py"] },
      { id: "F2", writes: ["app/b.py"] },
    ]);
    await h.ok("define_gate", { agent_id: "orch", name: "combined", trigger: "wave_integration", criteria: "the merged wave passes its tests", responsible_role: "test_engineer" });
    await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n" }]);
    await branchWork("c2", "F2", "feature/two", [{ "app/b.py": "b = 2\n" }]);
    await h.ok("complete_feature", { agent_id: "c1", feature_id: "F1" });
    await h.ok("complete_feature", { agent_id: "c2", feature_id: "F2" });
    const refused = await h.fails("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 });
    const merged = /merged commit ([0-9a-f]{40})/.exec(refused)?.[1];
    expect(merged).toBe(r.git(["rev-parse", `refs/signalbox/waves/${planId}/1`]));
    // A result without the commit, or about another commit, does not count.
    await h.ok("record_gate_result", { agent_id: "te", gate: "combined", plan_id: planId, wave_number: 1, passed: true, evidence: "tested main by mistake" });
    expect(await h.fails("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 })).toMatch(/no result for the wave's merged commit/);
    expect(await h.fails("record_gate_result", { agent_id: "te", gate: "combined", plan_id: planId, wave_number: 1, commit: "main", passed: true, evidence: "x" })).toMatch(
      /^commit: .* is not the current merged commit of wave 1/,
    );
    await h.ok("record_gate_result", { agent_id: "te", gate: "combined", plan_id: planId, wave_number: 1, commit: merged!.slice(0, 12), passed: true, evidence: "npm test green on the merge" });
    const rep = await h.ok<Integrated>("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 });
    expect(rep.status).toBe("integrated");
    expect(rep.merge?.commit).toBe(merged);
    // Integrated: a second call is refused and rebuilds nothing; a rollback drops the merged ref.
    expect(await h.fails("integrate_wave", { agent_id: "orch", plan_id: planId, wave_number: 1 })).toMatch(/already integrated/);
    await h.ok("rollback_wave", { agent_id: "orch", plan_id: planId, wave_number: 1, reason: "combined tests failed later" });
    expect(() => r.git(["rev-parse", "--verify", "-q", `refs/signalbox/waves/${planId}/1`])).toThrow();
    expect(r.git(["rev-parse", "feature/one"])).toMatch(/^[0-9a-f]{40}$/); // branches are never touched
  });
});

describe("the conflict radar", () => {
  async function twoConflictingBranches(): Promise<string[]> {
    const wt1 = await branchWork("c1", "F1", "feature/one", [{ "app/shared.py": "ONE\ntwo\nthree\nfour\nfive\nsix\n" }]);
    const wt2 = await branchWork("c2", "F2", "feature/two", [{ "app/shared.py": "uno\ntwo\nthree\nfour\nfive\nsix\n", "app/b.py": "b = 2\n" }]);
    return [wt1, wt2];
  }
  const inbox = async (agent: string) =>
    (await h.ok<{ items: { kind: string; summary: string }[] }>("get_inbox", { agent_id: agent })).items.filter((m) => m.kind === "merge_conflict");

  it("predicts the conflict with its file and kind without touching any worktree, and tells both agents once", async () => {
    await setup();
    const wts = await twoConflictingBranches();
    const before = [r.fingerprint(), ...wts.map((w) => r.fingerprint(w))];
    const radar = await h.ok<Radar>("predict_conflicts", { agent_id: "orch" });
    expect(radar.conflicting_pairs).toBe(1);
    expect(radar.pairs[0]).toMatchObject({ a: { branch: "feature/one", feature_id: "F1" }, b: { branch: "feature/two", feature_id: "F2" }, status: "conflict", conflicts: [{ path: "app/shared.py", kind: "content" }] });
    expect([r.fingerprint(), ...wts.map((w) => r.fingerprint(w))]).toEqual(before);
    expect(await inbox("c1")).toHaveLength(1);
    expect((await inbox("c2"))[0]?.summary).toMatch(/your branch feature\/two \(F2\) and feature\/one \(F1, agent c1\) conflict in app\/shared\.py/);
    await h.ok("predict_conflicts", {});
    r.commit({ "app/other.py": "o\n" }, "more work", wts[0]); // the head moves, the pair still conflicts
    await h.ok("predict_conflicts", {});
    expect(await inbox("c1")).toHaveLength(1);
    expect(await inbox("c2")).toHaveLength(1);
    const resource = await h.readJson<Radar & { available: boolean }>("signalbox://radar");
    expect(resource).toMatchObject({ available: true, conflicting_pairs: 1 });
  });

  it("turns check_parallel's verdict for two conflicting feature branches into SERIALIZE merge_conflict, naming the file", async () => {
    await setup();
    await twoConflictingBranches();
    const tasks = [
      { id: "F1", writes: ["app/a.py"] },
      { id: "F2", writes: ["app/b.py"] },
    ];
    const r1 = await h.ok<{ verdict: string; pairs: { verdict: string; reasons: { type: string; keys: string[] }[] }[] }>("check_parallel", { tasks });
    expect(r1.verdict).toBe("SERIALIZE");
    expect(r1.pairs[0]?.reasons).toEqual([expect.objectContaining({ type: "merge_conflict", keys: ["app/shared.py"] })]);
    // Tasks that are not features with branches are judged on their declarations alone.
    const r2 = await h.ok<{ verdict: string }>("check_parallel", { tasks: [{ id: "X1", writes: ["app/a.py"] }, { id: "X2", writes: ["app/b.py"] }] });
    expect(r2.verdict).toBe("PARALLEL");
  });

  it("stays silent for branches that merge cleanly, and flags files both sides changed", async () => {
    await setup();
    await branchWork("c1", "F1", "feature/one", [{ "app/shared.py": "ONE\ntwo\nthree\nfour\nfive\nsix\n" }]);
    await branchWork("c2", "F2", "feature/two", [{ "app/shared.py": "one\ntwo\nthree\nfour\nfive\nSIX\n" }]);
    const radar = await h.ok<Radar>("predict_conflicts", {});
    expect(radar.pairs[0]).toMatchObject({ status: "clean", conflicts: [], both_changed: ["app/shared.py"] });
    const check = await h.ok<{ verdict: string }>("check_parallel", { tasks: [{ id: "F1", writes: ["app/a.py"] }, { id: "F2", writes: ["app/b.py"] }] });
    expect(check.verdict).toBe("PARALLEL");
    expect(await inbox("c1")).toEqual([]);
    expect(await inbox("c2")).toEqual([]);
  });

  it("counts uncommitted edits on request and leaves the worktree exactly as it was", async () => {
    await setup();
    const wt1 = await branchWork("c1", "F1", "feature/one", [{ "app/a.py": "a = 2\n" }]);
    await branchWork("c2", "F2", "feature/two", [{ "app/shared.py": "uno\ntwo\nthree\nfour\nfive\nsix\n" }]);
    r.write({ "app/shared.py": "ONE\ntwo\nthree\nfour\nfive\nsix\n" }, wt1); // not committed yet
    expect((await h.ok<Radar>("predict_conflicts", {})).conflicting_pairs).toBe(0);
    const before = r.fingerprint(wt1);
    const withEdits = await h.ok<Radar>("predict_conflicts", { include_uncommitted: true });
    expect(withEdits.pairs[0]).toMatchObject({ status: "conflict", conflicts: [{ path: "app/shared.py" }] });
    expect(r.fingerprint(wt1)).toBe(before);
    expect(await h.fails("predict_conflicts", { refs: ["feature/one", "nope"] })).toMatch(/no commit "nope"/);
  });
});
