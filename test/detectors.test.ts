import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { holderHistory } from "../src/control/detectors.js";
import { listEscalations, openEscalation, recordDecisionResolving } from "../src/control/escalations.js";
import { acknowledgeMessages, deliver, listInbox } from "../src/control/registry/inbox.js";
import { metricsReport, percentile, recordAcquire, type MetricsReport } from "../src/control/metrics.js";
import type { FeatureRecord } from "../src/control/registry/records.js";
import { createSignal, listSignals, resolveSignal } from "../src/control/signals.js";
import type { AcquireResult } from "../src/locks/types.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

let h: Harness;
let clock: ManualClock;

const CONTROL = {
  oscillation_window_ms: 60_000,
  lock_held_limit_ms: 10_000,
  queue_limit: 2,
  ack_limit_ms: 1_000,
  agent_task_limit: 2,
};

beforeEach(async () => {
  clock = manualClock();
  h = await connect({ clock, config: parseConfig({ control: CONTROL }) });
  await h.ok("dispatch_agents", {
    agents: [
      { agent_id: "A", role: "coder" },
      { agent_id: "B", role: "coder" },
      { agent_id: "orch", role: "orchestrator" },
    ],
  });
});
afterEach(async () => {
  await h.close();
});

type Lock = { granted: boolean; reason: string | null; stop: { kind: string; id: string } | null };

const write = (agent: string, path: string) => h.ok<Lock>("acquire_lock", { agent_id: agent, paths: [path], mode: "write" });

/** `agent` takes the write lock on `path`, then releases it. */
async function take(agent: string, path = "app/shared.ts"): Promise<void> {
  expect((await write(agent, path)).granted, `${agent} write ${path}`).toBe(true);
  await h.ok("release_lock", { agent_id: agent, all: true });
}

const oscillationSignals = () => listSignals(h.ctx).signals.filter((s) => s.source === "oscillation_detector");
const escalations = () => listEscalations(h.ctx).escalations.filter((e) => e.kind === "oscillation");

describe("S2 oscillation detector", () => {
  it("fires once on A,B,A,B write grants of one key: RED on both, escalation to the orchestrator; a decision resumes both", async () => {
    await take("A");
    await take("B");
    await take("A");
    expect(oscillationSignals()).toHaveLength(0);
    await take("B");

    const sigs = oscillationSignals();
    expect(sigs).toHaveLength(1);
    const sig = sigs[0]!;
    expect(sig).toMatchObject({ level: "RED", status: "open", target_agents: ["A", "B"], files: ["app/shared.ts"] });
    const esc = escalations();
    expect(esc).toHaveLength(1);
    expect(esc[0]).toMatchObject({ status: "open", agents: ["A", "B"] });
    expect(sig.escalation_id).toBe(esc[0]!.escalation_id);
    const orchInbox = listInbox(h.ctx, "orch").items;
    expect(orchInbox.some((m) => m.kind === "escalation" && m.ref?.id === esc[0]!.escalation_id)).toBe(true);
    expect(listInbox(h.ctx, "A").items.some((m) => m.kind === "pause")).toBe(true);

    // Both are paused: write locks refused anywhere; reads go on.
    for (const a of ["A", "B"]) {
      expect(await write(a, "lib/other.ts")).toMatchObject({ granted: false, reason: "paused", stop: { kind: "audit_signal", id: sig.signal_id } });
    }
    expect((await h.ok<Lock>("acquire_lock", { agent_id: "A", paths: ["lib/other.ts"], mode: "read" })).granted).toBe(true);
    await h.ok("release_lock", { agent_id: "A", all: true });
    expect(holderHistory(h.ctx, "app/shared.ts")).toEqual([]);

    const d = await h.ok<{ resolved_escalations: string[] }>("record_decision", {
      type: "conflict_resolution",
      decided_by: "orch",
      context: "A and B alternated on app/shared.ts",
      decision: "A owns app/shared.ts; B consumes its interface",
      refs: [esc[0]!.escalation_id],
    });
    expect(d.resolved_escalations).toEqual([esc[0]!.escalation_id]);
    expect(oscillationSignals()[0]!.status).toBe("resolved");
    // Resumed; and the cleared history means the next A, B does not fire again.
    await take("A");
    await take("B");
    expect(oscillationSignals()).toHaveLength(1);
  });

  it("stays silent on A then B, on A,B,A, on other keys and on reads", async () => {
    await take("A");
    await take("B");
    expect(oscillationSignals()).toHaveLength(0);
    await take("A");
    expect(oscillationSignals()).toHaveLength(0);
    // B now takes a different key, then A and B read the shared one.
    await take("B", "app/other.ts");
    for (const a of ["B", "A", "B"]) {
      expect((await h.ok<Lock>("acquire_lock", { agent_id: a, paths: ["app/shared.ts"], mode: "read" })).granted).toBe(true);
      await h.ok("release_lock", { agent_id: a, all: true });
    }
    expect(oscillationSignals()).toHaveLength(0);
    expect(escalations()).toHaveLength(0);
    expect(holderHistory(h.ctx, "app/shared.ts").map((c) => c.agent)).toEqual(["A", "B", "A"]);
  });

  it("stays silent when the same agent keeps re-acquiring (only holder changes count)", async () => {
    for (const a of ["A", "A", "B", "B", "B", "A", "A"]) await take(a);
    expect(oscillationSignals()).toHaveLength(0);
    expect(holderHistory(h.ctx, "app/shared.ts").map((c) => c.agent)).toEqual(["A", "B", "A"]);
  });

  it("stays silent on A,B,A,B spread beyond the window", async () => {
    for (const a of ["A", "B", "A", "B"]) {
      await take(a);
      clock.advance(25_000); // A..B spans 75 s > 60 s
    }
    expect(oscillationSignals()).toHaveLength(0);
    expect(escalations()).toHaveLength(0);
  });

  it("measures the window from the first holder's latest grant", async () => {
    await take("A");
    clock.advance(100_000);
    await take("A"); // A again: its time moves up
    await take("B");
    await take("A");
    await take("B");
    expect(oscillationSignals()).toHaveLength(1);
  });
});

