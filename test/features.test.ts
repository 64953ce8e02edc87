import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listInbox } from "../src/control/registry/inbox.js";
import type { CheckpointRecord } from "../src/control/registry/records.js";
import { createSignal, getSignal } from "../src/control/signals.js";
import { getPlanSpec, newestPlanWith, planSpecOf, savePlan } from "../src/analysis/plans.js";
import { manualClock } from "../src/store/clock.js";
import { openStore } from "../src/store/lmdb/store.js";
import { normalizeTasks } from "../src/analysis/task-input.js";
import { DomainMap } from "../src/analysis/domains.js";
import { parseConfig } from "../src/runtime/config.js";
import { planWaves } from "../src/analysis/waves.js";
import { connect, type Harness } from "./helpers/client.js";
import { tempDir } from "./helpers/store.js";
import { LmdbEngine, lmdbSnapshot } from "../src/store/lmdb/engine.js";
import { Db } from "../src/store/txn.js";

const example = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../examples/protocol-example.json"), "utf8")) as {
  features: { id: string; writes: string[] }[];
};
const P1 = "P1_user_auth";
const P2 = "P2_user_profile";
const P3 = "P3_posts";

type Missing = { feature_id: string; status: string };
type Start = {
  started: boolean;
  plan_id: string | null;
  attempts: number;
  missing: Missing[];
  missing_total: number;
  shared_resources: string[];
  decision_seq: number | null;
  instruction: string;
};
type Complete = {
  plan_id: string | null;
  schema_changes: { table: string; operation: string }[];
  released: string[];
  released_total: number;
  unblocks: string[];
  unblocks_total: number;
};
type Fail = {
  holder: string;
  released: string[];
  resolved_signals: string[];
  still_open_signals: string[];
  blocks: string[];
  blocks_total: number;
};
type PlanState = {
  plan_id: string;
  current_wave: number | null;
  counts: Record<string, number>;
  completed: string[];
  active: { feature_id: string; agent_id: string }[];
  failed: { feature_id: string; reason: string | null; attempts: number }[];
  blocked: { feature_id: string; because: string[] }[];
  ready: string[];
};
type State = {
  plans: PlanState[];
  plans_omitted: number;
  unplanned_active: { feature_id: string }[];
  schema_changes: { feature_id: string; table: string; operation: string; committed: boolean }[];
  shared_resources: Record<string, { features_using: string[] }>;
  checkpoints: unknown[];
  open_pausing_signals: number;
};
type Decisions = { decisions: { type: string; decided_by: string; decision: string; refs: string[] }[] };
type Locks = { locks: { key: string; agent_id: string; feature_id: string | null }[] };

let h: Harness;
let planId: string;

beforeEach(async () => {
  h = await connect({ clock: manualClock() });
  planId = (await h.ok<{ plan_id: string }>("plan_waves", { features: example.features, name: "example" })).plan_id;
});

afterEach(async () => {
  await h?.close();
});

const state = () => h.readJson<State>("signalbox://state");
const planOf = async () => (await state()).plans.find((p) => p.plan_id === planId) as PlanState;
const writesOf = (id: string) => (example.features.find((f) => f.id === id) as { writes: string[] }).writes;

async function startAndLock(feature: string, agent: string): Promise<void> {
  expect((await h.ok<Start>("start_feature", { feature_id: feature, agent_id: agent })).started).toBe(true);
  const lock = await h.ok<{ granted: boolean }>("acquire_lock", { agent_id: agent, paths: writesOf(feature), mode: "write", feature_id: feature });
  expect(lock.granted).toBe(true);
}

