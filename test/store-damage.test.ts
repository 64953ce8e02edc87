/**
 * A damaged store fails clearly: real LMDB files, damaged the ways disks and
 * bad copies damage them, opened by real processes of the built CLI
 * (dist/src/cli.js; `npm run build` first). Every command that opens the
 * store (check, status, locks, the stdio server, both hooks) must end with
 * exit 1 and one line on stderr naming the data file, never a signal
 * (SIGBUS 135, SIGSEGV 139), and `check` must list the damage as a problem.
 *
 * The fixture is a store with 300 decisions and a live write lock of
 * "alice" on src/a.ts, written and closed by openStore (which leaves the
 * side record `signalbox.mdb-seen` next to the data file).
 */
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendDecision } from "../src/log/decisions.js";
import { LockManager } from "../src/locks/manager.js";
import { systemClock } from "../src/store/clock.js";
import { openStore } from "../src/store/lmdb/store.js";
import { tempDir } from "./helpers/store.js";
import { lmdbAccess, lmdbTxn } from "../src/store/lmdb/engine.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const STORE_INDEX = fileURLToPath(new URL("../dist/src/store/lmdb/store.js", import.meta.url));
const PAGE = 4096;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without the runner's SIGNALBOX_* variables, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SIGNALBOX_"))), NO_COLOR: "1", ...extra };
}

