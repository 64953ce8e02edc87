/**
 * The conflict rules (src/locks/conflicts.ts) and the covering-key view
 * (src/locks/views.ts) on an in-memory lock table built from plain arrays:
 * no LMDB, no clock, no processes.
 */
import { describe, expect, it } from "vitest";
import {
  blockerSet,
  blockersOf,
  describeBlockers,
  findCycle,
  isBlocked,
  uniqueWaiters,
  waitForGraph,
  type Instant,
  type LockTableReader,
} from "../src/locks/conflicts.js";
import { liveLockRecordsCovering, lockStatus } from "../src/locks/views.js";
import type { LockRecord, WaiterRecord } from "../src/store/lmdb/store.js";

const BOOT = "boot-1";
const NOW = 1_000_000;
const at: Instant = { bootId: BOOT, now: NOW };
const pad = (n: number) => String(n).padStart(15, "0");

/** A held write/read lock on `key`, live until NOW + 10 s unless overridden. */
function lock(token: number, agent: string, key: string, mode: "read" | "write", over: Partial<LockRecord> = {}): LockRecord {
  return {
    lock_id: `${token}.secret${token}`,
    key,
    mode,
    agent_id: agent,
    feature_id: null,
    fencing_token: token,
    boot: BOOT,
    acquired_mono: NOW - 1000,
    expires_mono: NOW + 10_000,
    acquired_at: "2026-01-01T00:00:00.000Z",
    state: "held",
    ended_mono: null,
    ended_at: null,
    ...over,
  };
}

/** A waiter queued as ticket `seq` on `keys`, giving up at NOW + 10 s unless overridden. */
function waiter(seq: number, agent: string, keys: string[], mode: "read" | "write", over: Partial<WaiterRecord> = {}): WaiterRecord {
  return {
    seq,
    agent_id: agent,
    feature_id: null,
    mode,
    keys,
    pid: 100,
    boot: BOOT,
    enqueued_mono: NOW - 500,
    deadline_mono: NOW + 10_000,
    enqueued_at: "2026-01-01T00:00:00.500Z",
    ...over,
  };
}

/** A reader over plain arrays, with the index order of src/store/lmdb/lock-table.ts (key, then token / seq). */
function memoryReader(locks: LockRecord[], waiters: WaiterRecord[] = [], deadPids: number[] = []): LockTableReader {
  const held = locks
    .map((rec) => ({ index: `H${rec.key}\0${pad(rec.fencing_token)}`, token: rec.fencing_token }))
    .sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
  const queued = waiters
    .flatMap((w) => w.keys.map((key) => ({ index: `Q${key}\0${pad(w.seq)}`, seq: w.seq })))
    .sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
  return {
    heldUnder: (prefix) => held.filter((e) => e.index.startsWith(`H${prefix}`)),
    allHeld: () => held,
    queuedUnder: (prefix) => queued.filter((e) => e.index.startsWith(`Q${prefix}`)),
    lockByToken: (token) => locks.find((rec) => rec.fencing_token === token),
    getLock: (lockId) => locks.find((rec) => rec.lock_id === lockId),
    getWaiter: (seq) => waiters.find((w) => w.seq === seq),
    allWaiters: () => [...waiters].sort((a, b) => a.seq - b.seq),
    processAlive: ({ pid }) => !deadPids.includes(pid),
  };
}

const NOT_QUEUED = Number.POSITIVE_INFINITY;
const holderAgents = (reader: LockTableReader, agent: string, mode: "read" | "write", keys: string[], seq = NOT_QUEUED) =>
  blockersOf(reader, at, agent, mode, keys, seq).holders.map((h) => h.rec.agent_id);