describe("plans remember each feature's spec", () => {
  it("stores the normalised specs with the plan and finds the newest plan containing a feature", async () => {
    const spec = getPlanSpec(lmdbSnapshot(h.ctx.store), planId);
    expect(spec?.get(P2)).toEqual({
      blocked_by: [P1],
      shared_resources: ["supabase_auth"],
      schema_changes: ["profiles"],
      writes: ["app/actions/profile.ts", "app/profile/page.tsx", "components/ProfileForm.tsx"],
      tags: [],
    });
    expect(newestPlanWith(lmdbSnapshot(h.ctx.store), P3)?.plan_id).toBe(planId);
    // The waves resource stays light: the spec is not part of the plan body.
    const plan = await h.readJson<Record<string, unknown>>(`signalbox://waves/${planId}`);
    expect(JSON.stringify(plan)).not.toContain("supabase_auth");
    const newer = (await h.ok<{ plan_id: string }>("plan_waves", { features: [{ id: P3 }] })).plan_id;
    expect(newestPlanWith(lmdbSnapshot(h.ctx.store), P3)?.plan_id).toBe(newer);
    expect(newestPlanWith(lmdbSnapshot(h.ctx.store), P1)?.plan_id).toBe(planId);
    expect(newestPlanWith(lmdbSnapshot(h.ctx.store), "nope")).toBeUndefined();
  });

  it("keeps ids such as __proto__ as plain data", async () => {
    const dir = tempDir();
    const store = openStore(dir.dir);
    const db = new Db(new LmdbEngine(store, manualClock()));
    try {
      const feats = [{ id: "__proto__" }, { id: "b", blocked_by: ["__proto__"], shared_resources: ["resource:db"] }];
      const opts = { root: dir.dir, domains: new DomainMap(parseConfig({})), field: "features", noun: "feature" };
      const plan = await savePlan(db, manualClock(), planWaves(feats, opts), planSpecOf(normalizeTasks(feats, opts)));
      const spec = getPlanSpec(lmdbSnapshot(store), plan.plan_id);
      expect([...(spec?.keys() ?? [])]).toEqual(["__proto__", "b"]);
      expect(spec?.get("b")).toMatchObject({ blocked_by: ["__proto__"], shared_resources: ["db"] });
    } finally {
      void store.close().then(dir.cleanup);
    }
  });
});

describe("start_feature: prerequisites (§4.2, §5.2)", () => {
  it("refuses P2 before P1 completes, names what is missing, and logs a dependency_violation", async () => {
    const before = await h.ok<Start>("start_feature", { feature_id: P2, agent_id: "coder-2" });
    expect(before).toMatchObject({ started: false, plan_id: planId, missing: [{ feature_id: P1, status: "not_started" }], missing_total: 1 });
    expect(before.decision_seq).toBeTypeOf("number");

    await h.ok("start_feature", { feature_id: P1, agent_id: "coder-1" });
    const during = await h.ok<Start>("start_feature", { feature_id: P2, agent_id: "coder-2" });
    expect(during.missing).toEqual([{ feature_id: P1, status: "active" }]);

    const log = await h.readJson<Decisions>("signalbox://decisions");
    const violations = log.decisions.filter((d) => d.type === "dependency_violation");
    expect(violations).toHaveLength(2);
    expect(violations[0]?.refs).toEqual([P2, "coder-2", P1]);
    expect(violations[0]?.decision).toContain(`${P1} (active)`);
    // The refused agent was not put on the feature.
    expect((await planOf()).active).toEqual([{ feature_id: P1, agent_id: "coder-1" }]);
  });

  it("stays silent on the correct sequence: no dependency_violation when P1 completes first", async () => {
    await startAndLock(P1, "coder-1");
    await h.ok("complete_feature", { feature_id: P1, agent_id: "coder-1" });
    expect((await h.ok<Start>("start_feature", { feature_id: P2, agent_id: "coder-2" })).started).toBe(true);
    expect((await h.ok<Start>("start_feature", { feature_id: P3, agent_id: "coder-3" })).started).toBe(true);
    const log = await h.readJson<Decisions>("signalbox://decisions");
    expect(log.decisions.filter((d) => d.type === "dependency_violation")).toEqual([]);
  });

  it("allows a feature no plan contains, with no dependencies", async () => {
    const r = await h.ok<Start>("start_feature", { feature_id: "hotfix", agent_id: "coder-9" });
    expect(r).toMatchObject({ started: true, plan_id: null, attempts: 1, missing: [] });
    expect((await state()).unplanned_active).toEqual([{ feature_id: "hotfix", agent_id: "coder-9" }]);
  });

  it("refuses an active feature of another agent naming the holder and an unknown plan; one agent may hold several", async () => {
    await h.ok("start_feature", { feature_id: P1, agent_id: "coder-1" });
    expect(await h.fails("start_feature", { feature_id: P1, agent_id: "coder-2" })).toMatch(/feature_id: .*held by agent "coder-1"/);
    expect(await h.fails("start_feature", { feature_id: P1, agent_id: "coder-2", plan_id: "plan_nope" })).toMatch(/plan_id: no plan "plan_nope"/);
    // An agent may work on several features (control.agent_task_limit flags overload); both stay its own.
    expect(await h.ok<Start>("start_feature", { feature_id: "other", agent_id: "coder-1" })).toMatchObject({ started: true });
    expect(await h.fails("start_feature", { feature_id: "other", agent_id: "coder-2" })).toMatch(/held by agent "coder-1"/);
    // The same agent starting it again changes nothing.
    expect(await h.ok<Start>("start_feature", { feature_id: P1, agent_id: "coder-1" })).toMatchObject({ started: true, attempts: 1 });
  });

  it("registers the agent on the feature as a coder", async () => {
    await h.ok("start_feature", { feature_id: P1, agent_id: "coder-1" });
    const board = await h.readJson<{ agents: { agent_id: string; role: string; feature_id: string | null }[] }>("signalbox://agents");
    expect(board.agents).toContainEqual(expect.objectContaining({ agent_id: "coder-1", role: "coder", feature_id: P1 }));
  });
});

