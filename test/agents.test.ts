import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

type Coverage = {
  phase: string;
  status: string;
  coders_without_auditor: string[];
  warning: string | null;
  decides_at: string | null;
};
type Dispatch = { batch: number; phase: string; agents: { agent_id: string; role: string }[]; audit_coverage: Coverage };
type Board = {
  agents: { agent_id: string; available: boolean; status: string; feature_id: string | null }[];
  unavailable: string[];
  audit_coverage: Coverage[];
  ready_for_reallocation: { feature_id: string; agent_id: string }[];
};
type Inbox = { items: { kind: string; summary: string }[]; unread: number };

const GRACE = 30_000;
let h: Harness;
let clock: ManualClock;

async function open(grace = GRACE, heartbeat = 60_000): Promise<void> {
  clock = manualClock();
  h = await connect({ clock, config: parseConfig({ control: { audit_grace_ms: grace, heartbeat_ms: heartbeat } }) });
}

afterEach(async () => {
  await h?.close();
});

const coder = (id: string, feature?: string) => ({ agent_id: id, role: "coder", ...(feature ? { feature_id: feature } : {}) });
const auditor = (id: string) => ({ agent_id: id, role: "auditor" });

/** Every place the coverage warning could surface for a phase, after the grace window has passed. */
async function warningsAfterGrace(phase: string): Promise<string[]> {
  clock.advance(GRACE + 1);
  const seen: string[] = [];
  await h.ok("report_status", { agent_id: "someone", status: "working" });
  const board = await h.readJson<Board>("signalbox://agents");
  for (const c of board.audit_coverage) if (c.phase === phase && c.warning) seen.push(`board: ${c.warning}`);
  const inbox = await h.ok<Inbox>("get_inbox", { agent_id: "orchestrator" });
  for (const m of inbox.items) if (m.kind === "coverage") seen.push(`inbox: ${m.summary}`);
  return seen;
}

describe("dispatch_agents audit coverage (auditor-reminder race)", () => {
  it("stays silent when a coder and an auditor are dispatched in one batch, in either order", async () => {
    await open();
    for (const [phase, batch] of [
      ["CODE", [coder("c1"), auditor("a1")]],
      ["CODE-2", [auditor("a2"), coder("c2")]],
    ] as const) {
      const r = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", phase, agents: batch });
      expect(r.audit_coverage.status).toBe("covered");
      expect(r.audit_coverage.warning).toBeNull();
      expect(await warningsAfterGrace(phase)).toEqual([]);
    }
  });

  it("stays silent when coder and auditor come in two calls of one phase, in either order", async () => {
    await open();
    const first = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", phase: "P1", agents: [coder("c1")] });
    expect(first.audit_coverage.status).toBe("pending");
    expect(first.audit_coverage.warning).toBeNull();
    expect(first.audit_coverage.decides_at).not.toBeNull();
    clock.advance(5_000);
    const second = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", phase: "P1", agents: [auditor("a1")] });
    expect(second.audit_coverage.status).toBe("covered");
    expect(await warningsAfterGrace("P1")).toEqual([]);

    const a = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", phase: "P2", agents: [auditor("a2")] });
    expect(a.audit_coverage.status).toBe("no_coders");
    const c = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", phase: "P2", agents: [coder("c2")] });
    expect(c.audit_coverage.status).toBe("covered");
    expect(await warningsAfterGrace("P2")).toEqual([]);
  });

  it("warns for a phase with coders and no auditor, once the grace window passes, and tells the orchestrator once", async () => {
    await open();
    const r = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", phase: "CODE", agents: [coder("c1"), coder("c2")] });
    expect(r.audit_coverage.status).toBe("pending");
    const seen = await warningsAfterGrace("CODE");
    expect(seen.filter((s) => s.startsWith("board:"))).toHaveLength(1);
    expect(seen.filter((s) => s.startsWith("inbox:"))).toHaveLength(1);
    expect(seen[0]).toContain("c1, c2");
    // A later heartbeat does not repeat the inbox message.
    await h.ok("report_status", { agent_id: "c1", status: "working" });
    const inbox = await h.ok<Inbox>("get_inbox", { agent_id: "orchestrator" });
    expect(inbox.items.filter((m) => m.kind === "coverage")).toHaveLength(1);
    // A later dispatch in the phase reports the uncovered coders.
    const more = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", phase: "CODE", agents: [coder("c3")] });
    expect(more.audit_coverage.status).toBe("uncovered");
    expect(more.audit_coverage.coders_without_auditor.sort()).toEqual(["c1", "c2", "c3"]);
  });

  it("warns at once with a zero grace window, and an auditor dispatched in an earlier phase does not cover a later one", async () => {
    await open(0);
    await h.ok("dispatch_agents", { by: "orchestrator", phase: "CODE", agents: [coder("c1"), auditor("a1")] });
    const r = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", phase: "CODE-2", agents: [coder("c2")] });
    expect(r.audit_coverage.status).toBe("uncovered");
    expect(r.audit_coverage.coders_without_auditor).toEqual(["c2"]);
  });

  it("refuses a batch naming one agent twice, naming the field", async () => {
    await open();
    const err = await h.fails("dispatch_agents", { by: "orchestrator", agents: [coder("c1"), coder("c1")] });
    expect(err).toContain("agents[1].agent_id");
    const bad = await h.fails("dispatch_agents", { by: "orchestrator", agents: [{ agent_id: "x", role: "wizard" }] });
    expect(bad).toContain("role");
  });
});

