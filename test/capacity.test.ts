import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { listActivity } from "../src/log/activity.js";
import { getAgent } from "../src/control/registry/agents.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

type Use = { limit: string; scope: string | null; in_use: number; max: number };
type Dispatch = { batch: number; agents: { agent_id: string }[]; capacity: Use[] };

const HEARTBEAT = 60_000;
let h: Harness;
let clock: ManualClock;

async function open(capacity: Record<string, unknown>): Promise<void> {
  clock = manualClock();
  h = await connect({ clock, config: parseConfig({ capacity, control: { heartbeat_ms: HEARTBEAT } }) });
}

afterEach(async () => {
  await h?.close();
});

const agent = (id: string, domain?: string, role = "coder") => ({ agent_id: id, role, ...(domain ? { domain } : {}) });

/** Everything a dispatch writes: the registry, the batch counter, messages and the activity log. */
function snapshot(): string {
  const { store } = h.ctx;
  return JSON.stringify({
    agents: [...store.agents.getRange({})],
    batch: store.meta.get("dispatch_batch") ?? null,
    messages: [...store.messages.getRange({})],
    activity: listActivity(h.ctx, { limit: 200 }).total,
  });
}

/** Dispatch that must be refused: returns the error, after checking that nothing was written. */
async function refused(args: Record<string, unknown>): Promise<string> {
  const before = snapshot();
  const err = await h.fails("dispatch_agents", args);
  expect(snapshot()).toBe(before);
  return err;
}

describe("capacity limits on dispatch_agents", () => {
  it("refuses a batch past capacity.per_domain, naming the limit, the running agents and the batch; nothing is written", async () => {
    await open({ per_domain: 2 });
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("a", "backend"), agent("b", "backend"), agent("f1", "frontend")] });
    const err = await refused({ by: "orchestrator", agents: [agent("c", "backend")] });
    expect(err).toContain('capacity.per_domain: domain "backend" allows 2 agents in parallel; 2 running (a, b) and this batch adds 1 (c)');
    expect(getAgent(h.ctx, "c")).toBeUndefined();
    // The other domain still has room.
    const ok = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", agents: [agent("f2", "frontend")] });
    expect(ok.capacity).toEqual([{ limit: "capacity.per_domain", scope: "frontend", in_use: 2, max: 2 }]);
  });

  it("capacity.domains overrides per_domain for the domains it names, and is named in the refusal", async () => {
    await open({ per_domain: 3, domains: { db: 1 } });
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("m1", "db")] });
    const err = await refused({ by: "orchestrator", agents: [agent("m2", "db"), agent("x", "api")] });
    expect(err).toMatch(/^capacity\.domains\.db: domain "db" allows 1 agent in parallel; 1 running \(m1\) and this batch adds 1 \(m2\)/);
    const ok = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", agents: [agent("x", "api"), agent("y", "api"), agent("z", "api")] });
    expect(ok.capacity).toEqual([{ limit: "capacity.per_domain", scope: "api", in_use: 3, max: 3 }]);
  });

  it("refuses a batch past capacity.max_agents, and a single batch larger than the limit", async () => {
    await open({ max_agents: 3 });
    const err = await refused({ by: "orchestrator", agents: [agent("a"), agent("b"), agent("c"), agent("d")] });
    expect(err).toContain("capacity.max_agents: allows 3 agents in parallel; none running and this batch adds 4 (a, b, c, d)");
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("a"), agent("b")] });
    const again = await refused({ by: "orchestrator", agents: [agent("c"), agent("d")] });
    expect(again).toContain("capacity.max_agents: allows 3 agents in parallel; 2 running (a, b) and this batch adds 2 (c, d)");
    expect(again).toContain("Nothing was dispatched");
  });

  it("refuses past capacity.per_orchestrator per dispatcher (`by`), while another orchestrator still dispatches", async () => {
    await open({ per_orchestrator: 2 });
    await h.ok("dispatch_agents", { by: "o1", agents: [agent("a"), agent("b")] });
    expect(getAgent(h.ctx, "a")?.dispatched_by).toBe("o1");
    const err = await refused({ by: "o1", agents: [agent("c")] });
    expect(err).toContain('capacity.per_orchestrator: orchestrator "o1" allows 2 agents in parallel; 2 running (a, b) and this batch adds 1 (c)');
    // o1 hands the role to a second orchestrator, which has its own allowance.
    await h.ok("dispatch_agents", { by: "o1", agents: [{ agent_id: "o2", role: "orchestrator" }] });
    const other = await h.ok<Dispatch>("dispatch_agents", { by: "o2", agents: [agent("c"), agent("d")] });
    expect(other.capacity).toEqual([{ limit: "capacity.per_orchestrator", scope: "o2", in_use: 2, max: 2 }]);
    // Without `by`, one agent registers itself: it counts toward no orchestrator.
    await h.ok("dispatch_agents", { agents: [agent("e")] });
    expect(getAgent(h.ctx, "e")?.dispatched_by).toBeNull();
  });

  it("names every limit a batch would pass", async () => {
    await open({ max_agents: 1, per_domain: 1 });
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("a", "web")] });
    const err = await refused({ by: "orchestrator", agents: [agent("b", "web")] });
    expect(err).toMatch(/^capacity\.max_agents: .*; capacity\.per_domain: domain "web" /);
  });

  it("refuses a bad capacity config naming the field", () => {
    expect(() => parseConfig({ capacity: { max_agents: 0 } })).toThrow(/capacity\.max_agents/);
    expect(() => parseConfig({ capacity: { per_domain: 1.5 } })).toThrow(/capacity\.per_domain/);
    expect(() => parseConfig({ capacity: { domains: { db: -1 } } })).toThrow(/capacity\.domains\.db/);
    expect(() => parseConfig({ capacity: { per_team: 2 } })).toThrow(/capacity/);
  });
});

