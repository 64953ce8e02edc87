/**
 * Several real server processes on one store, driven by real MCP clients over
 * stdio: no double grant, fencing tokens unique and rising, and a killed
 * holder's lease ends on time and not before.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, describe, expect, it } from "vitest";
import { History, checkHistory, describePair, monoNow, type HistoryEvent } from "./helpers/history.js";
import { tempDir } from "./helpers/store.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
/** Per-request ceiling: a hang shows up as an error instead of a stuck test. */
const CALL_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------
// Tool result shapes (structuredContent)

type Mode = "read" | "write";
type Status = "current" | "expired" | "released" | "broken" | "unknown" | "token_mismatch";

interface GrantedLock {
  key: string;
  mode: Mode;
  lock_id: string;
  fencing_token: number;
  expires_at: string;
}

interface AcquireOut {
  granted: boolean;
  locks: GrantedLock[];
  reason: "conflict" | "deadlock" | "timeout" | null;
  message: string;
  holders: { key: string; requested: string; agent_id: string; mode: Mode; fencing_token: number; expires_at: string }[];
  queued_ahead: { agent_id: string; mode: Mode; keys: string[] }[];
  cycle: string[] | null;
  waited_ms: number;
}

interface ReleaseOut {
  released: { key: string; mode: Mode; fencing_token: number }[];
  stale: { key: string; lock_id: string; status: Status }[];
  not_held: string[];
}

interface RenewOut {
  renewed: GrantedLock[];
  stale: { key: string; lock_id: string; status: Status }[];
}

interface VerifyOut {
  valid: boolean;
  status: Status;
  key: string | null;
  agent_id: string | null;
  fencing_token: number | null;
}

interface InfoOut {
  pid: number;
  store: string;
  root: string;
}

// ---------------------------------------------------------------------------
// Real server processes

interface Server {
  name: string;
  client: Client;
  pid: number;
  /** Resolves when the server process has exited. */
  exited: Promise<void>;
  /** The last few KB the server wrote to stderr (diagnostics). */
  stderr(): string;
  close(): Promise<void>;
}

const servers: Server[] = [];
const cleanups: (() => void)[] = [];

async function startServer(name: string, dirs: { db: string; root: string }): Promise<Server> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI],
    env: { ...process.env, SIGNALBOX_DB: dirs.db, SIGNALBOX_ROOT: dirs.root } as Record<string, string>,
    stderr: "pipe",
  });
  // Drain stderr (a full pipe would block the server) and keep its tail.
  let err = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-4000);
  });
  const client = new Client({ name: `multiprocess-${name}`, version: "0.0.0" });
  let markExited: () => void = () => {};
  const exited = new Promise<void>((resolve) => (markExited = resolve));
  client.onclose = () => markExited();
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error(`${name}: no server pid`);
  const srv: Server = {
    name,
    client,
    pid,
    exited,
    stderr: () => err,
    close: async () => {
      await client.close().catch(() => {});
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
  servers.push(srv);
  return srv;
}

/** Call a tool; an `isError` result throws with the server's text and stderr tail. */
async function call<T>(srv: Server, name: string, args: Record<string, unknown>): Promise<T> {
  const res = await srv.client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS });
  if (res.isError) {
    const text = (res.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join(" ");
    throw new Error(`${srv.name} ${name}(${JSON.stringify(args)}) failed: ${text}\nstderr: ${srv.stderr()}`);
  }
  if (!res.structuredContent) throw new Error(`${srv.name} ${name}: no structuredContent`);
  return res.structuredContent as T;
}

function freshDirs(): { db: string; root: string } {
  const db = tempDir("signalbox-mp-db-");
  const root = tempDir("signalbox-mp-root-");
  cleanups.push(db.cleanup, root.cleanup);
  return { db: db.dir, root: root.dir };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const c of cleanups) c();
});

// ---------------------------------------------------------------------------
// The checker must be able to fail

