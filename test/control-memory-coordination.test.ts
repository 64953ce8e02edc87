/**
 * Coordination across modules on an engine whose reads really are
 * asynchronous (src/store/memory/engine.ts), directly against the domain
 * modules: no LMDB, no MCP, no git. Wave integration and rollback (judged
 * from what complete_feature recorded, as without git), reassignment,
 * capacity limits, audited lock breaks, the oscillation detector and the
 * metrics it feeds, and cross-agent handoffs. Each use case runs inside one
 * `db.write` with an env bound to it (docs/store-port.md); the lock manager
 * runs on the same engine with the control layer's hooks, and use cases
 * that release or break locks do it in their own transaction.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DomainMap } from "../src/analysis/domains.js";
import { planSpecOf, savePlan } from "../src/analysis/plans.js";
import { normalizeTasks } from "../src/analysis/task-input.js";
import { planWaves } from "../src/analysis/waves.js";
import { agentsOnFeature, getAgent } from "../src/control/registry/agents.js";
import { holderHistory } from "../src/control/detectors.js";
import { dispatchAgents, reassignFeature } from "../src/control/dispatch.js";
import { envInTxn } from "../src/control/registry/env.js";
import { getEscalation, recordDecisionResolving } from "../src/control/escalations.js";
import { completeFeature, getFeature, startFeature } from "../src/control/features.js";
import { acknowledgeInbox, crossAgentHandoff } from "../src/control/handoffs.js";
import { listInbox } from "../src/control/registry/inbox.js";
import { integrateWave, integrationReport, rollbackWave, waveIntegration } from "../src/control/integration.js";
import { breakLock } from "../src/control/lock-breaks.js";
import { metricsReport } from "../src/control/metrics.js";
import type { Role } from "../src/control/registry/records.js";
import { getSignal } from "../src/control/signals.js";
import { reportStatus } from "../src/control/status.js";
import { pausesFor } from "../src/control/registry/stops.js";
import { codeOf, LimitError } from "../src/errors.js";
import { LockManager } from "../src/locks/manager.js";
import { listActivity } from "../src/log/activity.js";
import { decisionPage } from "../src/log/decisions.js";
import { parseConfig } from "../src/runtime/config.js";
import { failure, onMemory } from "./helpers/memory-engine.js";

type Memory = ReturnType<typeof onMemory>;
type Run = Memory["run"];

type Member = { agent_id: string; role: Role; domain?: string; feature_id?: string };
/** Dispatch `members` by the orchestrator `lead` (registered with them). */
const dispatch = (run: Run, ...members: Member[]) => run((env) => dispatchAgents(env, [{ agent_id: "lead", role: "orchestrator" }, ...members], "CODE"));

/** Store a plan of `features` on the memory engine. */
async function plan(m: Memory, features: { id: string; blocked_by?: string[]; writes: string[] }[]): Promise<string> {
  const opts = { root: "/repo", domains: new DomainMap(m.config), field: "features", noun: "feature" };
  return (await savePlan(m.db, m.engine.time, planWaves(features, opts), planSpecOf(normalizeTasks(features, opts)))).plan_id;
}

const example = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../examples/protocol-example.json"), "utf8")) as {
  features: { id: string; blocked_by?: string[]; writes: string[] }[];
};
const P1 = "P1_user_auth";
const writesOf = (id: string) => (example.features.find((f) => f.id === id) as { writes: string[] }).writes;

