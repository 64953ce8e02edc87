/**
 * `signalbox://activity`: the live activity log of every
 * coordination event, newest first, filterable by agent, feature and time
 * through a resource template, paginated; entries commit with their event
 * (from any process) or not at all.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { parseConfig } from "../src/runtime/config.js";
import { crossAgentHandoff } from "../src/control/handoffs.js";
import { requestCheckpoint } from "../src/control/checkpoints.js";
import { createSignal } from "../src/control/signals.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";
import type { ActivityRecord } from "../src/control/registry/records.js";
import { ServerProcess } from "./helpers/process.js";
import { until } from "./helpers/wait.js";

type Entry = ActivityRecord;
type Body = {
  items: Entry[];
  next_cursor: string | null;
  next_uri: string | null;
  total: number | null;
  filter: { agent_id: string | null; feature_id: string | null; since: string | null; until: string | null; cursor: string | null; limit: number };
};
type Lock = { granted: boolean; reason: string | null; locks: { lock_id: string; fencing_token: number }[] };

const URI = "signalbox://activity";
let h: Harness | undefined;
let other: ServerProcess | undefined;
let clock: ManualClock;

afterEach(async () => {
  await other?.client.close();
  other = undefined;
  await h?.close();
  h = undefined;
});

/** A harness on a manual clock (times in entries are the clock's wall time). */
async function open(pageSize = 50): Promise<Harness> {
  clock = manualClock();
  h = await connect({ clock, config: parseConfig({ control: { page_size: pageSize } }) });
  return h;
}

const read = (uri: string = URI) => h!.readJson<Body>(uri);
const kinds = (b: Body) => b.items.map((e) => e.kind);
/** The kinds this module's events log; other modules (features, agents, gates) log their own, left out of exact comparisons. */
const COORDINATION_KINDS = new Set([
  "lock_granted",
  "lock_refused",
  "lock_broken",
  "signal_emitted",
  "signal_resolved",
  "audit_handoff",
  "audit_handoff_acknowledged",
  "handoff_sent",
  "handoff_acknowledged",
  "checkpoint_requested",
  "checkpoint_reached",
  "checkpoint_resumed",
  "convention_set",
  "convention_clash_escalated",
]);
/** `b`'s entries of {@link COORDINATION_KINDS}, newest first. */
const coordination = (b: Body) => b.items.filter((e) => COORDINATION_KINDS.has(e.kind));
const lock = (agent_id: string, path: string, feature_id?: string, mode: "read" | "write" = "write") =>
  h!.ok<Lock>("acquire_lock", { agent_id, paths: [path], mode, wait_ms: 0, ...(feature_id ? { feature_id } : {}) });
/** The error text of reading `uri`, which must fail. */
async function readError(uri: string): Promise<string> {
  try {
    await h!.client.readResource({ uri });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`reading ${uri} should fail`);
}