/** Run the built CLI with `args` in `cwd`, `input` on stdin. */
function cli(args: string[], opts: { cwd: string; env: Record<string, string>; input?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: cleanEnv(opts.env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** A project (a git repository with src/a.ts staged) and its store folder, filled as the module comment says. */
interface Fixture {
  root: string;
  storeDir: string;
  file: string;
  /** The pristine data file and side record, to restore before each damage. */
  pristine: { data: Buffer; seen: Buffer };
  cleanup: () => void;
}

async function makeFixture(): Promise<Fixture> {
  const tmp = tempDir("signalbox-damage-");
  const root = fs.realpathSync(tmp.dir);
  const storeDir = path.join(root, "store");
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, stdio: "ignore" });
  git("init", "-q");
  fs.mkdirSync(path.join(root, "src"));
  fs.writeFileSync(path.join(root, "src", "a.ts"), "export const a = 1;\n");
  git("add", "src/a.ts");

  const store = openStore(storeDir);
  const clock = systemClock();
  const locks = new LockManager(lmdbAccess(store, clock), { default_lease_ms: 3_600_000, max_lease_ms: 3_600_000, default_wait_ms: 0, max_wait_ms: 1_000 });
  const grant = await locks.acquire({ agent_id: "alice", keys: ["src/a.ts"], mode: "write" });
  if (!grant.granted) throw new Error("setup: alice's lock was not granted");
  for (let i = 1; i <= 300; i++) {
    store.write(() => appendDecision(lmdbTxn(store), clock, {
      type: "other",
      decided_by: "alice",
      context: `context ${i} ${"c".repeat(40)}`,
      decision: `decision-${String(i).padStart(4, "0")}`,
      rationale: "r".repeat(60),
    }));
  }
  await store.close();
  const file = path.join(storeDir, "signalbox.mdb");
  const seenFile = `${file}-seen`;
  const seen = fs.existsSync(seenFile) ? fs.readFileSync(seenFile) : Buffer.alloc(0);
  return { root, storeDir, file, pristine: { data: fs.readFileSync(file), seen }, cleanup: tmp.cleanup };
}

/** Put the pristine store back (data file and side record), as before any damage. */
function restore(f: Fixture): void {
  fs.writeFileSync(f.file, f.pristine.data);
  const seenFile = `${f.file}-seen`;
  if (f.pristine.seen.length > 0) fs.writeFileSync(seenFile, f.pristine.seen);
  else fs.rmSync(seenFile, { force: true });
}

/** Flip (XOR 0xFF) `count` bytes of the data file starting `before` bytes before the first `marker`. */
function flipBytes(file: string, marker: string | Buffer, before: number, count: number): void {
  const data = fs.readFileSync(file);
  const at = data.indexOf(typeof marker === "string" ? Buffer.from(marker) : marker);
  if (at < 0) throw new Error(`setup: ${marker} not in the data file`);
  for (let i = at - before; i < at - before + count; i++) data[i] = (data[i] as number) ^ 0xff;
  fs.writeFileSync(file, data);
}

/** The hook input of an Edit of src/a.ts in `root`. */
function editInput(root: string): string {
  return JSON.stringify({
    session_id: "s-1",
    transcript_path: path.join(root, "transcript.jsonl"),
    cwd: root,
    hook_event_name: "PreToolUse",
    tool_name: "Edit",
    tool_input: { file_path: path.join(root, "src", "a.ts"), old_string: "1", new_string: "2" },
    tool_use_id: "toolu_1",
  });
}

/** Every command that opens the store, by name. */
function commands(f: Fixture): Record<string, () => Promise<Run>> {
  const env = { SIGNALBOX_DB: f.storeDir, SIGNALBOX_AGENT_ID: "bob" };
  const opts = { cwd: f.root, env };
  return {
    check: () => cli(["--root", f.root, "check", "--store", f.storeDir], opts),
    status: () => cli(["--root", f.root, "status"], opts),
    locks: () => cli(["--root", f.root, "locks"], opts),
    serve: () => cli(["--root", f.root, "serve"], opts),
    "hook claude-pre-tool-use": () => cli(["hook", "claude-pre-tool-use"], { ...opts, input: editInput(f.root) }),
    "hook pre-commit": () => cli(["--root", f.root, "hook", "pre-commit"], opts),
  };
}

/** Exit 1 without a signal, nothing else on stderr than one line naming the data file and `what`. */
function expectOneLine(name: string, run: Run, file: string, what: RegExp): void {
  expect({ name, code: run.code, signal: run.signal }).toEqual({ name, code: 1, signal: null });
  const lines = run.stderr.split("\n");
  expect(lines, `${name} stderr: ${run.stderr}`).toHaveLength(2);
  expect(lines[1]).toBe("");
  expect(lines[0]).toMatch(/^signalbox( [a-z-]+)*: store /);
  expect(lines[0]).toContain(`store ${file} is damaged: `);
  expect(lines[0]).toMatch(what);
}

let f: Fixture;
beforeAll(async () => {
  f = await makeFixture();
}, 60_000);
afterAll(() => f?.cleanup());

describe("a sound store", () => {
  it("is read by every command, and the hooks see alice's live lock", async () => {
    restore(f);
    const c = commands(f);
    const check = await c.check!();
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain("OK: the store is consistent");
    const hook = await c["hook claude-pre-tool-use"]!();
    expect(hook.code).toBe(0);
    expect(hook.stdout).toContain('"permissionDecision":"deny"');
    const commit = await c["hook pre-commit"]!();
    expect(commit.code).toBe(1);
    expect(commit.stderr).toContain("commit refused");
    // The side record holds what the last process saw: the file's size and its last transaction.
    const seen = JSON.parse(fs.readFileSync(`${f.file}-seen`, "utf8")) as { bytes: number; txn_id: number };
    expect(seen.bytes).toBe(fs.statSync(f.file).size);
    expect(seen.txn_id).toBeGreaterThanOrEqual(301);
  }, 60_000);
});

describe("a damaged data file", () => {
  const cases: { name: string; damage: () => void; what: RegExp }[] = [
    {
      name: "cut short (a bad copy: the first 10 pages)",
      damage: () => fs.truncateSync(f.file, 10 * PAGE),
      what: /the file is 40960 bytes but its meta page says \d+ .*cut short\?/,
    },
    {
      name: "with both meta pages zeroed",
      damage: () => {
        const fd = fs.openSync(f.file, "r+");
        fs.writeSync(fd, Buffer.alloc(2 * PAGE), 0, 2 * PAGE, 0);
        fs.closeSync(fd);
      },
      what: /meta page 0 has magic 0x00000000, not LMDB's 0xBEEFC0DE/,
    },
    {
      name: "emptied (zero length) with its side record",
      damage: () => fs.truncateSync(f.file, 0),
      what: /the file is empty \(0 bytes\) but signalbox\.mdb-seen saw it at \d+ bytes, transaction \d+/,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: every command exits 1 with one line, and check lists it`, async () => {
      restore(f);
      c.damage();
      const damagedBytes = fs.statSync(f.file).size;
      const runs = commands(f);
      for (const [name, run] of Object.entries(runs)) {
        const r = await run();
        expectOneLine(name, r, f.file, c.what);
        if (name === "check") {
          expect(r.stdout).toMatch(new RegExp(`PROBLEM data file ${f.file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${c.what.source}`));
          expect(r.stdout).toContain("FAILED: 1 problem(s)");
        }
        if (name === "serve") expect(r.stdout).toBe(""); // no JSON-RPC: the server never started
      }
      // Nothing was repaired or initialised behind the user's back: the file is as damaged as it was.
      expect(fs.statSync(f.file).size).toBe(damagedBytes);
    }, 120_000);
  }
});

describe("flipped bytes inside a page", () => {
  it("check names the database and key instead of crashing; the other readers are unaffected", async () => {
    restore(f);
    // 64 bytes of decision 150's value, from its `context` string header on.
    flipBytes(f.file, "context 150 ", 2, 64);
    const runs = commands(f);
    const check = await runs.check!();
    expect({ code: check.code, signal: check.signal }).toEqual({ code: 1, signal: null });
    expect(check.stdout).toMatch(/PROBLEM database decisions, key 150: the record cannot be decoded \(.+\); the data file is damaged/);
    expect(check.stdout).toContain("FAILED: 1 problem(s)");
    expect(check.stderr).toBe("");
    // A view that reads decision 150 fails with one line naming the file, not the decoder's bare message.
    const decisions = await cli(["--root", f.root, "decisions", "--limit", "200"], { cwd: f.root, env: { SIGNALBOX_DB: f.storeDir } });
    expectOneLine("decisions", decisions, f.file, /a record of database decisions cannot be decoded \(.+\); `signalbox check` lists the damaged records/);
    // The lock table is intact: the hook still refuses bob's edit.
    const hook = await runs["hook claude-pre-tool-use"]!();
    expect(hook.code).toBe(0);
    expect(hook.stdout).toContain('"permissionDecision":"deny"');
  }, 60_000);

  it("in alice's lock record: check lists it, and every reader of the lock table exits 1 with one line", async () => {
    restore(f);
    // 24 bytes of the lock record's value: its key, mode and agent (msgpack `a8 src/a.ts a5 write a5 alice c0 01`) and the next header byte.
    flipBytes(f.file, Buffer.concat([Buffer.from([0xa8]), Buffer.from("src/a.ts"), Buffer.from([0xa5]), Buffer.from("write")]), 0, 24);
    for (const [name, run] of Object.entries(commands(f))) {
      const r = await run();
      if (name === "check") {
        expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
        expect(r.stdout).toMatch(/PROBLEM database lockTable, key "L0+1": the record cannot be decoded \(.+\); the data file is damaged/);
        continue;
      }
      // The server sweeps the lock table at start, the views and hooks read it: none of them may take a damaged lock table as "no locks".
      expectOneLine(name, r, f.file, /a record of database lockTable cannot be decoded/);
    }
  }, 120_000);
});

describe("a rolled-back data file", () => {
  it("an older copy put back is refused, naming the side record", async () => {
    restore(f);
    const older = fs.readFileSync(f.file);
    const store = openStore(f.storeDir);
    for (let i = 0; i < 5; i++) store.write(() => store.meta.putSync("probe", i));
    await store.close();
    fs.writeFileSync(f.file, older);
    const check = await commands(f).check!();
    expectOneLine("check", check, f.file, /(rolled back to an older copy|replaced by an older copy)\?\); restore the newest copy .*delete signalbox\.mdb-seen/);
  }, 60_000);
});

describe("the side record under concurrent writers", () => {
  it("never makes a growing store look damaged", async () => {
    const tmp = tempDir("signalbox-damage-race-");
    try {
      const { validateStoreFile } = await import("../src/store/lmdb/validate.js");
      const file = path.join(tmp.dir, "signalbox.mdb");
      await openStore(tmp.dir).close();
      // Two processes grow the store (records of 2 KiB, one commit each) and close; meanwhile this one checks it.
      const script =
        `const { openStore } = await import(${JSON.stringify(STORE_INDEX)});` +
        `const s = openStore(${JSON.stringify(tmp.dir)});` +
        `for (let i = 0; i < 150; i++) s.write(() => s.activity.putSync(process.pid + ":" + i, "x".repeat(2048)));` +
        `await s.close();`;
      const writers = [0, 1].map(
        () =>
          new Promise<number | null>((resolve, reject) => {
            const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "ignore" });
            child.on("error", reject);
            child.on("close", resolve);
          }),
      );
      let done = false;
      const all = Promise.all(writers).finally(() => (done = true));
      let checks = 0;
      while (!done) {
        expect(validateStoreFile(file).state).toBe("sound");
        checks++;
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(await all).toEqual([0, 0]);
      expect(checks).toBeGreaterThan(10);
      expect(validateStoreFile(file).state).toBe("sound");
    } finally {
      tmp.cleanup();
    }
  }, 60_000);
});
