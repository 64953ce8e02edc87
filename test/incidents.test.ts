import { afterEach, describe, expect, it } from "vitest";
import { listActivity } from "../src/log/activity.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

type Reported = { incident_id: string; escalated_to: string[]; instruction: string };
type Closed = { incident_id: string; closed_at: string; decision_seq: number; notified: string[] };
type Message = { message_id: string; kind: string; priority: string; summary: string; body: Record<string, unknown>; ref: { kind: string; id: string } | null };
type Inbox = { items: Message[]; unread: number };
type Decision = { seq: number; type: string; decided_by: string; context: string; decision: string; refs: string[] };
type Incident = {
  incident_id: string;
  type: string;
  status: string;
  reported_by: string;
  temporary_measures: string | null;
  closed_by: string | null;
  recovery: string | null;
  review: string | null;
  decision_seq: number | null;
};
type View = { open: Incident[]; open_total: number; closed: Incident[]; closed_total: number };

let h: Harness;
let clock: ManualClock;

async function open(): Promise<void> {
  clock = manualClock();
  h = await connect({ clock });
  await h.ok("dispatch_agents", {
    agents: [
      { agent_id: "boss", role: "orchestrator" },
      { agent_id: "c1", role: "coder", feature_id: "F1" },
      { agent_id: "a1", role: "auditor" },
    ],
  });
}

afterEach(async () => {
  await h?.close();
});

const report = (extra: Record<string, unknown> = {}) =>
  h.ok<Reported>("report_emergency", { agent_id: "c1", type: "resource_failure", description: "staging database unreachable", ...extra });

const close = (incident_id: string, extra: Record<string, unknown> = {}) =>
  h.ok<Closed>("close_incident", {
    agent_id: "boss",
    incident_id,
    recovery: "failed over to the replica",
    review: "no health check on the primary; add one and alert on failover",
    ...extra,
  });

async function decisions(): Promise<Decision[]> {
  return (await h.readJson<{ decisions: Decision[] }>("signalbox://decisions")).decisions;
}

describe("report_emergency", () => {
  it("escalates to the orchestrator above everything else, logs an emergency decision and the activity", async () => {
    await open();
    // Something already waits in the orchestrator's inbox: a YELLOW signal.
    await h.ok("emit_audit_signal", { agent_id: "a1", level: "YELLOW", summary: "naming drift", feature_id: "F1" });
    const r = await report({ temporary_measures: "tests run against the local database" });
    expect(r).toMatchObject({ incident_id: "inc-1", escalated_to: ["boss"] });
    expect(r.instruction).toContain("keep the temporary measures in place");

    const inbox = await h.ok<Inbox>("get_inbox", { agent_id: "boss" });
    expect(inbox.items.length).toBeGreaterThan(1);
    const top = inbox.items[0]!;
    expect(top).toMatchObject({ kind: "incident", priority: "algedonic", ref: { kind: "incident", id: "inc-1" } });
    expect(top.summary).toContain("resource_failure");
    expect(top.body).toMatchObject({ temporary_measures: "tests run against the local database", reported_by: "c1" });

    const [d] = await decisions();
    expect(d).toMatchObject({ type: "emergency", decided_by: "c1", refs: ["inc-1"] });
    expect(d!.context).toContain("staging database unreachable");

    const activity = listActivity(h.ctx, { agent_id: "c1", limit: 10 });
    expect(activity.items[0]).toMatchObject({ kind: "emergency_reported", data: expect.objectContaining({ incident_id: "inc-1" }) });
  });

  it("goes to the orchestrator inbox while no orchestrator is registered, and refuses a bad type or a blank description", async () => {
    clock = manualClock();
    h = await connect({ clock });
    const r = await h.ok<Reported>("report_emergency", { agent_id: "lone", type: "communication_breakdown", description: "no replies" });
    expect(r.escalated_to).toEqual(["orchestrator"]);
    expect(r.instruction).toContain("put temporary measures in place");
    expect(await h.fails("report_emergency", { agent_id: "lone", type: "meteor", description: "x" })).toContain("type");
    expect(await h.fails("report_emergency", { agent_id: "lone", type: "quality_crisis", description: "   " })).toContain("description:");
  });
});

