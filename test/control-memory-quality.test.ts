/**
 * Integration checkpoints, emergencies, quality gates and peer reviews on an
 * engine whose reads really are asynchronous (src/store/memory/engine.ts),
 * directly against the domain modules: no LMDB, no MCP. Each use case runs
 * inside one `db.write` with an env bound to it (docs/store-port.md), and
 * availability is judged on the engine's own clock. The lock manager runs
 * on the same engine with the control layer's hooks, so an open checkpoint
 * refuses write locks inside the grant's own transaction, and completing a
 * feature is held back by its gates in the completing transaction.
 */
import { describe, expect, it } from "vitest";
import { getAgent } from "../src/control/registry/agents.js";
import { listCheckpoints, reachCheckpoint, requestCheckpoint, resumeCheckpoint } from "../src/control/checkpoints.js";
import { dispatchAgents } from "../src/control/dispatch.js";
import { type ControlEnv } from "../src/control/registry/env.js";
import { completeFeature, getFeature, startFeature } from "../src/control/features.js";
import { defineGate, describeBlocker, featureCompleteGates, recordGateResult } from "../src/control/gates.js";
import { listInbox } from "../src/control/registry/inbox.js";
import { closeIncident, getIncident, incidentsView, reportEmergency } from "../src/control/incidents.js";
import type { Role } from "../src/control/registry/records.js";
import { getReview, latestReview, openReviewCount, requestReview, submitReview } from "../src/control/reviews.js";
import { reportStatus } from "../src/control/status.js";
import { admitLock, openCheckpoints } from "../src/control/registry/stops.js";
import { codeOf } from "../src/errors.js";
import { listActivity } from "../src/log/activity.js";
import { decisionPage } from "../src/log/decisions.js";
import { failure, onMemory } from "./helpers/memory-engine.js";

type Run = ReturnType<typeof onMemory>["run"];

type Member = { agent_id: string; role: Role; domain?: string; feature_id?: string };
/** Dispatch `members` by the orchestrator `orch` (registered with them). */
const dispatch = (run: Run, ...members: Member[]) => run((env) => dispatchAgents(env, [{ agent_id: "orch", role: "orchestrator" }, ...members], "CODE"));
const kinds = (run: Run, agent: string) => run((env) => listInbox(env, agent).items.map((m) => m.kind));