describe("blockers of a request", () => {
  it("write excludes read on the same key and read excludes write; the requester's own locks never block it", () => {
    const readHeld = memoryReader([lock(1, "a", "x.ts", "read")]);
    expect(holderAgents(readHeld, "b", "write", ["x.ts"])).toEqual(["a"]);
    expect(holderAgents(readHeld, "a", "write", ["x.ts"])).toEqual([]);
    const writeHeld = memoryReader([lock(1, "a", "x.ts", "write")]);
    const b = blockersOf(writeHeld, at, "b", "read", ["x.ts"], NOT_QUEUED);
    expect(b.holders).toEqual([{ rec: lock(1, "a", "x.ts", "write"), requested: "x.ts" }]);
    expect(describeBlockers(b)).toBe('x.ts is write-locked by "a"');
    expect(holderAgents(writeHeld, "b", "read", ["y.ts"])).toEqual([]);
  });

  it("a folder lock covers every file key below it, and nothing beside it", () => {
    const reader = memoryReader([lock(1, "a", "app/", "write")]);
    const b = blockersOf(reader, at, "b", "read", ["app/actions/auth.ts"], NOT_QUEUED);
    expect(b.holders.map((h) => [h.rec.key, h.requested])).toEqual([["app/", "app/actions/auth.ts"]]);
    expect(describeBlockers(b)).toBe('app/ is write-locked by "a" (covers app/actions/auth.ts)');
    expect(holderAgents(reader, "b", "write", ["apple.ts", "table:app", "resource:app", "lib/app/x.ts"])).toEqual([]);
  });

  it("a folder request conflicts with a file held below it, at any depth, and not with its siblings", () => {
    const reader = memoryReader([lock(1, "c", "lib/a/b.ts", "write")]);
    expect(holderAgents(reader, "d", "read", ["lib/"])).toEqual(["c"]);
    expect(holderAgents(reader, "d", "read", ["lib/a/"])).toEqual(["c"]);
    expect(holderAgents(reader, "d", "read", ["lib/a/c.ts"])).toEqual([]);
    expect(holderAgents(reader, "d", "read", ["lib/ab/"])).toEqual([]);
  });

  it("readers share a key; a writer waits for all of them, each reported once", () => {
    const reader = memoryReader([lock(1, "a", "x.ts", "read"), lock(2, "b", "x.ts", "read"), lock(3, "b", "dir/", "read")]);
    expect(isBlocked(blockersOf(reader, at, "c", "read", ["x.ts", "dir/y.ts"], NOT_QUEUED))).toBe(false);
    const b = blockersOf(reader, at, "c", "write", ["x.ts", "x.ts", "dir/y.ts"], NOT_QUEUED);
    expect(b.holders.map((h) => h.rec.fencing_token)).toEqual([1, 2, 3]);
    expect([...blockerSet(b)].sort()).toEqual(["a", "b"]);
  });

  it("FIFO: an earlier conflicting waiter blocks a later request the holders would let through", () => {
    const reader = memoryReader([lock(1, "a", "x.ts", "read")], [waiter(5, "w", ["x.ts"], "write")]);
    const late = blockersOf(reader, at, "r", "read", ["x.ts"], NOT_QUEUED);
    expect(late.holders).toEqual([]);
    expect(uniqueWaiters(late).map((w) => w.agent_id)).toEqual(["w"]);
    expect(describeBlockers(late)).toBe('"w" is queued earlier for write on x.ts');
    // Queued ahead of the writer (ticket 4), the reader is not behind it.
    expect(isBlocked(blockersOf(reader, at, "r", "read", ["x.ts"], 4))).toBe(false);
    // The writer itself only waits for the holder, never for later tickets.
    const w = blockersOf(reader, at, "w", "write", ["x.ts"], 5);
    expect(w.holders.map((h) => h.rec.agent_id)).toEqual(["a"]);
    expect(w.waiters).toEqual([]);
  });

  it("an earlier waiter on a folder key blocks a later request on a file below it", () => {
    const reader = memoryReader([], [waiter(1, "w", ["app/"], "write")]);
    const b = blockersOf(reader, at, "r", "read", ["app/x.ts"], NOT_QUEUED);
    expect(b.waiters.map(({ w, requested }) => [w.agent_id, requested])).toEqual([["w", "app/x.ts"]]);
    expect(isBlocked(blockersOf(reader, at, "r", "read", ["lib/x.ts"], NOT_QUEUED))).toBe(false);
  });

  it("a lapsed lease, a lock of another boot and an ended lock block nobody, and are reported dead", () => {
    const lapsed = lock(1, "a", "x.ts", "write", { expires_mono: NOW });
    const otherBoot = lock(2, "a", "x.ts", "write", { boot: "boot-0" });
    const released = lock(3, "a", "x.ts", "write", { state: "released", ended_mono: NOW - 1 });
    const reader = memoryReader([lapsed, otherBoot, released]);
    const b = blockersOf(reader, at, "b", "write", ["x.ts"], NOT_QUEUED);
    expect(isBlocked(b)).toBe(false);
    expect(b.dead.locks.map((r) => r.fencing_token)).toEqual([1, 2]);
    expect(b.dead.entries).toEqual([`Hx.ts\0${pad(3)}`]);
    // One millisecond earlier the lease was live.
    expect(blockersOf(reader, { bootId: BOOT, now: NOW - 1 }, "b", "write", ["x.ts"], NOT_QUEUED).holders.map((h) => h.rec.fencing_token)).toEqual([1]);
  });

  it("a waiter past its deadline, or whose process died, blocks nobody", () => {
    const reader = memoryReader(
      [],
      [waiter(1, "late", ["x.ts"], "write", { deadline_mono: NOW }), waiter(2, "gone", ["x.ts"], "write", { pid: 666 })],
      [666],
    );
    const b = blockersOf(reader, at, "r", "read", ["x.ts"], NOT_QUEUED);
    expect(isBlocked(b)).toBe(false);
    expect(b.dead.waiters.map((w) => w.seq)).toEqual([1, 2]);
  });
});

