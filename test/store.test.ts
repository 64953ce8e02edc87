import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig, loadConfig } from "../src/runtime/config.js";
import { listDecisions, recordDecision } from "../src/log/decisions.js";
import { getPlan, listPlans, savePlan } from "../src/analysis/plans.js";
import { resolveRoot, resolveStoreDir } from "../src/runtime/root.js";
import { manualClock } from "../src/store/clock.js";
import { openStore, SCHEMA_VERSION } from "../src/store/lmdb/store.js";
import { tempDir } from "./helpers/store.js";
import { LmdbEngine } from "../src/store/lmdb/engine.js";
import { Db } from "../src/store/txn.js";

const cleanups: (() => void)[] = [];
function temp() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe("store", () => {
  it("records its schema version and refuses a newer one", async () => {
    const dir = temp();
    const s = openStore(dir);
    expect(s.meta.get("schema_version")).toBe(SCHEMA_VERSION);
    s.env.transactionSync(() => s.meta.putSync("schema_version", SCHEMA_VERSION + 1));
    await s.close();
    expect(() => openStore(dir)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}.*understands up to ${SCHEMA_VERSION}`));
  });
});

describe("decision log", () => {
  it("numbers entries 1, 2, 3 and pages newest first", async () => {
    const s = openStore(temp());
    const clock = manualClock();
    const db = new Db(new LmdbEngine(s, clock));
    for (let i = 1; i <= 5; i++) {
      const e = await recordDecision(db, clock, { type: "other", decided_by: "a", context: `c${i}`, decision: `d${i}` });
      expect(e.seq).toBe(i);
    }
    const page = await listDecisions(db, { limit: 2 });
    expect(page.total).toBe(5);
    expect(page.decisions.map((d) => d.seq)).toEqual([5, 4]);
    expect((await listDecisions(db, { limit: 2, before: 4 })).decisions.map((d) => d.seq)).toEqual([3, 2]);
    await s.close();
  });
});

describe("plans", () => {
  it("stores plans and lists them newest first", async () => {
    const s = openStore(temp());
    const clock = manualClock();
    const body = (name: string) => ({
      name,
      waves: [{ wave_number: 1, features: ["a"], prerequisites: [], can_parallelize: false, integration_point: false }],
      conflicts: [],
      conflicts_total: 0,
      critical_path: { features: ["a"], length: 1 },
      feature_count: 1,
      dependency_count: 0,
    });
    const db = new Db(new LmdbEngine(s, clock));
    const p1 = await savePlan(db, clock, body("one"));
    const p2 = await savePlan(db, clock, body("two"));
    expect(await db.read((tx) => listPlans(tx).map((p) => p.name))).toEqual(["two", "one"]);
    expect(await db.read((tx) => getPlan(tx, p1.plan_id)?.name)).toBe("one");
    expect(p2.plan_id).not.toBe(p1.plan_id);
    expect(await db.read((tx) => getPlan(tx, "plan_nope"))).toBeUndefined();
    await s.close();
  });
});

describe("config", () => {
  it("fills defaults and rejects unknown or ill-typed fields by name", () => {
    const c = parseConfig({});
    expect(c.locks.default_lease_ms).toBe(600_000);
    expect(c.domains).toEqual([]);
    expect(() => parseConfig({ domains: [{ pattern: "a/**" }] })).toThrow(/domains\.0\.domain/);
    expect(() => parseConfig({ locks: { max_wait_ms: -1 } })).toThrow(/locks\.max_wait_ms/);
    expect(() => parseConfig({ domian: [] })).toThrow(/domian/);
  });

  it("loads signalbox.config.json from the root, or defaults without one", () => {
    const root = temp();
    expect(loadConfig(root).integration_points).toEqual([]);
    fs.writeFileSync(path.join(root, "signalbox.config.json"), JSON.stringify({ integration_points: [{ pattern: "db/**", tag: "migration" }] }));
    expect(loadConfig(root).integration_points).toEqual([{ pattern: "db/**", tag: "migration" }]);
    fs.writeFileSync(path.join(root, "signalbox.config.json"), "{ not json");
    expect(() => loadConfig(root)).toThrow(/not JSON/);
  });
});

describe("root and store folder", () => {
  it("prefers --root, then SIGNALBOX_ROOT, then the nearest .git, then the working directory", () => {
    const repo = fs.realpathSync(temp());
    fs.mkdirSync(path.join(repo, ".git"));
    fs.mkdirSync(path.join(repo, "a/b"), { recursive: true });
    const other = fs.realpathSync(temp());
    expect(resolveRoot({ root: other, env: { SIGNALBOX_ROOT: repo }, cwd: repo })).toBe(other);
    expect(resolveRoot({ env: { SIGNALBOX_ROOT: other }, cwd: repo })).toBe(other);
    expect(resolveRoot({ env: {}, cwd: path.join(repo, "a/b") })).toBe(repo);
    expect(resolveRoot({ env: {}, cwd: other })).toBe(other);
    expect(() => resolveRoot({ root: path.join(other, "missing"), env: {} })).toThrow(/not a directory/);
  });

  it("puts the store in <root>/.signalbox unless SIGNALBOX_DB says otherwise", () => {
    expect(resolveStoreDir("/r", {})).toBe(path.join("/r", ".signalbox"));
    expect(resolveStoreDir("/r", { SIGNALBOX_DB: "/elsewhere/db" })).toBe("/elsewhere/db");
  });
});

describe("store.write", () => {
  it("refuses a transaction function that returns a promise, writing nothing, and commits a synchronous one", async () => {
    const s = openStore(temp());
    // A promise would keep LMDB's transaction open across event-loop turns (lmdb-js waits for it).
    expect(() =>
      s.write(() => {
        s.meta.putSync("probe", "async");
        return Promise.resolve(1);
      }),
    ).toThrow(/returned a promise; a transaction must be synchronous/);
    expect(s.meta.get("probe")).toBeUndefined();
    // The same refusal for a nested (child) transaction, which undoes only its own writes.
    expect(
      s.write(() => {
        s.meta.putSync("outer", 1);
        try {
          s.write(() => {
            s.meta.putSync("inner", 1);
            return Promise.resolve(2);
          });
        } catch {
          /* refused */
        }
        return "done";
      }),
    ).toBe("done");
    expect([s.meta.get("outer"), s.meta.get("inner")]).toEqual([1, undefined]);
    expect(s.write(() => (s.meta.putSync("probe", "sync"), 3))).toBe(3);
    expect(s.meta.get("probe")).toBe("sync");
    await s.close();
  });
});