describe("history checker", () => {
  const g = (
    agent: string,
    key: string,
    mode: Mode,
    lock_id: string,
    fencing_token: number,
    t: number,
    extra: Partial<HistoryEvent> = {},
  ): HistoryEvent => ({ type: "grant", t, agent, key, mode, lock_id, fencing_token, ...extra }) as HistoryEvent;
  const r = (agent: string, lock_id: string, t: number): HistoryEvent => ({ type: "release", t, agent, lock_id });

  it("passes a clean history: serial writers, shared readers, same agent, disjoint keys", () => {
    const events: HistoryEvent[] = [
      g("a", "src/a.ts", "write", "L1", 1, 0),
      r("a", "L1", 10),
      g("b", "src/", "write", "L2", 2, 11),
      g("b", "src/a.ts", "write", "L3", 3, 12), // same agent never conflicts with itself
      r("b", "L2", 20),
      r("b", "L3", 20),
      g("c", "src/a.ts", "read", "L4", 4, 21),
      g("d", "src/a.ts", "read", "L5", 5, 22), // read + read is fine
      g("e", "table:users", "write", "L6", 6, 22), // unrelated key
      g("f", "src/b.ts", "write", "L7", 7, 23), // disjoint file
      r("c", "L4", 30),
      r("d", "L5", 30),
      r("f", "L7", 30),
      g("g", "src/", "write", "L8", 8, 31),
      r("g", "L8", 40),
    ];
    // L6 is still held (end = +Infinity): nobody conflicting comes later.
    const c = checkHistory(events);
    expect(c.grants).toBe(8);
    expect(c.overlaps).toEqual([]);
    expect(c.duplicateTokens).toEqual([]);
    expect(c.nonMonotonicTokens).toEqual([]);
    expect(c.duplicateLockIds).toEqual([]);
    expect(c.unknownLockIds).toEqual([]);
  });

  it("flags a planted overlap: a writer granted while a reader of the covering dir still holds", () => {
    const events: HistoryEvent[] = [
      g("a", "src/", "read", "L1", 1, 0),
      g("b", "src/a.ts", "write", "L2", 2, 5),
      r("a", "L1", 10),
      r("b", "L2", 12),
      g("c", "table:users", "write", "L3", 3, 0),
      g("d", "table:users", "read", "L4", 4, 1),
    ];
    const c = checkHistory(events);
    expect(c.overlaps.map(({ a, b }) => [a.lock_id, b.lock_id])).toEqual(
      expect.arrayContaining([
        ["L1", "L2"],
        ["L3", "L4"],
      ]),
    );
    expect(c.overlaps).toHaveLength(2);
    expect(c.nonMonotonicTokens).toEqual([]);
  });

  it("flags a planted token inversion and a duplicate token between serial conflicting grants", () => {
    const events: HistoryEvent[] = [
      g("a", "src/a.ts", "write", "L1", 7, 0),
      r("a", "L1", 10),
      g("b", "src/a.ts", "read", "L2", 5, 11), // granted later with a smaller token
      r("b", "L2", 20),
      g("c", "src/b.ts", "write", "L3", 9, 0),
      r("c", "L3", 5),
      g("d", "src/b.ts", "write", "L4", 9, 6), // same token twice
      r("d", "L4", 8),
    ];
    const c = checkHistory(events);
    expect(c.overlaps).toEqual([]);
    expect(c.nonMonotonicTokens.map(({ a, b }) => [a.lock_id, b.lock_id])).toEqual(
      expect.arrayContaining([
        ["L1", "L2"],
        ["L3", "L4"],
      ]),
    );
    expect(c.duplicateTokens).toEqual([{ fencing_token: 9, lock_ids: ["L3", "L4"] }]);
  });

  it("ends an unreleased lock at its lease bound, moved by the last renewal", () => {
    const base: HistoryEvent[] = [
      g("a", "src/a.ts", "write", "L1", 1, 2, { sent_t: 0, lease_ms: 100 }),
      g("b", "src/a.ts", "write", "L2", 2, 150),
    ];
    expect(checkHistory(base).overlaps).toEqual([]);
    const renewed: HistoryEvent[] = [
      ...base,
      { type: "renew", t: 60, sent_t: 50, lease_ms: 200, agent: "a", lock_id: "L1" },
    ];
    const c = checkHistory(renewed);
    expect(c.overlaps).toHaveLength(1);
    expect(describePair(c.overlaps[0]!)).toContain("token 1");
    // A release of a lock never granted is a recorder bug and is reported.
    expect(checkHistory([...base, r("z", "nope", 3)]).unknownLockIds).toEqual(["nope"]);
  });

  it("records on the monotonic clock shared by processes", () => {
    const h = new History();
    const before = monoNow();
    h.grant("a", [{ key: "k", mode: "write", lock_id: "L", fencing_token: 1 }], { proc: "p0", lease_ms: 10, sent_t: before });
    h.release("a", ["L"]);
    const [grant, release] = h.events;
    expect(grant?.t).toBeGreaterThanOrEqual(before);
    expect(release?.t).toBeGreaterThanOrEqual(grant?.t ?? Number.POSITIVE_INFINITY);
    // process.hrtime is CLOCK_MONOTONIC: close to the system uptime, not to the epoch.
    expect(monoNow()).toBeLessThan(Date.now() / 10);
  });
});

