/**
 * Misuse through a real MCP client (RELIABILITY.md, "Bad input and misuse"):
 * spoofing another agent's lock, the audited break_lock, every configured
 * limit with its clear error, strict inputs, and a flood from one agent that
 * must not starve another.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { connect, type Harness } from "./helpers/client.js";

interface Granted {
  granted: boolean;
  reason: string | null;
  locks: { key: string; lock_id: string; fencing_token: number }[];
}

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const acquire = (agent: string, paths: string[], mode = "write", extra: Record<string, unknown> = {}) =>
  h.ok<Granted>("acquire_lock", { agent_id: agent, paths, mode, ...extra });

describe("spoofing", () => {
  it("refuses releasing or renewing another agent's lock, and a guessed lock_id verifies as unknown", async () => {
    h = await connect();
    const a = await acquire("alice", ["src/a.ts"]);
    const lock = a.locks[0]!;
    expect(await h.fails("release_lock", { agent_id: "mallory", paths: ["src/a.ts"] })).toMatch(/belongs to agent "alice".*not to "mallory"/);
    expect(await h.fails("release_lock", { agent_id: "mallory", lock_ids: [lock.lock_id] })).toMatch(/belongs to agent "alice"/);
    expect(await h.fails("renew_lease", { agent_id: "mallory", lock_ids: [lock.lock_id] })).toMatch(/belongs to agent "alice"/);
    const guessed = `${lock.fencing_token}.${"x".repeat(21)}`;
    expect(await h.ok("verify_lock", { lock_id: guessed, fencing_token: lock.fencing_token })).toMatchObject({ valid: false, status: "unknown" });
    expect(await h.ok("release_lock", { agent_id: "mallory", lock_ids: [guessed] })).toMatchObject({ released: [], stale: [{ status: "unknown" }] });
    // Alice still holds it.
    expect(await h.ok("verify_lock", { lock_id: lock.lock_id, fencing_token: lock.fencing_token })).toMatchObject({ valid: true });
  });

  it("break_lock ends the holder's lock, logs who broke what and why, and tells the holder", async () => {
    h = await connect();
    await h.ok("dispatch_agents", { agents: [{ agent_id: "orchestrator", role: "orchestrator" }] });
    const a = await acquire("alice", ["src/a.ts"], "write", { feature_id: "F1" });
    const lock = a.locks[0]!;
    const r = await h.ok<{ broken: { agent_id: string; fencing_token: number }[]; decision_seq: number }>("break_lock", {
      agent_id: "orchestrator",
      path: "./src//a.ts",
      reason: "alice crashed mid-edit",
    });
    expect(r.broken).toEqual([{ key: "src/a.ts", mode: "write", agent_id: "alice", feature_id: "F1", fencing_token: lock.fencing_token }]);
    expect(await h.ok("verify_lock", { lock_id: lock.lock_id, fencing_token: lock.fencing_token })).toMatchObject({ valid: false, status: "broken" });
    expect(await h.ok("renew_lease", { agent_id: "alice", lock_ids: [lock.lock_id] })).toMatchObject({ renewed: [], stale: [{ status: "broken" }] });
    const log = await h.readJson<{ decisions: { seq: number; type: string; decided_by: string; rationale: string; refs: string[] }[] }>(
      "signalbox://decisions",
    );
    const entry = log.decisions.find((d) => d.seq === r.decision_seq)!;
    expect(entry).toMatchObject({ type: "lock_break", decided_by: "orchestrator", rationale: "alice crashed mid-edit" });
    expect(entry.refs).toEqual(["src/a.ts", "F1"]);
    const inbox = await h.ok<{ items: { from: string; summary: string }[] }>("get_inbox", { agent_id: "alice" });
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]!.from).toBe("orchestrator");
    expect(inbox.items[0]!.summary).toMatch(/write lock on src\/a\.ts .* was broken by orchestrator: alice crashed mid-edit/);
    // The key is free again; the new grant's token is higher.
    const b = await acquire("bob", ["src/a.ts"]);
    expect(b.locks[0]!.fencing_token).toBeGreaterThan(lock.fencing_token);
  });

  it("break_lock with nothing to break writes no decision; a blank reason is refused by name", async () => {
    h = await connect();
    await h.ok("dispatch_agents", { agents: [{ agent_id: "o", role: "orchestrator" }] });
    expect(await h.ok("break_lock", { agent_id: "o", path: "src/none.ts", reason: "tidy" })).toEqual({ broken: [], decision_seq: null });
    expect(await h.fails("break_lock", { agent_id: "o", path: "src/none.ts", reason: "   " })).toMatch(/^reason: /);
    const log = await h.readJson<{ decisions: unknown[] }>("signalbox://decisions");
    expect(log.decisions).toHaveLength(0);
  });
});

describe("strict inputs", () => {
  it("refuses an unknown argument, naming it, instead of dropping it", async () => {
    h = await connect();
    const text = await h.fails("acquire_lock", { agentid: "a", agent_id: "a", paths: ["x"], mode: "read" });
    expect(text).toMatch(/agentid/);
    expect(text).toMatch(/[Uu]nrecognized key/);
  });
});

describe("limits", () => {
  it("locks per agent: a grant past limits.locks_per_agent is refused, naming the limit; others are unaffected", async () => {
    h = await connect({ config: parseConfig({ limits: { locks_per_agent: 3 } }) });
    await acquire("a", ["k1", "k2"]);
    expect(await h.fails("acquire_lock", { agent_id: "a", paths: ["k3", "k4"], mode: "read" })).toMatch(
      /^paths: agent "a" holds 2 locks; 2 more would pass limits\.locks_per_agent \(3\)/,
    );
    expect((await acquire("a", ["k3"])).granted).toBe(true);
    expect((await acquire("b", ["k4", "k5", "k6"])).granted).toBe(true);
  });

  it("queue depth per key: a waiter past limits.queue_depth_per_key is refused at once, naming the limit", async () => {
    h = await connect({ config: parseConfig({ limits: { queue_depth_per_key: 2 } }) });
    await acquire("holder", ["hot.ts"]);
    const waiting = [acquire("w1", ["hot.ts"], "write", { wait_ms: 1500 }), acquire("w2", ["hot.ts"], "write", { wait_ms: 1500 })];
    // Let both enter the queue before the third arrives.
    await new Promise((r) => setTimeout(r, 100));
    expect(await h.fails("acquire_lock", { agent_id: "w3", paths: ["hot.ts"], mode: "write", wait_ms: 1500 })).toMatch(
      /^wait_ms: hot\.ts already has 2 queued requests, limits\.queue_depth_per_key \(2\)/,
    );
    // wait_ms 0 is still answered (a plain conflict), and the queued two time out normally.
    expect(await acquire("w3", ["hot.ts"], "write", { wait_ms: 0 })).toMatchObject({ granted: false, reason: "conflict" });
    expect((await Promise.all(waiting)).map((r) => r.reason)).toEqual(["timeout", "timeout"]);
  });

  it("longest lease and wait are bounded by the config, with errors naming the field", async () => {
    h = await connect({ config: parseConfig({ locks: { max_lease_ms: 5000, max_wait_ms: 1000 } }) });
    expect(await h.fails("acquire_lock", { agent_id: "a", paths: ["x"], mode: "read", lease_ms: 5001 })).toMatch(/lease_ms/);
    expect(await h.fails("acquire_lock", { agent_id: "a", paths: ["x"], mode: "read", wait_ms: 1001 })).toMatch(/wait_ms/);
  });

  it("keys per request and string sizes are bounded, with errors naming the field", async () => {
    h = await connect({ config: parseConfig({ limits: { keys_per_request: 4, string_bytes: 100 } }) });
    const paths = ["a", "b", "c", "d", "e"];
    expect(await h.fails("acquire_lock", { agent_id: "a", paths, mode: "read" })).toMatch(/paths/);
    const text = await h.fails("record_decision", { type: "other", decided_by: "a", context: "c".repeat(101), decision: "d" });
    expect(text).toMatch(/context/);
  });

  it("a flood from one agent is cut at limits.requests_in_flight_per_agent while another agent is served", async () => {
    h = await connect({ config: parseConfig({ limits: { requests_in_flight_per_agent: 4 } }) });
    await acquire("holder", ["hot.ts"]);
    // 40 queued requests from one agent: 4 are admitted (and wait), 36 are refused at once.
    const flood = Array.from({ length: 40 }, () =>
      h.call("acquire_lock", { agent_id: "flooder", paths: ["hot.ts"], mode: "write", wait_ms: 800 }),
    );
    // Meanwhile another agent's calls all go through.
    for (let i = 0; i < 10; i++) {
      const g = await acquire("calm", [`calm/${i}.ts`]);
      expect(g.granted).toBe(true);
      await h.ok("release_lock", { agent_id: "calm", lock_ids: g.locks.map((l) => l.lock_id) });
    }
    const results = await Promise.all(flood);
    const refused = results.filter((r) => r.isError);
    expect(refused).toHaveLength(36);
    expect((refused[0]!.content as { text: string }[])[0]!.text).toMatch(/^agent_id: agent "flooder" already has 4 calls in flight.*requests_in_flight_per_agent \(4\)/);
    expect(results.filter((r) => !r.isError).map((r) => (r.structuredContent as unknown as Granted).reason)).toEqual(["timeout", "timeout", "timeout", "timeout"]);
  });
});

describe("queued requests report progress", () => {
  it("sends one progress notification when a request enters the FIFO queue, naming who it waits for", async () => {
    h = await connect();
    await acquire("holder", ["q.ts"]);
    const notes: { progress: number; message?: string }[] = [];
    const pending = h.client.callTool(
      { name: "acquire_lock", arguments: { agent_id: "waiter", paths: ["q.ts"], mode: "write", wait_ms: 2000 } },
      undefined,
      { onprogress: (p) => notes.push(p) },
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toMatch(/^queued \(ticket \d+\) behind holder: position 1; holder holds q\.ts \(write\) until /);
    await h.ok("release_lock", { agent_id: "holder", all: true });
    const r = (await pending) as unknown as { structuredContent: Granted };
    expect(r.structuredContent.granted).toBe(true);
    expect(notes).toHaveLength(1);
  });
});