describe("integration checkpoints on the in-memory engine", () => {
  /** c1 on F1, c2 on F2, dba on MIG, an auditor and the orchestrator. */
  const team = (run: Run) =>
    dispatch(
      run,
      { agent_id: "c1", role: "coder", feature_id: "F1" },
      { agent_id: "c2", role: "coder", feature_id: "F2" },
      { agent_id: "dba", role: "coder", feature_id: "MIG" },
      { agent_id: "aud", role: "auditor" },
    );

  it("pauses writes outside the integration work until every stream reached it and the requester resumed", async () => {
    const { run, locks } = onMemory();
    await team(run);
    const { checkpoint: cp, message_id } = await run((env) => requestCheckpoint(env, { agent_id: "dba", name: "mig-42", reason: "run migration 0042", feature_id: "MIG" }));
    // The active streams are expected: not the requester (integration work), not the orchestrator.
    expect(cp).toMatchObject({ name: "mig-42", status: "open", expected: 3, all_arrived: false, arrived: [] });
    expect([...cp.missing].sort()).toEqual(["aud", "c1", "c2"]);
    expect(message_id).not.toBeNull();
    expect(await kinds(run, "c1")).toEqual(["checkpoint"]);

    const stops = await run((env) => ({
      open: openCheckpoints(env).map((c) => c.name),
      c1: admitLock(env, { agent_id: "c1", keys: ["app/a.ts"], mode: "write" }),
      dba: admitLock(env, { agent_id: "dba", keys: ["db/0042.sql"], mode: "write" }),
      // Naming the integration feature in a request does not make an agent part of the work.
      claim: admitLock(env, { agent_id: "c2", keys: ["db/0042.sql"], mode: "write", feature_id: "MIG" }),
    }));
    expect(stops.open).toEqual(["mig-42"]);
    expect(stops.c1).toMatchObject({ kind: "checkpoint", id: "mig-42", raised_by: "dba" });
    expect(stops.dba).toBeNull();
    expect(stops.claim).toMatchObject({ kind: "checkpoint", id: "mig-42" });
    const refused = await locks.acquire({ agent_id: "c1", keys: ["app/a.ts"], mode: "write", feature_id: "F1" });
    expect(refused.granted).toBe(false);
    if (!refused.granted) expect([refused.reason, refused.stop?.id]).toEqual(["checkpoint", "mig-42"]);
    expect((await locks.acquire({ agent_id: "dba", keys: ["db/0042.sql"], mode: "write", feature_id: "MIG" })).granted).toBe(true);
    expect((await locks.acquire({ agent_id: "c1", keys: ["app/a.ts"], mode: "read" })).granted).toBe(true);

    const told = await run((env) => reportStatus(env, { agent_id: "c1", status: "working" }));
    expect(told.checkpoint).toEqual({ name: "mig-42", reason: "run migration 0042", requested_by: "dba", reached: false });
    expect(told.instruction).toContain('checkpoint "mig-42" requested by dba');

    const first = await run((env) => reachCheckpoint(env, "c1", "mig-42"));
    expect(first).toMatchObject({ newly: true, checkpoint: { arrived: ["c1"], all_arrived: false } });
    expect((await run((env) => reachCheckpoint(env, "c1", "mig-42"))).newly).toBe(false);
    expect((await run((env) => reportStatus(env, { agent_id: "c1", status: "working" }))).instruction).toBe('waiting at checkpoint "mig-42" until resume_checkpoint');
    const self = await failure(run((env) => reachCheckpoint(env, "dba", "mig-42")));
    expect(codeOf(self)).toEqual({ code: "invalid_state", field: "agent_id" });
    await run((env) => reachCheckpoint(env, "c2", "mig-42"));
    expect(await kinds(run, "dba")).toEqual([]);
    const last = await run((env) => reachCheckpoint(env, "aud", "mig-42"));
    expect(last.checkpoint).toMatchObject({ all_arrived: true, missing: [] });
    // The requester hears once that everybody arrived.
    expect(await kinds(run, "dba")).toEqual(["checkpoint"]);

    const dup = await failure(run((env) => requestCheckpoint(env, { agent_id: "c2", name: "mig-42", reason: "again" })));
    expect(codeOf(dup)).toEqual({ code: "invalid_state", field: "name" });
    const notMine = await failure(run((env) => resumeCheckpoint(env, "c1", "mig-42")));
    expect(codeOf(notMine)).toEqual({ code: "not_permitted", field: "agent_id" });

    const resumed = await run((env) => resumeCheckpoint(env, "dba", "mig-42"));
    expect(resumed).toMatchObject({ status: "resumed", resumed_by: "dba", missing: [] });
    expect(await run((env) => openCheckpoints(env))).toEqual([]);
    // The same write lock is granted now (c1's own read lock on the key does not conflict with it).
    expect((await locks.acquire({ agent_id: "c1", keys: ["app/a.ts"], mode: "write", feature_id: "F1" })).granted).toBe(true);
    expect(await kinds(run, "c1")).toEqual(["checkpoint", "resume"]);
    expect(codeOf(await failure(run((env) => reachCheckpoint(env, "c2", "mig-42"))))).toEqual({ code: "invalid_state", field: "name" });
    expect(codeOf(await failure(run((env) => reachCheckpoint(env, "c2", "nope"))))).toEqual({ code: "not_found", field: "name" });
    const acts = await run((env) => listActivity(env, { feature_id: "MIG", limit: 20 }).items.map((a) => a.kind));
    expect(acts.filter((k) => k.startsWith("checkpoint_"))).toEqual(["checkpoint_resumed", "checkpoint_reached", "checkpoint_reached", "checkpoint_reached", "checkpoint_requested"]);
  });

  it("expects only agents available on the engine's clock; an orchestrator resumes naming who never arrived; the name is reusable", async () => {
    const { run, engine } = onMemory({ control: { heartbeat_ms: 60_000 } });
    await team(run);
    engine.advance(61_000);
    await run((env) => reportStatus(env, { agent_id: "c2", status: "working" }));
    const { checkpoint } = await run((env) => requestCheckpoint(env, { agent_id: "dba", name: "sync", reason: "schema sync" }));
    // c1 and aud are silent past the heartbeat: nobody waits for them.
    expect(checkpoint).toMatchObject({ expected: 1, missing: ["c2"] });
    const view = await run((env) => resumeCheckpoint(env, "orch", "sync"));
    expect(view).toMatchObject({ status: "resumed", resumed_by: "orch", missing: ["c2"], all_arrived: false });
    expect(await kinds(run, "c2")).toEqual(["checkpoint", "resume"]);
    const again = await run((env) => requestCheckpoint(env, { agent_id: "c2", name: "sync", reason: "second round" }));
    expect(again.checkpoint).toMatchObject({ status: "open", requested_by: "c2" });
    expect(await run((env) => listCheckpoints(env))).toMatchObject({ open: 1, omitted: 0, checkpoints: [{ name: "sync", status: "open", reason: "second round" }] });
  });
});

