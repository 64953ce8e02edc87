import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { listActivity } from "../src/log/activity.js";
import { allGates, describeBlocker, featureCompleteGates, waveGates, type GateStatus } from "../src/control/gates.js";
import type { ReviewRecord } from "../src/control/registry/records.js";
import { getReview, latestReview, openReviewCount, withdrawReviews } from "../src/control/reviews.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

type Defined = {
  gate: string;
  revision: number;
  changed: boolean;
  required: boolean;
  requires_review: boolean;
  stale_results: number;
  decision_seq: number | null;
};
type Recorded = {
  result_seq: number;
  gate_revision: number;
  feature_attempt: number | null;
  status: GateStatus["status"];
  counts_as_passed: boolean;
  notified: string[];
};
type Requested = { review_id: string; reviewer: string; author: string; feature_attempt: number; reason: string };
type Submitted = { review_id: string; feature_id: string; status: string; current_attempt: boolean; notified: string[] };
type Inbox = { items: { kind: string; summary: string; from: string; body: Record<string, unknown>; ref: { kind: string; id: string } | null }[] };
type Decisions = { decisions: { seq: number; type: string; decided_by: string; decision: string; refs: string[] }[] };

const HEARTBEAT = 60_000;
let h: Harness;
let clock: ManualClock;

beforeEach(async () => {
  clock = manualClock();
  // Reviewers of every role register themselves here (roles.self_register allows all but orchestrator).
  const self_register = ["coder", "auditor", "test_engineer", "architect", "other"];
  h = await connect({ clock, config: parseConfig({ control: { heartbeat_ms: HEARTBEAT }, roles: { self_register } }) });
});

afterEach(async () => {
  await h?.close();
});

type Agent = { agent_id: string; role: string; domain?: string };
/** A batch with an orchestrator entry is dispatched by it; otherwise each agent registers itself (one at a time). */
const dispatch = async (...agents: Agent[]) => {
  if (agents.some((a) => a.role === "orchestrator")) return h.ok("dispatch_agents", { agents });
  for (const a of agents) await h.ok("dispatch_agents", { agents: [a] });
};
const start = async (feature: string, agent: string) => {
  const r = await h.ok<{ started: boolean; attempts: number }>("start_feature", { feature_id: feature, agent_id: agent });
  expect(r.started).toBe(true);
  return r.attempts;
};
const define = (args: Record<string, unknown>) => h.ok<Defined>("define_gate", { agent_id: "orch", ...args });
const record = (args: Record<string, unknown>) => h.ok<Recorded>("record_gate_result", args);
const request = (args: Record<string, unknown>) => h.ok<Requested>("request_review", args);
const submit = (args: Record<string, unknown>) => h.ok<Submitted>("submit_review", args);
const inbox = async (agent: string) => (await h.ok<Inbox>("get_inbox", { agent_id: agent })).items;
const kinds = async (agent: string) => (await inbox(agent)).map((m) => m.kind);
const activityKinds = (filter: { agent_id?: string; feature_id?: string } = {}) =>
  listActivity(h.ctx, { ...filter, limit: 200 }).items.map((a) => a.kind);
const statusOf = (feature: string, attempt = 1) => featureCompleteGates(h.ctx, feature, attempt).map((s) => [s.gate, s.status]);

/** The usual team: an orchestrator, a coder who authors F1 (backend), a test engineer and an auditor. */
async function team(): Promise<void> {
  await dispatch(
    { agent_id: "orch", role: "orchestrator" },
    { agent_id: "c1", role: "coder", domain: "backend" },
    { agent_id: "te1", role: "test_engineer", domain: "backend" },
    { agent_id: "a1", role: "auditor", domain: "frontend" },
  );
}

const TESTS = { name: "tests", trigger: "feature_complete", criteria: "unit tests green", responsible_role: "test_engineer" };

