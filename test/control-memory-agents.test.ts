/**
 * The control layer's agent registry, dispatch, heartbeat and feature
 * lifecycle on an engine whose reads really are asynchronous
 * (src/store/memory/engine.ts), directly against the domain modules: no
 * LMDB, no MCP. Every use case runs as `db.write(tx => f(envInTxn(tx, ...)))`
 * (docs/store-port.md), so the engine re-runs it after every read it had
 * not fetched; time is the engine's own clock. The lock manager runs on the
 * same engine with the control layer's hooks, and completing or failing a
 * feature releases its locks inside the use case's own transaction.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DomainMap } from "../src/analysis/domains.js";
import { planSpecOf, savePlan } from "../src/analysis/plans.js";
import { normalizeTasks } from "../src/analysis/task-input.js";
import { planWaves } from "../src/analysis/waves.js";
import {
  agentsOnFeature,
  auditCoverage,
  getAgent,
  isAvailable,
  isOnFeature,
  orchestratorInboxes,
  readyForReallocation,
  statusBoard,
} from "../src/control/registry/agents.js";
import { dispatchAgents } from "../src/control/dispatch.js";
import { completeFeature, coordinationState, failFeature, getFeature, lockedKeysOf, startFeature } from "../src/control/features.js";
import { listInbox } from "../src/control/registry/inbox.js";
import { createSignal, resolveSignal } from "../src/control/signals.js";
import { reportStatus } from "../src/control/status.js";
import { codeOf } from "../src/errors.js";
import { decisionPage } from "../src/log/decisions.js";
import { failure, onMemory } from "./helpers/memory-engine.js";

const coder = (agent_id: string, feature_id?: string) => ({ agent_id, role: "coder" as const, ...(feature_id ? { feature_id } : {}) });
const auditor = (agent_id: string) => ({ agent_id, role: "auditor" as const });

describe("the agent registry on the in-memory engine", () => {
  it("registers a batch with its roles in one transaction; the dispatcher takes orchestrator authority in an empty store", async () => {
    const { run } = onMemory();
    const r = await run((env) => dispatchAgents(env, [coder("c1", "F1"), coder("c2", "F2"), auditor("a1")], "CODE", "lead"));
    expect(r.batch).toBe(1);
    expect(r.phase).toBe("CODE");
    expect(r.agents.map((a) => [a.agent_id, a.role, a.feature_id, a.status])).toEqual([
      ["c1", "coder", "F1", "dispatched"],
      ["c2", "coder", "F2", "dispatched"],
      ["a1", "auditor", null, "dispatched"],
    ]);
    // A coder and an auditor in one batch: covered at once, no warning.
    expect(r.audit_coverage).toMatchObject({ status: "covered", coders: 2, auditors: 1, warning: null });
    const seen = await run((env) => ({
      lead: getAgent(env, "lead")?.role,
      c1: getAgent(env, "c1"),
      onF1: agentsOnFeature(env, "F1").map((a) => a.agent_id),
      c1OnF2: isOnFeature(env, "c1", "F2"),
      orchestrators: orchestratorInboxes(env),
    }));
    expect(seen.lead).toBe("orchestrator");
    expect(seen.c1).toMatchObject({ role: "coder", phase: "CODE", batch: 1, dispatched_by: "lead", feature_id: "F1" });
    expect(seen.onF1).toEqual(["c1"]);
    expect(seen.c1OnF2).toBe(false);
    expect(seen.orchestrators).toEqual(["lead"]);
    // A second batch takes the next batch number.
    expect((await run((env) => dispatchAgents(env, [coder("c3")], "CODE", "lead"))).batch).toBe(2);
  });

  it("sends orchestrator messages to the `orchestrator` inbox while none exists, then to the configured and registered ones", async () => {
    const empty = onMemory();
    expect(await empty.run((env) => orchestratorInboxes(env))).toEqual(["orchestrator"]);
    const configured = onMemory({ roles: { orchestrators: ["boss"] } });
    expect(await configured.run((env) => orchestratorInboxes(env))).toEqual(["boss"]);
    // A configured orchestrator dispatches; a stored role orchestrator joins the list.
    await configured.run((env) => dispatchAgents(env, [{ agent_id: "boss", role: "orchestrator" }, coder("c1")], "CODE"));
    expect(await configured.run((env) => orchestratorInboxes(env))).toEqual(["boss"]);
  });

  it("refuses a batch naming one agent twice and another agent dispatched by a coder, writing nothing", async () => {
    const { run, engine } = onMemory();
    await run((env) => dispatchAgents(env, [coder("c1")], "CODE", "lead"));
    const before = await engine.revision();
    const twice = await failure(run((env) => dispatchAgents(env, [coder("x"), coder("x")], "CODE", "lead")));
    expect(codeOf(twice)).toEqual({ code: "invalid_argument", field: "agents[1].agent_id" });
    const byCoder = await failure(run((env) => dispatchAgents(env, [coder("c9")], "CODE", "c1")));
    expect(codeOf(byCoder)).toEqual({ code: "not_permitted", field: "agents[0].agent_id" });
    expect(byCoder.message).toContain('only an orchestrator dispatches another agent ("c9")');
    expect(await engine.revision()).toBe(before);
    expect(await run((env) => getAgent(env, "c9"))).toBeUndefined();
  });

  it("judges phase coverage on the engine's clock: pending during the grace, then uncovered, and the orchestrator is told once", async () => {
    const { run, engine } = onMemory({ control: { audit_grace_ms: 30_000 } });
    const r = await run((env) => dispatchAgents(env, [coder("c1"), coder("c2")], "CODE", "lead"));
    expect(r.audit_coverage.status).toBe("pending");
    expect(r.audit_coverage.warning).toBeNull();
    // decides_at is the dispatch time plus the grace, on the engine's wall clock.
    expect(r.audit_coverage.decides_at).toBe(new Date(engine.time.wallMs() + 30_000).toISOString());
    engine.advance(29_999);
    expect((await run((env) => auditCoverage(env, "CODE"))).status).toBe("pending");
    engine.advance(2);
    const cov = await run((env) => auditCoverage(env, "CODE"));
    expect(cov).toMatchObject({ status: "uncovered", coders_without_auditor: ["c1", "c2"] });
    expect(cov.warning).toContain("c1, c2");
    // Heartbeats settle coverage: the warning reaches the orchestrator's inbox once, not once per heartbeat.
    await run((env) => reportStatus(env, { agent_id: "c1", status: "working" }));
    await run((env) => reportStatus(env, { agent_id: "c2", status: "working" }));
    const inbox = await run((env) => listInbox(env, "lead"));
    expect(inbox.items.filter((m) => m.kind === "coverage")).toHaveLength(1);
    // An auditor joining the phase covers it.
    const later = await run((env) => dispatchAgents(env, [auditor("a1")], "CODE", "lead"));
    expect(later.audit_coverage.status).toBe("covered");
  });

  it("takes heartbeats: a report updates the record, a silent agent becomes unavailable and its feature ready for reallocation", async () => {
    const { run, engine } = onMemory({ control: { heartbeat_ms: 60_000 } });
    await run((env) => dispatchAgents(env, [coder("c1", "F1"), coder("c2", "F2")], "CODE", "lead"));
    engine.advance(40_000);
    const answer = await run((env) => reportStatus(env, { agent_id: "c2", status: "working", current_task: "profile form", progress_percentage: 40 }));
    expect(answer).toMatchObject({ agent_id: "c2", status: "working", paused: false, unread: 0, checkpoint: null, instruction: "continue" });
    engine.advance(30_000);
    const seen = await run((env) => {
      const c1 = getAgent(env, "c1");
      const c2 = getAgent(env, "c2");
      return {
        c1: c1 && isAvailable(env, c1),
        c2: c2 && isAvailable(env, c2),
        c2task: c2 && [c2.status, c2.current_task, c2.progress_percentage],
        realloc: readyForReallocation(env),
        board: statusBoard(env),
      };
    });
    expect(seen.c1).toBe(false);
    expect(seen.c2).toBe(true);
    expect(seen.c2task).toEqual(["working", "profile form", 40]);
    expect(seen.realloc).toEqual([expect.objectContaining({ feature_id: "F1", agent_id: "c1", silent_ms: 70_000 })]);
    // The orchestrator claimed authority and has not reported since (it was registered at dispatch time), so it is silent too.
    expect(seen.board.unavailable.sort()).toEqual(["c1", "lead"]);
    expect(seen.board.by_status).toEqual({ dispatched: 2, working: 1 });
    expect(seen.board.agents.find((a) => a.agent_id === "c2")).toMatchObject({ available: true, silent_ms: 30_000, paused_by: [] });
  });

  it("registers an unknown agent's first report with role other, and refuses it when roles.self_register leaves other out", async () => {
    const open = onMemory();
    await open.run((env) => reportStatus(env, { agent_id: "newbie", status: "working" }));
    expect(await open.run((env) => getAgent(env, "newbie"))).toMatchObject({ role: "other", status: "working" });
    const strict = onMemory({ roles: { self_register: ["coder"] } });
    const err = await failure(strict.run((env) => reportStatus(env, { agent_id: "newbie", status: "working" })));
    expect(codeOf(err)).toEqual({ code: "not_permitted", field: "agent_id" });
    expect(await strict.run((env) => getAgent(env, "newbie"))).toBeUndefined();
  });
});

const example = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../examples/protocol-example.json"), "utf8")) as {
  features: { id: string; blocked_by?: string[]; writes: string[] }[];
};
const P1 = "P1_user_auth";
const P2 = "P2_user_profile";
const P3 = "P3_posts";
const writesOf = (id: string) => (example.features.find((f) => f.id === id) as { writes: string[] }).writes;

/** The protocol example stored as a plan on the memory engine (P2 and P3 blocked by P1). */
async function withPlan(raw: Record<string, unknown> = {}) {
  const m = onMemory(raw);
  const opts = { root: "/repo", domains: new DomainMap(m.config), field: "features", noun: "feature" };
  const plan = await savePlan(m.db, m.engine.time, { ...planWaves(example.features, opts), name: "example" }, planSpecOf(normalizeTasks(example.features, opts)));
  return { ...m, planId: plan.plan_id };
}