describe("wave integration and rollback on the in-memory engine", () => {
  it("fails a wave with a file neither declared nor locked, and a rollback returns its feature to pending for a second attempt", async () => {
    const m = onMemory();
    const { run, locks } = m;
    const planId = await plan(m, example.features);
    await dispatch(run);
    await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-1" }));
    expect((await locks.acquire({ agent_id: "coder-1", keys: writesOf(P1), mode: "write", feature_id: P1 })).granted).toBe(true);
    await run((env) =>
      completeFeature(env, locks, {
        feature_id: P1,
        agent_id: "coder-1",
        files_changed: [...writesOf(P1), "src/secret.ts"],
        commits: ["aaa1", "aaa2"],
        migrations: [{ path: "supabase/migrations/001_auth_setup.sql", revision: null, down_revision: null }],
      }),
    );

    const early = await failure(run((env) => integrateWave(env, { agent_id: "lead", plan_id: planId, wave_number: 2 })));
    expect(codeOf(early)).toEqual({ code: "invalid_state", field: "wave_number" });
    expect(early.message).toContain("is not complete: P2_user_profile (not started)");

    const report = await run((env) => integrateWave(env, { agent_id: "lead", plan_id: planId, wave_number: 1 }));
    expect(report).toMatchObject({ status: "failed", attempt: 1, integrated_by: "lead", undeclared_writes_total: 1, overlapping_changes_total: 0 });
    expect(report.undeclared_writes).toEqual([{ feature_id: P1, file: "src/secret.ts", severity: "CRITICAL" }]);
    expect(report.notes).toEqual([`${P1}: no branch recorded; judged from its declared files_changed`]);
    expect(report.reasons[0]).toMatch(/^CRITICAL: 1 undeclared write\(s\): src\/secret.ts by P1_user_auth/);
    const seen = await run((env) => ({
      wave: waveIntegration(env, planId, 1),
      stored: integrationReport(env, planId, 1),
      told: listInbox(env, "coder-1").items.filter((x) => x.kind === "integration").length,
    }));
    expect(seen.wave).toMatchObject({ status: "failed", attempt: 1, decision_seq: report.decision_seq });
    expect(seen.stored).toEqual(report);
    expect(seen.told).toBe(1);

    const notOrch = await failure(run((env) => rollbackWave(env, locks, { agent_id: "coder-1", plan_id: planId, wave_number: 1, reason: "x" })));
    expect(codeOf(notOrch)).toEqual({ code: "not_permitted", field: "agent_id" });
    const rb = await run((env) => rollbackWave(env, locks, { agent_id: "lead", plan_id: planId, wave_number: 1, reason: "secret leaked" }));
    expect(rb).toMatchObject({
      features: [P1],
      released_total: 0,
      commits_to_revert: [
        { feature_id: P1, commit: "aaa2" },
        { feature_id: P1, commit: "aaa1" },
      ],
      migrations_to_roll_back: [{ feature_id: P1, path: "supabase/migrations/001_auth_setup.sql" }],
    });
    const after = await run((env) => ({
      feature: getFeature(env, P1),
      wave: waveIntegration(env, planId, 1)?.status,
      log: decisionPage(env.txn.read(), { limit: 1 }).decisions[0]?.type,
    }));
    expect(after).toEqual({ feature: undefined, wave: "rolled_back", log: "rollback" });
    // The archived attempt counts on: the restart is attempt 2.
    expect(await run((env) => startFeature(env, { feature_id: P1, agent_id: "coder-5" }))).toMatchObject({ started: true, attempts: 2 });
  });

  it("integrates a clean wave once, and fails a wave whose features both changed one file (each under its own lock)", async () => {
    const m = onMemory();
    const { run, locks } = m;
    const planId = await plan(m, [
      { id: "A", writes: ["a/x.ts"] },
      { id: "B", writes: ["b/y.ts"] },
      { id: "C", blocked_by: ["A", "B"], writes: ["c/z.ts"] },
    ]);
    await dispatch(run);
    const finish = async (feature: string, agent: string, extra: string[] = []) => {
      await run((env) => startFeature(env, { feature_id: feature, agent_id: agent }));
      if (extra.length > 0) expect((await locks.acquire({ agent_id: agent, keys: extra, mode: "write", feature_id: feature })).granted).toBe(true);
      const own = feature === "A" ? "a/x.ts" : feature === "B" ? "b/y.ts" : "c/z.ts";
      await run((env) => completeFeature(env, locks, { feature_id: feature, agent_id: agent, files_changed: [own, ...extra] }));
    };
    // A and B share wave 1; each locks lib/shared.ts in turn (completion releases it) and changes it.
    await finish("A", "ca", ["lib/shared.ts"]);
    await finish("B", "cb", ["lib/shared.ts"]);
    const overlap = await run((env) => integrateWave(env, { agent_id: "lead", plan_id: planId, wave_number: 1 }));
    expect(overlap).toMatchObject({ status: "failed", undeclared_writes: [], overlapping_changes: [{ file: "lib/shared.ts", features: ["A", "B"], severity: "HIGH" }] });
    expect(overlap.features.map((f) => [f.feature_id, f.agent_id, f.attempt])).toEqual([
      ["A", "ca", 1],
      ["B", "cb", 1],
    ]);

    await finish("C", "cc");
    const clean = await run((env) => integrateWave(env, { agent_id: "lead", plan_id: planId, wave_number: 2 }));
    expect(clean).toMatchObject({ status: "integrated", reasons: [], attempt: 1 });
    const twice = await failure(run((env) => integrateWave(env, { agent_id: "lead", plan_id: planId, wave_number: 2 })));
    expect(codeOf(twice)).toEqual({ code: "invalid_state", field: "wave_number" });
    expect(twice.message).toContain("already integrated");
  });
});

