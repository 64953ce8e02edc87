/**
 * Group commit (src/store/lmdb/engine.ts): calls that arrive together are
 * committed in one LMDB write transaction, each in its own child
 * transaction, and no call resolves before that commit returned. Through
 * the lock manager on a real store, and a second process reading the store.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockManager } from "../src/locks/manager.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { openStore, type Store } from "../src/store/lmdb/store.js";
import { LmdbEngine, lmdbAccess, lmdbTxn } from "../src/store/lmdb/engine.js";
import { collection, text } from "../src/store/port.js";
import { Db } from "../src/store/txn.js";
import { tempDir } from "./helpers/store.js";

const STORE_INDEX = fileURLToPath(new URL("../dist/src/store/lmdb/store.js", import.meta.url));
const settings = { default_lease_ms: 60_000, max_lease_ms: 60_000, default_wait_ms: 0, max_wait_ms: 1_000 };
const probes = collection<number>()("features", "Z", "probe", [text]);
const bulk = collection<string>()("features", "Y", "bulk", [text]);

let store: Store;
let clock: ManualClock;
let engine: LmdbEngine;
let locks: LockManager;
let dir: string;
let cleanup: () => void;

beforeEach(() => {
  const t = tempDir();
  dir = t.dir;
  cleanup = t.cleanup;
  store = openStore(t.dir);
  clock = manualClock();
  engine = new LmdbEngine(store, clock);
  locks = new LockManager(lmdbAccess(store, clock, { engine }), settings);
});
afterEach(async () => {
  await engine.close();
  cleanup();
});

describe("group commit", () => {
  it("commits 16 concurrent grants in fewer transactions than calls, each with its own rising fencing token", async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, a) => locks.acquire({ agent_id: `agent-${a}`, keys: [`src/f${a}.ts`], mode: "write" })),
    );
    const tokens = results.map((r) => (r.granted ? r.locks[0]!.fencing_token : -1));
    expect(tokens.every((t) => t > 0)).toBe(true);
    expect(new Set(tokens).size).toBe(16);
    expect(engine.stats.calls).toBe(16);
    expect(engine.stats.commits).toBeLessThan(16);
    expect(engine.stats.largest).toBeGreaterThan(1);
    expect(locks.list().locks).toHaveLength(16);
  });

  it("still decides conflicting requests of one batch one after another: one grant, the rest refused", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, a) => locks.acquire({ agent_id: `agent-${a}`, keys: ["src/hot.ts"], mode: "write" })));
    expect(results.filter((r) => r.granted)).toHaveLength(1);
    expect(results.filter((r) => !r.granted && r.reason === "conflict")).toHaveLength(7);
    expect(engine.stats.largest).toBeGreaterThan(1);
  });

  it("a call that fails undoes only its own writes; the others of its batch commit", async () => {
    const db = new Db(engine);
    const outcomes = await Promise.allSettled([
      db.write((tx) => tx.put(probes, ["a"], 1)),
      db.write((tx) => {
        tx.put(probes, ["b"], 2);
        throw new Error("refused");
      }),
      db.write((tx) => tx.put(probes, ["c"], 3)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error("refused"));
    expect(engine.stats.largest).toBe(3);
    expect(await db.read((tx) => [tx.get(probes, ["a"]), tx.get(probes, ["b"]), tx.get(probes, ["c"])])).toEqual([1, undefined, 3]);
  });

  it("resolves only after the commit: another process sees the grant as soon as acquire resolves", async () => {
    const r = await locks.acquire({ agent_id: "alice", keys: ["src/seen.ts"], mode: "write" });
    expect(r.granted).toBe(true);
    const script =
      `const { openStore } = await import(${JSON.stringify(STORE_INDEX)});` +
      `const s = openStore(${JSON.stringify(dir)});` +
      `const keys = [...s.lockTable.getRange({ start: "H", end: "I" })].map((e) => e.key.split("\\0")[0]);` +
      `process.stdout.write(JSON.stringify(keys)); await s.close();`;
    const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(JSON.parse(out.stdout)).toEqual(["Hsrc/seen.ts"]);
  });

  it("releases share the batch's transaction, and all of them commit", async () => {
    const held = await Promise.all(Array.from({ length: 4 }, (_, a) => locks.acquire({ agent_id: `a${a}`, keys: [`src/r${a}.ts`], mode: "write" })));
    const commitsBefore = engine.stats.commits;
    const released = await Promise.all(
      held.map((r, a) => locks.release(`a${a}`, { lock_ids: r.granted ? r.locks.map((l) => l.lock_id) : [] })),
    );
    expect(released.map((r) => r.released.length)).toEqual([1, 1, 1, 1]);
    expect(engine.stats.commits - commitsBefore).toBeLessThan(4);
    expect(locks.list().locks).toEqual([]);
  });

  it("with group commit off, every call is a commit of its own", async () => {
    const single = new LmdbEngine(store, clock, { groupCommit: false });
    const own = new LockManager(lmdbAccess(store, clock, { engine: single }), settings);
    await Promise.all(Array.from({ length: 5 }, (_, a) => own.acquire({ agent_id: `s${a}`, keys: [`src/s${a}.ts`], mode: "write" })));
    expect(single.stats).toEqual({ commits: 5, calls: 5, largest: 1 });
  });

  it("with group commit off, a call commits within the call; one made inside a running transaction waits until that one is committed", async () => {
    const single = new LmdbEngine(store, clock, { groupCommit: false });
    const db = new Db(single);
    const before = store.lastTxnId();
    const now = db.write((tx) => tx.put(probes, ["now"], 1));
    // Committed before the caller awaited anything.
    expect(store.lastTxnId()).toBe(before + 1);
    await now;
    let inner: Promise<void> | null = null;
    let innerDoneInside = false;
    store.write(() => {
      inner = db.write((tx) => tx.put(probes, ["inner"], 2)).then(() => {
        innerDoneInside = store.inTransaction();
      });
      lmdbTxn(store).put(probes, ["outer"], 0);
      expect(store.inTransaction()).toBe(true);
    });
    await inner;
    expect(innerDoneInside).toBe(false);
    // The inner call got a commit of its own after the enclosing one.
    expect(store.lastTxnId()).toBe(before + 3);
    expect(single.stats.commits).toBe(2);
  });

  it("at the store's quota a mixed batch refuses its plain calls and still commits its housekeeping ones", async () => {
    const t = tempDir();
    const full = openStore(t.dir, { limits: { disk_reserve_mb: 0, store_mb: 1 } });
    const fullEngine = new LmdbEngine(full, clock);
    const db = new Db(fullEngine);
    try {
      const fill = "y".repeat(200 * 1024);
      let refused: unknown = null;
      for (let i = 0; i < 20 && refused === null; i++) {
        await db.write((tx) => tx.put(probes, [`fill${i}`], fill.length)).catch((err: unknown) => (refused = err));
        await db.write((tx) => tx.put(bulk, [`fill${i}`], fill)).catch((err: unknown) => (refused = err));
        // The quota is looked at every QUOTA_CHECK_MS (store/lmdb/guard.ts): wait past it.
        await new Promise((r) => setTimeout(r, 260));
      }
      expect(refused).toMatchObject({ code: "store_full" });
      const [plain, housekeeping] = await Promise.allSettled([
        db.write((tx) => tx.put(probes, ["plain"], 1)),
        db.write((tx) => tx.put(probes, ["housekeeping"], 2), { housekeeping: true }),
      ]);
      expect(plain.status).toBe("rejected");
      expect((plain as PromiseRejectedResult).reason).toMatchObject({ code: "store_full" });
      expect(housekeeping.status).toBe("fulfilled");
      expect(await db.read((tx) => [tx.get(probes, ["plain"]), tx.get(probes, ["housekeeping"])])).toEqual([undefined, 2]);
    } finally {
      await fullEngine.close();
      t.cleanup();
    }
  });
});
