/**
 * checkStore on a real LMDB store: a store written by the lock manager and
 * the decision log passes; hand-corrupted stores are caught, naming the key.
 */
import { afterEach, describe, expect, it } from "vitest";
import { appendDecision } from "../src/log/decisions.js";
import { LockManager } from "../src/locks/manager.js";
import { checkStore } from "../src/store/lmdb/check.js";
import { manualClock } from "../src/store/clock.js";
import { openStore, type LockRecord, type Store } from "../src/store/lmdb/store.js";
import { LockTable } from "../src/locks/table.js";
import { tempDir } from "./helpers/store.js";
import { lmdbTxn } from "../src/store/lmdb/engine.js";
import { lmdbAccess } from "../src/store/lmdb/engine.js";

const SETTINGS = { default_lease_ms: 10_000, max_lease_ms: 60_000, default_wait_ms: 0, max_wait_ms: 10_000 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A store with live and ended locks, a waiter and three decisions. */
async function populated(): Promise<{ store: Store; held: LockRecord }> {
  const tmp = tempDir("signalbox-check-");
  const store = openStore(tmp.dir);
  cleanups.push(tmp.cleanup, () => store.close());
  const clock = manualClock();
  const locks = new LockManager(lmdbAccess(store, clock), SETTINGS);
  const a = await locks.acquire({ agent_id: "a", keys: ["src/a.ts", "table:users"], mode: "write" });
  const b = await locks.acquire({ agent_id: "b", keys: ["src/b.ts"], mode: "read" });
  if (!a.granted || !b.granted) throw new Error("setup: grants expected");
  await locks.release("b", { lock_ids: b.locks.map((l) => l.lock_id) });
  for (const text of ["one", "two", "three"]) store.write(() => appendDecision(lmdbTxn(store), clock, { type: "other", decided_by: "a", context: text, decision: "ok" }));
  // A waiter queued on a held key (written as the lock manager would).
  const table = new LockTable(() => lmdbTxn(store));
  store.env.transactionSync(() => {
    table.putWaiter({
      seq: table.nextWaiterSeq(),
      agent_id: "c",
      feature_id: null,
      mode: "write",
      keys: ["src/a.ts"],
      pid: process.pid,
      boot: clock.bootId,
      enqueued_mono: clock.monoMs(),
      deadline_mono: clock.monoMs() + 5000,
      enqueued_at: new Date(clock.wallMs()).toISOString(),
    });
  });
  const held = table.getLock(a.locks[0]!.lock_id)!;
  return { store, held };
}

describe("checkStore", () => {
  it("passes a store written by the lock manager and the decision log", async () => {
    const { store } = await populated();
    const c = checkStore(store);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({ locks: { held: 2, ended: 1 }, index_entries: 4, waiters: 1, queue_entries: 1, decisions: 3, fencing_token: 3, recoveries: 0 });
  });

  it("catches a dangling index entry (record gone) and a held record missing from the index", async () => {
    const { store, held } = await populated();
    const table = new LockTable(() => lmdbTxn(store));
    const other = table.lockByToken(2)!;
    store.env.transactionSync(() => {
      table.deleteLock(held); // its H and A entries now dangle
      store.lockTable.removeSync(`H${other.key}\0${String(other.fencing_token).padStart(15, "0")}`);
    });
    const problems = checkStore(store).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^index entry "Hsrc\/a\.ts\\\\0000000000000001": no lock record with token 1 \(dangling\)$/),
        expect.stringMatching(/^agent index entry .*no lock record with token 1/),
        `held lock 2 on table:users: missing from the key index`,
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it("catches an index entry pointing at an ended lock, a lock without a lease and a low token counter", async () => {
    const { store, held } = await populated();
    const table = new LockTable(() => lmdbTxn(store));
    store.env.transactionSync(() => {
      table.putLock({ ...held, state: "released" });
      const other = table.lockByToken(2)!;
      table.putLock({ ...other, expires_mono: null as unknown as number });
      store.lockTable.putSync("#fencing_token", 1);
    });
    const problems = checkStore(store).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/lock 1 on src\/a\.ts is released, not held/),
        "held lock 2 on table:users: no lease (expires_mono null)",
        "#fencing_token is 1, below lock token 3",
      ]),
    );
  });

  it("catches a queue entry without its waiter, a waiter without its queue entry, and a gap in the decision log", async () => {
    const { store } = await populated();
    const table = new LockTable(() => lmdbTxn(store));
    store.env.transactionSync(() => {
      store.lockTable.putSync(`Qsrc/b.ts\0${"9".padStart(15, "0")}`, 9);
      store.lockTable.removeSync(`Qsrc/a.ts\0${"1".padStart(15, "0")}`);
      store.decisions.removeSync(2);
    });
    expect(table.getWaiter(1)).toBeDefined();
    const problems = checkStore(store).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^queue entry "Qsrc\/b\.ts.*no waiter 9 \(dangling\)$/),
        "waiter 1 (c): no queue entry for src/a.ts",
        "decision log: entry 3 where 2 was expected (gap or stray key)",
      ]),
    );
  });

  it("reports store recoveries from meta", async () => {
    const { store } = await populated();
    await store.meta.put("store_recoveries", 2);
    expect(checkStore(store).recoveries).toBe(2);
  });
});