describe("complete_feature (§4.2 After completing)", () => {
  it("releases the feature's locks, records schema changes and unblocks P2 and P3", async () => {
    await startAndLock(P1, "coder-1");
    const s1 = await state();
    expect(s1.plans[0]).toMatchObject({ current_wave: 1, active: [{ feature_id: P1, agent_id: "coder-1" }], ready: [] });
    expect(s1.shared_resources).toEqual({ supabase_auth: { features_using: [P1] } });

    const r = await h.ok<Complete>("complete_feature", { feature_id: P1, agent_id: "coder-1", outputs: ["auth actions"] });
    expect([...r.released].sort()).toEqual([...writesOf(P1)].sort());
    expect(r.released_total).toBe(3);
    expect(r.unblocks).toEqual([P2, P3]);
    expect(r.schema_changes).toEqual([{ table: "profiles", operation: "modify" }]);
    // Dependents are signalled (§4.2 step 4): the orchestrator learns P2 and P3 may start.
    const inbox = listInbox(h.ctx, "orchestrator");
    expect(inbox.items.map((m) => m.summary)).toContainEqual(expect.stringContaining(`${P1} completed: ${P2}, ${P3} may start`));

    const locks = await h.readJson<Locks>("signalbox://locks");
    expect(locks.locks.filter((l) => l.feature_id === P1)).toEqual([]);

    const s2 = await state();
    expect(s2.plans[0]).toMatchObject({ current_wave: 2, completed: [P1], active: [], ready: [P2, P3] });
    expect(s2.schema_changes).toEqual([{ feature_id: P1, table: "profiles", operation: "modify", committed: true }]);
    expect(s2.shared_resources).toEqual({});

    // The agent's assignment is cleared.
    const board = await h.readJson<{ agents: { agent_id: string; feature_id: string | null }[] }>("signalbox://agents");
    expect(board.agents.find((a) => a.agent_id === "coder-1")?.feature_id).toBeNull();
  });

  it("records reported schema changes and reaches current_wave null when everything is done", async () => {
    await startAndLock(P1, "coder-1");
    await h.ok("complete_feature", { feature_id: P1, agent_id: "coder-1", schema_changes: [{ table: "table:profiles", operation: "create" }] });
    await startAndLock(P2, "coder-2");
    await startAndLock(P3, "coder-3");
    expect((await state()).shared_resources).toEqual({ supabase_auth: { features_using: [P2, P3] } });
    const r2 = await h.ok<Complete>("complete_feature", { feature_id: P2, agent_id: "coder-2", schema_changes: [] });
    expect(r2.unblocks).toEqual([]);
    await h.ok("complete_feature", { feature_id: P3, agent_id: "coder-3", schema_changes: [{ table: "posts", operation: "create" }] });
    const s = await state();
    expect(s.plans[0]).toMatchObject({ current_wave: null, completed: [P1, P2, P3], counts: { features: 3, completed: 3 } });
    expect(s.schema_changes).toEqual([
      { feature_id: P1, table: "profiles", operation: "create", committed: true },
      { feature_id: P3, table: "posts", operation: "create", committed: true },
    ]);
    expect(await h.fails("start_feature", { feature_id: P1, agent_id: "coder-1" })).toMatch(/feature_id: .*already completed/);
  });

  it("refuses a wrong agent naming the holder, and a feature never started", async () => {
    await startAndLock(P1, "coder-1");
    expect(await h.fails("complete_feature", { feature_id: P1, agent_id: "coder-2" })).toMatch(/agent_id: .*held by agent "coder-1"/);
    expect(await h.fails("complete_feature", { feature_id: P3, agent_id: "coder-2" })).toMatch(/feature_id: .*never started/);
    // Nothing changed: coder-1's locks are still held.
    expect((await h.readJson<Locks>("signalbox://locks")).locks.filter((l) => l.feature_id === P1)).toHaveLength(3);
  });

  it("is refused while a RED signal on the feature is open, and allowed once it is resolved", async () => {
    await startAndLock(P1, "coder-1");
    const { signal } = createSignal(h.ctx, { level: "RED", summary: "token stored in localStorage", feature_id: P1, emitted_by: "auditor-1" });
    expect(await h.fails("complete_feature", { feature_id: P1, agent_id: "coder-1" })).toMatch(new RegExp(`agent_id: .*paused by ${signal.signal_id}`));
    expect((await state()).open_pausing_signals).toBe(1);
    expect((await planOf()).active).toHaveLength(1);
    await h.ok("resolve_audit_signal", { signal_id: signal.signal_id, agent_id: "auditor-1", resolution: "moved to httpOnly cookie" });
    expect((await h.ok<Complete>("complete_feature", { feature_id: P1, agent_id: "coder-1" })).unblocks).toEqual([P2, P3]);
  });

  it("is not refused by a GREEN or YELLOW signal, nor by a RED one on another feature", async () => {
    await startAndLock(P1, "coder-1");
    createSignal(h.ctx, { level: "YELLOW", summary: "naming", feature_id: P1, emitted_by: "auditor-1" });
    createSignal(h.ctx, { level: "RED", summary: "elsewhere", feature_id: "other", emitted_by: "auditor-1" });
    expect((await h.ok<Complete>("complete_feature", { feature_id: P1, agent_id: "coder-1" })).released_total).toBe(3);
  });
});