describe("signalbox://activity: what is logged", () => {
  it("logs grants, refusals, signals, handoffs and a lock break newest first, each naming its agent and feature", async () => {
    await open();
    await h!.ok("dispatch_agents", {
      agents: [
        { agent_id: "c1", role: "coder", feature_id: "F1" },
        { agent_id: "c2", role: "coder", feature_id: "F2" },
        { agent_id: "aud", role: "auditor" },
        { agent_id: "orch", role: "orchestrator" },
      ],
    });
    const granted = await lock("c1", "src/a.ts", "F1");
    expect(granted.granted).toBe(true);
    expect((await lock("c2", "src/a.ts", "F2")).reason).toBe("conflict");
    await h!.ok("emit_audit_signal", { agent_id: "aud", level: "YELLOW", summary: "naming drift", feature_id: "F1" });
    const sent = await h!.ok<{ message_id: string }>("cross_agent_handoff", {
      agent_id: "c1",
      discovery: "profiles.email is nullable",
      affects: "c2",
      impact: "guard null emails",
    });
    await h!.ok("acknowledge", { agent_id: "c2", message_ids: [sent.message_id] });
    await h!.ok("break_lock", { agent_id: "orch", path: "src/a.ts", reason: "c1 is stuck" });

    const body = await read();
    const items = coordination(body);
    expect(items.map((e) => e.kind)).toEqual(["lock_broken", "handoff_acknowledged", "handoff_sent", "signal_emitted", "lock_refused", "lock_granted"]);
    const seqs = body.items.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(body.total).toBe(body.items.length);
    expect(body.next_cursor).toBeNull();
    expect(body.next_uri).toBeNull();
    expect(body.filter).toEqual({ agent_id: null, feature_id: null, since: null, until: null, cursor: null, limit: 50 });

    const [broken, acked, handoff, signal, refused, grant] = items as [Entry, Entry, Entry, Entry, Entry, Entry];
    expect(grant).toMatchObject({ agent_id: "c1", feature_id: "F1", at: new Date(clock.wallMs()).toISOString() });
    expect(grant.data).toMatchObject({ keys: ["src/a.ts"], keys_total: 1, mode: "write", fencing_tokens: [granted.locks[0]!.fencing_token] });
    expect(grant.summary).toMatch(/^c1 acquired write lock on src\/a\.ts for F1 \(token \d+\)$/);
    expect(refused).toMatchObject({ agent_id: "c2", feature_id: "F2", data: { reason: "conflict", blocked_by: ["c1"], mode: "write" } });
    expect(refused.summary).toMatch(/^c2 was refused write lock on src\/a\.ts for F2: conflict with c1$/);
    expect(signal).toMatchObject({ agent_id: "aud", feature_id: "F1", data: { signal_id: "sig-1", level: "YELLOW", source: "agent" } });
    expect(handoff).toMatchObject({ agent_id: "c1", feature_id: null, data: { message_id: sent.message_id, affects: "c2", matched: true } });
    expect(acked).toMatchObject({ agent_id: "c2", data: { message_id: sent.message_id, from: "c1" } });
    expect(broken).toMatchObject({ agent_id: "orch", feature_id: "F1", data: { key: "src/a.ts", holder: "c1", reason: "c1 is stuck" } });
    expect(broken.summary).toContain("orch broke c1's write lock on src/a.ts");
  });

  it("logs refusals by a pause and a checkpoint, resolutions and auto-resolutions, checkpoints, conventions and audit handoffs", async () => {
    await open();
    await h!.ok("dispatch_agents", {
      agents: [
        { agent_id: "c1", role: "coder", feature_id: "F1" },
        { agent_id: "aud", role: "auditor" },
        { agent_id: "t1", role: "test_engineer", feature_id: "F1" },
        { agent_id: "dba", role: "coder", feature_id: "MIG" },
        { agent_id: "orch", role: "orchestrator" },
      ],
    });
    for (const a of ["c1", "aud", "t1", "dba"]) await h!.ok("report_status", { agent_id: a, status: "working" });
    await h!.ok("start_feature", { agent_id: "c1", feature_id: "F1" });

    const red = await h!.ok<{ signal_id: string }>("emit_audit_signal", { agent_id: "aud", level: "RED", summary: "race", feature_id: "F1" });
    expect((await lock("c1", "src/b.ts", "F1")).reason).toBe("paused");
    await h!.ok("resolve_audit_signal", { signal_id: red.signal_id, agent_id: "orch", resolution: "sequenced" });
    const red2 = await h!.ok<{ signal_id: string }>("emit_audit_signal", { agent_id: "aud", level: "RED", summary: "again", feature_id: "F1" });
    await h!.ok("fail_feature", { agent_id: "orch", feature_id: "F1", reason: "abandoned" });

    await h!.ok("request_checkpoint", { agent_id: "dba", name: "mig-1", reason: "migrate", feature_id: "MIG" });
    expect((await lock("c1", "src/c.ts")).reason).toBe("checkpoint");
    await h!.ok("reach_checkpoint", { agent_id: "c1", name: "mig-1" });
    await h!.ok("reach_checkpoint", { agent_id: "c1", name: "mig-1" }); // a second arrival is not an event
    await h!.ok("resume_checkpoint", { agent_id: "dba", name: "mig-1" });

    await h!.ok("set_convention", { agent_id: "c1", scope: "src/**", key: "naming", value: "camel" });
    await h!.ok("set_convention", { agent_id: "c1", scope: "src/**", key: "naming", value: "camel" }); // already the standard
    await h!.ok("set_convention", { agent_id: "dba", scope: "src/**", key: "naming", value: "snake" });

    const ah = await h!.ok<{ handoff_id: string }>("audit_handoff", {
      agent_id: "aud",
      feature_id: "F1",
      concerns: [{ priority: "HIGH", concern: "session fixation" }],
      extra_coverage: [],
      test_strategy: ["property tests"],
      focus: [],
    });
    const inbox = await h!.ok<{ items: { message_id: string; kind: string }[] }>("get_inbox", { agent_id: "t1" });
    const ahMessage = inbox.items.find((m) => m.kind === "audit_handoff")!;
    await h!.ok("acknowledge", { agent_id: "t1", message_ids: [ahMessage.message_id] });

    const body = await read();
    expect(coordination(body).map((e) => e.kind).reverse()).toEqual([
      "signal_emitted",
      "lock_refused",
      "signal_resolved",
      "signal_emitted",
      "signal_resolved",
      "checkpoint_requested",
      "lock_refused",
      "checkpoint_reached",
      "checkpoint_resumed",
      "convention_set",
      "convention_clash_escalated",
      "audit_handoff",
      "audit_handoff_acknowledged",
    ]);
    const byKind = (k: string) => body.items.filter((e) => e.kind === k);
    expect(byKind("lock_refused").map((e) => e.data)).toEqual([
      expect.objectContaining({ reason: "checkpoint", stop: "mig-1" }),
      expect.objectContaining({ reason: "paused", stop: red.signal_id }),
    ]);
    expect(byKind("signal_resolved")).toEqual([
      expect.objectContaining({ agent_id: "orch", feature_id: "F1", data: expect.objectContaining({ signal_id: red2.signal_id, auto: true }) }),
      expect.objectContaining({ agent_id: "orch", feature_id: "F1", data: expect.objectContaining({ signal_id: red.signal_id, auto: false }) }),
    ]);
    expect(byKind("signal_resolved")[0]!.summary).toContain("auto-resolved");
    for (const k of ["checkpoint_requested", "checkpoint_reached", "checkpoint_resumed"]) {
      expect(byKind(k)).toEqual([expect.objectContaining({ feature_id: "MIG", data: expect.objectContaining({ name: "mig-1" }) })]);
    }
    expect(byKind("checkpoint_reached")[0]).toMatchObject({ agent_id: "c1" });
    expect(byKind("convention_set")[0]).toMatchObject({ agent_id: "c1", data: { key: "naming", value: "camel", scope: "src/" } });
    expect(byKind("convention_clash_escalated")[0]).toMatchObject({
      agent_id: "dba",
      data: { proposed_value: "snake", standing_value: "camel", escalation_id: expect.stringMatching(/^esc-\d+$/) },
    });
    expect(byKind("audit_handoff")[0]).toMatchObject({ agent_id: "aud", feature_id: "F1", data: { handoff_id: ah.handoff_id } });
    expect(byKind("audit_handoff_acknowledged")[0]).toMatchObject({ agent_id: "t1", feature_id: "F1", data: { handoff_id: ah.handoff_id } });
  });
});

