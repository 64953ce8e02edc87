/**
 * String keys are stored as plain UTF-8 (src/store/lmdb/layout.ts STRING_KEYS).
 * Under lmdb-js's default ordered-binary encoding a composite key holding NUL
 * was written escaped below 64 characters and raw above, so prefix ranges
 * missed the index entries of paths around 50-64 characters and two write
 * locks on one such path were granted; long agent ids came back as arrays.
 * Stores of schema 1 and 2 are rewritten at open.
 */
import { open } from "lmdb";
import { afterEach, describe, expect, it } from "vitest";
import { createContext, type Context } from "../src/runtime/context.js";
import { silentLogger } from "../src/runtime/logger.js";
import { checkStore } from "../src/store/lmdb/check.js";
import { DB_NAMES, ENV_OPTIONS, openStore } from "../src/store/lmdb/store.js";
import { dbOptionsOf, NUMBER_KEYED, STRING_KEYS, unescapeLegacyKey } from "../src/store/lmdb/layout.js";
import { connect, type Harness } from "./helpers/client.js";
import { tempDir } from "./helpers/store.js";

const cleanups: (() => void)[] = [];
let ctx: Context | undefined;
let h: Harness | undefined;

afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
  await h?.close();
  h = undefined;
  for (const c of cleanups.splice(0)) c();
});

function freshContext(storeDir?: string): Context {
  const root = tempDir("signalbox-keys-root-");
  cleanups.push(root.cleanup);
  let dir = storeDir;
  if (!dir) {
    const store = tempDir("signalbox-keys-store-");
    cleanups.push(store.cleanup);
    dir = store.dir;
  }
  return createContext({ root: root.dir, storeDir: dir, logger: silentLogger, sweepMs: 0 });
}

/** Paths of every length from short to well past the 64-character threshold. */
const LENGTHS = Array.from({ length: 60 }, (_, i) => 10 + i * 2);
const pathOf = (n: number) => `src/${"d".repeat(n)}.ts`;

describe("string keys of every length", () => {
  it("never grants two write locks on one path, nor a folder lock over a held path, whatever the path's length", async () => {
    ctx = freshContext();
    for (const n of LENGTHS) {
      const key = pathOf(n);
      expect((await ctx.locks.acquire({ agent_id: "alice", keys: [key], mode: "write" })).granted).toBe(true);
      const second = await ctx.locks.acquire({ agent_id: "bob", keys: [key], mode: "write" });
      expect(second.granted, `second writer on a ${key.length}-character path`).toBe(false);
      expect((await ctx.locks.acquire({ agent_id: "carol", keys: ["src/"], mode: "write" })).granted).toBe(false);
      await ctx.locks.release("alice", { all: true });
    }
  });

  it("keeps agent ids of 128 characters working: the status board, pauses and releasing a feature's locks", async () => {
    h = await connect();
    const coder = `coder-${"x".repeat(122)}`;
    await h.ok("dispatch_agents", { by: "orchestrator", agents: [{ agent_id: coder, role: "coder", feature_id: "F1" }, { agent_id: "auditor", role: "auditor" }] });
    await h.ok("start_feature", { agent_id: coder, feature_id: "F1" });
    await h.ok("acquire_lock", { agent_id: coder, paths: ["a.ts"], mode: "write", feature_id: "F1" });
    const board = await h.readJson<{ agents: { agent_id: string }[] }>("signalbox://agents");
    expect(board.agents.map((a) => a.agent_id)).toContain(coder);
    const red = await h.ok<{ paused: string[] }>("emit_audit_signal", { agent_id: "auditor", level: "RED", summary: "stop", feature_id: "F1" });
    expect(red.paused).toEqual([coder]);
    const signals = await h.readJson<{ open: { signal_id: string }[] }>("signalbox://audit");
    for (const s of signals.open) await h.ok("resolve_audit_signal", { agent_id: "auditor", signal_id: s.signal_id, resolution: "ok" });
    await h.ok("complete_feature", { agent_id: coder, feature_id: "F1" });
    expect((await h.readJson<{ locks: unknown[] }>("signalbox://locks")).locks).toEqual([]);
  });

  it("writes a string key as its UTF-8 bytes and reads it back exactly", () => {
    const buf = Buffer.alloc(64);
    for (const key of ["a", "H\x00src/a.ts\x00000000000000001", "日本語\0x", `A${"y".repeat(40)}\0`]) {
      const end = STRING_KEYS.writeKey(key, buf, 3);
      expect(buf.subarray(3, end).equals(Buffer.from(key, "utf8"))).toBe(true);
      expect(STRING_KEYS.readKey(buf, 3, end)).toBe(key);
    }
    expect(() => STRING_KEYS.writeKey("z".repeat(100), buf, 0)).toThrow(RangeError);
    expect(() => STRING_KEYS.writeKey(7, buf, 0)).toThrow(/store key: expected a string/);
  });
});