describe("report_status, availability and reallocation", () => {
  it("is the heartbeat: silent agents become unavailable and their feature ready for reallocation", async () => {
    await open(GRACE, 60_000);
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [coder("c1", "F1"), coder("c2", "F2"), auditor("a1")] });
    const r = await h.ok<{ paused: boolean; unread: number; checkpoint: unknown; instruction: string }>("report_status", {
      agent_id: "c1",
      status: "working",
      current_task: "profile form",
      progress_percentage: 40,
      outputs_ready: ["components/ProfileForm.tsx"],
    });
    expect(r).toMatchObject({ paused: false, unread: 0, checkpoint: null, instruction: "continue" });
    clock.advance(45_000);
    await h.ok("report_status", { agent_id: "c2", status: "working" });
    clock.advance(30_000); // c1 silent 75 s, c2 30 s
    const board = await h.readJson<Board>("signalbox://agents");
    const byId = Object.fromEntries(board.agents.map((a) => [a.agent_id, a]));
    expect(byId.c1!.available).toBe(false);
    expect(byId.c2!.available).toBe(true);
    expect(board.unavailable.sort()).toEqual(["a1", "c1", "orchestrator"]);
    expect(board.ready_for_reallocation).toEqual([expect.objectContaining({ feature_id: "F1", agent_id: "c1" })]);

    await h.ok("dispatch_agents", { by: "orchestrator", agents: [coder("c3")] });
    const moved = await h.ok<{ decision_seq: number; from_available: boolean }>("reassign_feature", {
      feature_id: "F1",
      from_agent: "c1",
      to_agent: "c3",
      by: "orchestrator",
    });
    expect(moved.from_available).toBe(false);
    const log = await h.readJson<{ decisions: { seq: number; type: string; decision: string }[] }>("signalbox://decisions");
    expect(log.decisions[0]).toMatchObject({ seq: moved.decision_seq, type: "reallocation", decision: "reassign F1 from c1 to c3" });
    const after = await h.readJson<Board>("signalbox://agents");
    expect(after.ready_for_reallocation).toEqual([]);
    expect(after.agents.find((a) => a.agent_id === "c3")!.feature_id).toBe("F1");
    const inbox = await h.ok<Inbox>("get_inbox", { agent_id: "c3" });
    expect(inbox.items.map((m) => m.kind)).toEqual(["reassignment"]);
  });

  it("refuses a reassignment from an agent that does not hold the feature, or to an unknown agent", async () => {
    await open();
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [coder("c1", "F1"), coder("c2")] });
    expect(await h.fails("reassign_feature", { feature_id: "F1", from_agent: "c2", to_agent: "c1", by: "orchestrator" })).toContain(
      "from_agent: feature F1 is not c2's",
    );
    expect(await h.fails("reassign_feature", { feature_id: "F1", from_agent: "c1", to_agent: "ghost", by: "orchestrator" })).toContain(
      'to_agent: "ghost" is not registered',
    );
  });

  it("registers an unknown agent on its first report and validates fields by name", async () => {
    await open();
    await h.ok("report_status", { agent_id: "loner", status: "blocked", blocking_issues: ["waiting for schema"] });
    const board = await h.readJson<Board>("signalbox://agents");
    expect(board.agents).toEqual([expect.objectContaining({ agent_id: "loner", status: "blocked" })]);
    expect(await h.fails("report_status", { agent_id: "loner", status: "working", progress_percentage: 140 })).toContain(
      "progress_percentage",
    );
    expect(await h.fails("report_status", { agent_id: "loner", status: "working", estimated_completion: "soon" })).toContain(
      "estimated_completion",
    );
  });
});
