/**
 * Store conformance: one suite every engine of the store port (src/store/port.ts)
 * passes, run once per engine, plus what only the memory engine can show
 * (asynchronous reads, re-runs, conflicts).
 *
 * Collections live in the store's named databases (store/lmdb/store.ts `DB_NAMES`),
 * so the LMDB engine can hold them: number keys in `decisions`, string keys
 * elsewhere, each test collection under a prefix of its own.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { manualClock } from "../src/store/clock.js";
import { openStore } from "../src/store/lmdb/store.js";
import { lmdbEngine } from "../src/store/lmdb/engine.js";
import { MemoryEngine } from "../src/store/memory/engine.js";
import { collection, numberCollection, pad6, prefixEnd, seq12, text, type EngineWriter, type RawKey, type RawRange, type StoreEngine } from "../src/store/port.js";
import { Db, type Entry } from "../src/store/txn.js";
import { tempDir } from "./helpers/store.js";

// ---------------------------------------------------------------------------
// Collections

interface Feature {
  id: string;
  title: string;
  tags?: string[];
}

/** Records under one text part, and a neighbour with another prefix in the same database. */
const features = collection<Feature>()("features", "cf1:", "conformance", [text]);
const otherFeatures = collection<Feature>()("features", "cf2:", "other", [text]);
/** A collection whose prefix is exactly the exclusive upper bound of `features` ("cf1;"): its key [""] is that bound. */
const pastFeatures = collection<Feature>()("features", prefixEnd("cf1:"), "past", [text]);

/** Multi-part keys: a path-like name, a sequence number, an attempt. */
const events = collection<{ n: number }>()("agents", "ce:", "events", [text, seq12, pad6]);
/** A collection whose prefix is the exclusive upper bound of `events` keys under first part "a1". */
const pastA1 = collection<{ n: number }>()("agents", "ce:a1\u0001", "past", [text]);

const counters = collection<number>()("meta", "cc:", "counters", [text]);
const pair = collection<number>()("signals", "cp:", "pair", [text]);
const names = collection<string>()("messages", "cu:", "utf8", [text]);
const decisions = numberCollection<{ seq: number }>("decisions", "conformance");

// ---------------------------------------------------------------------------
// Engines

interface OpenEngine {
  engine: StoreEngine;
  dispose(): Promise<void>;
}

/** Every engine the suite runs against: a name and how to open a fresh, empty one (LMDB: a store in a temporary folder, on a manual clock). */
const ENGINES: { name: string; open(): OpenEngine }[] = [
  {
    name: "memory",
    open() {
      const engine = new MemoryEngine();
      return { engine, dispose: () => engine.close() };
    },
  },
  {
    name: "lmdb",
    open() {
      const tmp = tempDir("signalbox-conformance-");
      const engine = lmdbEngine(openStore(tmp.dir), manualClock());
      return {
        engine,
        async dispose() {
          await engine.close();
          tmp.cleanup();
        },
      };
    },
  },
];

// ---------------------------------------------------------------------------
// Helpers

/** The keys of typed entries. */
const keysOf = <K>(entries: Iterable<Entry<K, unknown>>): K[] => [...entries].map((e) => e.key);

/** Each `events` entry's key as `name/seq/attempt`. */
const eventIds = (entries: Iterable<Entry<[string, number, number], unknown>>): string[] => [...entries].map(({ key: [name, seq, attempt] }) => `${name}/${seq}/${attempt}`);

/** The raw keys of a raw range. */
async function rawKeys(engine: StoreEngine, db: string, range: RawRange): Promise<RawKey[]> {
  return engine.read((r) => [...r.range(db, range)].map((e) => e.key));
}

/** Store `events` records under the given `[name, seq, attempt]` keys, in one transaction. */
async function seedEvents(db: Db, keys: [string, number, number][]): Promise<void> {
  await db.write((tx) => keys.forEach((k, i) => tx.put(events, k, { n: i })));
}

