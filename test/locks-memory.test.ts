/**
 * The lock manager on an engine whose reads really are asynchronous
 * (src/store/memory/engine.ts): its decisions run inside `db.write`, which
 * re-runs them after every read the engine had not fetched and commits only
 * if nothing they read changed. Lease time and process liveness come from
 * the engine. No LMDB here.
 */
import { describe, expect, it } from "vitest";
import { LockManager, type AcquireRequest, type AcquireResult, type LockSettings, type WaitingInfo } from "../src/locks/manager.js";
import { MemoryEngine } from "../src/store/memory/engine.js";
import { memoryLocks } from "./helpers/memory-engine.js";

const SETTINGS: LockSettings = { default_lease_ms: 60_000, max_lease_ms: 600_000, default_wait_ms: 0, max_wait_ms: 10_000 };


function onMemory(): { engine: MemoryEngine; locks: LockManager } {
  const engine = new MemoryEngine();
  return { engine, locks: memoryLocks(engine, SETTINGS) };
}

describe("the lock manager on the in-memory engine", () => {
  it("grants one write lock to exactly one of 12 agents racing for it; the others are refused naming the holder", async () => {
    const { engine, locks } = onMemory();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => locks.acquire({ agent_id: `a${i}`, keys: ["src/app.ts"], mode: "write", wait_ms: 0 })));
    const granted = results.filter((r) => r.granted);
    expect(granted).toHaveLength(1);
    const winner = results.findIndex((r) => r.granted);
    for (const r of results) {
      if (r.granted) continue;
      expect(r.reason).toBe("conflict");
      expect(r.holders.map((h) => h.agent_id)).toEqual([`a${winner}`]);
    }
    // The decisions really went to the engine's backend and raced there.
    expect(engine.misses).toBeGreaterThan(0);
    expect(engine.conflicts).toBeGreaterThan(0);
  });

  it("shares read locks, and a folder write lock conflicts with a read lock below it", async () => {
    const { locks } = onMemory();
    const [r1, r2] = await Promise.all([
      locks.acquire({ agent_id: "a", keys: ["src/db/schema.ts"], mode: "read" }),
      locks.acquire({ agent_id: "b", keys: ["src/db/schema.ts"], mode: "read" }),
    ]);
    expect(r1.granted && r2.granted).toBe(true);
    const folder = await locks.acquire({ agent_id: "c", keys: ["src/db/"], mode: "write" });
    expect(folder.granted).toBe(false);
    if (!folder.granted) expect(folder.holders.map((h) => h.agent_id).sort()).toEqual(["a", "b"]);
  });

  it("is all or nothing: a request whose second key is held takes neither", async () => {
    const { locks } = onMemory();
    expect((await locks.acquire({ agent_id: "a", keys: ["b.ts"], mode: "write" })).granted).toBe(true);
    expect((await locks.acquire({ agent_id: "b", keys: ["a.ts", "b.ts"], mode: "write" })).granted).toBe(false);
    expect((await locks.acquire({ agent_id: "c", keys: ["a.ts"], mode: "write" })).granted).toBe(true);
  });

  it("never has two holders of one key across 6 agents' concurrent grant/release cycles, and fencing tokens only rise", async () => {
    const { locks } = onMemory();
    let holder: string | null = null;
    let overlaps = 0;
    const tokens: number[] = [];
    const agent = async (id: string) => {
      for (let cycle = 0; cycle < 5; ) {
        const r = await locks.acquire({ agent_id: id, keys: ["shared.ts"], mode: "write", wait_ms: 0 });
        if (!r.granted) {
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        if (holder !== null) overlaps++;
        holder = id;
        const token = r.locks[0]?.fencing_token ?? 0;
        expect(token).toBeGreaterThan(Math.max(0, ...tokens));
        tokens.push(token);
        holder = null;
        const released = await locks.release(id, { all: true });
        expect(released.released.map((l) => l.fencing_token)).toEqual([token]);
        cycle++;
      }
    };
    await Promise.all(["a", "b", "c", "d", "e", "f"].map(agent));
    expect(overlaps).toBe(0);
    expect(tokens).toHaveLength(30);
    expect(new Set(tokens).size).toBe(30);
  });

  it("judges leases on the engine's clock: a lapsed lease frees the key, and its holder's release is told it went stale", async () => {
    const { engine, locks } = onMemory();
    const first = await locks.acquire({ agent_id: "a", keys: ["k.ts"], mode: "write", lease_ms: 1_000 });
    expect(first.granted).toBe(true);
    expect((await locks.acquire({ agent_id: "b", keys: ["k.ts"], mode: "write" })).granted).toBe(false);
    engine.advance(1_001);
    const second = await locks.acquire({ agent_id: "b", keys: ["k.ts"], mode: "write" });
    expect(second.granted).toBe(true);
    if (first.granted && second.granted) expect(second.locks[0]?.fencing_token).toBeGreaterThan(first.locks[0]?.fencing_token ?? 0);
    const late = await locks.release("a", { all: true });
    expect(late.released).toEqual([]);
  });

  it("queues waiters FIFO and grants each when the key frees, waking them on this process's release", async () => {
    const { locks } = onMemory();
    const first = await locks.acquire({ agent_id: "a", keys: ["q.ts"], mode: "write" });
    expect(first.granted).toBe(true);
    const order: string[] = [];
    const waiter = (id: string) => {
      const w = queue(locks, { agent_id: id, keys: ["q.ts"], mode: "write", wait_ms: 5_000 });
      const done = w.result.then(async (r) => {
        order.push(id);
        if (r.granted) await locks.release(id, { all: true });
        return r;
      });
      return { queued: w.queued, done };
    };
    const b = waiter("b");
    await b.queued;
    const c = waiter("c");
    await c.queued;
    await locks.release("a", { all: true });
    const [rb, rc] = await Promise.all([b.done, c.done]);
    expect(rb.granted && rc.granted).toBe(true);
    expect(order).toEqual(["b", "c"]);
    if (rb.granted && rc.granted) expect(rc.locks[0]?.fencing_token).toBeGreaterThan(rb.locks[0]?.fencing_token ?? 0);
  });

  it("refuses the request that would close a wait-for cycle as a deadlock, naming the cycle", async () => {
    const { locks } = onMemory();
    await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write" });
    await locks.acquire({ agent_id: "b", keys: ["y.ts"], mode: "write" });
    const aWaits = queue(locks, { agent_id: "a", keys: ["y.ts"], mode: "write", wait_ms: 5_000 });
    await aWaits.queued;
    const bWaits = await locks.acquire({ agent_id: "b", keys: ["x.ts"], mode: "write", wait_ms: 5_000 });
    expect(bWaits.granted).toBe(false);
    if (!bWaits.granted) {
      expect(bWaits.reason).toBe("deadlock");
      expect(bWaits.cycle).toEqual(["b", "a", "b"]);
    }
    await locks.release("b", { all: true });
    expect((await aWaits.result).granted).toBe(true);
  });

  it("ends a wait at its deadline on the engine's clock, and the waiter leaves the queue", async () => {
    const { engine, locks } = onMemory();
    await locks.acquire({ agent_id: "a", keys: ["t.ts"], mode: "write" });
    const waiting = queue(locks, { agent_id: "b", keys: ["t.ts"], mode: "write", wait_ms: 1_000 });
    await waiting.queued;
    engine.advance(1_001);
    const r = await waiting.result;
    expect(r.granted).toBe(false);
    if (!r.granted) expect(r.reason).toBe("timeout");
    // Nobody waits any more: a third agent queued behind the key is first in line.
    const third = queue(locks, { agent_id: "c", keys: ["t.ts"], mode: "write", wait_ms: 5_000 });
    expect((await third.queued).position).toBe(1);
    await locks.release("a", { all: true });
    expect((await third.result).granted).toBe(true);
  });
});

/** Start a waiting acquire: `queued` resolves with its first progress report (it is in the queue), `result` with the answer. */
function queue(locks: LockManager, req: AcquireRequest): { queued: Promise<WaitingInfo>; result: Promise<AcquireResult> } {
  let reported: (w: WaitingInfo) => void = () => undefined;
  const queued = new Promise<WaitingInfo>((resolve) => (reported = resolve));
  const result = locks.acquire({ ...req, onWaiting: (w) => reported(w) });
  return { queued, result };
}