describe("close_incident", () => {
  it("closes with recovery and a post-incident review in the decision log, and tells the reporter", async () => {
    await open();
    const { incident_id } = await report();
    const c = await close(incident_id);
    expect(c.incident_id).toBe(incident_id);
    expect(c.notified).toEqual(["c1"]);

    const [d] = await decisions();
    expect(d).toMatchObject({
      seq: c.decision_seq,
      type: "post_incident_review",
      decided_by: "boss",
      decision: "no health check on the primary; add one and alert on failover",
      refs: [incident_id],
    });
    expect(d!.context).toContain("recovery: failed over to the replica");

    const view = await h.readJson<View>("signalbox://incidents");
    expect(view.open).toEqual([]);
    expect(view.closed[0]).toMatchObject({ incident_id, status: "closed", closed_by: "boss", decision_seq: c.decision_seq, recovery: "failed over to the replica" });

    const inbox = await h.ok<Inbox>("get_inbox", { agent_id: "c1" });
    expect(inbox.items.find((m) => m.kind === "incident")).toMatchObject({ summary: expect.stringContaining(`${incident_id} closed by boss`) });
    expect(listActivity(h.ctx, { agent_id: "boss", limit: 1 }).items[0]).toMatchObject({ kind: "incident_closed" });
  });

  it("refuses a caller that is not a registered orchestrator, naming agent_id and the role; the orchestrator then closes it", async () => {
    await open();
    const { incident_id } = await report();
    const coder = await h.fails("close_incident", { agent_id: "c1", incident_id, recovery: "r", review: "v" });
    expect(coder).toMatch(/^agent_id: only an orchestrator may close an incident; "c1" is registered with role coder; ask an orchestrator \("boss"\)/);
    const stranger = await h.fails("close_incident", { agent_id: "ghost", incident_id, recovery: "r", review: "v" });
    expect(stranger).toContain('only an orchestrator may close an incident; "ghost" is not registered');
    const view = await h.readJson<View>("signalbox://incidents");
    expect(view.open.map((i) => i.status)).toEqual(["open"]);
    expect((await decisions()).map((d) => d.type)).toEqual(["emergency"]);
    // The correct sequence: the orchestrator closes it, with no refusal.
    const r = await h.call("close_incident", { agent_id: "boss", incident_id, recovery: "r", review: "v" });
    expect(r.isError).toBeFalsy();
  });

  it("refuses a closure without recovery or review", async () => {
    await open();
    const { incident_id } = await report();
    expect(await h.fails("close_incident", { agent_id: "boss", incident_id, recovery: "fixed" })).toContain("review");
    expect(await h.fails("close_incident", { agent_id: "boss", incident_id, recovery: "  ", review: "lessons" })).toContain("recovery:");
    expect(await h.fails("close_incident", { agent_id: "boss", incident_id, recovery: "fixed", review: "\n" })).toContain("review:");
    expect((await h.readJson<View>("signalbox://incidents")).open_total).toBe(1);
  });

  it("refuses closing a closed incident, naming who closed it and when, and an unknown incident", async () => {
    await open();
    const { incident_id } = await report();
    const c = await close(incident_id);
    const again = await h.fails("close_incident", { agent_id: "boss", incident_id, recovery: "again", review: "again" });
    expect(again).toContain(`incident_id: ${incident_id} was already closed by boss at ${c.closed_at}`);
    expect(await h.fails("close_incident", { agent_id: "boss", incident_id: "inc-99", recovery: "r", review: "v" })).toContain(
      'incident_id: no incident "inc-99"',
    );
    expect((await decisions()).filter((d) => d.type === "post_incident_review")).toHaveLength(1);
  });

  it("each incident closes once, on the correct sequence with no refusal", async () => {
    await open();
    const first = await report();
    const second = await h.ok<Reported>("report_emergency", { agent_id: "a1", type: "quality_crisis", description: "tests flaky" });
    for (const id of [first.incident_id, second.incident_id]) {
      const r = await h.call("close_incident", { agent_id: "boss", incident_id: id, recovery: "fixed", review: "learned" });
      expect(r.isError).toBeFalsy();
    }
    const view = await h.readJson<View>("signalbox://incidents");
    expect([view.open_total, view.closed_total]).toEqual([0, 2]);
  });
});

describe("signalbox://incidents", () => {
  it("lists open incidents oldest first, then closed ones newest first, with totals", async () => {
    await open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      ids.push((await report({ description: `outage ${i}` })).incident_id);
    }
    await close(ids[1]!);
    await close(ids[3]!);
    await close(ids[0]!);
    const view = await h.readJson<View>("signalbox://incidents");
    expect(view.open.map((i) => i.incident_id)).toEqual([ids[2], ids[4]]);
    expect(view.closed.map((i) => i.incident_id)).toEqual([ids[3], ids[1], ids[0]]);
    expect([view.open_total, view.closed_total]).toEqual([2, 3]);
  });

  it("caps each list at 100 and keeps the totals exact", async () => {
    await open();
    for (let i = 0; i < 105; i++) {
      await h.ok("report_emergency", { agent_id: "c1", type: "agent_failure", description: `agent ${i} down` });
    }
    const view = await h.readJson<View>("signalbox://incidents");
    expect(view.open).toHaveLength(100);
    expect(view.open[0]!.incident_id).toBe("inc-1");
    expect([view.open_total, view.closed_total]).toEqual([105, 0]);
  });
});
