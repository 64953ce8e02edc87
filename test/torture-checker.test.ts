/**
 * The torture checker on synthetic histories: each rule fires on a planted
 * fault and stays silent on the correct sequence.
 */
import { describe, expect, it } from "vitest";
import type { LockRecord } from "../src/store/lmdb/store.js";
import { checkFifo, checkStale, checkTortureHistory, lostDecisions, missingGrants, type StoreLookup } from "../torture/checker.js";
import type { HistoryEvent, OpEvent, RequestEvent } from "../torture/history.js";

const req = (over: Partial<RequestEvent> & Pick<RequestEvent, "agent" | "sent_t">): RequestEvent => ({
  type: "request",
  t: over.answer_t ?? over.sent_t,
  keys: ["src/a.ts"],
  mode: "write",
  wait_ms: 1000,
  lease_ms: 500,
  outcome: "granted",
  ...over,
});

const grant = (agent: string, lock_id: string, token: number, t: number, sent_t: number, lease_ms: number, key = "src/a.ts"): HistoryEvent => ({
  type: "grant",
  t,
  sent_t,
  lease_ms,
  agent,
  key,
  mode: "write",
  lock_id,
  fencing_token: token,
});

const op = (o: OpEvent["op"], lock_id: string, sent_t: number, answer_t: number, status: string, lease_ms?: number): OpEvent => ({
  type: "op",
  t: answer_t,
  op: o,
  agent: "a",
  lock_id,
  sent_t,
  answer_t,
  status,
  ...(lease_ms !== undefined ? { lease_ms } : {}),
});

describe("FIFO rule", () => {
  // A was sent at 0, queued (progress) at 5, waited 400 ms of its 1000: it surely waited until 399.
  const a = req({ agent: "a", sent_t: 0, queued_t: 5, answer_t: 402, waited_ms: 400 });

  it("flags a conflicting request sent after A queued and granted while A surely waited", () => {
    const b = req({ agent: "b", sent_t: 10, answer_t: 100, waited_ms: 0 });
    const r = checkFifo([a, b]);
    expect(r.violations).toEqual([{ a, b }]);
  });

  it("stays silent on the correct order and on pairs it cannot judge", () => {
    const events: RequestEvent[] = [
      a,
      req({ agent: "b", sent_t: 10, answer_t: 420, waited_ms: 405 }), // granted after A left
      req({ agent: "c", sent_t: 3, answer_t: 100 }), // sent before A surely queued
      req({ agent: "d", sent_t: 10, answer_t: 100, mode: "read", keys: ["table:users"] }), // disjoint key
      req({ agent: "a", sent_t: 10, answer_t: 100 }), // same agent
      req({ agent: "e", sent_t: 10, answer_t: 100, outcome: "conflict" }), // refused, not granted
    ];
    const readers = [
      req({ agent: "r1", sent_t: 0, queued_t: 5, answer_t: 402, waited_ms: 400, mode: "read" }),
      req({ agent: "r2", sent_t: 10, answer_t: 100, mode: "read" }), // read after read: no conflict
    ];
    expect(checkFifo(events).violations).toEqual([]);
    expect(checkFifo(events).pairs).toBeGreaterThan(0);
    expect(checkFifo(readers).violations).toEqual([]);
    // A timed-out waiter leaves at its deadline: min(waited_ms, wait_ms).
    const short = req({ agent: "a", sent_t: 0, queued_t: 5, answer_t: 60, waited_ms: 55, wait_ms: 50, outcome: "timeout" });
    expect(checkFifo([short, req({ agent: "b", sent_t: 10, answer_t: 52 })]).violations).toEqual([]);
    expect(checkFifo([short, req({ agent: "b", sent_t: 10, answer_t: 45 })]).violations).toHaveLength(1);
  });

  it("ignores requests without an answer and without a queue notification", () => {
    const lost = req({ agent: "a", sent_t: 0, queued_t: 5, outcome: "lost" });
    const noQueue = req({ agent: "a", sent_t: 0, answer_t: 402, waited_ms: 400 });
    const b = req({ agent: "b", sent_t: 10, answer_t: 100 });
    expect(checkFifo([lost, b]).violations).toEqual([]);
    expect(checkFifo([noQueue, b]).violations).toEqual([]);
  });
});