describe("define_gate", () => {
  it("creates a gate with defaults, logs a gate decision and records the activity", async () => {
    await team();
    const d = await define(TESTS);
    expect(d).toEqual({ gate: "tests", revision: 1, changed: true, required: true, requires_review: false, stale_results: 0, decision_seq: expect.any(Number) });
    const log = await h.readJson<Decisions>("signalbox://decisions");
    const entry = log.decisions.find((e) => e.seq === d.decision_seq);
    expect(entry).toMatchObject({ type: "gate", decided_by: "orch", refs: ["tests"] });
    expect(entry?.decision).toContain("unit tests green");
    expect(activityKinds({ agent_id: "orch" })).toContain("gate_defined");
    expect(allGates(h.ctx).map((g) => [g.name, g.trigger, g.required, g.requires_review, g.revision])).toEqual([["tests", "feature_complete", true, false, 1]]);
  });

  it("redefinition bumps the revision and makes earlier results stale; the same definition again changes nothing", async () => {
    await team();
    await define(TESTS);
    await start("F1", "c1");
    await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "42 passed" });
    expect(statusOf("F1")).toEqual([["tests", "passed"]]);

    const same = await define(TESTS);
    expect(same).toMatchObject({ revision: 1, changed: false, stale_results: 0, decision_seq: null });
    expect(statusOf("F1")).toEqual([["tests", "passed"]]);

    const again = await define({ ...TESTS, criteria: "unit and integration tests green" });
    expect(again).toMatchObject({ revision: 2, changed: true, stale_results: 1 });
    expect(statusOf("F1")).toEqual([["tests", "missing"]]);

    const r = await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "50 passed" });
    expect(r).toMatchObject({ gate_revision: 2, status: "passed", counts_as_passed: true });
    expect(statusOf("F1")).toEqual([["tests", "passed"]]);
  });
});