describe("emergencies on the in-memory engine", () => {
  it("escalates an emergency above everything else, logs it, and only an orchestrator closes it with a post-incident review", async () => {
    const { run } = onMemory();
    await dispatch(run, { agent_id: "c1", role: "coder" });
    await run((env) => reportStatus(env, { agent_id: "orch", status: "working" }));
    const r = await run((env) => reportEmergency(env, { agent_id: "c1", type: "resource_failure", description: " database down ", temporary_measures: "read-only mode" }));
    expect(r.incident).toMatchObject({ incident_id: "inc-1", status: "open", description: "database down", temporary_measures: "read-only mode", escalated_to: ["orch"] });
    expect(r.escalated_to).toEqual(["orch"]);
    const orchInbox = await run((env) => listInbox(env, "orch").items);
    expect(orchInbox[0]).toMatchObject({ kind: "incident", priority: "algedonic", ref: { kind: "incident", id: "inc-1" } });

    const notOrch = await failure(run((env) => closeIncident(env, { agent_id: "c1", incident_id: "inc-1", recovery: "failover", review: "add replica" })));
    expect(codeOf(notOrch)).toEqual({ code: "not_permitted", field: "agent_id" });
    const blank = await failure(run((env) => closeIncident(env, { agent_id: "orch", incident_id: "inc-1", recovery: "  ", review: "x" })));
    expect(codeOf(blank)).toEqual({ code: "invalid_argument", field: "recovery" });
    expect(await run((env) => getIncident(env, "inc-1")?.status)).toBe("open");

    const closed = await run((env) => closeIncident(env, { agent_id: "orch", incident_id: "inc-1", recovery: "failover to replica", review: "add a second replica" }));
    expect(closed.incident).toMatchObject({ status: "closed", closed_by: "orch", recovery: "failover to replica", decision_seq: closed.decision_seq });
    expect(closed.notified).toEqual(["c1"]);
    const seen = await run((env) => ({
      log: decisionPage(env.txn.read()).decisions.map((d) => [d.seq, d.type, d.decided_by, d.refs]),
      view: incidentsView(env),
      c1: listInbox(env, "c1").items.map((m) => [m.kind, m.ref?.id]),
    }));
    expect(seen.log).toEqual([
      [closed.decision_seq, "post_incident_review", "orch", ["inc-1"]],
      [r.decision_seq, "emergency", "c1", ["inc-1"]],
    ]);
    expect(seen.view).toMatchObject({ open: [], open_total: 0, closed_total: 1, closed: [{ incident_id: "inc-1" }] });
    expect(seen.c1).toEqual([["incident", "inc-1"]]);
    const twice = await failure(run((env) => closeIncident(env, { agent_id: "orch", incident_id: "inc-1", recovery: "r", review: "v" })));
    expect(codeOf(twice)).toEqual({ code: "invalid_state", field: "incident_id" });
    expect(codeOf(await failure(run((env) => closeIncident(env, { agent_id: "orch", incident_id: "inc-9", recovery: "r", review: "v" }))))).toEqual({
      code: "not_found",
      field: "incident_id",
    });
  });

  it("goes to the `orchestrator` inbox while no orchestrator is registered, and refuses a blank description", async () => {
    const { run } = onMemory();
    const r = await run((env) => reportEmergency(env, { agent_id: "lonely", type: "communication_breakdown", description: "no answers" }));
    expect(r.escalated_to).toEqual(["orchestrator"]);
    expect(r.instruction).toContain("put temporary measures in place");
    expect(await run((env) => unreadOf(env, "orchestrator"))).toBe(1);
    expect(codeOf(await failure(run((env) => reportEmergency(env, { agent_id: "x", type: "agent_failure", description: " " }))))).toEqual({
      code: "invalid_argument",
      field: "description",
    });
    expect(await run((env) => incidentsView(env).open_total)).toBe(1);
  });
});