/** A feature record with id `id`. */
const feature = (id: string, title = `Feature ${id}`): Feature => ({ id, title });

// ---------------------------------------------------------------------------
// The suite every engine passes

describe.each(ENGINES)("store conformance: $name engine", ({ open }) => {
  let opened: OpenEngine;
  let engine: StoreEngine;
  let db: Db;

  beforeEach(() => {
    opened = open();
    engine = opened.engine;
    db = new Db(engine);
  });

  afterEach(async () => {
    await opened.dispose();
  });

  it("puts, gets, tests and removes typed records", async () => {
    await db.write((tx) => tx.put(features, ["f1"], feature("f1", "One")));
    expect(await db.read((tx) => [tx.get(features, ["f1"]), tx.has(features, ["f1"]), tx.get(features, ["f2"]), tx.has(features, ["f2"])])).toEqual([
      { id: "f1", title: "One" },
      true,
      undefined,
      false,
    ]);

    await db.write((tx) => tx.put(features, ["f1"], feature("f1", "Uno")));
    expect(await db.read((tx) => tx.get(features, ["f1"]))).toEqual({ id: "f1", title: "Uno" });

    expect(await db.write((tx) => tx.remove(features, ["f1"]))).toBe(true);
    expect(await db.write((tx) => tx.remove(features, ["f1"]))).toBe(false);
    expect(await db.read((tx) => [tx.get(features, ["f1"]), tx.has(features, ["f1"])])).toEqual([undefined, false]);
  });

  it("round-trips a multi-part key (text, seq12, pad6) through encode and decode", async () => {
    const key: [string, number, number] = ["app/src/x.ts", 42, 7];
    const raw = ["ce:app/src/x.ts", "000000000042", "000007"].join("\0");
    expect(events.encode(key)).toBe(raw);

    await db.write((tx) => tx.put(events, key, { n: 1 }));
    expect(await db.read((tx) => [...tx.range(events)])).toEqual([{ key: ["app/src/x.ts", 42, 7], value: { n: 1 } }]);
    expect(await engine.read((r) => r.get("agents", raw))).toEqual({ n: 1 });
    expect(await db.read((tx) => tx.get(events, ["app/src/x.ts", 42, 7]))).toEqual({ n: 1 });
  });

  it("ranges over a whole collection and by prefix parts", async () => {
    await seedEvents(db, [
      ["b", 1, 1],
      ["a10", 1, 1],
      ["a1", 2, 1],
      ["a1", 1, 2],
      ["a1", 1, 1],
    ]);

    expect(await db.read((tx) => eventIds(tx.range(events)))).toEqual(["a1/1/1", "a1/1/2", "a1/2/1", "a10/1/1", "b/1/1"]);
    // "a10" starts with "a1" but is another first part.
    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["a1"] })))).toEqual(["a1/1/1", "a1/1/2", "a1/2/1"]);
    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["a1", 1] })))).toEqual(["a1/1/1", "a1/1/2"]);
    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["a1", 1, 2] })))).toEqual(["a1/1/2"]);
    expect(await db.read((tx) => [...tx.values(events, { prefix: ["a10"] })])).toEqual([{ n: 1 }]);
    expect(await db.read((tx) => tx.first(events, { prefix: ["a1", 2] }))).toEqual({ key: ["a1", 2, 1], value: { n: 2 } });
    expect(await db.read((tx) => tx.first(events, { prefix: ["zzz"] }))).toBeUndefined();
  });

  it("ranges over keys whose next part startsWith a folder prefix", async () => {
    await seedEvents(db, [
      ["app.ts", 1, 1],
      ["app/a.ts", 1, 1],
      ["app/b/c.ts", 12, 1],
      ["app/b/c.ts", 19, 1],
      ["app/b/c.ts", 20, 1],
      ["apps/x.ts", 1, 1],
      ["lib/app/y.ts", 1, 1],
    ]);

    expect(await db.read((tx) => eventIds(tx.range(events, { startsWith: "app/" })))).toEqual(["app/a.ts/1/1", "app/b/c.ts/12/1", "app/b/c.ts/19/1", "app/b/c.ts/20/1"]);
    expect(await db.read((tx) => eventIds(tx.range(events, { startsWith: "app/", reverse: true, limit: 2 })))).toEqual(["app/b/c.ts/20/1", "app/b/c.ts/19/1"]);
    // After prefix parts: the next part (a seq12) starts with these digits, i.e. seq 10..19.
    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["app/b/c.ts"], startsWith: "00000000001" })))).toEqual(["app/b/c.ts/12/1", "app/b/c.ts/19/1"]);
  });

  it("ranges from a key, forward and reversed", async () => {
    await seedEvents(db, [1, 2, 3, 4, 5].map((seq): [string, number, number] => ["a1", seq, 1]).concat([["a0", 9, 1], ["a2", 0, 1]]));

    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["a1"], from: ["a1", 3, 1] })))).toEqual(["a1/3/1", "a1/4/1", "a1/5/1"]);
    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["a1"], from: ["a1", 3, 1], reverse: true })))).toEqual(["a1/3/1", "a1/2/1", "a1/1/1"]);
    // From a key that is not stored: forward starts after it, reversed below it.
    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["a1"], from: ["a1", 3, 0] })))).toEqual(["a1/3/1", "a1/4/1", "a1/5/1"]);
    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["a1"], from: ["a1", 3, 0], reverse: true })))).toEqual(["a1/2/1", "a1/1/1"]);
    // Without a prefix the walk runs on past the first part.
    expect(await db.read((tx) => eventIds(tx.range(events, { from: ["a1", 5, 1] })))).toEqual(["a1/5/1", "a2/0/1"]);
    expect(await db.read((tx) => eventIds(tx.range(events, { from: ["a1", 1, 1], reverse: true })))).toEqual(["a1/1/1", "a0/9/1"]);
  });

  it("ranges reversed with a limit, and forward with a limit", async () => {
    await seedEvents(db, [1, 2, 3, 4, 5].map((seq): [string, number, number] => ["a1", seq, 1]));

    expect(await db.read((tx) => eventIds(tx.range(events, { reverse: true, limit: 2 })))).toEqual(["a1/5/1", "a1/4/1"]);
    expect(await db.read((tx) => eventIds(tx.range(events, { limit: 2 })))).toEqual(["a1/1/1", "a1/2/1"]);
    expect(await db.read((tx) => eventIds(tx.range(events, { reverse: true, limit: 0 })))).toEqual([]);
    expect(await db.read((tx) => tx.first(events, { reverse: true })?.key)).toEqual(["a1", 5, 1]);
  });

  it("never returns a stored key equal to a range's exclusive upper bound, in either direction", async () => {
    await db.write((tx) => {
      tx.put(features, ["a"], feature("a"));
      tx.put(features, ["z"], feature("z"));
      tx.put(pastFeatures, [""], feature("past"));
      tx.put(events, ["a1", 1, 1], { n: 1 });
      tx.put(pastA1, [""], { n: 99 });
    });
    // The bounds the typed ranges below use, and that the neighbours sit exactly on them.
    expect(features.bounds([])).toEqual({ low: "cf1:", high: "cf1;" });
    expect(pastFeatures.encode([""])).toBe("cf1;");
    expect(events.bounds(["a1"]).high).toBe("ce:a1\u0001");
    expect(pastA1.encode([""])).toBe("ce:a1\u0001");

    expect(await db.read((tx) => keysOf(tx.range(features)))).toEqual([["a"], ["z"]]);
    expect(await db.read((tx) => keysOf(tx.range(features, { reverse: true })))).toEqual([["z"], ["a"]]);
    expect(await db.read((tx) => keysOf(tx.range(features, { reverse: true, limit: 1 })))).toEqual([["z"]]);
    expect(await db.read((tx) => eventIds(tx.range(events, { prefix: ["a1"], reverse: true })))).toEqual(["a1/1/1"]);

    expect(await rawKeys(engine, "features", { low: "cf1:", high: "cf1;" })).toEqual(["cf1:a", "cf1:z"]);
    expect(await rawKeys(engine, "features", { low: "cf1:", high: "cf1;", reverse: true })).toEqual(["cf1:z", "cf1:a"]);
    expect(await rawKeys(engine, "features", { low: "cf1:z", high: "cf1;", reverse: true })).toEqual(["cf1:z"]);
    // The bound is there: a range that includes it returns it.
    expect(await rawKeys(engine, "features", { low: "cf1:z", high: "cf1;\0", reverse: true })).toEqual(["cf1;", "cf1:z"]);
    expect(await rawKeys(engine, "agents", { low: "ce:a1\0", high: "ce:a1\u0001", reverse: true })).toEqual([events.encode(["a1", 1, 1])]);
  });

  it("keeps collections with different prefixes in one database apart", async () => {
    await db.write((tx) => {
      tx.put(features, ["f1"], feature("f1", "mine"));
      tx.put(otherFeatures, ["f1"], feature("f1", "theirs"));
      tx.put(otherFeatures, ["f2"], feature("f2", "theirs"));
    });

    expect(await db.read((tx) => [...tx.range(features)])).toEqual([{ key: ["f1"], value: { id: "f1", title: "mine" } }]);
    expect(await db.read((tx) => keysOf(tx.range(otherFeatures)))).toEqual([["f1"], ["f2"]]);
    expect(await db.read((tx) => [tx.get(features, ["f2"]), tx.get(otherFeatures, ["f1"])?.title])).toEqual([undefined, "theirs"]);
    await db.write((tx) => tx.remove(otherFeatures, ["f1"]));
    expect(await db.read((tx) => tx.get(features, ["f1"])?.title)).toBe("mine");
  });

  it("orders string keys by their UTF-8 bytes, not by JS string comparison", async () => {
    const stored = ["\u{1F600}", "z", "\uFFFD", "é"];
    await db.write((tx) => stored.forEach((s) => tx.put(names, [s], s)));

    // UTF-8: z 7A < é C3 A9 < U+FFFD EF BF BD < U+1F600 F0 9F 98 80.
    const utf8Order = ["z", "é", "\uFFFD", "\u{1F600}"];
    // JS compares UTF-16 code units: U+1F600 is D83D DE00, below FFFD.
    expect([...stored].sort()).toEqual(["z", "é", "\u{1F600}", "\uFFFD"]);

    expect(await db.read((tx) => keysOf(tx.range(names)).map(([s]) => s))).toEqual(utf8Order);
    expect(await db.read((tx) => keysOf(tx.range(names, { reverse: true })).map(([s]) => s))).toEqual([...utf8Order].reverse());
    expect(await db.read((tx) => keysOf(tx.range(names, { from: ["\uFFFD"] })).map(([s]) => s))).toEqual(["\uFFFD", "\u{1F600}"]);
  });

  it("orders number collections numerically, reversed with a limit, by prefix, from", async () => {
    await db.write((tx) => [10, 2, 33, 1, 3].forEach((seq) => tx.put(decisions, [seq], { seq })));

    expect(await db.read((tx) => keysOf(tx.range(decisions)).map(([n]) => n))).toEqual([1, 2, 3, 10, 33]);
    expect(await db.read((tx) => keysOf(tx.range(decisions, { reverse: true, limit: 2 })).map(([n]) => n))).toEqual([33, 10]);
    expect(await db.read((tx) => keysOf(tx.range(decisions, { from: [3] })).map(([n]) => n))).toEqual([3, 10, 33]);
    expect(await db.read((tx) => keysOf(tx.range(decisions, { from: [3], reverse: true })).map(([n]) => n))).toEqual([3, 2, 1]);
    // Prefix [2] is [2, 3): key 3 is the exclusive bound and is stored.
    expect(await db.read((tx) => keysOf(tx.range(decisions, { prefix: [2] })).map(([n]) => n))).toEqual([2]);
    expect(await db.read((tx) => keysOf(tx.range(decisions, { prefix: [2], reverse: true })).map(([n]) => n))).toEqual([2]);
    expect(await db.read((tx) => tx.get(decisions, [10]))).toEqual({ seq: 10 });
  });

  it("lets a write transaction read its own writes", async () => {
    await db.write((tx) => {
      tx.put(features, ["f0"], feature("f0"));
      tx.put(features, ["f3"], feature("f3"));
    });

    const seen = await db.write((tx) => {
      tx.put(features, ["f1"], feature("f1", "new"));
      const afterPut = { get: tx.get(features, ["f1"])?.title, keys: keysOf(tx.range(features)).map(([k]) => k) };
      const removed = tx.remove(features, ["f0"]);
      const afterRemove = { get: tx.get(features, ["f0"]), has: tx.has(features, ["f0"]), keys: keysOf(tx.range(features)).map(([k]) => k) };
      tx.put(features, ["f2"], feature("f2"));
      const removedOwn = tx.remove(features, ["f2"]);
      const reversed = keysOf(tx.range(features, { reverse: true })).map(([k]) => k);
      tx.put(features, ["f3"], feature("f3", "replaced"));
      return { afterPut, removed, afterRemove, removedOwn, reversed, replaced: tx.get(features, ["f3"])?.title, again: tx.remove(features, ["f0"]) };
    });

    expect(seen).toEqual({
      afterPut: { get: "new", keys: ["f0", "f1", "f3"] },
      removed: true,
      afterRemove: { get: undefined, has: false, keys: ["f1", "f3"] },
      removedOwn: true,
      reversed: ["f3", "f1"],
      replaced: "replaced",
      again: false,
    });
    expect(await db.read((tx) => [...tx.range(features)].map((e) => `${e.key[0]}:${e.value.title}`))).toEqual(["f1:new", "f3:replaced"]);
  });

  it("walks a range like a cursor: the transaction's writes ahead of the walk are seen, behind it are not", async () => {
    await db.write((tx) => ["b", "d", "f"].forEach((k) => tx.put(features, [k], feature(k))));

    const forward = await db.write((tx) => {
      const seen: string[] = [];
      for (const { key: [k] } of tx.range(features)) {
        seen.push(k);
        if (k === "b") {
          tx.put(features, ["a"], feature("a")); // behind
          tx.put(features, ["c"], feature("c")); // ahead
          tx.remove(features, ["d"]); // ahead
        }
        if (k === "c") tx.remove(features, ["c"]); // the current key
      }
      return seen;
    });
    expect(forward).toEqual(["b", "c", "f"]);
    expect(await db.read((tx) => keysOf(tx.range(features)).map(([k]) => k))).toEqual(["a", "b", "f"]);

    const reversed = await db.write((tx) => {
      const seen: string[] = [];
      for (const { key: [k] } of tx.range(features, { reverse: true })) {
        seen.push(k);
        if (k === "f") {
          tx.put(features, ["g"], feature("g")); // behind
          tx.put(features, ["e"], feature("e")); // ahead
          tx.remove(features, ["b"]); // ahead
        }
      }
      return seen;
    });
    expect(reversed).toEqual(["f", "e", "a"]);
  });

  it("writes nothing of a transaction whose function throws, and rejects with its error", async () => {
    await db.write((tx) => tx.put(features, ["f0"], feature("f0")));

    await expect(
      db.write((tx) => {
        tx.put(features, ["f1"], feature("f1"));
        tx.remove(features, ["f0"]);
        tx.next(counters, ["c"]);
        throw new Error("refused by the function");
      }),
    ).rejects.toThrow("refused by the function");

    expect(await db.read((tx) => [keysOf(tx.range(features)), tx.get(counters, ["c"])])).toEqual([[["f0"]], undefined]);
  });

  it("serializes 50 concurrent counter increments: 1..50 each once, final 50", async () => {
    const got = await Promise.all(Array.from({ length: 50 }, () => db.write((tx) => tx.next(counters, ["c"]))));

    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await db.read((tx) => tx.get(counters, ["c"]))).toBe(50);
  });

  it("validates values read through a range: 20 concurrent increments through a range lose none", async () => {
    await db.write((tx) => tx.put(pair, ["a"], 0));

    // Each writer reads "a" only through a range and rewrites it in place (the range's keys never change).
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.write((tx) => {
          const [a] = [...tx.values(pair)];
          tx.put(pair, ["a"], (a ?? 0) + 1);
        }),
      ),
    );

    expect(await db.read((tx) => [...tx.range(pair)])).toEqual([{ key: ["a"], value: 20 }]);
  });

  it("isolates: readers never see half of a writer that sets a and b together", async () => {
    await db.write((tx) => {
      tx.put(pair, ["a"], 0);
      tx.put(pair, ["b"], 0);
    });

    const writes: Promise<unknown>[] = [];
    const reads: Promise<[number | undefined, number | undefined]>[] = [];
    for (let i = 0; i < 40; i++) {
      writes.push(
        db.write((tx) => {
          const a = tx.get(pair, ["a"]) ?? -1;
          tx.put(pair, ["a"], a + 1);
          tx.put(pair, ["b"], a + 1);
        }),
      );
      // Alternate point reads and a range read of both keys.
      reads.push(i % 2 === 0 ? db.read((tx) => [tx.get(pair, ["a"]), tx.get(pair, ["b"])]) : db.read((tx) => [...tx.values(pair)] as [number, number]));
    }
    await Promise.all(writes);
    const seen = await Promise.all(reads);

    expect(seen).toHaveLength(40);
    for (const [a, b] of seen) {
      expect(typeof a).toBe("number");
      expect(a).toBe(b);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThanOrEqual(40);
    }
    expect(await db.read((tx) => [tx.get(pair, ["a"]), tx.get(pair, ["b"])])).toEqual([40, 40]);
  });

  it("rejects only the failing write of a batch of concurrent writes", async () => {
    const outcomes = await Promise.allSettled(
      [0, 1, 2, 3, 4, 5].map((i) =>
        db.write((tx) => {
          tx.put(features, [`f${i}`], feature(`f${i}`));
          tx.next(counters, ["c"]);
          if (i === 3) throw new Error("write 3 fails");
          return i;
        }),
      ),
    );

    expect(outcomes.map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message))).toEqual([0, 1, 2, "write 3 fails", 4, 5]);
    expect(await db.read((tx) => keysOf(tx.range(features)).map(([k]) => k))).toEqual(["f0", "f1", "f2", "f4", "f5"]);
    expect(await db.read((tx) => tx.get(counters, ["c"]))).toBe(5);
  });

  it("raises the revision with a write and leaves it alone for reads", async () => {
    const r0 = await engine.revision();
    await db.write((tx) => tx.put(features, ["f1"], feature("f1")));
    const r1 = await engine.revision();
    expect(r1).toBeGreaterThan(r0);

    await db.read((tx) => [...tx.range(features)]);
    await db.read((tx) => tx.get(features, ["f1"]));
    expect(await engine.revision()).toBe(r1);

    await db.write((tx) => tx.remove(features, ["f1"]));
    expect(await engine.revision()).toBeGreaterThan(r1);
  });

  it("hands out copies: mutating a value put or returned does not change the store", async () => {
    const value: Feature = { id: "f1", title: "original", tags: ["x"] };
    const inside = await db.write((tx) => {
      tx.put(features, ["f1"], value);
      value.tags?.push("after put");
      const got = tx.get(features, ["f1"]) as Feature;
      got.title = "mutated inside";
      return tx.get(features, ["f1"]);
    });
    expect(inside).toEqual({ id: "f1", title: "original", tags: ["x"] });

    const read = (await db.read((tx) => tx.get(features, ["f1"]))) as Feature;
    read.tags?.push("mutated outside");
    const [ranged] = await db.read((tx) => [...tx.values(features)]);
    (ranged as Feature).title = "mutated range value";

    expect(await db.read((tx) => tx.get(features, ["f1"]))).toEqual({ id: "f1", title: "original", tags: ["x"] });
  });
});

