/**
 * Inboxes, the activity log and concurrent use cases on an engine whose
 * reads really are asynchronous (src/store/memory/engine.ts), directly
 * against the domain modules: no LMDB, no MCP. Each use case runs inside
 * one `db.write` with an env bound to it (docs/store-port.md).
 *
 * The concurrency cases prove the engine-neutral claim: many use cases
 * started at once on one engine miss, re-run and conflict there (the engine
 * counts it), yet each lands exactly once with its own sequence number,
 * because the control functions have no effect outside their transaction.
 */
import { describe, expect, it } from "vitest";
import { allAgents } from "../src/control/registry/agents.js";
import { dispatchAgents } from "../src/control/dispatch.js";
import { acknowledgeMessages, delayedMessages, deliver, listInbox, unreadCount } from "../src/control/registry/inbox.js";
import { codeOf } from "../src/errors.js";
import { lastActivityOf, listActivity, recordActivity, repeatActivity } from "../src/log/activity.js";
import { failure, onMemory } from "./helpers/memory-engine.js";

const note = (summary: string, priority: "normal" | "high" | "algedonic" = "normal") => ({ from: "sender", kind: "notice" as const, priority, summary });

describe("inboxes on the in-memory engine", () => {
  it("delivers one message to several agents (duplicates collapse), counts unread per agent and lists by priority, then age", async () => {
    const { run } = onMemory();
    const first = await run((env) => deliver(env, ["a", "b", "a"], note("to both")));
    expect(first).toEqual({ message_id: "m-1", delivered_to: ["a", "b"] });
    await run((env) => deliver(env, ["a"], note("plain")));
    await run((env) => deliver(env, ["a"], note("urgent", "high")));
    await run((env) => deliver(env, ["a"], note("security", "algedonic")));
    const seen = await run((env) => ({
      a: unreadCount(env, "a"),
      b: unreadCount(env, "b"),
      c: unreadCount(env, "c"),
      order: listInbox(env, "a").items.map((m) => [m.message_id, m.priority]),
      bItems: listInbox(env, "b").items.map((m) => m.message_id),
    }));
    expect(seen).toEqual({
      a: 4,
      b: 1,
      c: 0,
      order: [
        ["m-4", "algedonic"],
        ["m-3", "high"],
        ["m-1", "normal"],
        ["m-2", "normal"],
      ],
      bItems: ["m-1"],
    });
    // Pages with a cursor.
    const p1 = await run((env) => listInbox(env, "a", { limit: 3 }));
    expect([p1.items.map((m) => m.message_id), p1.next_cursor, p1.total, p1.unread]).toEqual([["m-4", "m-3", "m-1"], "3", 4, 4]);
    const p2 = await run((env) => listInbox(env, "a", { limit: 3, cursor: p1.next_cursor }));
    expect([p2.items.map((m) => m.message_id), p2.next_cursor]).toEqual([["m-2"], null]);
  });

  it("acknowledges into known, already and unknown lists; a malformed id is refused naming message_ids[i] and nothing is acknowledged", async () => {
    const { run, engine } = onMemory();
    await run((env) => deliver(env, ["a"], note("one")));
    await run((env) => deliver(env, ["b"], note("for b only")));
    await run((env) => deliver(env, ["a"], note("three")));
    const r = await run((env) => acknowledgeMessages(env, "a", ["m-1", "m-2", "m-77"]));
    expect(r.acknowledged.map((m) => [m.message_id, m.acked_at])).toEqual([["m-1", new Date(engine.time.wallMs()).toISOString()]]);
    expect(r.already).toEqual([]);
    expect(r.unknown).toEqual(["m-2", "m-77"]);
    const again = await run((env) => acknowledgeMessages(env, "a", ["m-1"]));
    expect(again).toEqual({ acknowledged: [], already: ["m-1"], unknown: [] });
    expect(await run((env) => [unreadCount(env, "a"), unreadCount(env, "b")])).toEqual([1, 1]);

    const rev = await engine.revision();
    const bad = await failure(run((env) => acknowledgeMessages(env, "a", ["m-3", "message-3"])));
    expect(codeOf(bad)).toEqual({ code: "invalid_argument", field: "message_ids[1]" });
    expect(bad.message).toContain('"message-3"');
    // m-3 came before the bad id in the same call: the whole call wrote nothing.
    expect(await engine.revision()).toBe(rev);
    expect(await run((env) => unreadCount(env, "a"))).toBe(1);
    const unreadOnly = await run((env) => listInbox(env, "a", { unread_only: true }));
    expect(unreadOnly.items.map((m) => m.message_id)).toEqual(["m-3"]);
  });

  it("shows an unacknowledged message as delayed once it waited past control.ack_limit_ms on the engine's clock", async () => {
    const { run, engine } = onMemory({ control: { ack_limit_ms: 10_000 } });
    await run((env) => deliver(env, ["a", "b"], note("please ack")));
    await run((env) => acknowledgeMessages(env, "b", ["m-1"]));
    engine.advance(10_000);
    expect(await run((env) => [listInbox(env, "a").delayed, delayedMessages(env)])).toEqual([0, []]);
    engine.advance(1);
    const [inbox, delayed] = await run((env) => [listInbox(env, "a"), delayedMessages(env)] as const);
    expect(inbox.delayed).toBe(1);
    expect(inbox.items[0]?.delayed).toBe(true);
    expect(delayed).toEqual([expect.objectContaining({ message_id: "m-1", to: "a", waiting_ms: 10_001 })]);
  });

  it("prunes acknowledged messages past retention.inbox_max_entries_per_agent, oldest first, and never an unacknowledged one", async () => {
    const { run } = onMemory({ retention: { inbox_max_entries_per_agent: 3 } });
    for (let i = 1; i <= 5; i++) await run((env) => deliver(env, ["a"], note(`n${i}`)));
    // Five unacknowledged messages in an inbox of three: all kept.
    expect((await run((env) => listInbox(env, "a"))).total).toBe(5);
    await run((env) => acknowledgeMessages(env, "a", ["m-1", "m-2", "m-4"]));
    const left = await run((env) => listInbox(env, "a"));
    // m-1 and m-2 (oldest, acknowledged) went to bring the inbox to 3; m-4 stays (the count is reached); m-3 and m-5 are unread.
    expect(left.items.map((m) => [m.message_id, m.acked_at !== null])).toEqual([
      ["m-3", false],
      ["m-4", true],
      ["m-5", false],
    ]);
    // A pruned id is unknown now.
    expect((await run((env) => acknowledgeMessages(env, "a", ["m-1"]))).unknown).toEqual(["m-1"]);
  });

  it("prunes an acknowledged message retention.inbox_max_age_ms after its acknowledgement, at the next delivery", async () => {
    const { run, engine } = onMemory({ retention: { inbox_max_age_ms: 60_000 } });
    await run((env) => deliver(env, ["a"], note("old, read")));
    await run((env) => deliver(env, ["a"], note("old, unread")));
    await run((env) => acknowledgeMessages(env, "a", ["m-1"]));
    engine.advance(60_000);
    await run((env) => deliver(env, ["a"], note("new")));
    expect((await run((env) => listInbox(env, "a"))).items.map((m) => m.message_id)).toEqual(["m-1", "m-2", "m-3"]);
    engine.advance(1);
    await run((env) => deliver(env, ["a"], note("newer")));
    expect((await run((env) => listInbox(env, "a"))).items.map((m) => m.message_id)).toEqual(["m-2", "m-3", "m-4"]);
  });
});