type Counters = MetricsReport["lock_requests"];

describe("metrics", () => {
  const grant = (waited_ms: number): AcquireResult => ({ granted: true, locks: [], waited_ms });
  const refuse = (reason: "timeout" | "deadlock", waited_ms: number): AcquireResult => ({
    granted: false,
    reason,
    message: "",
    stop: null,
    holders: [],
    queued_ahead: [],
    cycle: null,
    waited_ms,
  });

  it("counts a known sequence of lock requests: outcomes, contention rate, wait percentiles", async () => {
    expect((await write("A", "x.ts")).granted).toBe(true); // granted, no wait
    expect((await write("B", "x.ts")).reason).toBe("conflict");
    expect((await h.ok<Lock>("acquire_lock", { agent_id: "B", paths: ["x.ts"], mode: "read" })).reason).toBe("conflict");
    const req = { agent_id: "C", keys: ["y.ts"], mode: "read" as const };
    h.ctx.store.env.transactionSync(() => {
      for (const w of [100, 200, 300, 400]) recordAcquire(h.ctx, req, grant(w));
      recordAcquire(h.ctx, req, refuse("timeout", 500));
      recordAcquire(h.ctx, req, refuse("deadlock", 0));
    });
    const m = await h.readJson<MetricsReport>("signalbox://metrics");
    expect(m.lock_requests).toEqual<Counters>({
      total: 9,
      granted: 5,
      waited: 5,
      refused: { conflict: 2, deadlock: 1, timeout: 1, paused: 0, checkpoint: 0 },
      contention_rate: 8 / 9,
    });
    // Samples 0, 100, 200, 300, 400 (grants only).
    expect(m.lock_wait_ms).toEqual({ samples: 5, p50: 200, p95: 400, max: 400 });
    expect(m.conflicts_by_type).toMatchObject({ lock_conflict: 2, deadlock: 1, timeout: 1, paused: 0, checkpoint: 0 });
    expect(m.agents_by_status).toEqual({ dispatched: 3 });
  });

  it("keeps only the last 1000 wait samples", () => {
    const req = { agent_id: "C", keys: ["y.ts"], mode: "read" as const };
    h.ctx.store.env.transactionSync(() => {
      for (let i = 1; i <= 1200; i++) recordAcquire(h.ctx, req, grant(i));
    });
    const m = metricsReport(h.ctx, h.ctx.locks);
    expect(m.lock_wait_ms).toEqual({ samples: 1000, p50: 700, p95: 1150, max: 1200 });
  });

  it("nearest-rank percentiles", () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.95)).toBe(4);
  });

  it("measures conflict resolution time over resolved RED signals and escalations; counts escalations by kind and features", async () => {
    const env = h.ctx;
    const red = createSignal(env, { level: "RED", summary: "race", emitted_by: "aud", target_agents: ["A"] }).signal;
    createSignal(env, { level: "YELLOW", summary: "style", emitted_by: "aud" });
    const esc = openEscalation(env, { kind: "convention_clash", opened_by: "B", summary: "naming" });
    clock.advance(3_000);
    recordDecisionResolving(env, { type: "convention", decided_by: "orch", context: "c", decision: "d", refs: [esc.escalation_id] });
    clock.advance(2_000);
    resolveSignal(env, red.signal_id, "orch", "fixed");
    const unresolved = createSignal(env, { level: "RED", summary: "open one", emitted_by: "aud", target_agents: ["B"] }).signal;
    expect(unresolved.status).toBe("open");

    const f = (id: string, status: FeatureRecord["status"], agent = "A"): FeatureRecord => ({
      feature_id: id,
      plan_id: null,
      status,
      agent_id: agent,
      blocked_by: [],
      shared_resources: [],
      started_at: "2026-01-01T00:00:00.000Z",
      ended_at: null,
      schema_changes: [],
      outputs: [],
      failure_reason: null,
      attempts: 1,
    });
    env.store.env.transactionSync(() => {
      for (const rec of [f("F1", "completed"), f("F2", "completed"), f("F3", "active"), f("F4", "failed")]) {
        env.store.features.putSync(`F${rec.feature_id}`, rec);
      }
    });
    const m = metricsReport(env, env.locks);
    expect(m.conflict_resolution_ms).toEqual({ resolved: 2, p50: 3_000, mean: 4_000 });
    expect(m.conflicts_by_type.convention_clash).toBe(1);
    expect(m.features).toEqual({ completed: 2, active: 1, failed: 1 });
  });
});