const unreadOf = (env: ControlEnv, agent: string) => listInbox(env, agent).unread;

const TESTS = { name: "tests", trigger: "feature_complete" as const, criteria: "unit tests green", responsible_role: "test_engineer" as const };

describe("quality gates on the in-memory engine", () => {
  /** orch, coder c1 (backend) on F1 started, test engineer te1, auditors a1 (frontend) and a2 (backend). */
  async function team(run: Run): Promise<void> {
    await dispatch(
      run,
      { agent_id: "c1", role: "coder", domain: "backend" },
      { agent_id: "te1", role: "test_engineer", domain: "backend" },
      { agent_id: "a1", role: "auditor", domain: "frontend" },
      { agent_id: "a2", role: "auditor", domain: "backend" },
    );
    expect((await run((env) => startFeature(env, { feature_id: "F1", agent_id: "c1" }))).started).toBe(true);
  }

  it("holds completion back until the required gate passes for the attempt; only the responsible role or an orchestrator records", async () => {
    const { run, locks } = onMemory();
    await team(run);
    const notOrch = await failure(run((env) => defineGate(env, { ...TESTS, agent_id: "c1" })));
    expect(codeOf(notOrch)).toEqual({ code: "not_permitted", field: "agent_id" });
    const d = await run((env) => defineGate(env, { ...TESTS, agent_id: "orch" }));
    expect(d).toMatchObject({ changed: true, stale_results: 0, gate: { revision: 1, required: true, requires_review: false } });
    expect(await run((env) => decisionPage(env.txn.read()).decisions[0]?.type)).toBe("gate");

    const held = await failure(run((env) => completeFeature(env, locks, { feature_id: "F1", agent_id: "c1" })));
    expect(codeOf(held)).toEqual({ code: "invalid_state", field: "feature_id" });
    expect(held.message).toContain('Gate "tests"');
    expect(held.message).toContain("missing");

    const wrongRole = await failure(run((env) => recordGateResult(env, { agent_id: "c1", gate: "tests", feature_id: "F1", passed: true, evidence: "trust me" })));
    expect(codeOf(wrongRole)).toEqual({ code: "not_permitted", field: "agent_id" });
    expect(wrongRole.message).toContain("has role coder");
    const wrongTarget = await failure(run((env) => recordGateResult(env, { agent_id: "te1", gate: "tests", plan_id: "p", wave_number: 1, passed: true, evidence: "x" })));
    expect(codeOf(wrongTarget)).toEqual({ code: "invalid_argument", field: "plan_id" });
    expect(codeOf(await failure(run((env) => recordGateResult(env, { agent_id: "te1", gate: "nope", feature_id: "F1", passed: true, evidence: "x" }))))).toEqual({
      code: "not_found",
      field: "gate",
    });

    const failed = await run((env) => recordGateResult(env, { agent_id: "te1", gate: "tests", feature_id: "F1", passed: false, evidence: "3 failing" }));
    expect(failed.status.status).toBe("failed");
    expect(failed.result).toMatchObject({ gate_revision: 1, feature_attempt: 1, passed: false, recorded_by: "te1" });
    expect(failed.notified).toEqual(["c1"]);
    expect(await kinds(run, "c1")).toContain("gate");
    const stillHeld = await failure(run((env) => completeFeature(env, locks, { feature_id: "F1", agent_id: "c1" })));
    expect(stillHeld.message).toContain("failed: 3 failing (recorded by te1)");

    const passed = await run((env) => recordGateResult(env, { agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "all green" }));
    expect([passed.status.status, passed.notified]).toEqual(["passed", []]);
    await run((env) => completeFeature(env, locks, { feature_id: "F1", agent_id: "c1", schema_changes: [] }));
    expect(await run((env) => getFeature(env, "F1")?.status)).toBe("completed");
  });

  it("counts only the gate's current revision and the feature's current attempt; the same definition again changes nothing", async () => {
    const { run, locks } = onMemory();
    await team(run);
    await run((env) => defineGate(env, { ...TESTS, agent_id: "orch" }));
    await run((env) => recordGateResult(env, { agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "green" }));
    const same = await run((env) => defineGate(env, { ...TESTS, agent_id: "orch" }));
    expect(same).toMatchObject({ changed: false, decision_seq: null, gate: { revision: 1 } });
    const redefined = await run((env) => defineGate(env, { ...TESTS, criteria: "unit and integration tests green", agent_id: "orch" }));
    expect(redefined).toMatchObject({ changed: true, stale_results: 1, gate: { revision: 2 } });
    expect(await run((env) => featureCompleteGates(env, "F1", 1).map((s) => [s.gate, s.status]))).toEqual([["tests", "missing"]]);
    // A result for revision 2 counts; a restarted feature (attempt 2) needs its own.
    await run((env) => recordGateResult(env, { agent_id: "orch", gate: "tests", feature_id: "F1", passed: true, evidence: "green again" }));
    expect(await run((env) => featureCompleteGates(env, "F1", 1).map((s) => s.status))).toEqual(["passed"]);
    expect(await run((env) => featureCompleteGates(env, "F1", 2).map((s) => s.status))).toEqual(["missing"]);
    await run((env) => completeFeature(env, locks, { feature_id: "F1", agent_id: "c1" }));
  });

  it("a gate that requires review is review_missing until the latest review of the attempt is approved", async () => {
    const { run } = onMemory();
    await team(run);
    await run((env) => defineGate(env, { ...TESTS, requires_review: true, agent_id: "orch" }));
    const r = await run((env) => recordGateResult(env, { agent_id: "te1", gate: "tests", feature_id: "F1", passed: true, evidence: "ok" }));
    expect(r.status.status).toBe("review_missing");
    expect(describeBlocker(r.status)).toContain("has not passed for feature F1: review_missing");
    const classify = () => ["backend"];
    const first = await run((env) => requestReview(env, { agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"] }, classify));
    await run((env) => submitReview(env, { agent_id: first.reviewer, review_id: first.review_id, verdict: "changes_requested", findings: ["missing null check"] }));
    expect(await run((env) => featureCompleteGates(env, "F1", 1).map((s) => s.status))).toEqual(["review_missing"]);
    const second = await run((env) => requestReview(env, { agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"] }, classify));
    await run((env) => submitReview(env, { agent_id: second.reviewer, review_id: second.review_id, verdict: "approve", findings: [] }));
    expect(await run((env) => featureCompleteGates(env, "F1", 1).map((s) => s.status))).toEqual(["passed"]);
    expect(await run((env) => latestReview(env, "F1", 1)?.review_id)).toBe(second.review_id);
  });
});

describe("peer reviews on the in-memory engine", () => {
  const byTopDir = (files: readonly string[]) => [...new Set(files.map((f) => f.split("/")[0] as string))];

  it("assigns the best match that is not the author (domain before role), and only that reviewer submits, once", async () => {
    const { run } = onMemory();
    await dispatch(
      run,
      { agent_id: "c1", role: "coder", domain: "backend" },
      { agent_id: "c2", role: "coder", domain: "backend" },
      { agent_id: "fa", role: "auditor", domain: "frontend" },
    );
    await run((env) => startFeature(env, { feature_id: "F1", agent_id: "c1" }));
    const rv = await run((env) => requestReview(env, { agent_id: "c1", feature_id: "F1", files: ["backend/api.ts"] }, byTopDir));
    // A backend coder beats a frontend auditor for backend files; the author is never chosen.
    expect(rv).toMatchObject({ review_id: "rev-1", reviewer: "c2", author: "c1", status: "open", feature_attempt: 1 });
    expect(rv.reason).toContain('domain "backend" matches the files');
    expect(await run((env) => [openReviewCount(env, "c2"), listInbox(env, "c2").items.map((m) => m.ref)])).toEqual([1, [{ kind: "review", id: "rev-1" }]]);

    const wrong = await failure(run((env) => submitReview(env, { agent_id: "fa", review_id: "rev-1", verdict: "approve", findings: [] })));
    expect(codeOf(wrong)).toEqual({ code: "not_permitted", field: "agent_id" });
    const noFindings = await failure(run((env) => submitReview(env, { agent_id: "c2", review_id: "rev-1", verdict: "changes_requested", findings: [" "] })));
    expect(codeOf(noFindings)).toEqual({ code: "invalid_argument", field: "findings" });

    const s = await run((env) => submitReview(env, { agent_id: "c2", review_id: "rev-1", verdict: "approve", findings: [] }));
    expect(s).toMatchObject({ review: { status: "approved" }, notified: ["c1"], current_attempt: true });
    expect(await run((env) => [openReviewCount(env, "c2"), getReview(env, "rev-1")?.status])).toEqual([0, "approved"]);
    const again = await failure(run((env) => submitReview(env, { agent_id: "c2", review_id: "rev-1", verdict: "approve", findings: [] })));
    expect(codeOf(again)).toEqual({ code: "invalid_state", field: "review_id" });
    expect(codeOf(await failure(run((env) => submitReview(env, { agent_id: "c2", review_id: "rev-9", verdict: "approve", findings: [] }))))).toEqual({
      code: "not_found",
      field: "review_id",
    });
  });

  it("balances load among equal candidates, skips agents silent past the heartbeat, and refuses when nobody but the author is left", async () => {
    const { run, engine } = onMemory({ control: { heartbeat_ms: 60_000 } });
    await dispatch(
      run,
      { agent_id: "c1", role: "coder", domain: "backend" },
      { agent_id: "r2", role: "auditor", domain: "backend" },
      { agent_id: "r1", role: "auditor", domain: "backend" },
    );
    await run((env) => startFeature(env, { feature_id: "F1", agent_id: "c1" }));
    const ask = () => run((env) => requestReview(env, { agent_id: "c1", feature_id: "F1", files: ["backend/a.ts"] }, byTopDir));
    // Tie on domain and role: agent id first, then the fewest open reviews.
    expect((await ask()).reviewer).toBe("r1");
    expect((await ask()).reviewer).toBe("r2");
    expect((await ask()).reviewer).toBe("r1");
    engine.advance(61_000);
    await run((env) => reportStatus(env, { agent_id: "r2", status: "working" }));
    await run((env) => reportStatus(env, { agent_id: "c1", status: "working" }));
    // r1 is silent now: r2 gets it although it has as many open reviews.
    expect((await ask()).reviewer).toBe("r2");
    engine.advance(61_000);
    await run((env) => reportStatus(env, { agent_id: "c1", status: "working" }));
    // Only the orchestrator could review, and it is silent too (it never reported): nobody is available.
    const none = await failure(ask());
    expect(codeOf(none)).toEqual({ code: "invalid_state", field: "feature_id" });
    expect(none.message).toContain('dispatch a reviewer with domain "backend"');
    expect(await run((env) => getAgent(env, "orch")?.role)).toBe("orchestrator");
    const never = await failure(run((env) => requestReview(env, { agent_id: "c1", feature_id: "F9", files: ["backend/a.ts"] }, byTopDir)));
    expect(codeOf(never)).toEqual({ code: "not_found", field: "feature_id" });
  });
});