describe("the activity log on the in-memory engine", () => {
  /** Seven entries: agents x and y, features F and G (and none). */
  async function seven(run: ReturnType<typeof onMemory>["run"]): Promise<void> {
    const plan: [string, string | null][] = [
      ["x", "F"],
      ["y", "F"],
      ["x", null],
      ["x", "G"],
      ["y", "G"],
      ["x", "F"],
      ["y", null],
    ];
    for (const [i, [agent, feature]] of plan.entries()) {
      const rec = await run((env) => recordActivity(env, { kind: "test", agent_id: agent, feature_id: feature, summary: `e${i + 1}` }));
      expect(rec.seq).toBe(i + 1);
    }
  }

  it("appends with increasing seq and pages newest first through next_cursor, filtered by agent, feature or both", async () => {
    const { run } = onMemory();
    await seven(run);
    const walk = async (filter: { agent_id?: string; feature_id?: string }, limit: number) => {
      const pages: number[][] = [];
      let cursor: string | null = null;
      let total: number | null = null;
      do {
        const page = await run((env) => listActivity(env, { ...filter, cursor, limit }));
        pages.push(page.items.map((e) => e.seq));
        cursor = page.next_cursor;
        total = page.total;
      } while (cursor !== null);
      return { pages, total };
    };
    expect(await walk({}, 3)).toEqual({ pages: [[7, 6, 5], [4, 3, 2], [1]], total: 7 });
    expect(await walk({ agent_id: "x" }, 2)).toEqual({ pages: [[6, 4], [3, 1]], total: 4 });
    expect(await walk({ feature_id: "F" }, 2)).toEqual({ pages: [[6, 2], [1]], total: 3 });
    expect(await walk({ agent_id: "x", feature_id: "F" }, 5)).toEqual({ pages: [[6, 1]], total: 2 });
    const first = await run((env) => listActivity(env, { limit: 1 }));
    expect(first).toMatchObject({ next_cursor: "7", oldest_seq: 1, total: 7 });
    expect(first.items[0]).toMatchObject({ seq: 7, agent_id: "y", feature_id: null, summary: "e7", at: new Date(Date.UTC(2026, 0, 1) + 1_000_000).toISOString() });
  });

  it("filters by time on the engine's clock and refuses a bad cursor or limit naming the field", async () => {
    const { run, engine } = onMemory();
    await run((env) => recordActivity(env, { kind: "t", agent_id: "x", summary: "early" }));
    engine.advance(5_000);
    const mid = engine.time.wallMs();
    await run((env) => recordActivity(env, { kind: "t", agent_id: "x", summary: "late" }));
    const since = await run((env) => listActivity(env, { since_ms: mid, limit: 10 }));
    expect([since.items.map((e) => e.summary), since.total]).toEqual([["late"], null]);
    const until = await run((env) => listActivity(env, { until_ms: mid - 1, limit: 10 }));
    expect(until.items.map((e) => e.summary)).toEqual(["early"]);
    expect(codeOf(await failure(run((env) => listActivity(env, { limit: 0 }))))).toEqual({ code: "invalid_argument", field: "limit" });
    expect(codeOf(await failure(run((env) => listActivity(env, { limit: 5, cursor: "abc" }))))).toEqual({ code: "invalid_argument", field: "cursor" });
  });

  it("folds a repetition into the entry it repeats: same seq, a count and the latest time", async () => {
    const { run, engine } = onMemory();
    const rec = await run((env) => recordActivity(env, { kind: "lock_refused", agent_id: "x", summary: "x was refused", data: { reason: "conflict" } }));
    engine.advance(1_000);
    await run((env) => repeatActivity(env, lastActivityOf(env, "x") ?? rec, "x was refused"));
    engine.advance(1_000);
    const last = await run((env) => repeatActivity(env, lastActivityOf(env, "x") ?? rec, "x was refused"));
    expect(last).toMatchObject({ seq: 1, summary: "x was refused (x3)", at: rec.at, data: { reason: "conflict", count: 3, last_at: new Date(engine.time.wallMs()).toISOString() } });
    const page = await run((env) => listActivity(env, { limit: 10 }));
    expect(page.total).toBe(1);
    expect(page.items[0]).toEqual(last);
  });

  it("logs the lock manager's decisions through its hooks: a grant, and one folded entry for the same refusal polled twice", async () => {
    const { run, locks } = onMemory();
    const g = await locks.acquire({ agent_id: "a", keys: ["src/x.ts"], mode: "write", feature_id: "F" });
    expect(g.granted).toBe(true);
    expect((await locks.acquire({ agent_id: "b", keys: ["src/x.ts"], mode: "write" })).granted).toBe(false);
    expect((await locks.acquire({ agent_id: "b", keys: ["src/x.ts"], mode: "write" })).granted).toBe(false);
    const page = await run((env) => listActivity(env, { limit: 10 }));
    expect(page.items.map((e) => [e.seq, e.kind, e.agent_id, e.feature_id])).toEqual([
      [2, "lock_refused", "b", null],
      [1, "lock_granted", "a", "F"],
    ]);
    expect(page.items[0]?.data).toMatchObject({ reason: "conflict", blocked_by: ["a"], count: 2 });
    if (g.granted) expect(page.items[1]?.data).toMatchObject({ keys: ["src/x.ts"], mode: "write", fencing_tokens: [g.locks[0]?.fencing_token] });
  });

  it("keeps at most retention.activity_max_entries, dropping the oldest with their index keys", async () => {
    const { run } = onMemory({ retention: { activity_max_entries: 5 } });
    for (let i = 1; i <= 10; i++) await run((env) => recordActivity(env, { kind: "t", agent_id: i % 2 === 0 ? "even" : "odd", summary: `e${i}` }));
    const all = await run((env) => listActivity(env, { limit: 20 }));
    expect([all.items.map((e) => e.seq), all.oldest_seq, all.total]).toEqual([[10, 9, 8, 7, 6], 6, 5]);
    const odd = await run((env) => listActivity(env, { agent_id: "odd", limit: 20 }));
    expect([odd.items.map((e) => e.seq), odd.total]).toEqual([[9, 7], 2]);
    // The next append takes seq 11: numbers are never reused.
    expect((await run((env) => recordActivity(env, { kind: "t", agent_id: "odd", summary: "e11" }))).seq).toBe(11);
  });
});

