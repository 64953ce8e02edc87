/**
 * README, "Hooks: enforcement where agents forget": `signalbox hook
 * claude-pre-tool-use` and `signalbox hook pre-commit`, run as the real built
 * CLI process (dist/src/cli.js) against a real store whose locks were taken
 * through a real MCP client (test/helpers/client.ts), so paths are mapped to
 * keys by the server's own KeyResolver on one side and the hook's on the other.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCHEMA_VERSION, openStore } from "../src/store/lmdb/store.js";
import { connect, type Harness } from "./helpers/client.js";
import { tempDir } from "./helpers/store.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without any SIGNALBOX_* variable of the test runner, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SIGNALBOX_")));
  return { ...env, ...extra };
}

/** Spawn the built CLI with `args`, write `input` to stdin, collect the answer. */
function cli(args: string[], opts: { input?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? process.cwd(), env: cleanEnv(opts.env) });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/** The JSON Claude Code sends a PreToolUse hook. */
function hookInput(cwd: string, tool: string, toolInput: Record<string, unknown>): string {
  return JSON.stringify({
    session_id: "s-1",
    transcript_path: path.join(cwd, "transcript.jsonl"),
    cwd,
    hook_event_name: "PreToolUse",
    tool_name: tool,
    tool_input: toolInput,
    tool_use_id: "toolu_1",
  });
}

/** Run the PreToolUse hook for `tool` on `file` in project `root`. */
function preToolUse(root: string, tool: string, file: string, opts: { env?: Record<string, string>; args?: string[] } = {}): Promise<Run> {
  const field = tool === "NotebookEdit" ? "notebook_path" : "file_path";
  const toolInput = tool === "MultiEdit" ? { [field]: file, edits: [{ old_string: "a", new_string: "b" }] } : { [field]: file, content: "x" };
  return cli(["hook", "claude-pre-tool-use", ...(opts.args ?? [])], {
    input: hookInput(root, tool, toolInput),
    env: opts.env ?? {},
    cwd: root,
  });
}

/** The deny reason of a run, failing unless it is exactly the documented deny answer. */
function denial(run: Run): string {
  expect(run.code).toBe(0);
  expect(run.stderr).toBe("");
  const out = JSON.parse(run.stdout) as { hookSpecificOutput: Record<string, string> };
  expect(Object.keys(out)).toEqual(["hookSpecificOutput"]);
  expect(out.hookSpecificOutput.hookEventName).toBe("PreToolUse");
  expect(out.hookSpecificOutput.permissionDecision).toBe("deny");
  return out.hookSpecificOutput.permissionDecisionReason as string;
}

/** An allowed call: exit 0 and nothing at all on stdout or stderr. */
function expectSilentAllow(run: Run): void {
  expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
}

/** A project folder (with `.git`, as resolveRoot finds it from the hook's cwd) served by a real in-process MCP server. */
async function project(config?: unknown): Promise<{ root: string; h: Harness; cleanup: () => Promise<void> }> {
  const dir = tempDir("signalbox-hooks-");
  const root = fs.realpathSync(dir.dir);
  fs.mkdirSync(path.join(root, ".git"));
  if (config !== undefined) fs.writeFileSync(path.join(root, "signalbox.config.json"), JSON.stringify(config));
  const h = await connect({ root, storeDir: path.join(root, ".signalbox") });
  return {
    root,
    h,
    async cleanup() {
      await h.close();
      dir.cleanup();
    },
  };
}

type Granted = { granted: boolean; locks: { key: string; expires_at: string }[] };

