import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { createAuditHandoff, testPhase } from "../src/control/audit.js";
import { crossAgentHandoff } from "../src/control/handoffs.js";
import { deliver } from "../src/control/registry/inbox.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

type Message = {
  message_id: string;
  from: string;
  kind: string;
  priority: string;
  summary: string;
  body: Record<string, unknown>;
  ref: { kind: string; id: string } | null;
  acked_at: string | null;
  delayed: boolean;
};
type Inbox = { items: Message[]; next_cursor: string | null; total: number; unread: number; delayed: number };
type Handoff = {
  message_id: string;
  matched: boolean;
  delivered_to: string[];
  delivered_omitted: number;
};
type Ack = { acknowledged: string[]; already: string[]; unknown: string[]; audit_handoffs: string[] };

const ACK_LIMIT = 60_000;
let h: Harness;
let clock: ManualClock;

async function open(): Promise<void> {
  clock = manualClock();
  h = await connect({ clock, config: parseConfig({ control: { ack_limit_ms: ACK_LIMIT, page_size: 50 } }) });
}

afterEach(async () => {
  await h?.close();
});

async function dispatch(agents: { agent_id: string; role: string; domain?: string; feature_id?: string }[]): Promise<void> {
  // A batch with an orchestrator entry is dispatched by it; otherwise by the orchestrator "orchestrator".
  await h.ok("dispatch_agents", agents.some((a) => a.role === "orchestrator") ? { agents } : { by: "orchestrator", agents });
}

const inbox = (agent_id: string, extra: Record<string, unknown> = {}) => h.ok<Inbox>("get_inbox", { agent_id, ...extra });

const handoff = (agent_id: string, affects: string, extra: Record<string, unknown> = {}) =>
  h.ok<Handoff>("cross_agent_handoff", {
    agent_id,
    discovery: "profiles.email is nullable",
    affects,
    impact: "guard null emails in the profile form",
    ...extra,
  });

describe("cross_agent_handoff", () => {
  it("delivers to the named agent and the orchestrator inbox, never the sender, in the CROSS-AGENT format", async () => {
    await open();
    await dispatch([
      { agent_id: "db-1", role: "coder", domain: "database" },
      { agent_id: "fe-1", role: "coder", domain: "frontend" },
    ]);
    const r = await handoff("db-1", "fe-1", { files: ["./app/profile//form.tsx"] });
    expect(r).toMatchObject({ matched: true, delivered_omitted: 0 });
    expect(r.delivered_to.sort()).toEqual(["fe-1", "orchestrator"]);
    for (const who of ["fe-1", "orchestrator"]) {
      const box = await inbox(who);
      const m = box.items.find((x) => x.message_id === r.message_id)!;
      expect(m).toMatchObject({ kind: "handoff", from: "db-1", priority: "high", acked_at: null, delayed: false });
      expect(m.summary).toBe(
        "⚠️ CROSS-AGENT: profiles.email is nullable\nAffects: fe-1\nImpact: guard null emails in the profile form\nFiles: app/profile/form.tsx",
      );
      expect(m.body).toMatchObject({ affects: "fe-1", files: ["app/profile/form.tsx"], matched: true });
    }
    expect((await inbox("db-1")).total).toBe(0);
  });

  it("delivers to every agent of a domain except the sender, and a registered orchestrator replaces the `orchestrator` inbox", async () => {
    await open();
    await dispatch([
      { agent_id: "be-1", role: "coder", domain: "backend" },
      { agent_id: "be-2", role: "coder", domain: "backend" },
      { agent_id: "be-3", role: "auditor", domain: "backend" },
      { agent_id: "fe-1", role: "coder", domain: "frontend" },
      { agent_id: "lead", role: "orchestrator" },
    ]);
    const r = await handoff("be-1", "backend");
    expect(r.matched).toBe(true);
    expect(r.delivered_to.sort()).toEqual(["be-2", "be-3", "lead"]);
    for (const who of ["be-2", "be-3", "lead"]) expect((await inbox(who)).unread).toBe(1);
    for (const who of ["be-1", "fe-1", "orchestrator"]) expect((await inbox(who)).total).toBe(0);
  });

  it("matches an agent id and a domain of the same name at once", async () => {
    await open();
    await dispatch([
      { agent_id: "payments", role: "architect" },
      { agent_id: "pay-1", role: "coder", domain: "payments" },
    ]);
    const r = await handoff("x", "payments");
    expect(r.matched).toBe(true);
    expect(r.delivered_to.sort()).toEqual(["orchestrator", "pay-1", "payments"]);
  });

  it("still tells the orchestrator when affects matches nobody, and says matched: false", async () => {
    await open();
    await dispatch([{ agent_id: "be-1", role: "coder", domain: "backend" }]);
    const r = await h.call("cross_agent_handoff", { agent_id: "be-1", discovery: "d", affects: "mobile", impact: "i" });
    expect(r.structuredContent).toMatchObject({ matched: false, delivered_to: ["orchestrator"] });
    expect((r.content as { text: string }[])[0]!.text).toMatch(/matches no registered agent or domain/);
    expect((await inbox("orchestrator")).items[0]!.summary).toMatch(/^⚠️ CROSS-AGENT: d\nAffects: mobile/);
  });

  it("refuses bad input naming the field", async () => {
    await open();
    expect(await h.fails("cross_agent_handoff", { agent_id: "a", discovery: "", affects: "b", impact: "i" })).toMatch(/discovery/);
    expect(await h.fails("cross_agent_handoff", { agent_id: "a", discovery: "d", affects: "b", impact: "i", files: ["../x"] })).toMatch(
      /files\[0\]/,
    );
  });
});

