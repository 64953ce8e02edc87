import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockManager, type AcquireResult } from "../src/locks/manager.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { openStore, type Store } from "../src/store/lmdb/store.js";
import { tempDir } from "./helpers/store.js";
import { lmdbAccess } from "../src/store/lmdb/engine.js";

const settings = { default_lease_ms: 10_000, max_lease_ms: 60_000, default_wait_ms: 0, max_wait_ms: 30_000 };

let store: Store;
let clock: ManualClock;
let locks: LockManager;
let cleanup: () => void;

beforeEach(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  store = openStore(t.dir);
  clock = manualClock();
  locks = new LockManager(lmdbAccess(store, clock), settings);
});
afterEach(async () => {
  await store.close();
  cleanup();
});

function granted(r: AcquireResult) {
  if (!r.granted) throw new Error(`expected a grant, got ${r.reason}: ${r.message}`);
  return r.locks;
}

const tick = () => new Promise((r) => setTimeout(r, 40));

describe("shared and exclusive locks", () => {
  it("grants read locks to several agents at once", async () => {
    granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "read" }));
    granted(await locks.acquire({ agent_id: "b", keys: ["x.ts"], mode: "read" }));
    expect(locks.list().locks).toHaveLength(2);
  });

  it("refuses a write while another agent reads, naming the holder", async () => {
    granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "read", feature_id: "F1" }));
    const r = await locks.acquire({ agent_id: "b", keys: ["x.ts"], mode: "write" });
    expect(r.granted).toBe(false);
    if (r.granted) return;
    expect(r.reason).toBe("conflict");
    expect(r.holders).toEqual([
      expect.objectContaining({ key: "x.ts", agent_id: "a", mode: "read", feature_id: "F1" }),
    ]);
    expect(r.message).toContain('"a"');
  });

  it("refuses a read while another agent writes, but not to the writer itself", async () => {
    granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write" }));
    expect((await locks.acquire({ agent_id: "b", keys: ["x.ts"], mode: "read" })).granted).toBe(false);
    expect((await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "read" })).granted).toBe(true);
  });

  it("a directory key conflicts with keys below it, both ways; tables do not overlap files", async () => {
    granted(await locks.acquire({ agent_id: "a", keys: ["app/"], mode: "write" }));
    const below = await locks.acquire({ agent_id: "b", keys: ["app/actions/auth.ts"], mode: "read" });
    expect(below.granted).toBe(false);
    if (!below.granted) expect(below.holders[0]).toMatchObject({ key: "app/", requested: "app/actions/auth.ts" });
    granted(await locks.acquire({ agent_id: "b", keys: ["apple.ts", "table:app", "resource:app"], mode: "write" }));
    granted(await locks.acquire({ agent_id: "c", keys: ["lib/a/b.ts"], mode: "write" }));
    expect((await locks.acquire({ agent_id: "d", keys: ["lib/"], mode: "read" })).granted).toBe(false);
    expect((await locks.acquire({ agent_id: "d", keys: ["lib/a/c.ts"], mode: "read" })).granted).toBe(true);
  });

  it("grants all keys or none", async () => {
    granted(await locks.acquire({ agent_id: "a", keys: ["b.ts"], mode: "write" }));
    const r = await locks.acquire({ agent_id: "b", keys: ["a.ts", "b.ts"], mode: "write" });
    expect(r.granted).toBe(false);
    // a.ts was not half-granted to b.
    granted(await locks.acquire({ agent_id: "c", keys: ["a.ts"], mode: "write" }));
  });

  it("hands out strictly increasing fencing tokens", async () => {
    const tokens: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [l] = granted(await locks.acquire({ agent_id: `a${i}`, keys: ["k.ts", `own${i}.ts`], mode: "read" }));
      tokens.push(l!.fencing_token);
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
  });
});