describe("bottlenecks", () => {
  const report = () => metricsReport(h.ctx, h.ctx.locks);

  it("a lock held past the limit", async () => {
    expect((await write("A", "app/long.ts")).granted).toBe(true);
    clock.advance(9_000);
    expect(report().bottlenecks.long_held_locks.items).toEqual([]);
    clock.advance(2_000);
    const b = report().bottlenecks;
    expect(b.long_held_locks.items).toEqual([{ key: "app/long.ts", mode: "write", agent_id: "A", feature_id: null, held_ms: 11_000 }]);
    expect(b.total).toBe(1);
    await h.ok("release_lock", { agent_id: "A", all: true });
    expect(report().bottlenecks.long_held_locks.items).toEqual([]);
  });

  it("a key with at least queue_limit waiters", async () => {
    expect((await write("A", "app/hot.ts")).granted).toBe(true);
    // A request's first attempt commits with the next group commit (one setImmediate later).
    const committed = () => new Promise((resolve) => setImmediate(resolve));
    const first = h.ctx.locks.acquire({ agent_id: "B", keys: ["app/hot.ts"], mode: "write", wait_ms: 5_000 });
    await committed();
    expect(report().bottlenecks.queued_keys.items).toEqual([]); // one waiter: healthy
    const second = h.ctx.locks.acquire({ agent_id: "C", keys: ["app/hot.ts"], mode: "write", wait_ms: 5_000 });
    await committed();
    expect(report().bottlenecks.queued_keys.items).toEqual([{ key: "app/hot.ts", waiters: 2, agents: ["B", "C"] }]);
    clock.advance(6_000);
    expect((await first).granted).toBe(false);
    expect((await second).granted).toBe(false);
    expect(report().bottlenecks.queued_keys.items).toEqual([]);
  });

  it("a message unacknowledged past the limit", () => {
    const env = h.ctx;
    const { message_id } = env.store.env.transactionSync(() => deliver(env, ["B"], { from: "A", kind: "handoff", summary: "API changed" }));
    clock.advance(500);
    expect(report().bottlenecks.delayed_messages.items).toEqual([]);
    clock.advance(1_000);
    expect(report().bottlenecks.delayed_messages.items).toEqual([
      expect.objectContaining({ message_id, to: "B", kind: "handoff", waiting_ms: 1_500 }),
    ]);
    env.store.env.transactionSync(() => acknowledgeMessages(env, "B", [message_id]));
    expect(report().bottlenecks.delayed_messages.items).toEqual([]);
  });

  it("an agent with more active features than the limit; lists are capped with a count", () => {
    const env = h.ctx;
    const put = (id: string, agent: string, status: FeatureRecord["status"] = "active") =>
      env.store.features.putSync(`F${id}`, {
        feature_id: id,
        plan_id: null,
        status,
        agent_id: agent,
        blocked_by: [],
        shared_resources: [],
        started_at: "2026-01-01T00:00:00.000Z",
        ended_at: null,
        schema_changes: [],
        outputs: [],
        failure_reason: null,
        attempts: 1,
      } satisfies FeatureRecord);
    env.store.env.transactionSync(() => {
      put("a1", "A");
      put("a2", "A");
      put("a3", "A", "completed");
    });
    expect(report().bottlenecks.overloaded_agents.items).toEqual([]); // 2 active = the limit: healthy
    env.store.env.transactionSync(() => {
      put("a4", "A");
      for (const id of ["b1", "b2", "b3", "b4"]) put(id, "B");
    });
    const b = report().bottlenecks.overloaded_agents;
    expect(b.items.map((o) => [o.agent_id, o.active_features])).toEqual([
      ["B", 4],
      ["A", 3],
    ]);
    const capped = metricsReport(env, env.locks, 1).bottlenecks.overloaded_agents;
    expect(capped.items).toHaveLength(1);
    expect(capped.omitted).toBe(1);
  });

  it("a healthy team shows no bottleneck", async () => {
    await take("A");
    const { message_id } = h.ctx.store.env.transactionSync(() => deliver(h.ctx, ["B"], { from: "A", kind: "notice", summary: "hi" }));
    h.ctx.store.env.transactionSync(() => acknowledgeMessages(h.ctx, "B", [message_id]));
    clock.advance(60_000);
    const m = await h.readJson<MetricsReport>("signalbox://metrics");
    expect(m.bottlenecks).toMatchObject({ total: 0 });
    expect(m.lock_requests).toMatchObject({ total: 1, granted: 1, contention_rate: 0 });
  });
});
