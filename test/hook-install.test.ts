/**
 * `signalbox hook install` on real repositories with real linked worktrees
 * and real `git commit`s: the hook lands where git runs it for every
 * worktree (the common hooks folder, or an absolute core.hooksPath), and a
 * commit in a linked worktree of a file another agent holds is refused by
 * it; a relative core.hooksPath is reported as per worktree; an existing
 * hook is chained (it still runs first, its failure still blocks, an
 * occupied chained name is never overwritten); a second install changes
 * nothing; a dry run changes nothing; outside a repository it fails naming
 * the folder.
 *
 * Needs the build (`pretest`): the installed hook runs dist/src/cli.js. The
 * store is always named by SIGNALBOX_DB, for the locks taken here and for
 * the hook's environment, so the test does not depend on the default store
 * location.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../src/runtime/context.js";
import { BACKSTOP_NOTE, CHAINED_NAME, HOOK_MARKER, claudeSettingsSnippet, hookScript, installPreCommitHook, renderInstall } from "../src/hooks/install.js";
import { silentLogger } from "../src/runtime/logger.js";
import { makeRepo, type TempRepo } from "./helpers/git-repo.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));

/**
 * No user or system git config may steer where hooks go (a global
 * core.hooksPath would), and no repository above the temp folder may make
 * "outside a repository" false.
 */