describe("leases", () => {
  it("frees a lock when its lease ends; the old token is stale everywhere", async () => {
    const [old] = granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write", lease_ms: 1000 }));
    expect(locks.verify(old!.lock_id, old!.fencing_token)).toMatchObject({ valid: true, status: "current" });
    clock.advance(1001);
    const [next] = granted(await locks.acquire({ agent_id: "b", keys: ["x.ts"], mode: "write" }));
    expect(next!.fencing_token).toBeGreaterThan(old!.fencing_token);
    expect(locks.verify(old!.lock_id, old!.fencing_token)).toMatchObject({ valid: false, status: "expired" });
    expect(locks.renew("a", [old!.lock_id]).stale).toEqual([{ key: "x.ts", lock_id: old!.lock_id, status: "expired" }]);
    const rel = await locks.release("a", { lock_ids: [old!.lock_id] });
    expect(rel.released).toEqual([]);
    expect(rel.stale[0]).toMatchObject({ status: "expired" });
    expect(locks.verify(next!.lock_id, next!.fencing_token).valid).toBe(true);
  });

  it("renew extends a live lease so the lock survives past the first expiry", async () => {
    const [l] = granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write", lease_ms: 1000 }));
    clock.advance(800);
    const r = locks.renew("a", undefined, 1000);
    expect(r.renewed.map((x) => x.lock_id)).toEqual([l!.lock_id]);
    clock.advance(800);
    expect(locks.verify(l!.lock_id, l!.fencing_token).valid).toBe(true);
    expect((await locks.acquire({ agent_id: "b", keys: ["x.ts"], mode: "read" })).granted).toBe(false);
  });

  it("renew never shortens a lease: the later expiry wins", async () => {
    const [l] = granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write", lease_ms: 1000 }));
    const before = l!.expires_at;
    expect(locks.renew("a", [l!.lock_id], 100).renewed[0]!.expires_at).toBe(before);
    clock.advance(500);
    expect(locks.verify(l!.lock_id, l!.fencing_token).valid).toBe(true);
    clock.advance(501);
    expect(locks.verify(l!.lock_id, l!.fencing_token).status).toBe("expired");
  });

  it("rejects leases and waits outside the configured bounds, naming the field", async () => {
    await expect(locks.acquire({ agent_id: "a", keys: ["x"], mode: "read", lease_ms: 60_001 })).rejects.toThrow(/lease_ms/);
    await expect(locks.acquire({ agent_id: "a", keys: ["x"], mode: "read", wait_ms: 30_001 })).rejects.toThrow(/wait_ms/);
  });
});

describe("release and renew belong to the holder", () => {
  it("refuses to release another agent's lock by id or path and releases nothing", async () => {
    const [l] = granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write", feature_id: "F" }));
    await expect(locks.release("b", { lock_ids: [l!.lock_id] })).rejects.toThrow(/belongs to agent "a".*feature F.*not to "b"/);
    await expect(locks.release("b", { keys: ["x.ts"] })).rejects.toThrow(/belongs to agent "a"/);
    expect(() => locks.renew("b", [l!.lock_id])).toThrow(/^lock_ids: renew refused|only the holder/i);
    expect(locks.verify(l!.lock_id, l!.fencing_token).valid).toBe(true);
  });

  it("says which paths nobody holds instead of a silent zero", async () => {
    const r = await locks.release("a", { keys: ["nothing.ts"] });
    expect(r).toEqual({ released: [], stale: [], not_held: ["nothing.ts"] });
  });

  it("releases by path and all", async () => {
    granted(await locks.acquire({ agent_id: "a", keys: ["x.ts", "y.ts"], mode: "write" }));
    granted(await locks.acquire({ agent_id: "a", keys: ["z.ts"], mode: "read" }));
    expect((await locks.release("a", { keys: ["x.ts"] })).released.map((l) => l.key)).toEqual(["x.ts"]);
    expect((await locks.release("a", { all: true })).released.map((l) => l.key).sort()).toEqual(["y.ts", "z.ts"]);
    expect(locks.list().locks).toEqual([]);
  });

  it("requires exactly one selector", async () => {
    await expect(locks.release("a", {})).rejects.toThrow(/exactly one/);
    await expect(locks.release("a", { all: true, keys: ["x"] })).rejects.toThrow(/exactly one/);
  });

  it("verify reports unknown ids and mismatched tokens", async () => {
    const [l] = granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write" }));
    expect(locks.verify("nope", 1).status).toBe("unknown");
    expect(locks.verify(l!.lock_id, l!.fencing_token + 1)).toMatchObject({ valid: false, status: "token_mismatch" });
    await locks.release("a", { all: true });
    expect(locks.verify(l!.lock_id, l!.fencing_token)).toMatchObject({ valid: false, status: "released" });
  });
});