describe("upgrading a schema 2 store", () => {
  /** Rewrite every string key of the store in `dir` as schema 2 stored it (ordered-binary) and set the version to 2. */
  async function legacyize(dir: string): Promise<void> {
    const env = open({ path: `${dir}/signalbox.mdb`, ...ENV_OPTIONS });
    env.transactionSync(() => {
      for (const name of DB_NAMES) {
        if (NUMBER_KEYED.has(name)) continue;
        const plain = env.openDB<unknown, string>(dbOptionsOf(name));
        const legacy = env.openDB<unknown, string>({ name });
        const entries = [...plain.getRange({})].map(({ key, value }) => ({ key, value }));
        for (const { key } of entries) plain.removeSync(key);
        for (const { key, value } of entries) legacy.putSync(key, value);
      }
      env.openDB<unknown, string>({ name: "meta" }).putSync("schema_version", 2);
    });
    await env.close();
  }

  it("rewrites the keys so locks, agents and features are found again and the store checks clean", async () => {
    const store = tempDir("signalbox-keys-legacy-");
    cleanups.push(store.cleanup);
    ctx = freshContext(store.dir);
    const long = pathOf(52);
    await ctx.locks.acquire({ agent_id: "alice", keys: ["short.ts", long], mode: "write" });
    await ctx.close();
    await legacyize(store.dir);

    // The legacy encoding really differs: the short index key is escaped.
    const probe = open({ path: `${store.dir}/signalbox.mdb`, ...ENV_OPTIONS });
    const raw = probe.openDB<unknown, Buffer>({ name: "lockTable", keyEncoding: "binary" });
    const escaped = [...raw.getKeys({ start: Buffer.from([0]) })].filter((k) => !Buffer.from(unescapeLegacyKey(k)).equals(k));
    expect(escaped.length).toBeGreaterThan(0);
    await probe.close();

    ctx = freshContext(store.dir);
    expect(ctx.store.meta.get("schema_version")).toBe(3);
    for (const key of ["short.ts", long]) {
      expect((await ctx.locks.acquire({ agent_id: "bob", keys: [key], mode: "write" })).granted).toBe(false);
    }
    expect(ctx.locks.list().locks.map((l) => l.key).sort()).toEqual([long, "short.ts"].sort());
    expect(checkStore(ctx.store).problems).toEqual([]);
  });

  it("opens an upgraded store again without rewriting anything", async () => {
    const store = tempDir("signalbox-keys-again-");
    cleanups.push(store.cleanup);
    const first = openStore(store.dir);
    first.write(() => first.meta.putSync("probe", 1));
    await first.close();
    const again = openStore(store.dir);
    const txn = again.lastTxnId();
    expect(again.meta.get("schema_version")).toBe(3);
    await again.close();
    const third = openStore(store.dir);
    expect(third.lastTxnId()).toBe(txn);
    await third.close();
  });
});