describe("signalbox://activity{?agent_id,feature_id,since,until,cursor,limit}", () => {
  /** c1@t0 F1, c2@t0+10m F2, c1@t0+20m F2; the clock then stands at t0+30m. Returns t0 (epoch ms). */
  async function timeline(): Promise<number> {
    const t0 = clock.wallMs();
    await lock("c1", "src/a.ts", "F1");
    clock.advance(600_000);
    await lock("c2", "src/b.ts", "F2");
    clock.advance(600_000);
    await lock("c1", "src/c.ts", "F2");
    clock.advance(600_000);
    return t0;
  }
  const keysOf = (b: Body) => b.items.map((e) => (e.data.keys as string[])[0]);
  const iso = (ms: number) => new Date(ms).toISOString();

  it("is listed as a template, and the fixed URI still reads the newest page", async () => {
    await open(2);
    const { resourceTemplates } = await h!.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain("signalbox://activity{?agent_id,feature_id,since,until,cursor,limit}");
    const { resources } = await h!.client.listResources();
    expect(resources.map((r) => r.uri)).toContain(URI);
    await timeline();
    const fixed = await read();
    expect(keysOf(fixed)).toEqual(["src/c.ts", "src/b.ts"]);
    expect(fixed.filter.limit).toBe(2);
    expect(fixed.next_uri).toBe(`${URI}?cursor=${fixed.next_cursor}&limit=2`);
    // An empty query is the same page.
    expect((await read(`${URI}?`)).items).toEqual(fixed.items);
  });

  it("filters by agent, feature, since and until (ISO or a duration ago), alone and combined, parameters in any order", async () => {
    await open();
    const t0 = await timeline();
    expect(keysOf(await read(`${URI}?agent_id=c1`))).toEqual(["src/c.ts", "src/a.ts"]);
    expect(keysOf(await read(`${URI}?feature_id=F2`))).toEqual(["src/c.ts", "src/b.ts"]);
    const both = await read(`${URI}?feature_id=F2&agent_id=c1`);
    expect(keysOf(both)).toEqual(["src/c.ts"]);
    expect(both.total).toBe(1);

    const recent = await read(`${URI}?since=15m`);
    expect(keysOf(recent)).toEqual(["src/c.ts"]);
    expect(recent.filter.since).toBe(iso(t0 + 15 * 60_000));
    expect(recent.total).toBeNull();
    expect(keysOf(await read(`${URI}?since=1800s`))).toEqual(["src/c.ts", "src/b.ts", "src/a.ts"]); // inclusive
    expect(keysOf(await read(`${URI}?until=${encodeURIComponent(iso(t0 + 600_000))}`))).toEqual(["src/b.ts", "src/a.ts"]);
    expect(keysOf(await read(`${URI}?until=25m`))).toEqual(["src/a.ts"]);
    expect(keysOf(await read(`${URI}?since=1h&until=${iso(t0 + 60_000)}`))).toEqual(["src/a.ts"]);

    const combined = await read(`${URI}?until=5m&agent_id=c1&since=${encodeURIComponent(iso(t0 + 1))}`);
    expect(keysOf(combined)).toEqual(["src/c.ts"]);
    expect(combined.filter).toEqual({ agent_id: "c1", feature_id: null, since: iso(t0 + 1), until: iso(t0 + 25 * 60_000), cursor: null, limit: 50 });
    expect(keysOf(await read(`${URI}?feature_id=F2&since=1d&until=15m&agent_id=c2`))).toEqual(["src/b.ts"]);
    expect((await read(`${URI}?agent_id=nobody`)).items).toEqual([]);
  });

  it("walks every entry exactly once through next_uri, filtered or not, keeping absolute times across pages", async () => {
    await open();
    for (let i = 0; i < 23; i++) {
      await lock(i % 3 === 0 ? "c1" : "c2", `src/f${i}.ts`, i % 2 === 0 ? "F1" : "F2");
      clock.advance(1000);
    }
    const walk = async (first: string): Promise<{ seqs: number[]; pages: number; total: number | null }> => {
      const seqs: number[] = [];
      let uri: string | null = first;
      let pages = 0;
      let total: number | null = null;
      while (uri !== null) {
        const page: Body = await read(uri);
        if (pages === 0) total = page.total;
        seqs.push(...page.items.map((e) => e.seq));
        expect(page.items.length).toBeLessThanOrEqual(page.filter.limit);
        uri = page.next_uri;
        pages++;
      }
      return { seqs, pages, total };
    };
    const all = await walk(`${URI}?limit=5`);
    expect(all.seqs).toEqual(Array.from({ length: 23 }, (_, i) => 23 - i));
    expect(all).toMatchObject({ pages: 5, total: 23 });

    const everything = (await read(`${URI}?limit=200`)).items;
    const expectWalk = async (first: string, keep: (e: Entry) => boolean) => {
      const want = everything.filter(keep).map((e) => e.seq);
      const got = await walk(first);
      expect(got.seqs).toEqual(want);
      expect(new Set(got.seqs).size).toBe(got.seqs.length);
      return got;
    };
    expect((await expectWalk(`${URI}?agent_id=c2&limit=4`, (e) => e.agent_id === "c2")).total).toBe(15);
    expect((await expectWalk(`${URI}?limit=3&feature_id=F1`, (e) => e.feature_id === "F1")).total).toBe(12);
    await expectWalk(`${URI}?feature_id=F2&agent_id=c1&limit=2`, (e) => e.agent_id === "c1" && e.feature_id === "F2");
    // A relative time is resolved once: the next page keeps the instant even as the clock moves on.
    const since = Date.parse(everything[everything.length - 1]!.at) + 5000;
    const first = await read(`${URI}?since=${Math.round((clock.wallMs() - since) / 1000)}s&limit=4`);
    expect(first.next_uri).toContain(`since=${encodeURIComponent(iso(since))}`);
    clock.advance(3_600_000);
    await expectWalk(first.next_uri!, (e) => Date.parse(e.at) >= since && e.seq < first.items[3]!.seq);
  });

  it("rejects bad parameters with errors naming them", async () => {
    await open();
    await lock("c1", "src/a.ts");
    expect(await readError(`${URI}?agnet_id=c1`)).toMatch(/agnet_id: not a parameter of signalbox:\/\/activity; accepted: agent_id, feature_id, since, until, cursor, limit/);
    expect(await readError(`${URI}?agent_id=c1&agent_id=c2`)).toMatch(/agent_id: given 2 times/);
    expect(await readError(`${URI}?agent_id=${encodeURIComponent("a b")}`)).toMatch(/agent_id: expected an agent id/);
    expect(await readError(`${URI}?since=yesterday`)).toMatch(/since: expected an ISO time .* or a duration ago .*, got "yesterday"/);
    expect(await readError(`${URI}?until=15x`)).toMatch(/until: expected an ISO time/);
    expect(await readError(`${URI}?since=1h&until=2h`)).toMatch(/since: .* is after until/);
    for (const limit of ["0", "201", "abc", "1.5"]) expect(await readError(`${URI}?limit=${limit}`)).toMatch(/limit: expected an integer 1\.\.200/);
    expect(await readError(`${URI}?cursor=xyz`)).toMatch(/cursor: expected a next_cursor/);
    expect(await readError(`${URI}?=x`)).toMatch(/uri: a query parameter has no name/);
    // Other URIs are not this resource.
    for (const uri of [`${URI}x`, `${URI}/x`, `${URI}x?limit=1`]) expect(await readError(uri)).toMatch(/not found/);
    // Percent-encoded names and values are decoded.
    expect((await read(`${URI}?agent%5Fid=c%31`)).items).toHaveLength(1);
  });
});