describe("fail_feature", () => {
  it("releases locks, blocks the dependents, and a restart is allowed", async () => {
    await startAndLock(P1, "coder-1");
    const r = await h.ok<Fail>("fail_feature", { feature_id: P1, agent_id: "coder-1", reason: "auth provider down" });
    expect(r).toMatchObject({ holder: "coder-1", blocks: [P2, P3], blocks_total: 2 });
    expect(r.released).toHaveLength(3);
    expect((await h.readJson<Locks>("signalbox://locks")).locks).toEqual([]);
    const text = ((await h.call("fail_feature", { feature_id: P1, agent_id: "coder-1", reason: "again" })).content as { text: string }[])[0]?.text;
    expect(text).toMatch(/feature_id: .*is failed/);

    const s = await planOf();
    expect(s).toMatchObject({
      current_wave: 1,
      failed: [{ feature_id: P1, reason: "auth provider down", attempts: 1 }],
      blocked: [
        { feature_id: P2, because: [P1] },
        { feature_id: P3, because: [P1] },
      ],
      ready: [],
    });
    const refused = await h.ok<Start>("start_feature", { feature_id: P2, agent_id: "coder-2" });
    expect(refused.missing).toEqual([{ feature_id: P1, status: "failed" }]);
    expect(refused.instruction).toMatch(/failed/);

    const again = await h.ok<Start>("start_feature", { feature_id: P1, agent_id: "coder-4" });
    expect(again).toMatchObject({ started: true, attempts: 2 });
    expect(await planOf()).toMatchObject({ failed: [], blocked: [], active: [{ feature_id: P1, agent_id: "coder-4" }] });
  });

  it("lets an orchestrator fail another agent's feature, but not another coder", async () => {
    await h.ok("dispatch_agents", { agents: [{ agent_id: "boss", role: "orchestrator" }] });
    await startAndLock(P1, "coder-1");
    expect(await h.fails("fail_feature", { feature_id: P1, agent_id: "coder-2", reason: "x" })).toMatch(/agent_id: .*held by agent "coder-1"/);
    const r = await h.ok<Fail>("fail_feature", { feature_id: P1, agent_id: "boss", reason: "reprioritised" });
    expect(r.holder).toBe("coder-1");
    expect((await h.readJson<Locks>("signalbox://locks")).locks).toEqual([]);
  });

  it("auto-resolves an open normal RED signal on the feature when an orchestrator fails it, but never an algedonic one", async () => {
    await startAndLock(P1, "coder-1");
    await h.ok("dispatch_agents", { agents: [{ agent_id: "lead", role: "orchestrator" }] });
    const red = createSignal(h.ctx, { level: "RED", summary: "broken tests", feature_id: P1, emitted_by: "auditor-1" }).signal;
    const alg = createSignal(h.ctx, { level: "RED", summary: "secret in repo", feature_id: P1, algedonic: true, emitted_by: "auditor-1" }).signal;
    const other = createSignal(h.ctx, { level: "RED", summary: "elsewhere", feature_id: P3, emitted_by: "auditor-1" }).signal;
    const r = await h.ok<Fail>("fail_feature", { feature_id: P1, agent_id: "lead", reason: "abandoned" });
    expect(r.resolved_signals).toEqual([red.signal_id]);
    expect(r.still_open_signals).toEqual([alg.signal_id]);
    expect((await state()).open_pausing_signals).toBe(2);
    const status = (id: string) => getSignal(h.ctx, id)?.status;
    expect([status(red.signal_id), status(alg.signal_id), status(other.signal_id)]).toEqual(["resolved", "open", "open"]);
  });

  it("blocks transitive dependents only, and a plain completion blocks nothing", async () => {
    const chain = (await h.ok<{ plan_id: string }>("plan_waves", {
      features: [{ id: "a" }, { id: "b", blocked_by: ["a"] }, { id: "c", blocked_by: ["b"] }, { id: "d" }],
    })).plan_id;
    await h.ok("start_feature", { feature_id: "a", agent_id: "x" });
    const r = await h.ok<Fail>("fail_feature", { feature_id: "a", agent_id: "x", reason: "no" });
    expect(r.blocks).toEqual(["b", "c"]);
    const s = (await state()).plans.find((p) => p.plan_id === chain) as PlanState;
    expect(s.blocked).toEqual([
      { feature_id: "b", because: ["a"] },
      { feature_id: "c", because: ["a"] },
    ]);
    expect(s.ready).toEqual(["d"]);
  });
});