describe("the feature lifecycle on the in-memory engine", () => {
  it("refuses P2 before P1 completes, naming what is missing, and logs a dependency_violation in the same transaction", async () => {
    const { run, planId } = await withPlan();
    const r = await run((env) => startFeature(env, { feature_id: P2, agent_id: "coder-2" }));
    expect(r).toMatchObject({ started: false, plan_id: planId, attempts: 0, missing: [{ feature_id: P1, status: "not_started" }], missing_total: 1 });
    expect(r.decision_seq).toBe(1);
    const seen = await run((env) => ({ feature: getFeature(env, P2), log: decisionPage(env.txn.read()) }));
    expect(seen.feature).toBeUndefined();
    expect(seen.log.decisions.map((d) => [d.seq, d.type, d.decided_by])).toEqual([[1, "dependency_violation", "signalbox"]]);
    expect(seen.log.decisions[0]?.refs).toEqual([P2, "coder-2", P1]);
  });

  it("starts, locks and completes P1: the locks are released in the completing transaction, P2 and P3 unblocked, the orchestrator told", async () => {
    const { run, locks, planId } = await withPlan();
    await run((env) => dispatchAgents(env, [{ agent_id: "lead", role: "orchestrator" }], "CODE"));
    const started = await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1" }));
    expect(started).toMatchObject({ started: true, plan_id: planId, attempts: 1, shared_resources: ["supabase_auth"], decision_seq: null });
    expect(await run((env) => [getFeature(env, P1)?.status, getAgent(env, "coder-1")?.role, getAgent(env, "coder-1")?.feature_id])).toEqual(["active", "coder", P1]);

    const lock = await locks.acquire({ agent_id: "coder-1", keys: writesOf(P1), mode: "write", feature_id: P1 });
    expect(lock.granted).toBe(true);
    // The decided hook noted the keys as locked for the feature, in the grant's transaction.
    expect((await run((env) => lockedKeysOf(env, P1))).sort()).toEqual([...writesOf(P1)].sort());
    expect((await locks.acquire({ agent_id: "coder-2", keys: [writesOf(P1)[0] as string], mode: "write" })).granted).toBe(false);

    const done = await run((env) => completeFeature(env, locks, { feature_id: P1, agent_id: "coder-1", outputs: ["auth actions"] }));
    expect(done.released.map((l) => l.key).sort()).toEqual([...writesOf(P1)].sort());
    expect(done.released_total).toBe(3);
    expect(done.unblocks).toEqual([P2, P3]);
    expect(done.schema_changes).toEqual([{ feature_id: P1, table: "profiles", operation: "modify", committed: true }]);
    expect(done.notified).toEqual(["lead"]);

    const after = await run((env) => ({
      feature: getFeature(env, P1),
      agent: getAgent(env, "coder-1"),
      inbox: listInbox(env, "lead").items.map((m) => m.summary),
      state: coordinationState(env).plans[0],
    }));
    expect(after.feature).toMatchObject({ status: "completed", outputs: ["auth actions"], completed_seq: 1 });
    expect(after.feature?.locked_keys?.sort()).toEqual([...writesOf(P1)].sort());
    expect(after.agent).toMatchObject({ feature_id: null, status: "completed" });
    expect(after.inbox).toContainEqual(expect.stringContaining(`${P1} completed: ${P2}, ${P3} may start`));
    expect(after.state).toMatchObject({ current_wave: 2, completed: [P1], active: [], ready: [P2, P3] });
    // The keys are free again: the release committed with the completion.
    expect((await locks.acquire({ agent_id: "coder-2", keys: writesOf(P1), mode: "write" })).granted).toBe(true);
    // A completed feature does not start again.
    const again = await failure(run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1" })));
    expect(codeOf(again)).toEqual({ code: "invalid_state", field: "feature_id" });
    expect(again.message).toMatch(/already completed/);
  });

  it("refuses a second start by another agent with invalid_state naming the holder; the holder's own second start changes nothing", async () => {
    const { run, engine } = await withPlan();
    await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1" }));
    const rev = await engine.revision();
    const second = await failure(run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-2" })));
    expect(codeOf(second)).toEqual({ code: "invalid_state", field: "feature_id" });
    expect(second.message).toContain('held by agent "coder-1"');
    const same = await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1" }));
    expect(same).toMatchObject({ started: true, attempts: 1, instruction: "already active: continue" });
    expect(await engine.revision()).toBe(rev);
    expect(await run((env) => getFeature(env, P1)?.agent_id)).toBe("coder-1");
    const unknownPlan = await failure(run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1", plan_id: "plan_nope" })));
    expect(codeOf(unknownPlan)).toEqual({ code: "not_found", field: "plan_id" });
  });

  it("refuses completion by another agent (not_permitted) and of a feature never started (not_found)", async () => {
    const { run, locks } = await withPlan();
    await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1" }));
    const other = await failure(run((env) => completeFeature(env, locks, { feature_id: P1, agent_id: "coder-2" })));
    expect(codeOf(other)).toEqual({ code: "not_permitted", field: "agent_id" });
    const never = await failure(run((env) => completeFeature(env, locks, { feature_id: P3, agent_id: "coder-2" })));
    expect(codeOf(never)).toEqual({ code: "not_found", field: "feature_id" });
    expect(await run((env) => getFeature(env, P1)?.status)).toBe("active");
  });

  it("holds completion back while a RED signal pauses the coder, and lets it through once the emitter resolves it", async () => {
    const { run, locks } = await withPlan();
    await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1" }));
    const { signal } = await run((env) => createSignal(env, { level: "RED", summary: "token in localStorage", feature_id: P1, emitted_by: "auditor-1" }));
    const paused = await failure(run((env) => completeFeature(env, locks, { feature_id: P1, agent_id: "coder-1" })));
    expect(codeOf(paused)).toEqual({ code: "invalid_state", field: "agent_id" });
    expect(paused.message).toContain(`paused by ${signal.signal_id}`);
    expect(await run((env) => getFeature(env, P1)?.status)).toBe("active");
    await run((env) => resolveSignal(env, signal.signal_id, "auditor-1", "moved to an httpOnly cookie"));
    expect((await run((env) => completeFeature(env, locks, { feature_id: P1, agent_id: "coder-1" }))).unblocks).toEqual([P2, P3]);
  });

  it("fails a feature: releases its locks, blocks its dependents, resolves a normal RED signal but not an algedonic one; a restart is attempt 2", async () => {
    const { run, locks } = await withPlan();
    await run((env) => dispatchAgents(env, [{ agent_id: "lead", role: "orchestrator" }], "CODE"));
    await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1" }));
    expect((await locks.acquire({ agent_id: "coder-1", keys: writesOf(P1), mode: "write", feature_id: P1 })).granted).toBe(true);
    const red = (await run((env) => createSignal(env, { level: "RED", summary: "broken tests", feature_id: P1, emitted_by: "auditor-1" }))).signal;
    const alg = (await run((env) => createSignal(env, { level: "RED", summary: "secret in repo", feature_id: P1, emitted_by: "auditor-1", algedonic: true }))).signal;

    // Another coder may not fail it; the orchestrator may.
    const refused = await failure(run((env) => failFeature(env, locks, { feature_id: P1, agent_id: "coder-2", reason: "x" })));
    expect(codeOf(refused)).toEqual({ code: "not_permitted", field: "agent_id" });
    const r = await run((env) => failFeature(env, locks, { feature_id: P1, agent_id: "lead", reason: "auth provider down" }));
    expect(r).toMatchObject({ holder: "coder-1", failed_by: "lead", released_total: 3, blocks: [P2, P3], blocks_total: 2 });
    expect(r.resolved_signals).toEqual([red.signal_id]);
    expect(r.still_open_signals).toEqual([alg.signal_id]);
    expect(await run((env) => [getFeature(env, P1)?.status, getFeature(env, P1)?.failure_reason, getAgent(env, "coder-1")?.feature_id])).toEqual([
      "failed",
      "auth provider down",
      null,
    ]);
    // Its locks went with the failure.
    expect((await locks.acquire({ agent_id: "coder-9", keys: writesOf(P1), mode: "read" })).granted).toBe(true);

    const blocked = await run((env) => startFeature(env, { feature_id: P2, agent_id: "coder-2" }));
    expect(blocked).toMatchObject({ started: false, missing: [{ feature_id: P1, status: "failed" }] });
    expect(blocked.instruction).toMatch(/failed/);
    const restart = await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-4" }));
    expect(restart).toMatchObject({ started: true, attempts: 2 });
    // A failed feature cannot be failed again.
    await run((env) => failFeature(env, locks, { feature_id: P1, agent_id: "coder-4", reason: "again" }));
    const twice = await failure(run((env) => failFeature(env, locks, { feature_id: P1, agent_id: "coder-4", reason: "again" })));
    expect(codeOf(twice)).toEqual({ code: "invalid_state", field: "feature_id" });
  });
});