describe("capacity stays silent on the correct sequence", () => {
  it("accepts a batch exactly at every limit", async () => {
    await open({ max_agents: 4, per_orchestrator: 4, per_domain: 2 });
    const r = await h.ok<Dispatch>("dispatch_agents", {
      by: "o1",
      agents: [agent("a", "web"), agent("b", "web"), agent("c", "api"), agent("d", "api")],
    });
    expect(r.capacity).toEqual([
      { limit: "capacity.max_agents", scope: null, in_use: 4, max: 4 },
      { limit: "capacity.per_orchestrator", scope: "o1", in_use: 4, max: 4 },
      { limit: "capacity.per_domain", scope: "api", in_use: 2, max: 2 },
      { limit: "capacity.per_domain", scope: "web", in_use: 2, max: 2 },
    ]);
  });

  it("frees the slot of an agent that completed, reported error or went silent", async () => {
    await open({ max_agents: 2 });
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("a"), agent("b")] });
    await h.ok("report_status", { agent_id: "a", status: "completed" });
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("c")] });
    await h.ok("report_status", { agent_id: "b", status: "error" });
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [agent("d")] });
    // c and d hold both slots; once both go silent past the heartbeat, two new agents fit.
    clock.advance(HEARTBEAT + 1);
    const r = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", agents: [agent("e"), agent("f")] });
    expect(r.capacity).toEqual([{ limit: "capacity.max_agents", scope: null, in_use: 2, max: 2 }]);
  });

  it("counts an agent re-dispatched in the batch once, and orchestrator-role agents not at all", async () => {
    await open({ max_agents: 2, per_domain: 1 });
    await h.ok("dispatch_agents", { agents: [agent("boss", undefined, "orchestrator"), agent("a", "web"), agent("b", "api")] });
    // a and b again (b moving to web is refused: web holds a), plus another orchestrator.
    const r = await h.ok<Dispatch>("dispatch_agents", {
      by: "boss",
      phase: "TEST",
      agents: [agent("a", "web"), agent("b"), agent("boss2", "web", "orchestrator")],
    });
    expect(r.capacity).toContainEqual({ limit: "capacity.max_agents", scope: null, in_use: 2, max: 2 });
    expect(r.capacity).toContainEqual({ limit: "capacity.per_domain", scope: "web", in_use: 1, max: 1 });
    expect(r.capacity).toContainEqual({ limit: "capacity.per_domain", scope: "api", in_use: 1, max: 1 });
    expect(await refused({ by: "boss", agents: [agent("b", "web")] })).toContain('capacity.per_domain: domain "web" allows 1 agent in parallel; 1 running (a)');
  });

  it("reports no capacity and refuses nothing when no limit is set", async () => {
    await open({});
    const many = Array.from({ length: 30 }, (_, i) => agent(`c${i}`, "web"));
    const r = await h.ok<Dispatch>("dispatch_agents", { by: "orchestrator", agents: many });
    expect(r.agents).toHaveLength(30);
    expect(r.capacity).toEqual([]);
  });
});

describe("dispatch and reassignment in the activity log", () => {
  it("writes one agent_dispatched entry per agent and a feature_reassigned entry, in the same transaction", async () => {
    await open({});
    await h.ok("dispatch_agents", { by: "o1", agents: [{ agent_id: "c1", role: "coder", domain: "web", feature_id: "F1" }, agent("c2")] });
    const c1 = listActivity(h.ctx, { agent_id: "c1", limit: 10 });
    expect(c1.items).toEqual([
      expect.objectContaining({ kind: "agent_dispatched", agent_id: "c1", feature_id: "F1", data: expect.objectContaining({ by: "o1", role: "coder", domain: "web" }) }),
    ]);
    await h.ok("reassign_feature", { feature_id: "F1", from_agent: "c1", to_agent: "c2", by: "o1" });
    const f1 = listActivity(h.ctx, { feature_id: "F1", limit: 10 });
    expect(f1.items.map((e) => [e.kind, e.agent_id])).toEqual([
      ["feature_reassigned", "o1"],
      ["agent_dispatched", "c1"],
    ]);
    expect(f1.items[0]?.data).toMatchObject({ from_agent: "c1", to_agent: "c2" });
  });
});