describe("FIFO queue", () => {
  it("serves waiters in arrival order and does not let a new reader pass a queued writer", async () => {
    granted(await locks.acquire({ agent_id: "w1", keys: ["x.ts"], mode: "write" }));
    const order: string[] = [];
    const r1 = locks.acquire({ agent_id: "r1", keys: ["x.ts"], mode: "read", wait_ms: 20_000 }).then((r) => {
      order.push("r1");
      return r;
    });
    await tick();
    const w2 = locks.acquire({ agent_id: "w2", keys: ["x.ts"], mode: "write", wait_ms: 20_000 }).then((r) => {
      order.push("w2");
      return r;
    });
    await tick();
    // A reader arriving now conflicts with the queued writer w2 and must not jump ahead.
    const late = await locks.acquire({ agent_id: "r2", keys: ["x.ts"], mode: "read" });
    expect(late.granted).toBe(false);
    if (!late.granted) expect(late.queued_ahead.map((q) => q.agent_id)).toContain("w2");
    expect(locks.list().waiters.map((w) => w.agent_id)).toEqual(["r1", "w2"]);

    await locks.release("w1", { all: true });
    granted(await r1);
    await tick();
    expect(order).toEqual(["r1"]);
    await locks.release("r1", { all: true });
    granted(await w2);
    expect(order).toEqual(["r1", "w2"]);
    expect(locks.list().waiters).toEqual([]);
  });

  it("times out when the wait ends, leaving the queue", async () => {
    granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write" }));
    const p = locks.acquire({ agent_id: "b", keys: ["x.ts"], mode: "write", wait_ms: 1000 });
    await tick();
    expect(locks.list().waiters).toHaveLength(1);
    clock.advance(1001);
    const r = await p;
    expect(r).toMatchObject({ granted: false, reason: "timeout" });
    expect(locks.list().waiters).toEqual([]);
  });

  it("leaves the queue when the caller aborts", async () => {
    granted(await locks.acquire({ agent_id: "a", keys: ["x.ts"], mode: "write" }));
    const ac = new AbortController();
    const p = locks.acquire({ agent_id: "b", keys: ["x.ts"], mode: "write", wait_ms: 20_000, signal: ac.signal });
    await tick();
    ac.abort();
    await expect(p).rejects.toThrow(/cancelled/);
    expect(locks.list().waiters).toEqual([]);
  });
});

describe("deadlocks", () => {
  it("refuses the request that closes a two-agent wait-for cycle, naming it", async () => {
    granted(await locks.acquire({ agent_id: "A", keys: ["x.ts"], mode: "write" }));
    granted(await locks.acquire({ agent_id: "B", keys: ["y.ts"], mode: "write" }));
    const aWaits = locks.acquire({ agent_id: "A", keys: ["y.ts"], mode: "write", wait_ms: 20_000 });
    await tick();
    const r = await locks.acquire({ agent_id: "B", keys: ["x.ts"], mode: "write", wait_ms: 20_000 });
    expect(r).toMatchObject({ granted: false, reason: "deadlock", cycle: ["B", "A", "B"] });
    await locks.release("B", { all: true });
    granted(await aWaits);
  });

  it("finds a three-agent cycle", async () => {
    granted(await locks.acquire({ agent_id: "A", keys: ["a"], mode: "write" }));
    granted(await locks.acquire({ agent_id: "B", keys: ["b"], mode: "write" }));
    granted(await locks.acquire({ agent_id: "C", keys: ["c"], mode: "write" }));
    const p1 = locks.acquire({ agent_id: "A", keys: ["b"], mode: "write", wait_ms: 20_000 });
    await tick();
    const p2 = locks.acquire({ agent_id: "B", keys: ["c"], mode: "write", wait_ms: 20_000 });
    await tick();
    const r = await locks.acquire({ agent_id: "C", keys: ["a"], mode: "write", wait_ms: 20_000 });
    expect(r).toMatchObject({ granted: false, reason: "deadlock", cycle: ["C", "A", "B", "C"] });
    await locks.release("C", { all: true });
    granted(await p2);
    await locks.release("B", { all: true });
    granted(await p1);
  });

  it("stays silent when waiting does not close a cycle", async () => {
    granted(await locks.acquire({ agent_id: "A", keys: ["x"], mode: "write" }));
    const p = locks.acquire({ agent_id: "B", keys: ["x"], mode: "write", wait_ms: 20_000 });
    await tick();
    const r = locks.acquire({ agent_id: "C", keys: ["x"], mode: "write", wait_ms: 20_000 });
    await tick();
    expect(locks.list().waiters.map((w) => w.agent_id)).toEqual(["B", "C"]);
    await locks.release("A", { all: true });
    granted(await p);
    await locks.release("B", { all: true });
    granted(await r);
  });
});

describe("housekeeping", () => {
  it("sweep expires lapsed locks and forgets old tombstones", async () => {
    const [l] = granted(await locks.acquire({ agent_id: "a", keys: ["x"], mode: "write", lease_ms: 100 }));
    clock.advance(200);
    expect(locks.sweep()).toBe(1);
    expect(locks.verify(l!.lock_id, l!.fencing_token).status).toBe("expired");
    clock.advance(3_600_001);
    locks.sweep();
    expect(locks.verify(l!.lock_id, l!.fencing_token).status).toBe("unknown");
  });

  it("treats a lock from another boot as expired", async () => {
    const [l] = granted(await locks.acquire({ agent_id: "a", keys: ["x"], mode: "write" }));
    const rebooted = new LockManager(lmdbAccess(store, manualClock("other-boot")), settings);
    expect(rebooted.verify(l!.lock_id, l!.fencing_token).status).toBe("expired");
    expect((await rebooted.acquire({ agent_id: "b", keys: ["x"], mode: "write" })).granted).toBe(true);
  });
});