describe("get_inbox", () => {
  it("lists algedonic first, filters unread_only and pages with a cursor", async () => {
    await open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await handoff("x", "orchestrator", { discovery: `d${i}` })).message_id);
    const alarm = h.ctx.store.env.transactionSync(() =>
      deliver(h.ctx, ["orchestrator"], { from: "sec", kind: "audit_signal", priority: "algedonic", summary: "secret in logs" }),
    );
    await h.ok("acknowledge", { agent_id: "orchestrator", message_ids: [ids[0], ids[1]] });

    const all = await inbox("orchestrator");
    expect(all.items.map((m) => m.message_id)).toEqual([alarm.message_id, ...ids]);
    expect(all).toMatchObject({ total: 6, unread: 4, next_cursor: null });

    const unread = await inbox("orchestrator", { unread_only: true });
    expect(unread.items.map((m) => m.message_id)).toEqual([alarm.message_id, ids[2], ids[3], ids[4]]);

    const seen: string[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = await inbox("orchestrator", { unread_only: true, limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.total).toBe(4);
      seen.push(...page.items.map((m) => m.message_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(unread.items.map((m) => m.message_id));
    expect(await h.fails("get_inbox", { agent_id: "orchestrator", cursor: "abc" })).toMatch(/cursor/);
  });

  it("shows a message delayed only once it is unacknowledged past ack_limit_ms", async () => {
    await open();
    const { message_id } = await handoff("x", "orchestrator");
    clock.advance(ACK_LIMIT);
    let box = await inbox("orchestrator");
    expect(box.items[0]).toMatchObject({ message_id, delayed: false });
    expect(box.delayed).toBe(0);
    clock.advance(1);
    box = await inbox("orchestrator");
    expect(box.items[0]).toMatchObject({ message_id, delayed: true });
    expect(box.delayed).toBe(1);
    await h.ok("acknowledge", { agent_id: "orchestrator", message_ids: [message_id] });
    box = await inbox("orchestrator");
    expect(box.items[0]).toMatchObject({ message_id, delayed: false });
    expect(box).toMatchObject({ delayed: 0, unread: 0 });
  });

  it("never shows delayed when messages are acknowledged within the limit", async () => {
    await open();
    const { message_id } = await handoff("x", "orchestrator");
    clock.advance(ACK_LIMIT - 1);
    await h.ok("acknowledge", { agent_id: "orchestrator", message_ids: [message_id] });
    clock.advance(ACK_LIMIT * 10);
    const box = await inbox("orchestrator");
    expect(box.items[0]!.delayed).toBe(false);
    expect(box.delayed).toBe(0);
  });
});

describe("acknowledge", () => {
  it("moves messages out of unread; a second ack is already; foreign ids are unknown", async () => {
    await open();
    await dispatch([{ agent_id: "fe-1", role: "coder", domain: "frontend" }]);
    const a = await handoff("x", "fe-1");
    const b = await handoff("x", "fe-1");
    const foreign = await handoff("x", "orchestrator");
    expect((await inbox("fe-1", { unread_only: true })).total).toBe(2);

    const first = await h.ok<Ack>("acknowledge", { agent_id: "fe-1", message_ids: [a.message_id, a.message_id] });
    expect(first).toEqual({ acknowledged: [a.message_id], already: [], unknown: [], audit_handoffs: [] });
    const unread = await inbox("fe-1", { unread_only: true });
    expect(unread.items.map((m) => m.message_id)).toEqual([b.message_id]);
    expect(unread.unread).toBe(1);

    const second = await h.ok<Ack>("acknowledge", { agent_id: "fe-1", message_ids: [a.message_id, b.message_id, foreign.message_id, "m-999"] });
    expect(second).toEqual({ acknowledged: [b.message_id], already: [a.message_id], unknown: [foreign.message_id, "m-999"], audit_handoffs: [] });
    expect((await inbox("fe-1")).unread).toBe(0);
    expect((await inbox("orchestrator")).unread).toBe(3);
    expect(await h.fails("acknowledge", { agent_id: "fe-1", message_ids: ["m-1", "nope"] })).toMatch(/message_ids\[1\]/);
  });

  it("acknowledging an audit handoff as its test engineer starts the test phase, in the same call", async () => {
    await open();
    await dispatch([
      { agent_id: "te-1", role: "test_engineer", feature_id: "F1" },
      { agent_id: "aud-1", role: "auditor", feature_id: "F1" },
    ]);
    const ah = createAuditHandoff(h.ctx, {
      agent_id: "aud-1",
      feature_id: "F1",
      concerns: [{ priority: "high", concern: "token refresh race" }],
      extra_coverage: [],
      test_strategy: [],
      focus: [],
    });
    expect(testPhase(h.ctx, "F1").status).toBe("awaiting_acknowledgement");
    const msg = (await inbox("te-1")).items.find((m) => m.ref?.kind === "audit_handoff")!;
    expect(msg.body).toMatchObject({ handoff_id: ah.handoff_id, concerns: [{ concern: "token refresh race" }] });
    const r = await h.ok<Ack>("acknowledge", { agent_id: "te-1", message_ids: [msg.message_id] });
    expect(r).toMatchObject({ acknowledged: [msg.message_id], audit_handoffs: [ah.handoff_id] });
    expect(testPhase(h.ctx, "F1")).toMatchObject({ status: "started", acknowledged_by: "te-1" });
  });

  it("an orchestrator acknowledging an audit handoff does not start the test phase", async () => {
    await open();
    await dispatch([{ agent_id: "te-1", role: "test_engineer", feature_id: "F1" }]);
    createAuditHandoff(h.ctx, { agent_id: "aud-1", feature_id: "F1", concerns: [], extra_coverage: [], test_strategy: [], focus: [] });
    const msg = (await inbox("orchestrator")).items[0]!;
    const r = await h.ok<Ack>("acknowledge", { agent_id: "orchestrator", message_ids: [msg.message_id] });
    expect(r).toMatchObject({ acknowledged: [msg.message_id], audit_handoffs: [] });
    expect(testPhase(h.ctx, "F1").status).toBe("awaiting_acknowledgement");
  });
});

describe("crossAgentHandoff core", () => {
  it("delivers nothing to the sender even when it is the only orchestrator", async () => {
    await open();
    await dispatch([{ agent_id: "lead", role: "orchestrator" }]);
    const r = crossAgentHandoff(h.ctx, { from: "lead", discovery: "d", affects: "lead", impact: "i" });
    expect(r).toMatchObject({ matched: true, delivered_to: [] });
    expect((await inbox("lead")).total).toBe(0);
  });
});