describe("concurrent use cases on one in-memory engine", () => {
  it("lands 20 concurrent deliveries exactly once each with distinct message ids, though the engine re-ran and conflicted", async () => {
    const { run, engine } = onMemory();
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => run((env) => deliver(env, [`a${i % 4}`, "all"], note(`n${i}`)))));
    const ids = sent.map((s) => Number(s.message_id.slice(2)));
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const seen = await run((env) => ({
      all: listInbox(env, "all", { limit: 100 }),
      per: [0, 1, 2, 3].map((k) => listInbox(env, `a${k}`, { limit: 100 }).items.map((m) => m.summary).sort()),
    }));
    expect(seen.all.unread).toBe(20);
    expect(new Set(seen.all.items.map((m) => m.message_id)).size).toBe(20);
    expect(seen.all.items.map((m) => m.summary).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`).sort());
    // Each message is in its own recipient's inbox under the id its call returned, and nowhere else.
    for (let k = 0; k < 4; k++) {
      expect(seen.per[k]).toEqual(
        Array.from({ length: 20 }, (_, i) => i)
          .filter((i) => i % 4 === k)
          .map((i) => `n${i}`)
          .sort(),
      );
    }
    for (const [i, s] of sent.entries()) expect(s.delivered_to).toEqual([`a${i % 4}`, "all"]);
    expect(engine.misses).toBeGreaterThan(0);
    expect(engine.runs).toBeGreaterThan(20);
    expect(engine.conflicts).toBeGreaterThan(0);
  });

  it("numbers 20 concurrent activity entries 1..20 once each", async () => {
    const { run, engine } = onMemory();
    const recs = await Promise.all(Array.from({ length: 20 }, (_, i) => run((env) => recordActivity(env, { kind: "t", agent_id: `a${i}`, feature_id: i % 2 ? "F" : null, summary: `e${i}` }))));
    expect(recs.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const page = await run((env) => listActivity(env, { limit: 50 }));
    expect(page.total).toBe(20);
    // What each call returned is what the log holds under that seq.
    for (const r of recs) expect(page.items.find((e) => e.seq === r.seq)).toEqual(r);
    expect((await run((env) => listActivity(env, { feature_id: "F", limit: 50 }))).total).toBe(10);
    expect(engine.misses).toBeGreaterThan(0);
    expect(engine.runs).toBeGreaterThan(20);
    expect(engine.conflicts).toBeGreaterThan(0);
  });

  it("registers 12 agents dispatching themselves concurrently: distinct batches, one activity entry each, coverage settled once", async () => {
    const { run, engine } = onMemory({ control: { audit_grace_ms: 0 } });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => run((env) => dispatchAgents(env, [{ agent_id: `c${i}`, role: i === 11 ? "auditor" : "coder", domain: "app" }], "CODE"))),
    );
    expect(results.map((r) => r.batch).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const seen = await run((env) => ({
      agents: allAgents(env).map((a) => [a.agent_id, a.role, a.dispatched_by, a.batch]),
      log: listActivity(env, { limit: 50 }),
    }));
    expect(seen.agents.map((a) => a[0]).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `c${i}`).sort());
    // Each registered itself: no dispatcher, and its record carries the batch its own call returned.
    for (const [i, r] of results.entries()) expect(seen.agents.find((a) => a[0] === `c${i}`)).toEqual([`c${i}`, i === 11 ? "auditor" : "coder", null, r.batch]);
    expect(seen.log.total).toBe(12);
    expect(seen.log.items.every((e) => e.kind === "agent_dispatched")).toBe(true);
    expect(new Set(seen.log.items.map((e) => e.agent_id)).size).toBe(12);
    expect(engine.runs).toBeGreaterThan(12);
    expect(engine.conflicts).toBeGreaterThan(0);
  });

  it("leaves nothing of a use case that throws after writing: deliveries, activity and counters roll back with it", async () => {
    const { run, engine } = onMemory();
    await run((env) => deliver(env, ["a"], note("kept")));
    const rev = await engine.revision();
    const err = await failure(
      run((env) => {
        deliver(env, ["a", "b"], note("lost"));
        recordActivity(env, { kind: "t", agent_id: "a", summary: "lost" });
        throw new Error("boom after writing");
      }),
    );
    expect(err.message).toBe("boom after writing");
    expect(await engine.revision()).toBe(rev);
    const seen = await run((env) => ({ a: unreadCount(env, "a"), b: unreadCount(env, "b"), log: listActivity(env, { limit: 5 }).total }));
    expect(seen).toEqual({ a: 1, b: 0, log: 0 });
    // The message counter did not move either: the next message is m-2.
    expect((await run((env) => deliver(env, ["b"], note("next")))).message_id).toBe("m-2");
  });
});