// ---------------------------------------------------------------------------
// Real processes

describe("several server processes on one store", () => {
  it("hammer: 4 servers x 2 agents on a hot key set never double-grant", async () => {
    const started = monoNow();
    const dirs = freshDirs();
    // The agents here alternate writes on hot keys on purpose; that is exactly what the
    // S2 oscillation detector pauses (test/detectors.test.ts), so it is off for this run.
    fs.writeFileSync(path.join(dirs.root, "signalbox.config.json"), JSON.stringify({ control: { oscillation_window_ms: 0 } }));
    const SERVERS = 4;
    const AGENTS = 2;
    const RUN_MS = 6_000;
    const LEASE_MS = 5_000;
    const HOT = ["src/a.ts", "src/b.ts", "src/", "table:users"];

    const procs = await Promise.all(Array.from({ length: SERVERS }, (_, i) => startServer(`p${i}`, dirs)));
    const infos = await Promise.all(procs.map((p) => call<InfoOut>(p, "server_info", {})));
    expect(new Set(infos.map((i) => i.pid)).size).toBe(SERVERS);
    expect(new Set(infos.map((i) => i.store)).size).toBe(1);

    const history = new History();
    const stats = {
      requests: 0,
      grants: 0,
      waitedGrants: 0,
      queuedGrants: 0,
      refused: { conflict: 0, timeout: 0, deadlock: 0 } as Record<string, number>,
      verifies: 0,
      renewals: 0,
      releases: 0,
    };
    const problems: string[] = [];
    const problem = (msg: string) => {
      if (problems.length < 30) problems.push(msg);
    };
    let stop = false;
    const until = monoNow() + RUN_MS;

    const agentLoop = async (srv: Server, agent: string) => {
      try {
        while (!stop && monoNow() < until) {
          const keys = [...HOT].sort(() => Math.random() - 0.5).slice(0, randInt(1, 2));
          const mode: Mode = Math.random() < 0.5 ? "read" : "write";
          const wait = randInt(0, 300);
          const sent = monoNow();
          stats.requests++;
          const a = await call<AcquireOut>(srv, "acquire_lock", {
            agent_id: agent,
            paths: keys,
            mode,
            wait_ms: wait,
            lease_ms: LEASE_MS,
          });
          const t = monoNow();
          if (!a.granted) {
            stats.refused[a.reason ?? "null"] = (stats.refused[a.reason ?? "null"] ?? 0) + 1;
            if (a.reason === "deadlock") problem(`${agent}: deadlock refusal without any lock held: ${a.message}`);
            if (a.holders.length + a.queued_ahead.length === 0) problem(`${agent}: refusal naming nobody: ${a.message}`);
            if ([...a.holders, ...a.queued_ahead].some((h) => h.agent_id === agent)) {
              problem(`${agent}: refused because of itself: ${a.message}`);
            }
            continue;
          }
          stats.grants++;
          if (a.waited_ms > 0) stats.waitedGrants++;
          if (a.waited_ms >= 10) stats.queuedGrants++;
          history.grant(agent, a.locks, { t, sent_t: sent, lease_ms: LEASE_MS, proc: srv.name });
          if (a.locks.length !== keys.length) problem(`${agent}: asked ${keys.join(",")}, got ${a.locks.length} lock(s)`);
          for (const l of a.locks) {
            const v = await call<VerifyOut>(srv, "verify_lock", { lock_id: l.lock_id, fencing_token: l.fencing_token });
            stats.verifies++;
            if (!v.valid || v.status !== "current" || v.agent_id !== agent) {
              problem(`${agent}: verify_lock of fresh grant ${l.key} token ${l.fencing_token}: ${JSON.stringify(v)}`);
            }
          }
          await sleep(randInt(0, 15));
          const ids = a.locks.map((l) => l.lock_id);
          if (Math.random() < 0.25) {
            const rs = monoNow();
            const rn = await call<RenewOut>(srv, "renew_lease", { agent_id: agent, lock_ids: ids, lease_ms: LEASE_MS });
            stats.renewals++;
            if (rn.renewed.length !== ids.length || rn.stale.length !== 0) {
              problem(`${agent}: renew_lease of live locks: ${JSON.stringify(rn)}`);
            }
            history.renew(
              agent,
              rn.renewed.map((x) => x.lock_id),
              rs,
              LEASE_MS,
            );
          }
          history.release(agent, ids);
          const rel = await call<ReleaseOut>(srv, "release_lock", { agent_id: agent, lock_ids: ids });
          stats.releases++;
          const back = rel.released.map((x) => x.fencing_token).sort((x, y) => x - y);
          const mine = a.locks.map((l) => l.fencing_token).sort((x, y) => x - y);
          if (JSON.stringify(back) !== JSON.stringify(mine) || rel.stale.length || rel.not_held.length) {
            problem(`${agent}: release of ${JSON.stringify(a.locks)} answered ${JSON.stringify(rel)}`);
          }
        }
      } catch (err) {
        stop = true;
        problem(`${agent}@${srv.name} threw: ${(err as Error).message}`);
      }
    };

    await Promise.all(procs.flatMap((srv, i) => Array.from({ length: AGENTS }, (_, j) => agentLoop(srv, `p${i}-a${j}`))));
    const c = checkHistory(history.events);
    const elapsed = Math.round(monoNow() - started);
    const refusals = Object.values(stats.refused).reduce((x, y) => x + y, 0);
    const figures =
      `${elapsed} ms: ${stats.requests} requests, ${stats.grants} grants (${c.grants} keys; waited_ms > 0: ${stats.waitedGrants}, >= 10: ${stats.queuedGrants}), ` +
      `refused ${JSON.stringify(stats.refused)}, ${stats.verifies} verifies, ${stats.renewals} renewals, ${stats.releases} releases`;

    expect(problems, figures).toEqual([]);
    expect(c.overlaps.slice(0, 5).map(describePair), `double grants; ${figures}`).toEqual([]);
    expect(c.duplicateTokens.slice(0, 5), `duplicate tokens; ${figures}`).toEqual([]);
    expect(c.nonMonotonicTokens.slice(0, 5).map(describePair), `token inversions; ${figures}`).toEqual([]);
    expect(c.duplicateLockIds, figures).toEqual([]);
    expect(c.unknownLockIds, figures).toEqual([]);
    expect(stats.grants, `too few grants; ${figures}`).toBeGreaterThan(100);
    expect(refusals + stats.waitedGrants, `no contention at all; ${figures}`).toBeGreaterThan(0);
    expect(refusals, `no refusal at all; ${figures}`).toBeGreaterThan(0);
    expect(stats.queuedGrants, `no grant after queueing; ${figures}`).toBeGreaterThan(0);
    // Every agent made progress on every server.
    const perAgent = new Set(c.intervals.map((iv) => iv.agent));
    expect(perAgent.size, figures).toBe(SERVERS * AGENTS);
    expect(stats.releases, figures).toBe(stats.grants);

    await Promise.all(procs.map((p) => p.close()));
  });

  it("kill -9: a dead holder blocks until its lease ends, then its token is stale", async () => {
    const dirs = freshDirs();
    const LEASE_MS = 1_500;
    const KEY = "src/held.ts";
    const [doomed, survivor] = await Promise.all([startServer("doomed", dirs), startServer("survivor", dirs)]);
    const history = new History();

    const info = await call<InfoOut>(doomed, "server_info", {});
    expect(info.pid).toBe(doomed.pid);

    const sentA = monoNow();
    const a = await call<AcquireOut>(doomed, "acquire_lock", {
      agent_id: "dead-agent",
      paths: [KEY],
      mode: "write",
      lease_ms: LEASE_MS,
      feature_id: "F-doomed",
    });
    const grantedA = monoNow();
    expect(a.granted, a.message).toBe(true);
    const held = a.locks[0]!;
    history.grant("dead-agent", a.locks, { t: grantedA, sent_t: sentA, lease_ms: LEASE_MS, proc: "doomed" });
    // The lease ends no earlier than this instant (the server granted after sentA).
    const leaseFloor = sentA + LEASE_MS;

    process.kill(doomed.pid, "SIGKILL");
    await doomed.exited;
    expect(() => process.kill(doomed.pid, 0)).toThrow();

    // Right away: refused, naming the dead holder.
    const r0 = await call<AcquireOut>(survivor, "acquire_lock", {
      agent_id: "survivor",
      paths: [KEY],
      mode: "write",
      wait_ms: 0,
      lease_ms: 5_000,
    });
    const r0At = monoNow();
    expect(r0At, "machine too slow: the first check came after the lease ended").toBeLessThan(leaseFloor);
    expect(r0.granted, r0.message).toBe(false);
    expect(r0.reason).toBe("conflict");
    expect(r0.holders).toEqual([
      expect.objectContaining({ key: KEY, agent_id: "dead-agent", mode: "write", fencing_token: held.fencing_token }),
    ]);
    expect(r0.message).toContain("dead-agent");

    // The dead holder's grant is still current while its lease runs.
    const v0 = await call<VerifyOut>(survivor, "verify_lock", { lock_id: held.lock_id, fencing_token: held.fencing_token });
    const v0At = monoNow();
    expect(v0At, "machine too slow: verify came after the lease ended").toBeLessThan(leaseFloor);
    expect(v0).toMatchObject({ valid: true, status: "current", key: KEY, agent_id: "dead-agent" });

    // Queue for it: granted only once the lease has ended.
    const sentB = monoNow();
    expect(sentB, "machine too slow: the waiting acquire was sent after the lease ended").toBeLessThan(leaseFloor);
    const b = await call<AcquireOut>(survivor, "acquire_lock", {
      agent_id: "survivor",
      paths: [KEY],
      mode: "write",
      wait_ms: 5_000,
      lease_ms: 5_000,
    });
    const grantedB = monoNow();
    expect(b.granted, b.message).toBe(true);
    const mine = b.locks[0]!;
    history.grant("survivor", b.locks, { t: grantedB, sent_t: sentB, lease_ms: 5_000, proc: "survivor" });
    expect(b.waited_ms).toBeGreaterThan(0);
    // The lease was at least LEASE_MS from the original request; allow a few ms of rounding.
    expect(grantedB - sentA, `granted ${Math.round(grantedB - sentA)} ms after the dead grant`).toBeGreaterThanOrEqual(
      LEASE_MS - 5,
    );
    // ...and not absurdly late: the waiter polls, it must notice the expiry well before its wait ends.
    expect(grantedB - sentB).toBeLessThan(5_000);
    expect(mine.fencing_token).toBeGreaterThan(held.fencing_token);

    const v1 = await call<VerifyOut>(survivor, "verify_lock", { lock_id: held.lock_id, fencing_token: held.fencing_token });
    expect(v1).toMatchObject({ valid: false, status: "expired", key: KEY, agent_id: "dead-agent" });
    const v2 = await call<VerifyOut>(survivor, "verify_lock", { lock_id: mine.lock_id, fencing_token: mine.fencing_token });
    expect(v2).toMatchObject({ valid: true, status: "current", agent_id: "survivor" });

    // The recorded history (dead lock ending at its lease floor) is clean too.
    history.release("survivor", [mine.lock_id]);
    const rel = await call<ReleaseOut>(survivor, "release_lock", { agent_id: "survivor", lock_ids: [mine.lock_id] });
    expect(rel.released).toHaveLength(1);
    const c = checkHistory(history.events);
    expect(c.overlaps.map(describePair)).toEqual([]);
    expect(c.nonMonotonicTokens.map(describePair)).toEqual([]);

    await survivor.close();
  });
});
