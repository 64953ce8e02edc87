/**
 * The schema's collections (src/store/schema.ts) read the records the
 * domain modules write with their own hand-built keys: the raw keys are the
 * same bytes. A scenario through the tools on a real store, then every
 * record looked up through the typed collections.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordRadar, type RadarMatrix } from "../src/control/radar.js";
import { recordWaveMerge } from "../src/control/wave-git.js";
import * as schema from "../src/store/schema.js";
import { connect, type Harness } from "./helpers/client.js";

let h: Harness;
beforeEach(async () => {
  h = await connect();
});
afterEach(async () => {
  await h.close();
});

describe("the store schema", () => {
  it("finds what the tools wrote, under the keys the modules built by hand", async () => {
    const grant = await h.ok<{ locks: { key: string; fencing_token: number; lock_id: string }[] }>("acquire_lock", {
      agent_id: "alice",
      paths: ["src/a.ts"],
      mode: "write",
      feature_id: "F1",
    });
    const token = grant.locks[0]!.fencing_token;
    await h.ok("record_decision", { decided_by: "orch", type: "convention", context: "naming", decision: "camelCase" });
    const plan = await h.ok<{ plan_id: string }>("plan_waves", { features: [{ id: "F1", writes: ["src/a.ts"] }], name: "one" });
    await h.ok("dispatch_agents", { agents: [{ agent_id: "orch", role: "orchestrator" }, { agent_id: "bob", role: "coder", feature_id: "F2" }] });
    await h.ok("start_feature", { agent_id: "bob", feature_id: "F2" });
    await h.ok("set_convention", { agent_id: "bob", scope: "src/**", key: "naming", value: "camel" });
    await h.ok("emit_audit_signal", { agent_id: "orch", level: "RED", summary: "stop", feature_id: "F2" });

    const seen = await h.ctx.db.read((tx) => ({
      lock: tx.get(schema.lockTable.lock, [token]),
      byKey: [...tx.range(schema.lockTable.liveByKey, { prefix: ["src/a.ts"] })],
      byFolder: [...tx.range(schema.lockTable.liveByKey, { startsWith: "src/" })].map((e) => e.key),
      byAgent: [...tx.range(schema.lockTable.liveByAgent, { prefix: ["alice"] })],
      fencing: tx.get(schema.lockTable.counter, ["fencing_token"]),
      decision: tx.first(schema.decisions),
      lastDecision: tx.first(schema.decisions, { reverse: true }),
      decisionSeq: tx.get(schema.meta.counter, ["decision_seq"]),
      planSummary: tx.first(schema.plans.summary, { reverse: true })?.value,
      plan: tx.get(schema.plans.plan, [plan.plan_id]),
      spec: tx.get(schema.plans.spec, [plan.plan_id, "spec"]),
      agent: tx.get(schema.agents.agent, ["bob"]),
      onFeature: [...tx.range(schema.agents.byFeature, { prefix: ["F2"] })],
      feature: tx.get(schema.features.feature, ["F2"]),
      conventions: [...tx.range(schema.conventions.convention)],
      signals: [...tx.range(schema.signals.signal)].map((e) => e.value),
      pausing: [...tx.range(schema.signals.openPausing)].map((e) => e.key),
      activity: [...tx.range(schema.activity.entry)].length,
      bobActivity: [...tx.range(schema.activity.byAgent, { prefix: ["bob"] })].length,
      counters: tx.get(schema.metrics.counters, []),
    }));
    expect(seen.lock).toMatchObject({ agent_id: "alice", key: "src/a.ts", fencing_token: token, state: "held" });
    expect(seen.byKey).toEqual([{ key: ["src/a.ts", token], value: token }]);
    expect(seen.byFolder).toEqual([["src/a.ts", token]]);
    expect(seen.byAgent).toEqual([{ key: ["alice", token], value: "src/a.ts" }]);
    expect(seen.fencing).toBe(token);
    expect(seen.decision?.value).toMatchObject({ type: "convention", decision: "camelCase" });
    expect(seen.decision?.key).toEqual([1]);
    expect(seen.decisionSeq).toBe(seen.lastDecision?.key[0]);
    expect(seen.planSummary).toMatchObject({ plan_id: plan.plan_id, name: "one" });
    expect(seen.plan?.plan_id).toBe(plan.plan_id);
    expect(seen.spec?.features.map(([id]) => id)).toEqual(["F1"]);
    expect(seen.agent).toMatchObject({ agent_id: "bob", role: "coder", feature_id: "F2" });
    expect(seen.onFeature.map((e) => e.key)).toEqual([["F2", "bob"]]);
    expect(seen.feature).toMatchObject({ feature_id: "F2" });
    expect(seen.conventions).toHaveLength(1);
    const [scope, key] = seen.conventions[0]!.key;
    expect(seen.conventions[0]!.value).toMatchObject({ scope, key, value: "camel", set_by: "bob" });
    expect(seen.signals).toEqual([expect.objectContaining({ level: "RED", feature_id: "F2" })]);
    expect(seen.pausing).toHaveLength(1);
    expect(seen.activity).toBeGreaterThan(3);
    expect(seen.bobActivity).toBeGreaterThan(0);
    expect(seen.counters).toBeDefined();
  });

  it("finds the noted lock keys, the wave merges and the radar under the layouts the modules built by hand", async () => {
    await h.ok("dispatch_agents", { agents: [{ agent_id: "orch", role: "orchestrator" }, { agent_id: "bob", role: "coder", feature_id: "F2" }] });
    await h.ok("start_feature", { agent_id: "bob", feature_id: "F2" });
    await h.ok("acquire_lock", { agent_id: "bob", paths: ["src/b.ts"], mode: "write", feature_id: "F2" });
    const plan = await h.ok<{ plan_id: string }>("plan_waves", { features: [{ id: "F1", writes: ["src/a.ts"] }], name: "one" });
    // The merge and the radar come from git (integrate_wave, the radar watcher): recorded here as those steps record them.
    const merge = {
      plan_id: plan.plan_id,
      wave_number: 1,
      ref: `refs/signalbox/waves/${plan.plan_id}/1`,
      target: "main",
      target_commit: "a".repeat(40),
      commit: "b".repeat(40),
      status: "clean" as const,
      steps: [],
      first_conflict: null,
      at: new Date().toISOString(),
    };
    recordWaveMerge(h.ctx, merge);
    const branch = (name: string) => ({ branch: name, head: "c".repeat(40), feature_id: null, agent_id: null });
    const matrix: RadarMatrix = {
      computed_at: new Date().toISOString(),
      target: "main",
      include_uncommitted: false,
      fingerprint: "f",
      branches: [branch("feat/b"), branch("feat/a")],
      pairs: [{ a: branch("feat/b"), b: branch("feat/a"), status: "conflict", conflicts: [{ path: "src/x.ts", kind: "content" }], both_changed: [] }],
    };
    recordRadar(h.ctx, matrix);

    const seen = await h.ctx.db.read((tx) => ({
      locked: [...tx.range(schema.features.lockedKey, { prefix: ["F2"] })],
      merge: tx.get(schema.integrations.waveMerge, [plan.plan_id, 1]),
      matrix: tx.get(schema.integrations.radarMatrix, []),
      pair: tx.get(schema.integrations.radarPair, ["feat/a", "feat/b"]),
    }));
    expect(seen.locked).toEqual([{ key: ["F2", "src/b.ts"], value: 1 }]);
    expect(seen.merge).toEqual(merge);
    expect(seen.matrix?.fingerprint).toBe("f");
    expect(seen.pair).toMatchObject({ a: "feat/b", b: "feat/a", files: ["src/x.ts"] });

    // The raw keys are the hand-built layouts byte for byte.
    const raw = await h.ctx.db.engine.read((r) => ({
      features: [...r.range("features", {})].map((e) => e.key),
      integrations: [...r.range("integrations", {})].map((e) => e.key),
    }));
    expect(raw.features).toContain("LF2\0src/b.ts");
    expect(raw.integrations).toEqual([`M${plan.plan_id}\u0000000001`, "Rfeat/a\0feat/b", "Rmatrix"]);
  });
});