const GIT_ISOLATION = { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CEILING_DIRECTORIES: fs.realpathSync(os.tmpdir()) };
const saved: Record<string, string | undefined> = {};
beforeAll(() => {
  for (const [k, v] of Object.entries(GIT_ISOLATION)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function repo(): TempRepo {
  const r = makeRepo({ files: { "app/a.py": "a\n", "app/b.py": "b\n" } });
  cleanups.push(() => r.cleanup());
  return r;
}

/** A temporary folder, removed after the test. */
function tempFolder(prefix: string): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const install = (cwd: string, opts: { dryRun?: boolean; cli?: string } = {}) =>
  installPreCommitHook({ cwd, node: process.execPath, cli: opts.cli ?? CLI, dryRun: opts.dryRun ?? false });

/** The environment of a committer: no SIGNALBOX_* of the test runner, no user git config, plus `extra`. */
function committerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SIGNALBOX_")));
  return { ...env, ...GIT_ISOLATION, ...extra };
}

/** `git commit -q -am <message>` in `cwd`: exit code and stderr. */
function commit(cwd: string, message: string, env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const r = spawnSync("git", ["commit", "-q", "-am", message], { cwd, env: committerEnv(env), encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

/** Every entry of a folder with its mode and contents: equal before and after means nothing changed. */
function snapshot(dir: string): string {
  if (!fs.existsSync(dir)) return "absent";
  return JSON.stringify(
    fs
      .readdirSync(dir)
      .sort()
      .map((name) => {
        const file = path.join(dir, name);
        const st = fs.lstatSync(file);
        return [name, st.mode, st.isFile() ? fs.readFileSync(file, "utf8") : null];
      }),
  );
}

/** A hook that appends `<tag> <cwd>` to `log` and fails while `<log>.fail` exists. */
function recordingHook(log: string, tag: string): string {
  return `#!/bin/sh\necho "${tag} $(pwd)" >> '${log}'\n[ ! -f '${log}.fail' ]\n`;
}

describe("signalbox hook install", () => {
  it("installs into the common hooks folder, so a commit in a linked worktree of a file another agent holds is refused", async () => {
    const r = repo();
    const wt = r.worktree("wt-b", "feature/b");
    const store = tempFolder("signalbox-install-store-");
    const result = await install(wt);
    expect(result).toMatchObject({ action: "installed", hooksPath: null, uncovered: [], chained: null, hook: path.join(r.dir, ".git", "hooks", "pre-commit") });
    expect(fs.statSync(result.hook).mode & 0o111).toBe(0o111);
    const script = fs.readFileSync(result.hook, "utf8");
    expect(script.split("\n").slice(0, 2)).toEqual(["#!/bin/sh", expect.stringContaining(HOOK_MARKER)]);
    expect(script).toContain(CLI);
    const text = renderInstall(result);
    expect(text).toContain(`pre-commit hook installed: ${result.hook}`);
    expect(text).toContain("common hooks folder, which every worktree runs");
    expect(text).toContain(claudeSettingsSnippet());
    expect(text.trimEnd().endsWith(BACKSTOP_NOTE)).toBe(true);

    const ctx = createContext({ root: r.dir, storeDir: store, logger: silentLogger, sweepMs: 0, radarPollMs: 0 });
    try {
      expect((await ctx.locks.acquire({ agent_id: "coder-a", keys: ["app/a.py"], mode: "write" })).granted).toBe(true);
    } finally {
      await ctx.close();
    }
    const head = r.git(["rev-parse", "HEAD"], wt);
    r.write({ "app/a.py": "edited in worktree B\n" }, wt);
    const refused = commit(wt, "touches a held file", { SIGNALBOX_DB: store, SIGNALBOX_AGENT_ID: "coder-b" });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/commit refused \(committing as agent "coder-b"\).*\n\s+app\/a\.py: "coder-a" holds a write lock/);
    expect(r.git(["rev-parse", "HEAD"], wt)).toBe(head);
    // The holder may commit it: SIGNALBOX_AGENT_ID reaches the check through the hook.
    expect(commit(wt, "the holder commits", { SIGNALBOX_DB: store, SIGNALBOX_AGENT_ID: "coder-a" }).status).toBe(0);
    // The main worktree runs the same hook.
    r.write({ "app/a.py": "edited in the main worktree\n" });
    expect(commit(r.dir, "touches a held file", { SIGNALBOX_DB: store, SIGNALBOX_AGENT_ID: "coder-b" }).status).toBe(1);
    r.write({ "app/a.py": "a\n", "app/b.py": "free to change\n" });
    expect(commit(r.dir, "touches a free file", { SIGNALBOX_DB: store, SIGNALBOX_AGENT_ID: "coder-b" })).toEqual({ status: 0, stderr: "" });
  });

  it("chains an existing hook: it runs first in the committing worktree, its failure blocks the commit, and a second install changes nothing", async () => {
    const r = repo();
    const wt = r.worktree("wt-b", "feature/b");
    const hooks = path.join(r.dir, ".git", "hooks");
    const log = path.join(tempFolder("signalbox-chain-"), "log");
    fs.mkdirSync(hooks, { recursive: true });
    fs.writeFileSync(path.join(hooks, "pre-commit"), recordingHook(log, "theirs"), { mode: 0o755 });
    const first = await install(r.dir);
    expect(first).toMatchObject({ action: "installed", chained: path.join(hooks, CHAINED_NAME), chainedNow: true, chainedRuns: true });
    expect(fs.readFileSync(path.join(hooks, CHAINED_NAME), "utf8")).toBe(recordingHook(log, "theirs"));
    expect(renderInstall(first)).toContain(`your existing pre-commit hook moved to ${first.chained}; it runs first`);

    const before = snapshot(hooks);
    const again = await install(wt);
    expect(again).toMatchObject({ action: "unchanged", chained: first.chained, chainedNow: false, chainedRuns: true });
    expect(renderInstall(again)).toContain(`pre-commit hook already installed: ${first.hook}`);
    expect(snapshot(hooks)).toBe(before);

    r.write({ "app/b.py": "one\n" }, wt);
    expect(commit(wt, "first")).toEqual({ status: 0, stderr: "" });
    expect(fs.readFileSync(log, "utf8")).toBe(`theirs ${wt}\n`);
    fs.writeFileSync(`${log}.fail`, "");
    const head = r.git(["rev-parse", "HEAD"], wt);
    r.write({ "app/b.py": "two\n" }, wt);
    expect(commit(wt, "second").status).toBe(1);
    expect(r.git(["rev-parse", "HEAD"], wt)).toBe(head);
    // A hook made non-executable (so git skips it) is not "already installed".
    fs.chmodSync(first.hook, 0o644);
    expect((await install(wt)).action).toBe("updated");
    expect(fs.statSync(first.hook).mode & 0o777).toBe(0o755);
  });

  it("never overwrites an occupied chained name; a dry run changes nothing", async () => {
    const r = repo();
    const hooks = path.join(r.dir, ".git", "hooks");
    const log = path.join(tempFolder("signalbox-chain-"), "log");
    fs.mkdirSync(hooks, { recursive: true });
    fs.writeFileSync(path.join(hooks, "pre-commit"), recordingHook(log, "new"), { mode: 0o755 });
    fs.writeFileSync(path.join(hooks, CHAINED_NAME), recordingHook(log, "old"), { mode: 0o755 });

    const before = snapshot(hooks);
    const fingerprint = r.fingerprint();
    const dry = await install(r.dir, { dryRun: true });
    expect(dry).toMatchObject({ action: "installed", dryRun: true, chained: path.join(hooks, `${CHAINED_NAME}.2`), chainedNow: true, chainedRuns: true });
    expect(renderInstall(dry)).toMatch(/^signalbox: dry run, nothing changed: pre-commit hook would install: .*\n[\s\S]*would move to/);
    expect(snapshot(hooks)).toBe(before);
    expect(r.fingerprint()).toBe(fingerprint);

    const done = await install(r.dir);
    expect(done.chained).toBe(dry.chained);
    expect(fs.readFileSync(path.join(hooks, CHAINED_NAME), "utf8")).toBe(recordingHook(log, "old"));
    expect(fs.readFileSync(path.join(hooks, `${CHAINED_NAME}.2`), "utf8")).toBe(recordingHook(log, "new"));
    r.write({ "app/b.py": "changed\n" });
    expect(commit(r.dir, "runs the newer hook").status).toBe(0);
    expect(fs.readFileSync(log, "utf8")).toBe(`new ${r.dir}\n`);
    expect((await install(r.dir)).action).toBe("unchanged");
  });

  it("honours an absolute core.hooksPath for every worktree and rewrites a hook pointing at another CLI in place", async () => {
    const r = repo();
    const wt = r.worktree("wt-b", "feature/b");
    const shared = tempFolder("signalbox-hookspath-");
    const log = path.join(shared, "log");
    r.git(["config", "core.hooksPath", shared]);
    fs.writeFileSync(path.join(shared, "pre-commit"), recordingHook(log, "theirs"), { mode: 0o755 });

    const old = await install(wt, { cli: "/gone/signalbox/dist/src/cli.js" });
    expect(old).toMatchObject({ action: "installed", hook: path.join(shared, "pre-commit"), chained: path.join(shared, CHAINED_NAME), uncovered: [] });
    expect(old.hooksPath).toEqual({ value: shared, scope: "local", relative: false });
    expect(renderInstall(old)).toContain(`core.hooksPath (${shared}, local config), which every worktree runs`);
    // A hook whose CLI has gone refuses the commit and says how to fix it, after the chained hook ran.
    r.write({ "app/b.py": "one\n" }, wt);
    const broken = commit(wt, "with a stale hook");
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain("signalbox: /gone/signalbox/dist/src/cli.js is gone: run `signalbox hook install` again");

    const updated = await install(r.dir);
    expect(updated).toMatchObject({ action: "updated", chained: old.chained, chainedNow: false });
    expect(fs.readFileSync(updated.hook, "utf8")).toBe(hookScript(process.execPath, CLI));
    expect(fs.readdirSync(shared).sort()).toEqual(["log", "pre-commit", CHAINED_NAME]);
    expect(commit(wt, "with the current hook")).toEqual({ status: 0, stderr: "" });
    expect(fs.readFileSync(log, "utf8")).toBe(`theirs ${wt}\ntheirs ${wt}\n`);
    expect(fs.existsSync(path.join(r.dir, ".git", "hooks", "pre-commit"))).toBe(false);
  });

  it("says a relative core.hooksPath is per worktree, names the worktrees the hook does not cover, and the folder that would cover all", async () => {
    const r = repo();
    const wt = r.worktree("wt-b", "feature/b");
    r.git(["config", "core.hooksPath", ".githooks"]);
    const res = await install(wt);
    const mainFolder = path.join(r.dir, ".githooks");
    expect(res).toMatchObject({ action: "installed", hook: path.join(wt, ".githooks", "pre-commit"), hooksPath: { value: ".githooks", scope: "local", relative: true } });
    expect(res.uncovered).toEqual([{ worktree: r.dir, hooks: mainFolder }]);
    expect(res.sharedFolder).toBe(mainFolder);
    const text = renderInstall(res);
    expect(text).toContain("core.hooksPath is relative (.githooks, local config)");
    expect(text).toContain("Installed for this worktree only");
    expect(text).toContain(`git config core.hooksPath '${mainFolder}'`);
    expect(text).toContain(`    ${r.dir} (runs ${mainFolder})`);
    // Following that advice makes one hook serve every worktree.
    r.git(["config", "core.hooksPath", mainFolder]);
    expect(await install(wt)).toMatchObject({ action: "installed", hook: path.join(mainFolder, "pre-commit"), uncovered: [], sharedFolder: null });
  });

  it("fails outside a repository, naming the folder (the function and the CLI, exit 1)", async () => {
    const outside = tempFolder("signalbox-nogit-");
    await expect(install(outside)).rejects.toThrow(`${outside} is not inside a git repository`);
    await expect(install(path.join(outside, "missing"))).rejects.toThrow(`${path.join(outside, "missing")} is not a folder`);
    const cli = spawnSync(process.execPath, [CLI, "hook", "install"], { cwd: outside, env: committerEnv({}), encoding: "utf8" });
    expect(cli.status).toBe(1);
    expect(cli.stdout).toBe("");
    expect(cli.stderr).toBe(`signalbox hook install: ${outside} is not inside a git repository: run signalbox hook install in the repository (any of its worktrees)\n`);
  });

  it("the CLI installs with its own node and dist/src/cli.js, reports it, and says 'already installed' the second time; --dry-run writes nothing", () => {
    const r = repo();
    const hooks = path.join(r.dir, ".git", "hooks");
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, "hook", "install", ...args], { cwd: r.dir, env: committerEnv({}), encoding: "utf8" });
    const before = snapshot(hooks);
    const dry = run("--dry-run");
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`signalbox: dry run, nothing changed: pre-commit hook would install: ${path.join(hooks, "pre-commit")}`);
    expect(snapshot(hooks)).toBe(before);
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain(
      `signalbox: pre-commit hook installed: ${path.join(hooks, "pre-commit")}\n` +
        "  where: the repository's common hooks folder, which every worktree runs\n" +
        `  it runs: ${process.execPath} ${CLI} hook pre-commit`,
    );
    expect(first.stdout).toContain(BACKSTOP_NOTE);
    expect(fs.readFileSync(path.join(hooks, "pre-commit"), "utf8")).toBe(hookScript(process.execPath, CLI));
    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).toContain(`pre-commit hook already installed: ${path.join(hooks, "pre-commit")}`);
    const json = second.stdout.slice(second.stdout.indexOf("{\n"), second.stdout.indexOf("\n}\n") + 2);
    expect(JSON.parse(json)).toEqual({
      hooks: { PreToolUse: [{ matcher: "Edit|Write|MultiEdit|NotebookEdit", hooks: [{ type: "command", command: "npx --no-install signalbox hook claude-pre-tool-use" }] }] },
    });
  });
});
