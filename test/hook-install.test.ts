/**
 * `signalbox hook install` on real repositories with real worktrees: the hook
 * lands where git runs it for every worktree (the common hooks folder, or an
 * absolute core.hooksPath), a commit in a linked worktree of a file another
 * agent holds is refused by it, an existing hook is chained (and its failure
 * still blocks), a second install changes nothing, a dry run changes nothing.
 * Needs the build (`pretest`): the installed hook runs dist/src/cli.js.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createContext } from "../src/context.js";
import { CHAINED_NAME, HOOK_MARKER, installPreCommitHook, renderInstall } from "../src/hooks/install.js";
import { silentLogger } from "../src/logger.js";
import { makeRepo, type TempRepo } from "./helpers/git-repo.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
let repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos) r.cleanup();
  repos = [];
});
function repo(): TempRepo {
  const r = makeRepo({ files: { "app/a.py": "a\n", "app/b.py": "b\n" } });
  repos.push(r);
  return r;
}
const install = (cwd: string, dryRun = false) => installPreCommitHook({ cwd, node: process.execPath, cli: CLI, dryRun });

/** `git commit -am` in `cwd` with a clean environment; exit code and stderr. */
function commit(cwd: string, message: string): { status: number; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
  delete env.SIGNALBOX_DB;
  delete env.SIGNALBOX_ROOT;
  delete env.SIGNALBOX_AGENT_ID;
  const r = spawnSync("git", ["commit", "-q", "-am", message], { cwd, env, encoding: "utf8" });
  return { status: r.status ?? -1, stderr: r.stderr };
}

describe("signalbox hook install", () => {
  it("installs into the common hooks folder, so a commit in a linked worktree of a file another agent holds is refused", async () => {
    const r = repo();
    const wt = r.worktree("wt-b", "feature/b");
    const result = await install(wt);
    expect(result).toMatchObject({ action: "installed", scope: "common", chained: null, hook: path.join(r.dir, ".git", "hooks", "pre-commit") });
    expect(fs.statSync(result.hook).mode & 0o111).not.toBe(0);
    expect(renderInstall(result)).toMatch(/runs for every worktree[\s\S]*"PreToolUse"[\s\S]*backstop that always runs/);

    const ctx = createContext({ root: r.dir, logger: silentLogger, sweepMs: 0, radarPollMs: 0 });
    try {
      expect((await ctx.locks.acquire({ agent_id: "coder-a", keys: ["app/a.py"], mode: "write" })).granted).toBe(true);
    } finally {
      await ctx.close();
    }
    r.write({ "app/a.py": "edited in worktree B\n" }, wt);
    const refused = commit(wt, "touches a held file");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/commit refused.*\n\s+app\/a\.py: .*coder-a/);
    r.git(["checkout", "--", "app/a.py"], wt);
    r.write({ "app/b.py": "free to change\n" }, wt);
    expect(commit(wt, "touches a free file").status).toBe(0);
  });

  it("chains an existing hook, which still runs first and still blocks when it fails; a second install changes nothing", async () => {
    const r = repo();
    const hooks = path.join(r.dir, ".git", "hooks");
    fs.mkdirSync(hooks, { recursive: true });
    const marker = path.join(os.tmpdir(), `signalbox-chain-${process.pid}-${Date.now()}`);
    fs.writeFileSync(path.join(hooks, "pre-commit"), `#!/bin/sh\necho ran >> '${marker}'\n[ ! -f '${marker}.fail' ]\n`, { mode: 0o755 });
    const first = await install(r.dir);
    expect(first).toMatchObject({ action: "installed", chained: path.join(hooks, CHAINED_NAME) });
    expect(fs.readFileSync(path.join(hooks, CHAINED_NAME), "utf8")).toContain("echo ran");
    const again = await install(r.dir);
    expect(again.action).toBe("unchanged");
    r.write({ "app/b.py": "one\n" });
    expect(commit(r.dir, "first").status).toBe(0);
    expect(fs.readFileSync(marker, "utf8")).toBe("ran\n");
    fs.writeFileSync(`${marker}.fail`, "");
    r.write({ "app/b.py": "two\n" });
    expect(commit(r.dir, "second").status).not.toBe(0);
    fs.rmSync(marker, { force: true });
    fs.rmSync(`${marker}.fail`, { force: true });
  });

  it("honours an absolute core.hooksPath, rewrites an older signalbox hook in place, and a dry run changes nothing", async () => {
    const r = repo();
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-hookspath-"));
    try {
      r.git(["config", "core.hooksPath", shared]);
      const dry = await install(r.dir, true);
      expect(dry).toMatchObject({ action: "installed", scope: "hooks_path", dryRun: true, hook: path.join(shared, "pre-commit") });
      expect(fs.existsSync(dry.hook)).toBe(false);
      fs.writeFileSync(dry.hook, `#!/bin/sh\n${HOOK_MARKER}\nexec /old/node /old/cli.js hook pre-commit\n`, { mode: 0o755 });
      const updated = await install(r.dir);
      expect(updated.action).toBe("updated");
      expect(fs.readFileSync(updated.hook, "utf8")).toContain(CLI);
      expect(fs.existsSync(path.join(shared, CHAINED_NAME))).toBe(false);
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });

  it("says a relative core.hooksPath is per worktree, and refuses to run outside a repository", async () => {
    const r = repo();
    r.git(["config", "core.hooksPath", ".githooks"]);
    const res = await install(r.dir);
    expect(res).toMatchObject({ scope: "worktree", hook: path.join(r.dir, ".githooks", "pre-commit") });
    expect(renderInstall(res)).toMatch(/each worktree runs the hooks of its own folder/);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-nogit-"));
    try {
      await expect(install(outside)).rejects.toThrow(/is not inside a git work tree/);
      const cli = spawnSync(process.execPath, [CLI, "hook", "install"], { cwd: outside, encoding: "utf8" });
      expect(cli.status).toBe(1);
      expect(cli.stderr).toMatch(/not inside a git work tree/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