describe("stale-check rule", () => {
  // Granted: sent 0, answered 10, lease 100 -> surely current until 100, surely over after 110.
  const g = grant("a", "L1", 1, 10, 0, 100);

  it("is silent on current answers inside the lease and stale answers after it", () => {
    const r = checkStale([g, op("verify", "L1", 20, 30, "current"), op("release", "L1", 150, 160, "expired")]);
    expect(r.violations).toEqual([]);
    expect(r.checks).toBe(1);
  });

  it("flags a current answer sent after the lease surely ended", () => {
    const r = checkStale([g, op("renew", "L1", 111, 115, "current", 100)]);
    expect(r.violations.map((v) => v.rule)).toEqual(["must_be_stale"]);
  });

  it("flags a stale answer before the lease could end, unless the lock was released first", () => {
    expect(checkStale([g, op("verify", "L1", 20, 30, "expired")]).violations.map((v) => v.rule)).toEqual(["must_be_current"]);
    const released: HistoryEvent[] = [g, { type: "release", t: 15, agent: "a", lock_id: "L1" }, op("verify", "L1", 20, 30, "released")];
    expect(checkStale(released).violations).toEqual([]);
  });

  it("moves the bounds with renewals, and a lost renewal widens the upper bound", () => {
    const renewed: HistoryEvent[] = [
      g,
      { type: "renew", t: 60, sent_t: 50, lease_ms: 100, agent: "a", lock_id: "L1" },
      op("verify", "L1", 130, 140, "current"), // inside the renewed lease
      op("verify", "L1", 170, 175, "expired"), // after 60 + 100
    ];
    expect(checkStale(renewed).violations).toEqual([]);
    expect(checkStale([...renewed, op("verify", "L1", 145, 148, "expired")]).violations).toHaveLength(1);
    // A lost renewal seen at 80 may have extended the lease to 180: no verdict at 170.
    const lost: HistoryEvent[] = [g, op("renew", "L1", 70, 80, "lost", 100), op("verify", "L1", 170, 175, "current")];
    expect(checkStale(lost).violations).toEqual([]);
    expect(checkStale(lost).checks).toBe(0);
  });
});

describe("store rules", () => {
  const rec = (lock_id: string, token: number, agent: string): LockRecord => ({
    lock_id,
    key: "src/a.ts",
    mode: "write",
    agent_id: agent,
    feature_id: null,
    fencing_token: token,
    boot: "b",
    acquired_mono: 0,
    expires_mono: 100,
    acquired_at: "",
    state: "released",
    ended_mono: 50,
    ended_at: "",
  });
  const store: StoreLookup = {
    lock: (id) => ({ L1: rec("L1", 1, "a"), L2: rec("L2", 2, "b") })[id],
    decisionContext: (seq) => ({ 1: "first", 2: "second" })[seq],
  };

  it("finds every recorded grant and acknowledged decision in a faithful store", () => {
    const events: HistoryEvent[] = [
      grant("a", "L1", 1, 10, 0, 100),
      grant("b", "L2", 2, 200, 190, 100),
      { type: "decision", t: 1, agent: "a", seq: 1, content: "first" },
      { type: "decision", t: 2, agent: "b", seq: 2, content: "second" },
    ];
    expect(missingGrants(events, store)).toEqual([]);
    expect(lostDecisions(events, store)).toEqual([]);
  });

  it("flags grants the store lacks or describes differently, and decisions lost or overwritten", () => {
    const events: HistoryEvent[] = [
      grant("a", "L9", 9, 10, 0, 100), // unknown lock id
      grant("c", "L1", 1, 10, 0, 100), // store says agent a
      { type: "decision", t: 1, agent: "a", seq: 3, content: "third" }, // absent
      { type: "decision", t: 2, agent: "b", seq: 2, content: "other" }, // other text at seq 2
    ];
    expect(missingGrants(events, store).map((g) => (g.type === "grant" ? g.lock_id : ""))).toEqual(["L9", "L1"]);
    expect(lostDecisions(events, store).map((d) => d.seq)).toEqual([3, 2]);
  });
});

describe("checkTortureHistory", () => {
  it("counts zero everywhere on a clean history", () => {
    const events: HistoryEvent[] = [
      grant("a", "L1", 1, 10, 0, 100),
      op("verify", "L1", 20, 25, "current"),
      { type: "release", t: 30, agent: "a", lock_id: "L1" },
      op("release", "L1", 30, 35, "current"),
      grant("b", "L2", 2, 40, 31, 100),
    ];
    const c = checkTortureHistory(events);
    expect(c.counts).toMatchObject({
      grants: 2,
      double_grants: 0,
      duplicate_tokens: 0,
      non_rising_tokens: 0,
      fifo_violations: 0,
      stale_violations: 0,
      recorder_errors: 0,
    });
    expect(c.examples).toEqual([]);
  });

  it("judges token order only for grants surely in order (a paused client reads an old grant late)", () => {
    // b's request was sent at 5, before a's answer (20) arrived: b may have been granted first.
    const late: HistoryEvent[] = [grant("a", "L1", 5, 20, 0, 10), grant("b", "L2", 4, 30, 5, 10)];
    expect(checkTortureHistory(late).counts.non_rising_tokens).toBe(0);
    // Sent after a's answer: b was granted later and must carry the larger token.
    const inverted: HistoryEvent[] = [grant("a", "L1", 5, 20, 0, 10), grant("b", "L2", 4, 30, 21, 10)];
    expect(checkTortureHistory(inverted).counts.non_rising_tokens).toBe(1);
  });

  it("counts and describes a double grant and a token inversion", () => {
    const events: HistoryEvent[] = [grant("a", "L1", 5, 10, 0, 100), grant("b", "L2", 4, 20, 11, 100)];
    const c = checkTortureHistory(events);
    expect(c.counts.double_grants).toBe(1);
    expect(c.counts.non_rising_tokens).toBe(1);
    expect(c.examples.some((e) => e.startsWith("double grant:"))).toBe(true);
  });
});
