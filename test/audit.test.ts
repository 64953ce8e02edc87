import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deliverPendingHandoffs, markHandoffAcknowledged, testPhase } from "../src/control/audit.js";
import { acknowledgeMessages, listInbox } from "../src/control/registry/inbox.js";
import { getSignal } from "../src/control/signals.js";
import { manualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

type Emit = { signal_id: string; level: string; status: string; paused: string[]; notified: string[] };
type Status = { paused: boolean; paused_by: { signal_id: string }[]; instruction: string };
type Lock = { granted: boolean; reason: string | null; stop: { kind: string; id: string } | null };
type Resolve = { resumed: string[]; still_paused: string[] };
type Handoff = { handoff_id: string; delivered_to: string[]; test_phase: string };
type SignalV = { signal_id: string; level: string; algedonic: boolean; status: string };
type View = {
  open: SignalV[];
  open_omitted: number;
  recent: SignalV[];
  signals_total: number;
  handoffs: { handoff_id: string; feature_id: string; test_phase: string; acknowledged_by: string | null; priorities: Record<string, number> }[];
  handoffs_total: number;
  counts: Record<string, number>;
};

let h: Harness;
beforeEach(async () => {
  h = await connect({ clock: manualClock() });
});
afterEach(async () => {
  await h.close();
});

const agent = (agent_id: string, role: string, feature_id?: string) => ({ agent_id, role, ...(feature_id ? { feature_id } : {}) });
const status = (id: string) => h.ok<Status>("report_status", { agent_id: id, status: "working" });
const lock = (id: string, path: string, mode: "read" | "write", feature_id: string) =>
  h.ok<Lock>("acquire_lock", { agent_id: id, paths: [path], mode, feature_id });
const inbox = (id: string) => listInbox(h.ctx, id).items;

/** Acknowledge `agentId`'s audit handoff messages as the `acknowledge` tool does: one transaction, markHandoffAcknowledged per message. */
function acknowledgeHandoffs(agentId: string, handoffId?: string): boolean[] {
  const ids = inbox(agentId)
    .filter((m) => m.ref?.kind === "audit_handoff" && (handoffId === undefined || m.ref.id === handoffId))
    .map((m) => m.message_id);
  return h.ctx.store.env.transactionSync(() =>
    acknowledgeMessages(h.ctx, agentId, ids).acknowledged.map((m) => markHandoffAcknowledged(h.ctx, m)),
  );
}

async function dispatchTeam(): Promise<void> {
  await h.ok("dispatch_agents", {
    agents: [agent("C1", "coder", "F"), agent("A1", "auditor", "F"), agent("C2", "coder", "G"), agent("O1", "orchestrator")],
  });
}

describe("RED signal: pause and resume (S3* RED Signal Response Flow)", () => {
  it("pauses the feature's coders until resolved; reads and other features go on", async () => {
    await dispatchTeam();
    expect((await lock("C1", "src/before.ts", "write", "F")).granted).toBe(true);

    const red = await h.ok<Emit>("emit_audit_signal", {
      agent_id: "A1",
      level: "RED",
      summary: "token check bypassed",
      observation: "verify() returns early",
      concern: "unauthenticated writes",
      recommendation: "stop and fix verify()",
      feature_id: "F",
      files: ["./src//auth.ts"],
    });
    expect(red).toMatchObject({ level: "RED", status: "open", paused: ["C1"] });
    expect(red.notified).toEqual(expect.arrayContaining(["C1", "O1"]));
    expect(red.notified).not.toContain("C2");
    expect(getSignal(h.ctx, red.signal_id)?.files).toEqual(["src/auth.ts"]);
    const r = await h.call("emit_audit_signal", { agent_id: "A1", level: "GREEN", summary: "fine", feature_id: "F" });
    expect((r.content[0] as { text: string }).text).toMatch(/^🟢 AUDIT: fine/);

    const st = await status("C1");
    expect(st.paused).toBe(true);
    expect(st.paused_by.map((p) => p.signal_id)).toEqual([red.signal_id]);
    expect(st.instruction).toContain(red.signal_id);

    const refused = await lock("C1", "src/auth.ts", "write", "F");
    expect(refused).toMatchObject({ granted: false, reason: "paused", stop: { kind: "audit_signal", id: red.signal_id } });
    expect((await lock("C1", "src/auth.ts", "read", "F")).granted).toBe(true);
    expect((await lock("C2", "src/other.ts", "write", "G")).granted).toBe(true);
    expect((await status("C2")).paused).toBe(false);
    expect((await status("A1")).paused).toBe(false);

    // the paused coder does not lift its own pause
    const self = await h.fails("resolve_audit_signal", { signal_id: red.signal_id, agent_id: "C1", resolution: "fixed it" });
    expect(self).toContain("agent_id");

    const done = await h.ok<Resolve>("resolve_audit_signal", { signal_id: red.signal_id, agent_id: "A1", resolution: "verify() fixed" });
    expect(done).toMatchObject({ resumed: ["C1"], still_paused: [], omitted: 0 });
    expect(getSignal(h.ctx, red.signal_id)).toMatchObject({ status: "resolved", resolved_by: "A1", resolution: "verify() fixed" });
    expect((await lock("C1", "src/after.ts", "write", "F")).granted).toBe(true);
  });

  it("after resolution the coder writes again and its inbox shows pause then resume", async () => {
    await dispatchTeam();
    const red = await h.ok<Emit>("emit_audit_signal", { agent_id: "A1", level: "RED", summary: "race in save()", feature_id: "F" });
    expect((await lock("C1", "src/a.ts", "write", "F")).reason).toBe("paused");
    await h.ok("resolve_audit_signal", { signal_id: red.signal_id, agent_id: "O1", resolution: "sequenced" });
    expect((await lock("C1", "src/a.ts", "write", "F")).granted).toBe(true);
    const st = await status("C1");
    expect(st.paused).toBe(false);
    expect(st.paused_by).toEqual([]);
    const kinds = inbox("C1").filter((m) => m.ref?.id === red.signal_id).map((m) => m.kind);
    expect(kinds).toEqual(["pause", "resume"]);

    const again = await h.fails("resolve_audit_signal", { signal_id: red.signal_id, agent_id: "O1", resolution: "x" });
    expect(again).toContain("signal_id");
    expect(again).toContain("resolved by O1");

    const view = await h.readJson<View>("signalbox://audit");
    expect(view.open).toEqual([]);
    expect(view.recent[0]).toMatchObject({ signal_id: red.signal_id, status: "resolved" });
    expect(view.counts).toMatchObject({ RED: 1, GREEN: 0, YELLOW: 0, open: 0, algedonic: 0 });
  });

  it("reports agents another open signal still pauses", async () => {
    await dispatchTeam();
    const one = await h.ok<Emit>("emit_audit_signal", { agent_id: "A1", level: "RED", summary: "one", feature_id: "F" });
    await h.ok<Emit>("emit_audit_signal", { agent_id: "A1", level: "RED", summary: "two", feature_id: "F" });
    const r = await h.ok<Resolve>("resolve_audit_signal", { signal_id: one.signal_id, agent_id: "A1", resolution: "ok" });
    expect(r).toMatchObject({ resumed: [], still_paused: ["C1"] });
    expect((await lock("C1", "src/a.ts", "write", "F")).reason).toBe("paused");
  });
});

describe("GREEN and YELLOW", () => {
  it("do not pause anyone; YELLOW is noted to the orchestrator and the feature, GREEN only recorded", async () => {
    await dispatchTeam();
    const green = await h.ok<Emit>("emit_audit_signal", { agent_id: "A1", level: "GREEN", summary: "testable", feature_id: "F" });
    expect(green).toMatchObject({ status: "noted", paused: [], notified: [] });
    const yellow = await h.ok<Emit>("emit_audit_signal", {
      agent_id: "A1",
      level: "YELLOW",
      summary: "hard to mock clock",
      feature_id: "F",
    });
    expect(yellow).toMatchObject({ status: "noted", paused: [] });
    expect([...yellow.notified].sort()).toEqual(["C1", "O1"]);
    expect((await status("C1")).paused).toBe(false);
    expect((await lock("C1", "src/a.ts", "write", "F")).granted).toBe(true);
    expect(inbox("C1").map((m) => m.kind)).toEqual(["audit_signal"]);
    const notOpen = await h.fails("resolve_audit_signal", { signal_id: yellow.signal_id, agent_id: "O1", resolution: "x" });
    expect(notOpen).toContain("noted");
    const view = await h.readJson<View>("signalbox://audit");
    expect(view.counts).toMatchObject({ GREEN: 1, YELLOW: 1, RED: 0, open: 0 });
    expect(view.signals_total).toBe(2);
  });
});

describe("algedonic signals (S5 bypass)", () => {
  it("reach the orchestrator above every other message, pause, and only an orchestrator resolves them", async () => {
    await dispatchTeam();
    await h.ok("emit_audit_signal", { agent_id: "A1", level: "YELLOW", summary: "naming drift", feature_id: "F" });
    const red = await h.ok<Emit>("emit_audit_signal", { agent_id: "A1", level: "RED", summary: "broken migration", feature_id: "G" });
    const alg = await h.ok<Emit>("emit_audit_signal", {
      agent_id: "A1",
      level: "RED",
      summary: "PII logged in plain text",
      feature_id: "F",
      algedonic: true,
    });
    expect(alg).toMatchObject({ status: "open", paused: ["C1"] });
    expect(getSignal(h.ctx, alg.signal_id)?.algedonic).toBe(true);
    const first = inbox("O1")[0];
    expect(first).toMatchObject({ priority: "algedonic", ref: { kind: "audit_signal", id: alg.signal_id } });
    expect(inbox("O1")).toHaveLength(3);

    const view = await h.readJson<View>("signalbox://audit");
    expect(view.open.map((s) => s.signal_id)).toEqual([alg.signal_id, red.signal_id]);
    expect(view.counts).toMatchObject({ algedonic: 1, open: 2, RED: 2, YELLOW: 1 });

    const byAuditor = await h.fails("resolve_audit_signal", { signal_id: alg.signal_id, agent_id: "A1", resolution: "masked" });
    expect(byAuditor).toContain("agent_id");
    expect(byAuditor).toContain("orchestrator");
    expect((await lock("C1", "src/a.ts", "write", "F")).stop?.id).toBe(alg.signal_id);
    await h.ok("resolve_audit_signal", { signal_id: alg.signal_id, agent_id: "O1", resolution: "logs scrubbed, masking added" });
    expect((await lock("C1", "src/a.ts", "write", "F")).granted).toBe(true);
  });
});

describe("bad input names the field", () => {
  it("refuses bad levels, RED without a feature, GREEN algedonic, keys outside the root and unknown ids", async () => {
    await dispatchTeam();
    expect(await h.fails("emit_audit_signal", { agent_id: "A1", level: "ORANGE", summary: "x" })).toContain("level");
    expect(await h.fails("emit_audit_signal", { agent_id: "A1", level: "RED", summary: "x" })).toContain("feature_id");
    expect(await h.fails("emit_audit_signal", { agent_id: "A1", level: "GREEN", summary: "x", algedonic: true })).toContain(
      "algedonic",
    );
    expect(
      await h.fails("emit_audit_signal", { agent_id: "A1", level: "YELLOW", summary: "x", files: ["ok.ts", "../outside.ts"] }),
    ).toContain("files[1]");
    expect(await h.fails("emit_audit_signal", { agent_id: "A1", level: "YELLOW", summary: "" })).toContain("summary");
    expect(await h.fails("resolve_audit_signal", { signal_id: "sig-99", agent_id: "O1", resolution: "x" })).toContain("signal_id");
    expect(await h.fails("resolve_audit_signal", { signal_id: "sig-1", agent_id: "O1", resolution: "" })).toContain("resolution");
    const bad = await h.fails("audit_handoff", {
      agent_id: "A1",
      feature_id: "F",
      concerns: [{ priority: "URGENT", concern: "x" }],
      extra_coverage: [],
      test_strategy: [],
      focus: [],
    });
    expect(bad).toContain("priority");
    expect(await h.fails("audit_handoff", { agent_id: "A1", feature_id: "F", concerns: [], extra_coverage: [], test_strategy: [] })).toContain(
      "focus",
    );
    // nothing was stored by the refused calls
    expect((await h.readJson<View>("signalbox://audit")).signals_total).toBe(0);
  });
});

const HANDOFF = {
  agent_id: "A1",
  concerns: [
    { priority: "CRITICAL", concern: "session fixation", location: "src/auth.ts:login" },
    { priority: "MEDIUM", concern: "no retry on timeout" },
  ],
  extra_coverage: [{ area: "token refresh", reason: "race with logout" }],
  test_strategy: ["property tests on the session state machine"],
  focus: ["login after logout in another tab"],
};

describe("audit handoff to TEST (S3* Audit Handoff Format)", () => {
  it("waits for a test engineer's acknowledgement; the orchestrator's does not start it", async () => {
    await h.ok("dispatch_agents", {
      agents: [agent("C1", "coder", "F"), agent("A1", "auditor", "F"), agent("T1", "test_engineer", "F"), agent("T2", "test_engineer", "G"), agent("O1", "orchestrator")],
    });
    expect(testPhase(h.ctx, "F").status).toBe("no_handoff");
    const r = await h.ok<Handoff>("audit_handoff", { ...HANDOFF, feature_id: "F" });
    expect(r).toMatchObject({ handoff_id: "ah-1", test_phase: "awaiting_acknowledgement" });
    expect([...r.delivered_to].sort()).toEqual(["O1", "T1"]);
    expect(inbox("T2")).toEqual([]);
    const msg = inbox("T1")[0];
    expect(msg).toMatchObject({ kind: "audit_handoff", ref: { kind: "audit_handoff", id: "ah-1" } });
    expect(msg?.body).toMatchObject({ feature_id: "F", focus: HANDOFF.focus });
    const text = ((await h.call("audit_handoff", { ...HANDOFF, feature_id: "Z" })).content[0] as { text: string }).text;
    expect(text).toContain("## Audit Handoff: Z");
    expect(text).toContain("1. **[CRITICAL]** session fixation - src/auth.ts:login");

    expect(acknowledgeHandoffs("O1")).toEqual([false, false]);
    expect(testPhase(h.ctx, "F")).toMatchObject({ status: "awaiting_acknowledgement", acknowledged_by: null });

    expect(acknowledgeHandoffs("T1", "ah-1")).toEqual([true]);
    expect(testPhase(h.ctx, "Z").status).toBe("awaiting_acknowledgement");
    expect(testPhase(h.ctx, "F")).toEqual({ status: "started", handoff_id: "ah-1", acknowledged_by: "T1", unacknowledged: 0 });

    const view = await h.readJson<View>("signalbox://audit");
    expect(view.handoffs_total).toBe(2);
    expect(view.handoffs.map((x) => [x.handoff_id, x.test_phase])).toEqual([
      ["ah-2", "awaiting_acknowledgement"],
      ["ah-1", "started"],
    ]);
    expect(view.handoffs[1]).toMatchObject({ acknowledged_by: "T1", priorities: { CRITICAL: 1, MEDIUM: 1 } });
  });

  it("without a test engineer on the feature goes to every test engineer; a later one gets pending handoffs once", async () => {
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("A1", "auditor", "F"), agent("T2", "test_engineer", "G")] });
    const r = await h.ok<Handoff>("audit_handoff", { ...HANDOFF, feature_id: "F" });
    expect([...r.delivered_to].sort()).toEqual(["T2", "orchestrator"]);

    // dispatch_agents hands the pending handoff to the test engineer arriving on F (deliverPendingHandoffs).
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("T3", "test_engineer", "F"), agent("C1", "coder", "F")] });
    const delivered = h.ctx.store.env.transactionSync(() => ({
      again: deliverPendingHandoffs(h.ctx, "T3", "F"),
      coder: deliverPendingHandoffs(h.ctx, "C1", "F"),
    }));
    expect(delivered).toEqual({ again: [], coder: [] });
    expect(inbox("T3").map((m) => m.ref?.id)).toEqual(["ah-1"]);
    expect(inbox("C1")).toEqual([]);

    expect(acknowledgeHandoffs("T3")).toEqual([true]);
    expect(testPhase(h.ctx, "F")).toMatchObject({ status: "started", acknowledged_by: "T3" });
    // a later acknowledgement by another test engineer changes nothing, and nothing is pending any more
    expect(acknowledgeHandoffs("T2")).toEqual([false]);
    expect(testPhase(h.ctx, "F").acknowledged_by).toBe("T3");
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("T4", "test_engineer", "F")] });
    expect(h.ctx.store.env.transactionSync(() => deliverPendingHandoffs(h.ctx, "T4", "F"))).toEqual([]);
  });
});