describe("hook claude-pre-tool-use", () => {
  let p: Awaited<ReturnType<typeof project>>;
  const alice = { SIGNALBOX_AGENT_ID: "alice" };

  beforeAll(async () => {
    p = await project();
    fs.mkdirSync(path.join(p.root, "src/api"), { recursive: true });
    fs.mkdirSync(path.join(p.root, "real"));
    fs.writeFileSync(path.join(p.root, "real/a.ts"), "a");
    fs.symlinkSync("real", path.join(p.root, "link"));
    const take = async (agent_id: string, paths: string[], mode: "read" | "write", feature_id?: string) => {
      const g = await p.h.ok<Granted>("acquire_lock", { agent_id, paths, mode, ...(feature_id ? { feature_id } : {}) });
      expect(g.granted).toBe(true);
      return g;
    };
    await take("bob", ["src/bob.ts"], "write", "auth");
    await take("bob", ["src/api/"], "write");
    await take("carol", ["src/carol-reads.ts"], "read");
    await take("alice", ["src/alice.ts"], "write");
    await take("alice", ["src/alice-reads.ts"], "read");
    await take("bob", ["link/a.ts"], "write"); // the server keys it as real/a.ts
  });
  afterAll(async () => {
    await p.cleanup();
  });

  it("denies an edit of a file another agent has write-locked, naming holder, mode, expiry and what to do", async () => {
    const txn = p.h.ctx.store.lastTxnId();
    const reason = denial(await preToolUse(p.root, "Edit", path.join(p.root, "src/bob.ts"), { env: alice }));
    expect(p.h.ctx.store.lastTxnId()).toBe(txn); // the hook only reads
    expect(reason).toContain('"bob" holds a write lock on src/bob.ts');
    expect(reason).toContain("feature auth");
    expect(reason).toMatch(/until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(in 10 min\)/);
    expect(reason).toContain('acquire_lock {"agent_id":"alice","paths":["src/bob.ts"],"mode":"write","wait_ms":60000}');
  });

  it("denies an edit of a file under another agent's folder lock, for every edit tool", async () => {
    for (const tool of ["Edit", "Write", "MultiEdit", "NotebookEdit"]) {
      const reason = denial(await preToolUse(p.root, tool, path.join(p.root, "src/api/users.ts"), { env: alice }));
      expect(reason).toContain('"bob" holds a write lock on src/api/ (covers src/api/users.ts');
    }
  });

  it("denies an edit of a file another agent has only read-locked (a reader relies on it not changing)", async () => {
    const reason = denial(await preToolUse(p.root, "Write", path.join(p.root, "src/carol-reads.ts"), { env: alice }));
    expect(reason).toContain('"carol" holds a read lock on src/carol-reads.ts');
  });

  it("allows, silently, an edit of a file the caller holds, named by env or by --agent-id", async () => {
    expectSilentAllow(await preToolUse(p.root, "Edit", path.join(p.root, "src/alice.ts"), { env: alice }));
    expectSilentAllow(await preToolUse(p.root, "Edit", path.join(p.root, "src/alice.ts"), { args: ["--agent-id", "alice"] }));
    // The flag wins over the environment.
    denial(await preToolUse(p.root, "Edit", path.join(p.root, "src/alice.ts"), { env: alice, args: ["--agent-id", "dave"] }));
  });

  it("allows an edit of an unlocked file, and a relative path resolved against the hook's cwd", async () => {
    expectSilentAllow(await preToolUse(p.root, "Write", path.join(p.root, "src/new-file.ts"), { env: alice }));
    denial(await preToolUse(p.root, "Edit", "src/bob.ts", { env: alice }));
  });

  it("maps a path through a symlink to the locked target, as the server does", async () => {
    // Locked through link/a.ts, edited under its real name, and the other way round.
    const reason = denial(await preToolUse(p.root, "Edit", path.join(p.root, "real/a.ts"), { env: alice }));
    expect(reason).toContain('"bob" holds a write lock on real/a.ts');
    denial(await preToolUse(p.root, "Edit", path.join(p.root, "link/a.ts"), { env: alice }));
  });

  it("lets other tools through at once, without opening the store", async () => {
    // A store that cannot be opened (its data file is a folder): an Edit reports it, a Read never looks.
    // (A garbage data file would not do: lmdb-js segfaults opening one.)
    const broken = tempDir("signalbox-broken-store-");
    try {
      fs.mkdirSync(path.join(broken.dir, "signalbox.mdb"));
      const env = { ...alice, SIGNALBOX_DB: broken.dir };
      for (const tool of ["Read", "Bash", "Grep", "mcp__signalbox__acquire_lock"]) {
        expectSilentAllow(await preToolUse(p.root, tool, path.join(p.root, "src/bob.ts"), { env }));
      }
      const edit = await preToolUse(p.root, "Edit", path.join(p.root, "src/bob.ts"), { env });
      expect(edit.code).toBe(1);
      expect(edit.stdout).toBe("");
      expect(edit.stderr).toMatch(/^signalbox hook claude-pre-tool-use: store: cannot open .* read-only/);
    } finally {
      broken.cleanup();
    }
  });

  it("allows a file outside the project root, even with hooks.require_lock", async () => {
    const outside = tempDir("signalbox-outside-");
    const config = path.join(p.root, "signalbox.config.json");
    try {
      fs.writeFileSync(config, JSON.stringify({ hooks: { require_lock: true } }));
      expectSilentAllow(await preToolUse(p.root, "Write", path.join(outside.dir, "notes.md"), { env: alice }));
    } finally {
      fs.rmSync(config);
      outside.cleanup();
    }
  });

  it("with an unknown caller, counts every holder as another agent and says how to name oneself", async () => {
    const reason = denial(await preToolUse(p.root, "Edit", path.join(p.root, "src/alice.ts")));
    expect(reason).toContain('"alice" holds a write lock on src/alice.ts');
    expect(reason).toContain("set SIGNALBOX_AGENT_ID=<your agent_id>");
    expect(reason).toContain('"agent_id":"<your agent_id>"');
    expectSilentAllow(await preToolUse(p.root, "Edit", path.join(p.root, "src/free.ts")));
  });

  it("with hooks.require_lock, also denies an edit the caller has not write-locked", async () => {
    const config = path.join(p.root, "signalbox.config.json");
    fs.writeFileSync(config, JSON.stringify({ hooks: { require_lock: true } }));
    try {
      const none = denial(await preToolUse(p.root, "Edit", path.join(p.root, "src/free.ts"), { env: alice }));
      expect(none).toContain('needs a write lock held by you, agent "alice" (hooks.require_lock');
      expect(none).toContain('acquire_lock {"agent_id":"alice","paths":["src/free.ts"],"mode":"write"}');
      const readOnly = denial(await preToolUse(p.root, "Edit", path.join(p.root, "src/alice-reads.ts"), { env: alice }));
      expect(readOnly).toContain("you hold only a read lock on src/alice-reads.ts");
      expectSilentAllow(await preToolUse(p.root, "Edit", path.join(p.root, "src/alice.ts"), { env: alice }));
      // Someone else's lock is still named first.
      expect(denial(await preToolUse(p.root, "Edit", path.join(p.root, "src/bob.ts"), { env: alice }))).toContain('"bob" holds');
      const unknown = denial(await preToolUse(p.root, "Edit", path.join(p.root, "src/free.ts")));
      expect(unknown).toContain("does not know which agent you are");
      expect(unknown).toContain("SIGNALBOX_AGENT_ID");
    } finally {
      fs.rmSync(config);
    }
  });

  it("does not count a lock whose lease has lapsed, though nobody swept it", async () => {
    const g = await p.h.ok<{ granted: boolean; locks: { lock_id: string; fencing_token: number }[] }>("acquire_lock", {
      agent_id: "bob",
      paths: ["src/short.ts"],
      mode: "write",
      lease_ms: 300,
    });
    const lock = g.locks[0] as { lock_id: string; fencing_token: number };
    denial(await preToolUse(p.root, "Edit", path.join(p.root, "src/short.ts"), { env: alice }));
    // verify_lock is read-only: it reports the lapse without ending the record.
    for (;;) {
      const v = await p.h.ok<{ status: string }>("verify_lock", { lock_id: lock.lock_id, fencing_token: lock.fencing_token });
      if (v.status === "expired") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expectSilentAllow(await preToolUse(p.root, "Edit", path.join(p.root, "src/short.ts"), { env: alice }));
  });

  it("answers malformed input with exit 1 and one line on stderr naming what was wrong", async () => {
    const cases: [string, RegExp][] = [
      ["{not json", /^signalbox hook claude-pre-tool-use: stdin: expected the PreToolUse hook's JSON object/],
      ["", /stdin: expected the PreToolUse hook's JSON object \(stdin was empty\)/],
      ["[1]", /stdin: expected a JSON object, got an array/],
      [JSON.stringify({ hook_event_name: "PreToolUse", tool_input: {} }), /tool_name: expected a non-empty string/],
      [hookInput(p.root, "Edit", {}), /tool_input\.file_path: expected a non-empty string for Edit, got nothing/],
      [hookInput(p.root, "NotebookEdit", { file_path: "x" }), /tool_input\.notebook_path: expected a non-empty string/],
      [JSON.stringify({ hook_event_name: "PostToolUse", tool_name: "Edit" }), /hook_event_name: expected "PreToolUse"/],
    ];
    for (const [input, message] of cases) {
      const run = await cli(["hook", "claude-pre-tool-use"], { input, cwd: p.root, env: alice });
      expect(run.code, input).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
  });

  it("reports a malformed hooks.require_lock with the config's own message", async () => {
    const config = path.join(p.root, "signalbox.config.json");
    fs.writeFileSync(config, JSON.stringify({ hooks: { require_lock: "yes" } }));
    try {
      const run = await preToolUse(p.root, "Edit", path.join(p.root, "src/free.ts"), { env: alice });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/invalid .*signalbox\.config\.json: hooks\.require_lock/);
    } finally {
      fs.rmSync(config);
    }
  });
});

describe("hook claude-pre-tool-use, other projects", () => {
  it("allows when the project has no store yet, and creates none", async () => {
    const dir = tempDir("signalbox-nostore-");
    try {
      fs.mkdirSync(path.join(dir.dir, ".git"));
      fs.writeFileSync(path.join(dir.dir, "signalbox.config.json"), JSON.stringify({ hooks: { require_lock: true } }));
      expectSilentAllow(await preToolUse(dir.dir, "Edit", path.join(dir.dir, "src/a.ts"), { env: { SIGNALBOX_AGENT_ID: "alice" } }));
      expect(fs.existsSync(path.join(dir.dir, ".signalbox"))).toBe(false);
    } finally {
      dir.cleanup();
    }
  });

  it("folds case like the server when paths.case_sensitive is false", async () => {
    const p = await project({ paths: { case_sensitive: false } });
    try {
      await p.h.ok("acquire_lock", { agent_id: "bob", paths: ["src/Foo.ts"], mode: "write" });
      const reason = denial(await preToolUse(p.root, "Edit", path.join(p.root, "SRC/foo.TS"), { env: { SIGNALBOX_AGENT_ID: "alice" } }));
      expect(reason).toContain('"bob" holds a write lock on src/foo.ts');
    } finally {
      await p.cleanup();
    }
  });

  it("refuses to read a store written by a newer schema (exit 1), rather than misread it", async () => {
    const dir = tempDir("signalbox-newer-");
    try {
      const store = openStore(path.join(dir.dir, ".signalbox"));
      store.write(() => store.meta.putSync("schema_version", SCHEMA_VERSION + 1));
      await store.close();
      const run = await preToolUse(dir.dir, "Edit", path.join(dir.dir, "a.ts"), { env: { SIGNALBOX_ROOT: dir.dir } });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`store: .* has schema version ${SCHEMA_VERSION + 1}; this signalbox understands up to ${SCHEMA_VERSION}`));
    } finally {
      dir.cleanup();
    }
  });
});

describe("hook pre-commit", () => {
  let repo: string;
  let h: Harness;
  let dir: { dir: string; cleanup: () => void };
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, env: cleanEnv(), encoding: "utf8" });
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    fs.writeFileSync(path.join(repo, file), text);
  };

  beforeAll(async () => {
    dir = tempDir("signalbox-repo-");
    repo = fs.realpathSync(dir.dir);
    git("init", "-q");
    git("config", "user.email", "test@example.com");
    git("config", "user.name", "Test");
    git("config", "commit.gpgsign", "false");
    write(".gitignore", ".signalbox/\n");
    write("src/locked.ts", "1");
    write("src/free.ts", "1");
    write("src/gone/old.ts", "1");
    git("add", "-A");
    git("commit", "-q", "-m", "initial");
    h = await connect({ root: repo, storeDir: path.join(repo, ".signalbox") });
    await h.ok("acquire_lock", { agent_id: "bob", paths: ["src/locked.ts"], mode: "write", feature_id: "billing" });
    await h.ok("acquire_lock", { agent_id: "bob", paths: ["src/gone/"], mode: "write" });
  });
  afterAll(async () => {
    await h.close();
    dir.cleanup();
  });

  it("refuses (exit 1) a commit staging a file another agent holds, listing file, holder, mode and expiry", async () => {
    write("src/locked.ts", "2");
    write("src/free.ts", "2");
    git("add", "src/locked.ts", "src/free.ts");
    try {
      const run = await cli(["hook", "pre-commit"], { cwd: repo, env: { SIGNALBOX_AGENT_ID: "alice" } });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain('commit refused (committing as agent "alice"): 1 staged file(s) locked by other agents');
      expect(run.stderr).toMatch(/ {2}src\/locked\.ts: "bob" holds a write lock on src\/locked\.ts \(feature billing; fencing token \d+\) until \S+Z \(in 10 min\)/);
      expect(run.stderr).not.toContain("src/free.ts:");
      // The holder itself may commit.
      expect(await cli(["hook", "pre-commit", "--agent-id", "bob"], { cwd: repo })).toEqual({ code: 0, stdout: "", stderr: "" });
    } finally {
      git("reset", "-q", "HEAD", "--", "src/locked.ts", "src/free.ts");
      git("checkout", "-q", "--", "src/locked.ts", "src/free.ts");
    }
  });

  it("counts a staged deletion under another agent's folder lock", async () => {
    git("rm", "-q", "src/gone/old.ts");
    try {
      const run = await cli(["hook", "pre-commit"], { cwd: repo, env: { SIGNALBOX_AGENT_ID: "alice" } });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('src/gone/old.ts: "bob" holds a write lock on src/gone/ (covers src/gone/old.ts');
    } finally {
      git("reset", "-q", "HEAD", "--", "src/gone/old.ts");
      git("checkout", "-q", "--", "src/gone/old.ts");
    }
  });

  it("installed as .git/hooks/pre-commit, stops `git commit` on a locked file and lets an unlocked commit through", async () => {
    const hookFile = path.join(repo, ".git/hooks/pre-commit");
    fs.writeFileSync(hookFile, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" hook pre-commit\n`, { mode: 0o755 });
    try {
      const head = git("rev-parse", "HEAD").trim();
      write("src/locked.ts", "3");
      git("add", "src/locked.ts");
      let refused = "";
      try {
        execFileSync("git", ["commit", "-q", "-m", "touch locked"], { cwd: repo, env: cleanEnv({ SIGNALBOX_AGENT_ID: "alice" }), stdio: "pipe" });
      } catch (err) {
        refused = String((err as { stderr: Buffer }).stderr);
      }
      expect(refused).toContain("src/locked.ts");
      expect(git("rev-parse", "HEAD").trim()).toBe(head);
      git("reset", "-q", "HEAD", "--", "src/locked.ts");
      git("checkout", "-q", "--", "src/locked.ts");

      write("src/free.ts", "3");
      git("add", "src/free.ts");
      const direct = await cli(["hook", "pre-commit"], { cwd: repo, env: { SIGNALBOX_AGENT_ID: "alice" } });
      expect(direct).toEqual({ code: 0, stdout: "", stderr: "" });
      execFileSync("git", ["commit", "-q", "-m", "touch free"], { cwd: repo, env: cleanEnv({ SIGNALBOX_AGENT_ID: "alice" }), stdio: "pipe" });
      expect(git("rev-parse", "HEAD").trim()).not.toBe(head);
    } finally {
      fs.rmSync(hookFile);
    }
  });
});