describe("record_gate_result", () => {
  it("records a pass for the feature's current attempt, silently", async () => {
    await team();
    await define(TESTS);
    await start("F1", "c1");
    const r = await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "42 passed" });
    expect(r).toEqual({ result_seq: expect.any(Number), gate_revision: 1, feature_attempt: 1, status: "passed", counts_as_passed: true, notified: [] });
    expect(await kinds("c1")).not.toContain("gate");
    expect(await kinds("orch")).not.toContain("gate");
    expect(activityKinds({ feature_id: "F1" })).toContain("gate_result");
  });

  it("tells the feature's agent of a failed result and the status says so", async () => {
    await team();
    await define(TESTS);
    await start("F1", "c1");
    const r = await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: false, evidence: "3 tests red in auth.spec" });
    expect(r).toMatchObject({ status: "failed", counts_as_passed: false, notified: ["c1"] });
    const msg = (await inbox("c1")).find((m) => m.kind === "gate");
    expect(msg?.summary).toContain('gate "tests" failed for F1');
    expect(msg?.summary).toContain("3 tests red in auth.spec");
    const [s] = featureCompleteGates(h.ctx, "F1", 1);
    expect(describeBlocker(s as GateStatus)).toBe(
      'Gate "tests" (criteria: unit tests green; validated by role test_engineer) has not passed for feature F1: failed: 3 tests red in auth.spec (recorded by te1)',
    );
  });

  it("refuses a recorder without the responsible role, naming the role needed and the caller's", async () => {
    await team();
    await define(TESTS);
    await start("F1", "c1");
    const wrong = await h.fails("record_gate_result", { agent_id: "a1", gate: "tests", feature_id: "F1", passed: true, evidence: "looks fine" });
    expect(wrong).toContain("agent_id:");
    expect(wrong).toContain("role test_engineer");
    expect(wrong).toContain('"a1" has role auditor');
    const stranger = await h.fails("record_gate_result", { agent_id: "nobody", gate: "tests", feature_id: "F1", passed: true, evidence: "x" });
    expect(stranger).toContain('agent_id: gate "tests" is validated by role test_engineer; "nobody" is not registered');
    expect(statusOf("F1")).toEqual([["tests", "missing"]]);
  });

  it("stays silent when the responsible role or an orchestrator records", async () => {
    await team();
    await define(TESTS);
    await start("F1", "c1");
    expect((await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "ok" })).status).toBe("passed");
    expect((await record({ agent_id: "orch", gate: "tests", feature_id: "F1", passed: true, evidence: "ok again" })).status).toBe("passed");
    expect(await kinds("c1")).not.toContain("gate");
  });

  it("refuses target fields that do not fit the trigger, naming the field", async () => {
    await team();
    const plan = await h.ok<{ plan_id: string }>("plan_waves", { features: [{ id: "F1", writes: ["backend/api.ts"] }] });
    await define(TESTS);
    await define({ name: "merge", trigger: "before_merge", criteria: "rebased on main", responsible_role: "coder" });
    await define({ name: "integration", trigger: "wave_integration", criteria: "e2e green", responsible_role: "test_engineer" });
    await start("F1", "c1");
    const base = { agent_id: "orch", passed: true, evidence: "e" };
    expect(await h.fails("record_gate_result", { ...base, gate: "tests", feature_id: "F1", plan_id: plan.plan_id })).toMatch(/^plan_id: gate "tests" \(trigger feature_complete\)/);
    expect(await h.fails("record_gate_result", { ...base, gate: "merge", feature_id: "F1", wave_number: 1 })).toMatch(/^wave_number: gate "merge"/);
    expect(await h.fails("record_gate_result", { ...base, gate: "merge" })).toMatch(/^feature_id: gate "merge"/);
    expect(await h.fails("record_gate_result", { ...base, gate: "integration", feature_id: "F1", plan_id: plan.plan_id, wave_number: 1 })).toMatch(
      /^feature_id: gate "integration" \(trigger wave_integration\)/,
    );
    expect(await h.fails("record_gate_result", { ...base, gate: "integration", plan_id: plan.plan_id })).toMatch(/^wave_number:/);
    expect(await h.fails("record_gate_result", { ...base, gate: "integration", wave_number: 1 })).toMatch(/^plan_id:/);
    expect(await h.fails("record_gate_result", { ...base, gate: "integration", plan_id: "plan_nope", wave_number: 1 })).toMatch(/^plan_id: no plan "plan_nope"/);
    expect(await h.fails("record_gate_result", { ...base, gate: "integration", plan_id: plan.plan_id, wave_number: 9 })).toMatch(
      /^wave_number: plan "plan_\S+" has no wave 9/,
    );
  });

  it("stays silent when each gate gets the target its trigger takes", async () => {
    await team();
    const plan = await h.ok<{ plan_id: string }>("plan_waves", { features: [{ id: "F1", writes: ["backend/api.ts"] }] });
    await define(TESTS);
    await define({ name: "integration", trigger: "wave_integration", criteria: "e2e green", responsible_role: "test_engineer" });
    await start("F1", "c1");
    expect(await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "ok" })).toMatchObject({ status: "passed", feature_attempt: 1 });
    expect(await record({ agent_id: "te1", gate: "integration", plan_id: plan.plan_id, wave_number: 1, passed: true, evidence: "ok" })).toMatchObject({
      status: "passed",
      feature_attempt: null,
    });
  });

  it("refuses an unknown gate, naming the field and the defined gates", async () => {
    await team();
    await define(TESTS);
    await start("F1", "c1");
    const err = await h.fails("record_gate_result", { agent_id: "te1", gate: "test", feature_id: "F1", passed: true, evidence: "ok" });
    expect(err).toBe('gate: no gate "test"; define it with define_gate (defined: tests)');
  });

  it("refuses a feature that was never started, naming feature_id; stays silent once it is started", async () => {
    await team();
    await define(TESTS);
    const err = await h.fails("record_gate_result", { agent_id: "te1", gate: "tests", feature_id: "F9", passed: true, evidence: "ok" });
    expect(err).toMatch(/^feature_id: "F9" was never started/);
    await start("F9", "c1");
    expect((await record({ agent_id: "te1", gate: "tests", feature_id: "F9", passed: true, evidence: "ok" })).status).toBe("passed");
  });

  it("counts only results of the feature's current attempt", async () => {
    await team();
    await define(TESTS);
    await start("F1", "c1");
    await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "ok" });
    await h.ok("fail_feature", { agent_id: "c1", feature_id: "F1", reason: "wrong approach" });
    expect(await start("F1", "c1")).toBe(2);
    expect(statusOf("F1", 2)).toEqual([["tests", "missing"]]);
    expect(statusOf("F1", 1)).toEqual([["tests", "passed"]]);
    expect((await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "ok" })).feature_attempt).toBe(2);
    expect(statusOf("F1", 2)).toEqual([["tests", "passed"]]);
  });
});

