/**
 * The proof of the control layer: the parallel-execution protocol's worked
 * example (examples/protocol-example.json: P1 auth, then P2 profile and P3
 * posts in parallel) played through real MCP clients, each talking over stdio
 * to its own built server process, all three processes sharing one store. The
 * root holds the protocol's reading of its example
 * (examples/protocol-example.signalbox.json: a migration is an ordinary file,
 * so P2 and P3 share a wave).
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerProcess as Process } from "./helpers/process.js";
import { tempDir } from "./helpers/store.js";

const example = JSON.parse(fs.readFileSync(new URL("../examples/protocol-example.json", import.meta.url), "utf8")) as {
  features: { id: string; writes: string[] }[];
};
const writesOf = (id: string) => example.features.find((f) => f.id === id)!.writes;

interface PlanState {
  plan_id: string;
  current_wave: number | null;
  completed: string[];
  active: { feature_id: string; agent_id: string }[];
  ready: string[];
}
interface State {
  plans: PlanState[];
  schema_changes: { feature_id: string; table: string }[];
  shared_resources: Record<string, { features_using: string[] }>;
}
interface Acquired {
  granted: boolean;
  reason: string | null;
  stop: { kind: string; id: string } | null;
  locks: { key: string }[];
}

describe("the protocol's worked example across three server processes", () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  const orchestrator = new Process("orchestrator");
  const impl1 = new Process("implementor-1");
  const impl2 = new Process("implementor-2 + auditor");

  beforeAll(async () => {
    fs.copyFileSync(new URL("../examples/protocol-example.signalbox.json", import.meta.url), path.join(root.dir, "signalbox.config.json"));
    const env = { ...process.env, SIGNALBOX_ROOT: root.dir, SIGNALBOX_DB: store.dir } as Record<string, string>;
    await Promise.all([orchestrator.start(env), impl1.start(env), impl2.start(env)]);
  });
  afterAll(async () => {
    await Promise.all([orchestrator.client.close(), impl1.client.close(), impl2.client.close()]);
    root.cleanup();
    store.cleanup();
  });

  it("runs plan, dispatch, P1, P2 with P3, a RED pause, a handoff, conventions and a checkpoint, visible in the state", async () => {
    const stateOf = async (p: Process = orchestrator) => {
      const s = await p.read<State>("signalbox://state");
      return { ...s, plan: s.plans[0]! };
    };

    // 1. Plan the waves: P1 alone, then P2 and P3 side by side.
    const plan = await orchestrator.ok<{ plan_id: string; waves: { features: string[] }[] }>("plan_waves", {
      features: example.features,
    });
    expect(plan.waves.map((w) => w.features)).toEqual([["P1_user_auth"], ["P2_user_profile", "P3_posts"]]);

    // 2. Dispatch the first wave: coder and auditor in one batch, no coverage warning.
    const d1 = await orchestrator.ok<{ audit_coverage: { status: string; warning: string | null } }>("dispatch_agents", {
      agents: [
        { agent_id: "orchestrator", role: "orchestrator" },
        { agent_id: "implementor-1", role: "coder", feature_id: "P1_user_auth" },
        { agent_id: "auditor-1", role: "auditor" },
      ],
    });
    expect(d1.audit_coverage).toMatchObject({ status: "covered", warning: null });
    expect((await stateOf()).plan.current_wave).toBe(1);

    // P3 may not start before P1: refused, naming P1, logged as a dependency violation.
    const early = await impl2.ok<{ started: boolean; missing: { feature_id: string; status: string }[] }>("start_feature", {
      feature_id: "P3_posts",
      agent_id: "implementor-2",
      plan_id: plan.plan_id,
    });
    expect(early.started).toBe(false);
    expect(early.missing).toEqual([{ feature_id: "P1_user_auth", status: "not_started" }]);

    // 3. P1: start, lock, complete; completion releases its locks and unblocks P2 and P3.
    await impl1.ok("start_feature", { feature_id: "P1_user_auth", agent_id: "implementor-1", plan_id: plan.plan_id });
    const p1locks = await impl1.ok<Acquired>("acquire_lock", {
      agent_id: "implementor-1",
      feature_id: "P1_user_auth",
      paths: writesOf("P1_user_auth"),
      mode: "write",
    });
    expect(p1locks.granted).toBe(true);
    expect((await stateOf(impl2)).plan.active).toEqual([expect.objectContaining({ feature_id: "P1_user_auth", agent_id: "implementor-1" })]);
    const done1 = await impl1.ok<{ unblocks: string[]; released: unknown[] }>("complete_feature", {
      feature_id: "P1_user_auth",
      agent_id: "implementor-1",
      schema_changes: [{ table: "profiles", operation: "create" }],
    });
    expect(done1.unblocks.sort()).toEqual(["P2_user_profile", "P3_posts"]);
    expect(done1.released).toHaveLength(3);
    let state = await stateOf();
    expect(state.plan).toMatchObject({ current_wave: 2, completed: ["P1_user_auth"] });
    expect(state.plan.ready.sort()).toEqual(["P2_user_profile", "P3_posts"]);
    expect(state.schema_changes).toEqual([expect.objectContaining({ feature_id: "P1_user_auth", table: "profiles" })]);
    const locks = await orchestrator.read<{ locks: unknown[] }>("signalbox://locks");
    expect(locks.locks).toEqual([]);

    // 4. Wave 2: P2 and P3 run in parallel, each with its own write locks.
    await orchestrator.ok("dispatch_agents", { by: "orchestrator",
      agents: [
        { agent_id: "implementor-1", role: "coder", feature_id: "P2_user_profile" },
        { agent_id: "implementor-2", role: "coder", feature_id: "P3_posts" },
        { agent_id: "auditor-1", role: "auditor" },
        { agent_id: "tester-1", role: "test_engineer", feature_id: "P3_posts" },
      ],
    });
    await impl1.ok("start_feature", { feature_id: "P2_user_profile", agent_id: "implementor-1" });
    await impl2.ok("start_feature", { feature_id: "P3_posts", agent_id: "implementor-2" });
    const [l2, l3] = await Promise.all([
      impl1.ok<Acquired>("acquire_lock", { agent_id: "implementor-1", feature_id: "P2_user_profile", paths: writesOf("P2_user_profile"), mode: "write" }),
      impl2.ok<Acquired>("acquire_lock", { agent_id: "implementor-2", feature_id: "P3_posts", paths: writesOf("P3_posts").slice(0, 3), mode: "write" }),
    ]);
    expect([l2.granted, l3.granted]).toEqual([true, true]);
    state = await stateOf();
    expect(state.plan.active.map((a) => a.feature_id).sort()).toEqual(["P2_user_profile", "P3_posts"]);
    expect(state.shared_resources.supabase_auth?.features_using.sort()).toEqual(["P2_user_profile", "P3_posts"]);

    // 5. The auditor raises RED on P3: P3's coder is paused and refused a write lock; P2's is not.
    const red = await impl2.ok<{ signal_id: string; paused: string[] }>("emit_audit_signal", {
      agent_id: "auditor-1",
      level: "RED",
      summary: "posts query builds SQL from user input",
      observation: "app/actions/posts.ts concatenates the search term",
      concern: "SQL injection",
      recommendation: "use a parameterised query",
      feature_id: "P3_posts",
      files: ["app/actions/posts.ts"],
    });
    expect(red.paused).toEqual(["implementor-2"]);
    const hb = await impl2.ok<{ paused: boolean; paused_by: { signal_id: string }[] }>("report_status", {
      agent_id: "implementor-2",
      status: "working",
      progress_percentage: 50,
    });
    expect(hb.paused).toBe(true);
    expect(hb.paused_by.map((s) => s.signal_id)).toEqual([red.signal_id]);
    const refused = await impl2.ok<Acquired>("acquire_lock", {
      agent_id: "implementor-2",
      feature_id: "P3_posts",
      paths: ["supabase/migrations/002_posts.sql"],
      mode: "write",
    });
    expect(refused).toMatchObject({ granted: false, reason: "paused", stop: { kind: "audit_signal", id: red.signal_id } });
    const p2more = await impl1.ok<Acquired>("acquire_lock", {
      agent_id: "implementor-1",
      feature_id: "P2_user_profile",
      paths: ["app/profile/avatar.tsx"],
      mode: "write",
    });
    expect(p2more.granted).toBe(true);

    // 6. A cross-agent discovery: delivered to implementor-2 and the orchestrator, then acknowledged.
    const handoff = await impl1.ok<{ message_id: string; delivered_to: string[] }>("cross_agent_handoff", {
      agent_id: "implementor-1",
      discovery: "profiles gained an avatar_url column",
      affects: "implementor-2",
      impact: "PostList should show the author's avatar",
      files: ["components/ProfileForm.tsx"],
    });
    expect(handoff.delivered_to.sort()).toEqual(["implementor-2", "orchestrator"]);
    const inbox = await impl2.ok<{ items: { message_id: string; kind: string }[] }>("get_inbox", {
      agent_id: "implementor-2",
      unread_only: true,
    });
    expect(inbox.items.map((m) => m.kind)).toContain("handoff");
    await impl2.ok("acknowledge", { agent_id: "implementor-2", message_ids: inbox.items.map((m) => m.message_id) });
    expect((await impl2.ok<{ items: unknown[] }>("get_inbox", { agent_id: "implementor-2", unread_only: true })).items).toEqual([]);

    // 7. Conventions: the first agent's choice is the standard; a different one is refused and escalated.
    const set = await impl1.ok<{ status: string }>("set_convention", {
      agent_id: "implementor-1",
      scope: "app/actions/**",
      key: "error_shape",
      value: "return { error }",
    });
    expect(set.status).toBe("established");
    const clash = await impl2.ok<{ status: string; escalation_id: string | null }>("set_convention", {
      agent_id: "implementor-2",
      scope: "app/actions/**",
      key: "error_shape",
      value: "throw",
    });
    expect(clash.status).toBe("refused");
    expect(clash.escalation_id).toMatch(/^esc-/);
    const conv = await impl2.ok<{ conventions: { key: string; value: string; set_by: string }[] }>("check_conventions", {
      path: "app/actions/posts.ts",
    });
    expect(conv.conventions).toEqual([expect.objectContaining({ key: "error_shape", value: "return { error }", set_by: "implementor-1" })]);

    // 8. The orchestrator resolves the RED: P3's coder writes again.
    await orchestrator.ok("resolve_audit_signal", {
      signal_id: red.signal_id,
      agent_id: "orchestrator",
      resolution: "parameterised query required before merge",
    });
    const resumed = await impl2.ok<Acquired>("acquire_lock", {
      agent_id: "implementor-2",
      feature_id: "P3_posts",
      paths: ["supabase/migrations/002_posts.sql"],
      mode: "write",
    });
    expect(resumed.granted).toBe(true);

    // 9. A checkpoint: every active agent pauses at a safe point; new writes are refused until resumed.
    const cp = await orchestrator.ok<{ expected: number; missing: string[] }>("request_checkpoint", {
      agent_id: "orchestrator",
      name: "wave-2-integration",
      reason: "run combined tests before merging wave 2",
    });
    expect(cp.expected).toBe(4);
    expect(cp.missing.sort()).toEqual(["auditor-1", "implementor-1", "implementor-2", "tester-1"]);
    const held = await impl1.ok<Acquired>("acquire_lock", {
      agent_id: "implementor-1",
      feature_id: "P2_user_profile",
      paths: ["app/profile/settings.tsx"],
      mode: "write",
    });
    expect(held).toMatchObject({ granted: false, reason: "checkpoint", stop: { kind: "checkpoint", id: "wave-2-integration" } });
    const beat = await impl1.ok<{ checkpoint: { name: string; reached: boolean } | null }>("report_status", {
      agent_id: "implementor-1",
      status: "working",
    });
    expect(beat.checkpoint).toMatchObject({ name: "wave-2-integration", reached: false });
    for (const [p, id] of [
      [impl1, "implementor-1"],
      [impl2, "implementor-2"],
      [impl2, "auditor-1"],
      [impl2, "tester-1"],
    ] as const) {
      await p.ok("reach_checkpoint", { agent_id: id, name: "wave-2-integration" });
    }
    const resume = await orchestrator.ok<{ missing: string[] }>("resume_checkpoint", { agent_id: "orchestrator", name: "wave-2-integration" });
    expect(resume.missing).toEqual([]);

    // 10. Both complete; the state shows every step.
    await impl1.ok("complete_feature", { feature_id: "P2_user_profile", agent_id: "implementor-1" });
    await impl2.ok("complete_feature", {
      feature_id: "P3_posts",
      agent_id: "implementor-2",
      schema_changes: [{ table: "posts", operation: "create" }],
    });
    state = await stateOf(impl1);
    expect(state.plan.completed.sort()).toEqual(["P1_user_auth", "P2_user_profile", "P3_posts"]);
    expect(state.plan.current_wave).toBeNull();
    // P2 completed without naming its changes: the plan's declared table (profiles) is recorded for it.
    expect(state.schema_changes.map((c) => `${c.feature_id}:${c.table}`).sort()).toEqual([
      "P1_user_auth:profiles",
      "P2_user_profile:profiles",
      "P3_posts:posts",
    ]);
    const { locks: left } = await orchestrator.read<{ locks: unknown[] }>("signalbox://locks");
    expect(left).toEqual([]);
    const log = await orchestrator.read<{ decisions: { type: string }[] }>("signalbox://decisions");
    expect(log.decisions.map((d) => d.type)).toEqual(expect.arrayContaining(["dependency_violation", "convention", "conflict_resolution"]));
    const board = await orchestrator.read<{ agents: { agent_id: string; status: string }[] }>("signalbox://agents");
    const statusOf = (id: string) => board.agents.find((a) => a.agent_id === id)?.status;
    expect([statusOf("implementor-1"), statusOf("implementor-2")]).toEqual(["completed", "completed"]);
    const conventions = await orchestrator.read<{ escalations: { escalation_id: string; status: string }[] }>("signalbox://conventions");
    expect(conventions.escalations).toEqual([expect.objectContaining({ escalation_id: clash.escalation_id, status: "open" })]);
  });
});