describe("signalbox://state", () => {
  it("lists open checkpoints, caps plans, and shows a fresh plan as ready", async () => {
    const s = await state();
    expect(s.plans).toHaveLength(1);
    expect(s.plans_omitted).toBe(0);
    expect(s.plans[0]).toMatchObject({ current_wave: 1, ready: [P1], counts: { features: 3, ready: 1, blocked: 0 } });
    expect(s.checkpoints).toEqual([]);
    expect(s.open_pausing_signals).toBe(0);
    for (let i = 0; i < 11; i++) await h.ok("plan_waves", { features: [{ id: `f${i}` }] });
    const many = await state();
    expect(many.plans).toHaveLength(10);
    expect(many.plans_omitted).toBe(2);
  });

  it("shows an open checkpoint with who has not arrived", async () => {
    // Stored as the checkpoint tools store it (records.ts layout: `K` name, `O` name).
    const cp: CheckpointRecord = {
      name: "schema-sync",
      requested_by: "c1",
      reason: "merge migrations",
      feature_id: null,
      status: "open",
      expected: ["c2", "c3"],
      arrived: [{ agent_id: "c2", at: "2026-01-01T00:00:00.000Z" }],
      requested_at: "2026-01-01T00:00:00.000Z",
      requested_mono: 0,
      resumed_at: null,
      resumed_by: null,
    };
    h.ctx.store.env.transactionSync(() => {
      h.ctx.store.checkpoints.putSync("Kschema-sync", cp);
      h.ctx.store.checkpoints.putSync("Oschema-sync", 1);
    });
    expect((await state()).checkpoints).toEqual([
      { name: "schema-sync", requested_by: "c1", expected: ["c2", "c3"], arrived: ["c2"], missing: ["c3"] },
    ]);
  });
});

describe("bad input names the field", () => {
  it("rejects bad arguments with the field's name", async () => {
    expect(await h.fails("start_feature", { feature_id: "", agent_id: "a" })).toMatch(/feature_id/);
    expect(await h.fails("start_feature", { feature_id: "x", agent_id: "bad id!" })).toMatch(/agent_id/);
    expect(await h.fails("start_feature", { feature_id: "x\0y", agent_id: "a" })).toMatch(/feature_id/);
    expect(await h.fails("start_feature", { feature_id: P1, agent_id: "a", plan_id: "" })).toMatch(/plan_id/);
    expect(await h.fails("complete_feature", { feature_id: P1, agent_id: "a", schema_changes: [{ operation: "create" }] })).toMatch(/schema_changes/);
    expect(await h.fails("fail_feature", { feature_id: P1, agent_id: "a" })).toMatch(/reason/);
    await h.ok("start_feature", { feature_id: P1, agent_id: "a" });
    expect(await h.fails("complete_feature", { feature_id: P1, agent_id: "a", schema_changes: [{ table: "  " }] })).toMatch(/schema_changes\[0\]\.table: is empty/);
    expect(await h.fails("start_feature", { feature_id: "zzz", agent_id: "b", plan_id: planId })).toMatch(/feature_id: "zzz" is not a feature of plan/);
  });
});