describe("reassignment and capacity on the in-memory engine", () => {
  it("moves a silent agent's feature to another agent, logs a reallocation decision and tells both", async () => {
    const { run, engine } = onMemory({ control: { heartbeat_ms: 60_000 } });
    await dispatch(run, { agent_id: "c1", role: "coder" }, { agent_id: "c2", role: "coder" });
    await run((env) => startFeature(env, { feature_id: "F1", agent_id: "c1" }));
    engine.advance(61_000);
    await run((env) => reportStatus(env, { agent_id: "c2", status: "working" }));

    const byCoder = await failure(run((env) => reassignFeature(env, { feature_id: "F1", from_agent: "c1", to_agent: "c2", by: "c2" })));
    expect(codeOf(byCoder)).toEqual({ code: "not_permitted", field: "by" });
    const unknown = await failure(run((env) => reassignFeature(env, { feature_id: "F1", from_agent: "c1", to_agent: "ghost", by: "lead" })));
    expect(codeOf(unknown)).toEqual({ code: "not_found", field: "to_agent" });
    const wrongFrom = await failure(run((env) => reassignFeature(env, { feature_id: "F1", from_agent: "c2", to_agent: "c1", by: "lead" })));
    expect(codeOf(wrongFrom)).toEqual({ code: "invalid_state", field: "from_agent" });

    const r = await run((env) => reassignFeature(env, { feature_id: "F1", from_agent: "c1", to_agent: "c2", by: "lead", rationale: "c1 went silent" }));
    expect(r).toMatchObject({ feature_id: "F1", from_available: false });
    const seen = await run((env) => ({
      holder: getFeature(env, "F1")?.agent_id,
      on: agentsOnFeature(env, "F1").map((a) => a.agent_id),
      c1: getAgent(env, "c1")?.feature_id,
      c2: getAgent(env, "c2")?.feature_id,
      decision: decisionPage(env.txn.read()).decisions.find((d) => d.seq === r.decision_seq),
      told: ["c1", "c2"].map((a) => listInbox(env, a).items.filter((x) => x.kind === "reassignment").length),
    }));
    expect(seen).toMatchObject({ holder: "c2", on: ["c2"], c1: null, c2: "F1", told: [1, 1] });
    expect(seen.decision).toMatchObject({ type: "reallocation", decided_by: "lead", rationale: "c1 went silent", refs: ["F1", "c1", "c2"] });
  });

  it("refuses a batch or a start that would pass capacity.max_agents, naming the limit, and frees a slot when an agent completes", async () => {
    const { run, engine } = onMemory({ capacity: { max_agents: 2 } });
    const rev = await engine.revision();
    const big = await failure(dispatch(run, { agent_id: "c1", role: "coder" }, { agent_id: "c2", role: "coder" }, { agent_id: "c3", role: "coder" }));
    expect(big).toBeInstanceOf(LimitError);
    expect(codeOf(big)).toEqual({ code: "limit", field: null });
    expect((big as LimitError).limit).toBe("capacity.max_agents");
    expect(big.message).toMatch(/^capacity\.max_agents: allows 2 agents in parallel; none running and this batch adds 3 \(c1, c2, c3\)/);
    expect(await engine.revision()).toBe(rev);

    const ok = await dispatch(run, { agent_id: "c1", role: "coder" }, { agent_id: "c2", role: "coder" });
    expect(ok.capacity).toEqual([{ limit: "capacity.max_agents", scope: null, in_use: 2, max: 2 }]);
    const start = await failure(run((env) => startFeature(env, { feature_id: "F9", agent_id: "c9" })));
    expect(codeOf(start)).toEqual({ code: "limit", field: null });
    expect(await run((env) => getFeature(env, "F9"))).toBeUndefined();
    await run((env) => reportStatus(env, { agent_id: "c1", status: "completed" }));
    expect((await run((env) => startFeature(env, { feature_id: "F9", agent_id: "c9" }))).started).toBe(true);
  });
});