// ---------------------------------------------------------------------------
// What only the memory engine shows: reads that miss, re-runs, conflicts, its knobs

describe("memory engine", () => {
  let engine: MemoryEngine;
  let db: Db;

  beforeEach(() => {
    engine = new MemoryEngine();
    db = new Db(engine);
  });

  afterEach(async () => {
    await engine.close();
  });

  /** The engine's counters now. */
  const stats = () => ({ runs: engine.runs, misses: engine.misses, conflicts: engine.conflicts });

  it("reads asynchronously: each fresh key misses once and the function runs again", async () => {
    await db.write((tx) => ["k1", "k2", "k3"].forEach((k, i) => tx.put(counters, [k], i + 1)));
    const before = stats();

    let ranSync = false;
    const pending = db.read((tx) => {
      ranSync = true;
      return [tx.get(counters, ["k1"]), tx.get(counters, ["k2"]), tx.get(counters, ["k3"])];
    });
    expect(ranSync).toBe(false);
    expect(await pending).toEqual([1, 2, 3]);

    const after = stats();
    expect(after.runs - before.runs).toBe(4);
    expect(after.misses - before.misses).toBe(3);
    expect(after.conflicts - before.conflicts).toBe(0);
  });

  it("fetches a range's whole window once, whatever its limit or direction", async () => {
    await db.write((tx) => ["a", "b", "c"].forEach((k) => tx.put(features, [k], feature(k))));
    const before = stats();

    const got = await db.read((tx) => [tx.first(features, { reverse: true })?.key, keysOf(tx.range(features, { limit: 2 })), tx.get(features, ["b"])?.id]);

    expect(got).toEqual([["c"], [["a"], ["b"]], "b"]);
    expect(engine.misses - before.misses).toBe(1);
    expect(engine.runs - before.runs).toBe(2);
  });

  it("records a conflict when two transactions interleave on one key, and applies both serially", async () => {
    const before = stats();

    const got = await Promise.all([db.write((tx) => tx.next(counters, ["c"])), db.write((tx) => tx.next(counters, ["c"]))]);

    expect([...got].sort()).toEqual([1, 2]);
    expect(await db.read((tx) => tx.get(counters, ["c"]))).toBe(2);
    expect(engine.conflicts - before.conflicts).toBeGreaterThanOrEqual(1);
  });

  it("re-runs after a conflict on a range: a read range that changed is validated", async () => {
    await db.write((tx) => tx.put(features, ["a"], feature("a")));

    // Each writer counts the features and adds one more: with a stale range, two would both see 1.
    const got = await Promise.all(
      ["b", "c", "d"].map((k) =>
        db.write((tx) => {
          const n = [...tx.range(features)].length;
          tx.put(features, [k], feature(k, `after ${n}`));
          return n;
        }),
      ),
    );

    expect([...got].sort()).toEqual([1, 2, 3]);
    expect(engine.conflicts).toBeGreaterThanOrEqual(1);
  });

  it("gives every run one consistent snapshot, even a run that is then thrown away", async () => {
    await db.write((tx) => {
      tx.put(pair, ["a"], 0);
      tx.put(pair, ["b"], 0);
    });
    // What each run saw, recorded outside the transaction (only a test may do this).
    const seenByRuns: [number | undefined, number | undefined][] = [];

    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      jobs.push(
        db.write((tx) => {
          const a = tx.get(pair, ["a"]) ?? 0;
          tx.put(pair, ["a"], a + 1);
          tx.put(pair, ["b"], a + 1);
        }),
      );
      jobs.push(
        db.read((tx) => {
          const a = tx.get(pair, ["a"]);
          const b = tx.get(pair, ["b"]);
          seenByRuns.push([a, b]);
          if (a !== b) throw new Error(`a run saw a=${a} b=${b}`);
          return a;
        }),
      );
    }
    await Promise.all(jobs);

    // Runs that missed b recorded nothing; every completed read of both keys is recorded.
    expect(seenByRuns.length).toBeGreaterThanOrEqual(20);
    expect(seenByRuns.filter(([a, b]) => a !== b)).toEqual([]);
    expect(engine.conflicts).toBeGreaterThanOrEqual(1);
  });

  it("honours a ReadMiss the function wrongly swallowed", async () => {
    await db.write((tx) => tx.put(counters, ["k"], 7));

    const got = await db.read((tx) => {
      try {
        return tx.get(counters, ["k"]);
      } catch {
        return "swallowed";
      }
    });

    expect(got).toBe(7);
  });

  it("rejects with a clear error after its cap of runs", async () => {
    const capped = new MemoryEngine({ maxRuns: 2 });
    const read = new Db(capped).read((tx) => [tx.get(counters, ["k1"]), tx.get(counters, ["k2"]), tx.get(counters, ["k3"])]);

    await expect(read).rejects.toThrow("store: memory engine: a transaction ran 2 times without finishing");
    expect(capped.runs).toBe(2);
  });

  it("refuses writes inside a read, promise-returning functions, readers kept past their run, and a closed engine", async () => {
    await expect(engine.read((r) => (r as EngineWriter).put("features", "cf1:x", 1))).rejects.toThrow("a write inside a read transaction");
    await expect(engine.write(() => Promise.resolve(1))).rejects.toThrow("returned a promise");

    const kept = await db.write((tx) => tx);
    expect(() => kept.put(features, ["x"], feature("x"))).toThrow("used after its transaction run ended");

    await engine.close();
    await expect(db.read((tx) => tx.get(features, ["x"]))).rejects.toThrow("store: memory engine: closed");
  });

  it("moves the revision once per committed write that wrote something", async () => {
    expect(await engine.revision()).toBe(0);
    await db.write((tx) => {
      tx.put(features, ["a"], feature("a"));
      tx.put(features, ["b"], feature("b"));
    });
    expect(await engine.revision()).toBe(1);

    await db.write((tx) => tx.get(features, ["a"]));
    await db.write((tx) => tx.remove(features, ["missing"]));
    await expect(db.write((tx) => { tx.put(features, ["c"], feature("c")); throw new Error("no"); })).rejects.toThrow("no");
    expect(await engine.revision()).toBe(1);

    await Promise.all([db.write((tx) => tx.remove(features, ["a"])), db.write((tx) => tx.put(features, ["d"], feature("d")))]);
    expect(await engine.revision()).toBe(3);
  });

  it("finishes transactions while a test fakes the timers", async () => {
    vi.useFakeTimers();
    try {
      expect(await db.write((tx) => tx.next(counters, ["c"]))).toBe(1);
      expect(await db.read((tx) => tx.get(counters, ["c"]))).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps a manual clock and marks owners dead on request", () => {
    const other = new MemoryEngine({ startMonoMs: 500, epochMs: 1_000_000 });
    expect(engine.time.bootId).toMatch(/^memory-/);
    expect(other.time.bootId).not.toBe(engine.time.bootId);
    expect([other.time.monoMs(), other.time.wallMs()]).toEqual([500, 1_000_500]);

    other.advance(250);
    expect([other.time.monoMs(), other.time.wallMs()]).toEqual([750, 1_000_750]);
    expect(() => other.advance(-1)).toThrow(RangeError);

    expect(other.liveness.isAlive({ pid: 42, boot: "anything" })).toBe(true);
    other.markDead(42);
    expect(other.liveness.isAlive({ pid: 42, boot: other.time.bootId })).toBe(false);
    expect(other.liveness.isAlive({ pid: 43, boot: other.time.bootId })).toBe(true);
  });
});