describe("wait-for graph and deadlock cycle", () => {
  // a holds a.ts and waits for b.ts; b holds b.ts and waits for c.ts; c holds c.ts.
  const locks = [lock(1, "a", "a.ts", "write"), lock(2, "b", "b.ts", "write"), lock(3, "c", "c.ts", "write")];
  const waiters = [waiter(1, "a", ["b.ts"], "write"), waiter(2, "b", ["c.ts"], "write")];

  it("edges run from each waiting agent to the agents blocking its queued request", () => {
    const edgesOf = waitForGraph(memoryReader(locks, waiters), at);
    expect([...edgesOf("a")]).toEqual(["b"]);
    expect([...edgesOf("b")]).toEqual(["c"]);
    expect([...edgesOf("c")]).toEqual([]);
  });

  it("finds a 3-agent cycle, named in wait-for order", () => {
    const reader = memoryReader(locks, waiters);
    const b = blockersOf(reader, at, "c", "write", ["a.ts"], NOT_QUEUED);
    expect(findCycle(reader, at, "c", b)).toEqual(["c", "a", "b", "c"]);
  });

  it("finds no cycle when the chain does not lead back to the requester", () => {
    const reader = memoryReader(locks, waiters);
    const b = blockersOf(reader, at, "d", "write", ["a.ts"], NOT_QUEUED);
    expect(findCycle(reader, at, "d", b)).toBeNull();
  });

  it("a wait that has ended breaks the cycle", () => {
    const reader = memoryReader(locks, [waiter(1, "a", ["b.ts"], "write"), waiter(2, "b", ["c.ts"], "write", { deadline_mono: NOW })]);
    const b = blockersOf(reader, at, "c", "write", ["a.ts"], NOT_QUEUED);
    expect(findCycle(reader, at, "c", b)).toBeNull();
  });
});

describe("live locks covering a key (the view the hooks share)", () => {
  it("lists live locks on the key and on folder keys above it, never below or lapsed", () => {
    const reader = memoryReader([
      lock(1, "a", "src/a.ts", "write"),
      lock(2, "b", "src/", "read"),
      lock(3, "c", "src/a.ts", "read", { expires_mono: NOW - 1 }),
      lock(4, "d", "src/a.ts.bak", "write"),
      lock(5, "e", "src/sub/", "write"),
    ]);
    expect(liveLockRecordsCovering(reader, at, "src/a.ts").map((r) => r.fencing_token)).toEqual([1, 2]);
    expect(lockStatus(lock(3, "c", "src/a.ts", "read", { expires_mono: NOW - 1 }), at)).toBe("expired");
    expect(lockStatus(lock(1, "a", "src/a.ts", "write"), at)).toBe("current");
  });
});