describe("audited lock breaks on the in-memory engine", () => {
  it("ends another agent's lock in the breaking transaction, logs a lock_break decision, and tells the holder", async () => {
    const { run, locks } = onMemory();
    await dispatch(run, { agent_id: "c1", role: "coder" });
    const held = await locks.acquire({ agent_id: "c1", keys: ["src/hot.ts"], mode: "write", feature_id: "F1" });
    expect(held.granted).toBe(true);
    const token = held.granted ? held.locks[0]?.fencing_token : -1;
    const notOrch = await failure(run((env) => breakLock(env, locks, { agent_id: "c1", key: "src/hot.ts", reason: "x" })));
    expect(codeOf(notOrch)).toEqual({ code: "not_permitted", field: "agent_id" });
    expect(codeOf(await failure(run((env) => breakLock(env, locks, { agent_id: "lead", key: "src/hot.ts", reason: " " }))))).toEqual({
      code: "invalid_argument",
      field: "reason",
    });

    const r = await run((env) => breakLock(env, locks, { agent_id: "lead", key: "src/hot.ts", reason: "c1 crashed holding it" }));
    expect(r.broken).toEqual([expect.objectContaining({ key: "src/hot.ts", agent_id: "c1", feature_id: "F1", fencing_token: token })]);
    const seen = await run((env) => ({
      decision: decisionPage(env.txn.read()).decisions[0],
      notice: listInbox(env, "c1").items.find((x) => x.kind === "notice"),
      entry: listActivity(env, { limit: 1 }).items[0],
    }));
    expect(seen.decision).toMatchObject({ seq: r.decision_seq, type: "lock_break", decided_by: "lead", rationale: "c1 crashed holding it", refs: ["src/hot.ts", "F1"] });
    expect(seen.notice?.summary).toContain("was broken by lead");
    expect(seen.entry).toMatchObject({ kind: "lock_broken", agent_id: "lead", feature_id: "F1", data: { holder: "c1", fencing_token: token } });
    // The key is free for others; the old holder's release finds its lock stale.
    expect((await locks.acquire({ agent_id: "c2", keys: ["src/hot.ts"], mode: "write" })).granted).toBe(true);
    expect((await locks.release("c1", { all: true })).released).toEqual([]);
    // Nothing held: no decision.
    expect(await run((env) => breakLock(env, locks, { agent_id: "lead", key: "src/cold.ts", reason: "tidy" }))).toEqual({ broken: [], decision_seq: null });
  });
});