describe("signalbox://activity across transactions and processes", () => {
  it("has no entry for a refused call that throws, nor for an event whose enclosing transaction aborts", async () => {
    await open();
    await h!.ok("dispatch_agents", { by: "orchestrator",
      agents: [
        { agent_id: "c1", role: "coder", feature_id: "F1" },
        { agent_id: "aud", role: "auditor" },
      ],
    });
    await h!.ok("report_status", { agent_id: "c1", status: "working" });
    const red = await h!.ok<{ signal_id: string }>("emit_audit_signal", { agent_id: "aud", level: "RED", summary: "race", feature_id: "F1" });
    await h!.ok("request_checkpoint", { agent_id: "aud", name: "cp", reason: "integrate" });
    const before = await read();
    expect(kinds(before)).toEqual(expect.arrayContaining(["signal_emitted", "checkpoint_requested"]));

    expect(await h!.fails("resolve_audit_signal", { signal_id: red.signal_id, agent_id: "c1", resolution: "mine" })).toMatch(/^agent_id: /);
    expect(await h!.fails("reach_checkpoint", { agent_id: "aud", name: "cp" })).toMatch(/^agent_id: /);
    expect(await h!.fails("resume_checkpoint", { agent_id: "c1", name: "cp" })).toMatch(/^agent_id: /);
    expect(await h!.fails("break_lock", { agent_id: "aud", path: "src/a.ts", reason: " " })).toMatch(/^reason: /);

    // Event functions join an enclosing transaction: when it aborts, their entries go with it.
    const ctx = h!.ctx;
    const events = (abort: boolean) =>
      ctx.store.write(() => {
        createSignal(ctx, { level: "YELLOW", summary: "drift", emitted_by: "aud", feature_id: "F1" });
        crossAgentHandoff(ctx, { from: "aud", discovery: "d", affects: "c1", impact: "i" });
        requestCheckpoint(ctx, { agent_id: "aud", name: "cp2", reason: "r" });
        if (abort) throw new Error("abort");
      });
    expect(() => events(true)).toThrow("abort");
    expect(await read()).toEqual(before);
    // The same steps committed are logged, in order, right after the entries before.
    events(false);
    const after = await read();
    expect(after.items.slice(0, 3).map((e) => [e.kind, e.seq])).toEqual([
      ["checkpoint_requested", before.items[0]!.seq + 3],
      ["handoff_sent", before.items[0]!.seq + 2],
      ["signal_emitted", before.items[0]!.seq + 1],
    ]);
  });

  it("shows entries written by another server process on the same store, and notifies subscribers of the fixed and filtered URIs", async () => {
    h = await connect();
    const updates: string[] = [];
    h.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    const mine = `${URI}?agent_id=remote`;
    // Signals come from registered agents.
    await h.ok("dispatch_agents", { agents: [{ agent_id: "remote", role: "auditor", feature_id: "R1" }] });
    await h.client.subscribeResource({ uri: mine });
    await h.client.subscribeResource({ uri: URI });
    other = new ServerProcess("other");
    await other.start({ ...process.env, SIGNALBOX_ROOT: h.root, SIGNALBOX_DB: h.ctx.store.dir } as Record<string, string>);

    // A local event changes the full log only (the filtered URI is re-read in the same pass, before it).
    await lock("local", "src/l.ts");
    await until("fixed updated", () => updates.includes(URI));
    expect(updates).not.toContain(mine);

    await other.ok("acquire_lock", { agent_id: "remote", paths: ["src/a.ts"], mode: "write", feature_id: "R1" });
    expect((await lock("local", "src/a.ts")).granted).toBe(false);
    await other.ok("emit_audit_signal", { agent_id: "remote", level: "GREEN", summary: "fine", feature_id: "R1" });
    await until("filtered updated", () => updates.includes(mine));

    const remote = await read(mine);
    expect(kinds(remote)).toEqual(["signal_emitted", "lock_granted", "agent_dispatched"]);
    expect(remote.items.every((e) => e.agent_id === "remote" && e.feature_id === "R1")).toBe(true);
    const fromThere = await other.read<Body>(URI);
    expect(kinds(fromThere)).toEqual(["signal_emitted", "lock_refused", "lock_granted", "lock_granted", "agent_dispatched"]);
    expect(fromThere.items[1]).toMatchObject({ agent_id: "local", data: { blocked_by: ["remote"] } });
    expect(fromThere.items.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
  });
});
