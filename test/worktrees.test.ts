/**
 * One repository, many worktrees: the store lives in the repository's common
 * git directory, keys are repository-relative in every worktree, an old
 * store moves without losing data, and agents and features carry their
 * worktree and branch. Real repositories, real worktrees, real servers.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createContext, type Context } from "../src/runtime/context.js";
import type { Logger } from "../src/runtime/logger.js";
import { systemClock } from "../src/store/clock.js";
import { locateStore, prepareStore, resolveStoreDir } from "../src/runtime/root.js";
import { openStore } from "../src/store/lmdb/store.js";
import { appendDecision } from "../src/log/decisions.js";
import { connect, type Harness } from "./helpers/client.js";
import { makeRepo, type TempRepo } from "./helpers/git-repo.js";
import { ServerProcess } from "./helpers/process.js";
import { tempDir } from "./helpers/store.js";
import { lmdbTxn } from "../src/store/lmdb/engine.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function repo(opts?: Parameters<typeof makeRepo>[0]): TempRepo {
  const r = makeRepo(opts);
  cleanups.push(() => r.cleanup());
  return r;
}
async function harness(root: string): Promise<Harness> {
  const h = await connect({ root, storeDir: undefined, radarPollMs: 0 });
  cleanups.push(() => h.close());
  return h;
}

describe("the store belongs to the repository", () => {
  it("is the common git directory's signalbox/ from every worktree, never inside a working tree", () => {
    const r = repo();
    const wt = r.worktree("wt-b", "feature/b");
    const common = fs.realpathSync(path.join(r.dir, ".git"));
    expect(resolveStoreDir(r.dir, {})).toBe(path.join(common, "signalbox"));
    expect(resolveStoreDir(wt, {})).toBe(path.join(common, "signalbox"));
    expect(resolveStoreDir(wt, { SIGNALBOX_DB: "/elsewhere/db" })).toBe("/elsewhere/db");
    const plain = tempDir();
    cleanups.push(plain.cleanup);
    expect(resolveStoreDir(plain.dir, {})).toBe(path.join(plain.dir, ".signalbox"));
  });

  it("refuses the second write lock on one file across two worktrees, and git status stays clean", async () => {
    const r = repo({ files: { "a.txt": "a\n" } });
    const wt = r.worktree("wt-b", "feature/b");
    const a = await harness(r.dir);
    const b = await harness(wt);
    expect(a.ctx.store.dir).toBe(b.ctx.store.dir);
    const first = await a.ok<{ granted: boolean }>("acquire_lock", { agent_id: "coder-a", paths: ["a.txt"], mode: "write" });
    expect(first.granted).toBe(true);
    const second = await b.ok<{ granted: boolean; holders: { agent_id: string }[] }>("acquire_lock", { agent_id: "coder-b", paths: ["a.txt"], mode: "write" });
    expect(second.granted).toBe(false);
    expect(second.holders.map((h) => h.agent_id)).toEqual(["coder-a"]);
    // An absolute path inside worktree A, sent to the server of worktree B, is the same key.
    const abs = await b.ok<{ granted: boolean }>("acquire_lock", { agent_id: "coder-b", paths: [path.join(r.dir, "a.txt")], mode: "write" });
    expect(abs.granted).toBe(false);
    expect(r.git(["status", "--porcelain", "--untracked-files=all"])).toBe("");
    expect(r.git(["status", "--porcelain", "--untracked-files=all"], wt)).toBe("");
  });

  it("maps absolute paths of any worktree, nested ones included, to repository-relative keys", async () => {
    const r = repo({ files: { "app/a.py": "x\n" } });
    const sibling = r.worktree("wt-sibling", "feature/s");
    const nested = path.join(r.dir, ".worktrees", "n");
    r.git(["worktree", "add", "-q", "-b", "feature/n", nested]);
    const h = await harness(r.dir);
    expect(h.ctx.keys.normalize(path.join(sibling, "app/a.py"), "k")).toBe("app/a.py");
    expect(h.ctx.keys.normalize(path.join(fs.realpathSync(nested), "app/a.py"), "k")).toBe("app/a.py");
    expect(h.ctx.keys.normalize(path.join(r.dir, "app/a.py"), "k")).toBe("app/a.py");
    const inSibling = await harness(sibling);
    expect(inSibling.ctx.keys.normalize(path.join(r.dir, "app", "a.py"), "k")).toBe("app/a.py");
    expect(() => inSibling.ctx.keys.normalize("/etc/passwd", "k")).toThrow(/outside the project root/);
  });

  it("moves an old <root>/.signalbox/ store into the common git directory with its data and one notice", () => {
    const r = repo();
    const old = path.join(r.dir, ".signalbox");
    const store = openStore(old);
    store.write(() => appendDecision(lmdbTxn(store), systemClock(), { type: "convention", decided_by: "x", context: "c", decision: "kept across the upgrade", rationale: null, refs: [] }));
    return store.close().then(async () => {
      expect(locateStore(r.dir, {}).dir).toBe(old); // a reader looks where the data is until it moves
      const lines: string[] = [];
      const logger: Logger = { log: (_l, m) => lines.push(m) };
      const ctx: Context = createContext({ root: r.dir, logger, sweepMs: 0, radarPollMs: 0 });
      try {
        const moved = path.join(fs.realpathSync(path.join(r.dir, ".git")), "signalbox");
        expect(ctx.store.dir).toBe(moved);
        expect(fs.existsSync(old)).toBe(false);
        expect(lines.filter((l) => l.includes("moved the store"))).toHaveLength(1);
        const decisions = [...ctx.store.decisions.getRange({}).map(({ value }) => value.decision)];
        expect(decisions).toContain("kept across the upgrade");
      } finally {
        await ctx.close();
      }
      // Both places holding a store: the new one is used, the old one left alone, with a notice.
      fs.mkdirSync(old);
      fs.copyFileSync(path.join(r.dir, ".git", "signalbox", "signalbox.mdb"), path.join(old, "signalbox.mdb"));
      const notices: string[] = [];
      const found = prepareStore(r.dir, {}, (l) => notices.push(l));
      expect(found.dir).toBe(path.join(fs.realpathSync(path.join(r.dir, ".git")), "signalbox"));
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/left untouched/);
      expect(fs.existsSync(path.join(old, "signalbox.mdb"))).toBe(true);
    });
  });

  it("keeps the old rule outside git and with SIGNALBOX_DB (silent: no notice, nothing moved)", () => {
    const plain = tempDir();
    cleanups.push(plain.cleanup);
    const notices: string[] = [];
    expect(prepareStore(fs.realpathSync(plain.dir), {}, (l) => notices.push(l)).dir).toBe(path.join(fs.realpathSync(plain.dir), ".signalbox"));
    const r = repo();
    expect(prepareStore(r.dir, { SIGNALBOX_DB: path.join(plain.dir, "db") }, (l) => notices.push(l)).dir).toBe(path.join(plain.dir, "db"));
    expect(prepareStore(r.dir, {}, (l) => notices.push(l)).source).toBe("git");
    expect(notices).toEqual([]);
  });
});

describe("agents and features know their worktree and branch", () => {
  it("fills worktree, branch and head from the calling server; start_feature records the branch, none on the target branch", async () => {
    const r = repo();
    const wt = r.worktree("wt-login", "feature/login");
    const onMain = await harness(r.dir);
    const onBranch = await harness(wt);
    await onBranch.ok("report_status", { agent_id: "coder-1", status: "working" });
    const board = await onBranch.readJson<{ agents: { agent_id: string; worktree: string | null; branch: string | null; head: string | null }[] }>("signalbox://agents");
    expect(board.agents.find((a) => a.agent_id === "coder-1")).toMatchObject({ worktree: wt, branch: "feature/login", head: r.git(["rev-parse", "HEAD"], wt) });
    const started = await onBranch.ok<{ branch: string | null }>("start_feature", { agent_id: "coder-1", feature_id: "F1" });
    expect(started.branch).toBe("feature/login");
    const onTarget = await onMain.ok<{ branch: string | null }>("start_feature", { agent_id: "coder-2", feature_id: "F2" });
    expect(onTarget.branch).toBeNull();
    const named = await onMain.ok<{ branch: string | null }>("start_feature", { agent_id: "coder-3", feature_id: "F3", branch: "feature/login" });
    expect(named.branch).toBe("feature/login");
    expect(await onMain.fails("start_feature", { agent_id: "coder-4", feature_id: "F4", branch: "feature/nope" })).toMatch(/^branch: no branch "feature\/nope"/);
    // An agent working elsewhere (over HTTP, say) gives its own location; the head is git's for that branch.
    await onMain.ok("report_status", { agent_id: "remote-1", status: "working", worktree: "/home/remote/app", branch: "feature/login" });
    const again = await onMain.readJson<{ agents: { agent_id: string; worktree: string | null; branch: string | null; head: string | null }[] }>("signalbox://agents");
    expect(again.agents.find((a) => a.agent_id === "remote-1")).toMatchObject({ worktree: "/home/remote/app", branch: "feature/login", head: r.git(["rev-parse", "feature/login"]) });
  });

  it("honours git.target_branch from the config of the worktree the server runs in", async () => {
    const r = repo({ branch: "trunk" });
    fs.writeFileSync(path.join(r.dir, "signalbox.config.json"), JSON.stringify({ git: { target_branch: "trunk" } }));
    const h = await harness(r.dir);
    expect(h.ctx.git.targetBranch()).toBe("trunk");
    expect((await h.ok<{ branch: string | null }>("start_feature", { agent_id: "c", feature_id: "F" })).branch).toBeNull();
  });
});

describe("people views show the branch", () => {
  it("signalbox status and signalbox locks, run in another worktree, show each agent's branch; server_info names the repository", async () => {
    const r = repo({ files: { "app/a.py": "x\n" } });
    const wt = r.worktree("wt-login", "feature/login");
    const h = await harness(wt);
    await h.ok("report_status", { agent_id: "coder-1", status: "working" });
    await h.ok("acquire_lock", { agent_id: "coder-1", paths: ["app/a.py"], mode: "write" });
    const info = await h.ok<{ git_common_dir: string | null; target_branch: string | null }>("server_info", {});
    expect(info).toEqual(expect.objectContaining({ git_common_dir: fs.realpathSync(path.join(r.dir, ".git")), target_branch: "main" }));
    const env: NodeJS.ProcessEnv = { ...process.env, COLUMNS: "100", NO_COLOR: "1" };
    delete env.SIGNALBOX_DB;
    delete env.SIGNALBOX_ROOT;
    const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: r.dir, env, encoding: "utf8" });
    const locks = cli(["locks"]);
    expect(locks.status).toBe(0);
    expect(locks.stdout).toMatch(/KEY +MODE +HOLDER +BRANCH/);
    expect(locks.stdout).toMatch(/app\/a\.py +write +coder-1 +feature\/login/);
    const json = JSON.parse(cli(["locks", "--format", "json"]).stdout) as { locks: { key: string; branch: string | null }[] };
    expect(json.locks).toEqual([expect.objectContaining({ key: "app/a.py", branch: "feature/login" })]);
    const status = cli(["status"]);
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/coder-1 +other +feature\/login +working/);
  });
});

describe("across real server processes", () => {
  it("two servers started in two worktrees share one store: the second write lock is refused", async () => {
    const r = repo({ files: { "app/a.py": "x\n" } });
    const wt = r.worktree("wt-b", "feature/b");
    const env = (cwd: string) => ({ ...process.env, SIGNALBOX_ROOT: cwd, SIGNALBOX_DB: "" }) as Record<string, string>;
    const a = new ServerProcess("a");
    const b = new ServerProcess("b");
    await a.start(env(r.dir));
    await b.start(env(wt));
    cleanups.push(async () => {
      await a.client.close();
      await b.client.close();
    });
    expect((await a.ok<{ granted: boolean }>("acquire_lock", { agent_id: "coder-a", paths: ["app/a.py"], mode: "write" })).granted).toBe(true);
    expect((await b.ok<{ granted: boolean }>("acquire_lock", { agent_id: "coder-b", paths: [path.join(wt, "app/a.py")], mode: "write" })).granted).toBe(false);
    expect(r.git(["status", "--porcelain", "--untracked-files=all"], wt)).toBe("");
  });
});