describe("the oscillation detector and metrics on the in-memory engine", () => {
  it("pauses two agents taking one key back and forth, escalates, and a decision resolves both; the metrics count it all", async () => {
    const { run, locks, engine, db } = onMemory();
    await dispatch(run, { agent_id: "a", role: "coder" }, { agent_id: "b", role: "coder" });
    const take = async (agent: string) => {
      const r = await locks.acquire({ agent_id: agent, keys: ["src/x.ts"], mode: "write" });
      expect(r.granted).toBe(true);
      await locks.release(agent, { all: true });
    };
    await take("a");
    await take("b");
    await take("a");
    expect((await run((env) => holderHistory(env, "src/x.ts"))).map((h) => h.agent)).toEqual(["a", "b", "a"]);
    await take("b");
    const fired = await run((env) => ({ sig: getSignal(env, "sig-1"), esc: getEscalation(env, "esc-1"), history: holderHistory(env, "src/x.ts") }));
    expect(fired.sig).toMatchObject({ level: "RED", status: "open", source: "oscillation_detector", target_agents: ["a", "b"], escalation_id: "esc-1" });
    expect(fired.esc).toMatchObject({ kind: "oscillation", status: "open", agents: ["a", "b"] });
    expect(fired.history).toEqual([]);
    const refused = await locks.acquire({ agent_id: "a", keys: ["src/other.ts"], mode: "write" });
    expect(refused.granted).toBe(false);
    if (!refused.granted) expect([refused.reason, refused.stop?.id]).toEqual(["paused", "sig-1"]);

    engine.advance(5_000);
    const d = await run((env) => recordDecisionResolving(env, { type: "conflict_resolution", decided_by: "lead", context: "a/b on x.ts", decision: "a owns x.ts", refs: ["esc-1"] }));
    expect(d.resolved.map((e) => e.escalation_id)).toEqual(["esc-1"]);
    expect(await run((env) => [pausesFor(env, "a"), pausesFor(env, "b"), getSignal(env, "sig-1")?.status])).toEqual([[], [], "resolved"]);
    expect((await locks.acquire({ agent_id: "a", keys: ["src/other.ts"], mode: "write" })).granted).toBe(true);

    // metricsReport reads live locks through a synchronous lister: a lock manager bound to the use case's own transaction.
    const report = await db.write((tx) => {
      const env = envInTxn(tx, engine.time, parseConfig({}));
      const lister = new LockManager({ db, txn: env.txn, time: engine.time, liveness: engine.liveness }, env.config.locks);
      return metricsReport(env, lister);
    });
    expect(report.lock_requests).toMatchObject({ total: 6, granted: 5, refused: { paused: 1, conflict: 0 } });
    expect(report.conflicts_by_type).toMatchObject({ paused: 1, oscillation: 1 });
    // Both the RED signal and its escalation were resolved 5 s after they opened.
    expect(report.conflict_resolution_ms).toEqual({ resolved: 2, p50: 5_000, mean: 5_000 });
    expect(report.agents_by_status).toEqual({ dispatched: 3 });
    expect(report.bottlenecks.total).toBe(0);
  });
});

describe("cross-agent handoffs on the in-memory engine", () => {
  it("delivers a discovery to the agents of the affected domain and the orchestrator, never the sender, and logs each acknowledgement", async () => {
    const { run } = onMemory();
    await dispatch(
      run,
      { agent_id: "fe1", role: "coder", domain: "frontend" },
      { agent_id: "be1", role: "coder", domain: "backend" },
      { agent_id: "be2", role: "coder", domain: "backend" },
    );
    const h = await run((env) => crossAgentHandoff(env, { from: "be1", discovery: "token format changed", affects: "backend", impact: "update parsers", files: ["api/token.ts"] }));
    expect(h).toMatchObject({ matched: true, matched_agent: false, matched_domain_agents: 2, delivered_to: ["be2", "lead"], delivered_omitted: 0 });
    expect(h.text).toBe("⚠️ CROSS-AGENT: token format changed\nAffects: backend\nImpact: update parsers\nFiles: api/token.ts");
    expect(await run((env) => ["be1", "be2", "fe1", "lead"].map((a) => listInbox(env, a).unread))).toEqual([0, 1, 0, 1]);

    const bad = await failure(run((env) => acknowledgeInbox(env, "be2", [h.message_id, "x"])));
    expect(codeOf(bad)).toEqual({ code: "invalid_argument", field: "message_ids[1]" });
    const ack = await run((env) => acknowledgeInbox(env, "be2", [h.message_id, h.message_id, "m-99"]));
    expect(ack).toEqual({ acknowledged: [h.message_id], already: [], unknown: ["m-99"], audit_handoffs: [] });
    const kinds = await run((env) => listActivity(env, { limit: 2 }).items.map((e) => [e.kind, e.agent_id]));
    expect(kinds).toEqual([
      ["handoff_acknowledged", "be2"],
      ["handoff_sent", "be1"],
    ]);
    // Nobody matches: only the orchestrator hears, and the answer says so.
    const lost = await run((env) => crossAgentHandoff(env, { from: "fe1", discovery: "d", affects: "mobile", impact: "i" }));
    expect(lost).toMatchObject({ matched: false, delivered_to: ["lead"] });
  });
});