describe("request_review", () => {
  it("never assigns the author, even when the author is the best domain and role match", async () => {
    await dispatch({ agent_id: "arch", role: "architect", domain: "backend" }, { agent_id: "c2", role: "coder", domain: "frontend" });
    await start("F1", "arch");
    // The requester is someone else, so only the author rule keeps "arch" out.
    const r = await request({ agent_id: "lead", feature_id: "F1", files: ["backend/api.ts"] });
    expect(r).toMatchObject({ review_id: "rev-1", reviewer: "c2", author: "arch", feature_attempt: 1 });
    expect(r.reason).toBe('no candidate\'s domain matches the files (backend); role coder; 0 open reviews, fewest of 1 candidate');
  });

  it("stays silent on the correct sequence: the matching expert who is not the author gets it and is told", async () => {
    await team();
    await dispatch({ agent_id: "a2", role: "auditor", domain: "backend" });
    await start("F1", "c1");
    const r = await request({ agent_id: "orch", feature_id: "F1", files: ["./backend//api.ts", "backend/db.ts"] });
    expect(r.reviewer).toBe("a2");
    expect(r.reason).toBe('domain "backend" matches the files; role auditor; 0 open reviews, fewest of 3 candidates');
    const msg = (await inbox("a2")).find((m) => m.kind === "review");
    expect(msg?.ref).toEqual({ kind: "review", id: r.review_id });
    expect(msg?.body.files).toEqual(["backend/api.ts", "backend/db.ts"]);
    expect(activityKinds({ feature_id: "F1" })).toContain("review_requested");
    expect(getReview(h.ctx, r.review_id)).toMatchObject({ status: "open", author: "c1", requested_by: "orch", reason: r.reason });
  });

  it("ranks domain before role: a backend coder beats a frontend auditor for backend files", async () => {
    await team();
    await dispatch({ agent_id: "c2", role: "coder", domain: "backend" });
    await start("F1", "c1");
    // te1 (test_engineer, backend) and c2 (coder, backend) tie on domain and role preference; c2 wins on id.
    const r = await request({ agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"] });
    expect(r.reviewer).toBe("c2");
    expect(r.reason).toMatch(/^domain "backend" matches the files; role coder; 0 open reviews, fewest of 3 candidates$/);
  });

  it("matches the expertise asked, as a domain first and as a role", async () => {
    await team();
    await start("F1", "c1");
    const byDomain = await request({ agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"], expertise: "frontend" });
    expect(byDomain.reviewer).toBe("a1");
    expect(byDomain.reason).toMatch(/^domain "frontend" matches the expertise asked; role auditor;/);
    await dispatch({ agent_id: "a3", role: "auditor", domain: "backend" });
    const byRole = await request({ agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"], expertise: "test_engineer" });
    expect(byRole.reviewer).toBe("te1");
    expect(byRole.reason).toMatch(/^domain "backend" matches the files; role test_engineer matches the expertise asked;/);
  });

  it("breaks a tie by the fewest open reviews, then by agent id", async () => {
    await dispatch({ agent_id: "a1", role: "auditor", domain: "backend" }, { agent_id: "a2", role: "auditor", domain: "backend" });
    await start("F1", "c1");
    await start("F2", "c1");
    await start("F3", "c1");
    const first = await request({ agent_id: "c1", feature_id: "F1", files: ["backend/a.ts"] });
    const second = await request({ agent_id: "c1", feature_id: "F2", files: ["backend/b.ts"] });
    expect([first.reviewer, second.reviewer]).toEqual(["a1", "a2"]);
    expect(second.reason).toBe('domain "backend" matches the files; role auditor; 0 open reviews, fewest of 2 candidates');
    await submit({ agent_id: "a1", review_id: first.review_id, verdict: "approve", findings: [] });
    expect([openReviewCount(h.ctx, "a1"), openReviewCount(h.ctx, "a2")]).toEqual([0, 1]);
    expect((await request({ agent_id: "c1", feature_id: "F3", files: ["backend/c.ts"] })).reviewer).toBe("a1");
  });

  it("takes an orchestrator only when nobody else is available, and never the requester", async () => {
    await dispatch({ agent_id: "orch", role: "orchestrator" }, { agent_id: "o2", role: "other" });
    await start("F1", "c1");
    const r = await request({ agent_id: "o2", feature_id: "F1", files: ["backend/api.ts"] });
    expect(r.reviewer).toBe("orch");
    expect(r.reason).toContain("only an orchestrator was available");
    await dispatch({ agent_id: "o3", role: "other" });
    expect((await request({ agent_id: "o2", feature_id: "F1", files: ["backend/api.ts"] })).reviewer).toBe("o3");
  });

  it("skips agents silent past the heartbeat", async () => {
    await dispatch({ agent_id: "a1", role: "auditor", domain: "backend" }, { agent_id: "c2", role: "coder", domain: "frontend" });
    await start("F1", "c1");
    clock.advance(HEARTBEAT + 1);
    await h.ok("report_status", { agent_id: "c2", status: "working" });
    expect((await request({ agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"] })).reviewer).toBe("c2");
  });

  it("refuses when nobody but the author and the requester is available, saying which reviewer to dispatch", async () => {
    await dispatch({ agent_id: "orch", role: "orchestrator" });
    await start("F1", "c1");
    const err = await h.fails("request_review", { agent_id: "orch", feature_id: "F1", files: ["backend/api.ts"] });
    expect(err).toBe(
      'feature_id: no available reviewer for "F1" besides its author "c1" and the requester "orch"; dispatch a reviewer with domain "backend" (e.g. role auditor) with dispatch_agents, then request_review again',
    );
    await dispatch({ agent_id: "a1", role: "auditor", domain: "backend" });
    expect((await request({ agent_id: "orch", feature_id: "F1", files: ["backend/api.ts"] })).reviewer).toBe("a1");
  });

  it("refuses a feature never started or failed", async () => {
    await team();
    expect(await h.fails("request_review", { agent_id: "orch", feature_id: "F9", files: ["backend/a.ts"] })).toMatch(/^feature_id: "F9" was never started/);
    await start("F1", "c1");
    await h.ok("fail_feature", { agent_id: "c1", feature_id: "F1", reason: "dead end" });
    expect(await h.fails("request_review", { agent_id: "orch", feature_id: "F1", files: ["backend/a.ts"] })).toMatch(/^feature_id: "F1" is failed/);
    await start("F1", "c1");
    expect((await request({ agent_id: "orch", feature_id: "F1", files: ["backend/a.ts"] })).feature_attempt).toBe(2);
  });
});

describe("submit_review", () => {
  async function opened(): Promise<Requested> {
    await team();
    await dispatch({ agent_id: "a2", role: "auditor", domain: "backend" });
    await start("F1", "c1");
    return request({ agent_id: "orch", feature_id: "F1", files: ["backend/api.ts"] });
  }

  it("accepts a verdict only from the assigned reviewer, naming the reviewer", async () => {
    const r = await opened();
    const err = await h.fails("submit_review", { agent_id: "a1", review_id: r.review_id, verdict: "approve", findings: [] });
    expect(err).toBe(`agent_id: ${r.review_id} is assigned to "a2"; only "a2" may submit it, not "a1"`);
    expect(getReview(h.ctx, r.review_id)?.status).toBe("open");
  });

  it("stays silent when the assigned reviewer approves: author and requester are told, the review leaves the open list", async () => {
    const r = await opened();
    expect(openReviewCount(h.ctx, "a2")).toBe(1);
    const s = await submit({ agent_id: "a2", review_id: r.review_id, verdict: "approve", findings: [] });
    expect(s).toEqual({ review_id: r.review_id, feature_id: "F1", status: "approved", current_attempt: true, notified: ["c1", "orch"] });
    expect(openReviewCount(h.ctx, "a2")).toBe(0);
    for (const who of ["c1", "orch"]) {
      const msg = (await inbox(who)).find((m) => m.kind === "review");
      expect(msg?.summary).toBe(`${r.review_id} of F1: approved by a2`);
    }
    expect(activityKinds({ agent_id: "a2" })).toContain("review_submitted");
  });

  it("refuses changes_requested without findings, naming findings; accepts it with findings", async () => {
    const r = await opened();
    for (const findings of [[], ["  "]]) {
      const err = await h.fails("submit_review", { agent_id: "a2", review_id: r.review_id, verdict: "changes_requested", findings });
      expect(err).toMatch(/^findings: changes_requested needs at least one finding/);
    }
    const s = await submit({ agent_id: "a2", review_id: r.review_id, verdict: "changes_requested", findings: ["SQL built by string concatenation in api.ts"] });
    expect(s.status).toBe("changes_requested");
    const msg = (await inbox("c1")).find((m) => m.kind === "review");
    expect(msg?.summary).toBe(`${r.review_id} of F1: changes requested by a2: SQL built by string concatenation in api.ts`);
    expect(getReview(h.ctx, r.review_id)?.findings).toEqual(["SQL built by string concatenation in api.ts"]);
  });

  it("refuses a review that is not open, with its status, and an unknown review id", async () => {
    const r = await opened();
    await submit({ agent_id: "a2", review_id: r.review_id, verdict: "approve", findings: [] });
    const again = await h.fails("submit_review", { agent_id: "a2", review_id: r.review_id, verdict: "approve", findings: [] });
    expect(again).toMatch(new RegExp(`^review_id: ${r.review_id} is approved \\(submitted .+\\); only an open review takes a verdict$`));
    expect(await h.fails("submit_review", { agent_id: "a2", review_id: "rev-99", verdict: "approve", findings: [] })).toMatch(/^review_id: no review "rev-99"/);
  });
});

describe("gate status for complete_feature and integrate_wave", () => {
  const REVIEWED = { ...TESTS, requires_review: true };

  it("a gate that requires review is review_missing until the latest review of the attempt is approved", async () => {
    await team();
    await dispatch({ agent_id: "a2", role: "auditor", domain: "backend" });
    await define(REVIEWED);
    await start("F1", "c1");
    const passed = await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "ok" });
    expect(passed).toMatchObject({ status: "review_missing", counts_as_passed: false });
    const [s] = featureCompleteGates(h.ctx, "F1", 1);
    expect(describeBlocker(s as GateStatus)).toContain("has not passed for feature F1: review_missing");

    const first = await request({ agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"] });
    expect(statusOf("F1")).toEqual([["tests", "review_missing"]]);
    await submit({ agent_id: first.reviewer, review_id: first.review_id, verdict: "changes_requested", findings: ["missing null check"] });
    expect(statusOf("F1")).toEqual([["tests", "review_missing"]]);

    const second = await request({ agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"] });
    await submit({ agent_id: second.reviewer, review_id: second.review_id, verdict: "approve", findings: [] });
    expect(statusOf("F1")).toEqual([["tests", "passed"]]);
    expect(latestReview(h.ctx, "F1", 1)?.review_id).toBe(second.review_id);
    // A review of an earlier attempt does not count for a restarted feature.
    expect(latestReview(h.ctx, "F1", 2)).toBeUndefined();
  });

  it("stays silent on the correct sequence: gate, work, review approved, result passed", async () => {
    await team();
    await dispatch({ agent_id: "a2", role: "auditor", domain: "backend" });
    await define(REVIEWED);
    await define({ name: "lint", trigger: "feature_complete", criteria: "eslint clean", responsible_role: "coder", required: false });
    await start("F1", "c1");
    const rv = await request({ agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"] });
    await submit({ agent_id: rv.reviewer, review_id: rv.review_id, verdict: "approve", findings: [] });
    expect((await record({ agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "ok" })).status).toBe("passed");
    expect(featureCompleteGates(h.ctx, "F1", 1).map((s) => [s.gate, s.required, s.status])).toEqual([
      ["lint", false, "missing"],
      ["tests", true, "passed"],
    ]);
    for (const who of ["orch", "c1", "te1", "a1", "a2"]) expect(await kinds(who)).not.toContain("gate");
  });

  it("lists wave_integration gates for the wave and before_merge gates per feature and attempt", async () => {
    await team();
    const plan = await h.ok<{ plan_id: string; waves: { features: string[] }[] }>("plan_waves", {
      features: [
        { id: "F1", writes: ["backend/api.ts"] },
        { id: "F2", writes: ["frontend/page.tsx"] },
      ],
    });
    expect(plan.waves[0]?.features).toEqual(["F1", "F2"]);
    await define({ name: "e2e", trigger: "wave_integration", criteria: "e2e suite green", responsible_role: "test_engineer" });
    await define({ name: "merge", trigger: "before_merge", criteria: "rebased on main", responsible_role: "coder" });
    await define(TESTS);
    await start("F1", "c1");
    await start("F2", "c1");
    const features = [
      { feature_id: "F1", attempt: 1 },
      { feature_id: "F2", attempt: 1 },
    ];
    const view = () => waveGates(h.ctx, plan.plan_id, 1, features).map((s) => [s.gate, s.feature_id, s.plan_id, s.wave_number, s.status]);
    expect(view()).toEqual([
      ["e2e", null, plan.plan_id, 1, "missing"],
      ["merge", "F1", null, null, "missing"],
      ["merge", "F2", null, null, "missing"],
    ]);
    await record({ agent_id: "te1", gate: "e2e", plan_id: plan.plan_id, wave_number: 1, passed: false, evidence: "checkout flow broken" });
    await record({ agent_id: "c1", gate: "merge", feature_id: "F1", passed: true, evidence: "rebased" });
    expect(view()).toEqual([
      ["e2e", null, plan.plan_id, 1, "failed"],
      ["merge", "F1", null, null, "passed"],
      ["merge", "F2", null, null, "missing"],
    ]);
    const [e2e, , f2] = waveGates(h.ctx, plan.plan_id, 1, features);
    expect(describeBlocker(e2e as GateStatus)).toBe(
      `Gate "e2e" (criteria: e2e suite green; validated by role test_engineer) has not passed for wave 1 of plan ${plan.plan_id}: failed: checkout flow broken (recorded by te1)`,
    );
    expect(describeBlocker(f2 as GateStatus)).toBe(
      'Gate "merge" (criteria: rebased on main; validated by role coder) has not passed for feature F2: missing (no result yet; record_gate_result by role coder or an orchestrator)',
    );
    // A failed wave gate goes to the orchestrator.
    expect(await kinds("orch")).toContain("gate");
    await record({ agent_id: "te1", gate: "e2e", plan_id: plan.plan_id, wave_number: 1, passed: true, evidence: "green after fix" });
    expect(view()[0]?.[4]).toBe("passed");
  });

  it("a wave gate that requires review needs an approved review of every feature of the wave", async () => {
    await team();
    await dispatch({ agent_id: "a2", role: "auditor", domain: "backend" });
    const plan = await h.ok<{ plan_id: string }>("plan_waves", {
      features: [
        { id: "F1", writes: ["backend/api.ts"] },
        { id: "F2", writes: ["frontend/page.tsx"] },
      ],
    });
    await define({ name: "e2e", trigger: "wave_integration", criteria: "e2e green", responsible_role: "test_engineer", requires_review: true });
    await start("F1", "c1");
    await start("F2", "c1");
    for (const f of ["F1", "F2"]) {
      const rv = await request({ agent_id: "orch", feature_id: f, files: [f === "F1" ? "backend/api.ts" : "frontend/page.tsx"] });
      if (f === "F1") await submit({ agent_id: rv.reviewer, review_id: rv.review_id, verdict: "approve", findings: [] });
    }
    const r = await record({ agent_id: "te1", gate: "e2e", plan_id: plan.plan_id, wave_number: 1, passed: true, evidence: "green" });
    expect(r.status).toBe("review_missing");
    const open = latestReview(h.ctx, "F2", 1) as ReviewRecord;
    await submit({ agent_id: open.reviewer, review_id: open.review_id, verdict: "approve", findings: [] });
    const features = [
      { feature_id: "F1", attempt: 1 },
      { feature_id: "F2", attempt: 1 },
    ];
    expect(waveGates(h.ctx, plan.plan_id, 1, features).map((s) => s.status)).toEqual(["passed"]);
  });

  it("withdrawReviews withdraws the open reviews of a rolled-back feature and tells the reviewer", async () => {
    await team();
    await dispatch({ agent_id: "a2", role: "auditor", domain: "backend" });
    await start("F1", "c1");
    const done = await request({ agent_id: "orch", feature_id: "F1", files: ["backend/api.ts"] });
    await submit({ agent_id: done.reviewer, review_id: done.review_id, verdict: "approve", findings: [] });
    const open = await request({ agent_id: "orch", feature_id: "F1", files: ["backend/api.ts"] });
    expect(latestReview(h.ctx, "F1", 1)?.review_id).toBe(open.review_id);
    const ids = h.ctx.store.write(() => withdrawReviews(h.ctx, "F1", "wave 1 rolled back"));
    expect(ids).toEqual([open.review_id]);
    expect(getReview(h.ctx, open.review_id)?.status).toBe("withdrawn");
    expect(getReview(h.ctx, done.review_id)?.status).toBe("approved");
    expect(openReviewCount(h.ctx, open.reviewer)).toBe(0);
    expect(latestReview(h.ctx, "F1", 1)?.review_id).toBe(done.review_id);
    const msgs = (await inbox(open.reviewer)).filter((m) => m.kind === "review").map((m) => m.summary);
    expect(msgs).toContain(`${open.review_id} of F1 withdrawn: wave 1 rolled back`);
    const err = await h.fails("submit_review", { agent_id: open.reviewer, review_id: open.review_id, verdict: "approve", findings: [] });
    expect(err).toMatch(/^review_id: rev-\d+ is withdrawn; only an open review takes a verdict$/);
  });
});
