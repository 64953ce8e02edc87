/**
 * The repository layer on real repositories with real linked worktrees:
 * which repository and worktree a folder belongs to, the worktree list, the
 * default branch, ref resolution, a branch's changes since its merge base, a
 * worktree's uncommitted paths and the branch-heads fingerprint.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { branchChanges, uncommittedChanges } from "../src/git/changes.js";
import { GitError } from "../src/git/cli.js";
import { branchHeads, refsFingerprint } from "../src/git/refs.js";
import { branchExists, defaultBranchSync, discoverRepo, listWorktrees, listWorktreesSync, resolveCommit, worktreeHead } from "../src/git/repo.js";
import { makeRepo, type TempRepo } from "./helpers/git-repo.js";

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function repo(opts?: Parameters<typeof makeRepo>[0]): TempRepo {
  const r = makeRepo(opts);
  cleanups.push(() => r.cleanup());
  return r;
}
function tempDir(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-nogit-")));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("discoverRepo", () => {
  it("gives the main and a linked worktree the same common git directory and their own worktree and git directory", () => {
    const r = repo();
    const wt = r.worktree("wt-a", "feature/a");
    fs.mkdirSync(path.join(wt, "src", "deep"), { recursive: true });
    const main = discoverRepo(r.dir);
    const linked = discoverRepo(wt);
    expect(main).toEqual({ worktree: r.dir, commonDir: path.join(r.dir, ".git"), gitDir: path.join(r.dir, ".git") });
    expect(linked).toEqual({ worktree: wt, commonDir: path.join(r.dir, ".git"), gitDir: path.join(r.dir, ".git", "worktrees", "wt-a") });
    // From a subfolder git prints --git-common-dir relative to it (../../.git): resolved, not taken as is.
    fs.mkdirSync(path.join(r.dir, "a", "b"), { recursive: true });
    expect(discoverRepo(path.join(r.dir, "a", "b"))).toEqual(main);
    expect(discoverRepo(path.join(wt, "src", "deep"))).toEqual(linked);
  });

  it("is null outside a work tree: a plain folder, an unrecognised .git folder, a bare repository, inside .git, a missing folder", () => {
    const r = repo();
    const outside = tempDir();
    expect(discoverRepo(outside)).toBeNull();
    fs.mkdirSync(path.join(outside, "plain", ".git"), { recursive: true });
    expect(discoverRepo(path.join(outside, "plain"))).toBeNull();
    r.git(["clone", "-q", "--bare", r.dir, path.join(outside, "bare.git")]);
    expect(discoverRepo(path.join(outside, "bare.git"))).toBeNull();
    expect(discoverRepo(path.join(r.dir, ".git"))).toBeNull();
    expect(discoverRepo(path.join(outside, "does-not-exist"))).toBeNull();
  });
});

describe("worktrees", () => {
  it("lists every worktree, main first, with branch, detached, locked and prunable, the same synchronously", async () => {
    const r = repo();
    const a = r.worktree("wt-a", "feature/a");
    const b = r.worktree("wt-b", "feature/b");
    const c = r.worktree("wt-c", "feature/c");
    const head = r.git(["rev-parse", "HEAD"]);
    r.git(["checkout", "-q", "--detach"], b);
    r.git(["worktree", "lock", "--reason", "on a usb disk", a]);
    fs.rmSync(c, { recursive: true, force: true }); // gone from disk: prunable
    const list = await listWorktrees(a);
    const plain = { head, detached: false, bare: false, locked: false, prunable: false };
    expect(list).toEqual([
      { ...plain, path: r.dir, branch: "main" },
      { ...plain, path: a, branch: "feature/a", locked: true },
      { ...plain, path: b, branch: null, detached: true },
      { ...plain, path: c, branch: "feature/c", prunable: true },
    ]);
    expect(listWorktreesSync(r.dir)).toEqual(list);
  });

  it("lists a single main worktree alone (silent case)", async () => {
    const r = repo();
    expect(await listWorktrees(r.dir)).toEqual([
      { path: r.dir, head: r.git(["rev-parse", "HEAD"]), branch: "main", detached: false, bare: false, locked: false, prunable: false },
    ]);
  });

  it("reads a worktree's branch and head: on a branch, detached, and on an unborn branch", async () => {
    const r = repo();
    const wt = r.worktree("wt", "feature/h");
    const head = r.git(["rev-parse", "HEAD"]);
    expect(await worktreeHead(wt)).toEqual({ branch: "feature/h", head });
    expect(await worktreeHead(r.dir)).toEqual({ branch: "main", head });
    r.git(["checkout", "-q", "--detach"], wt);
    expect(await worktreeHead(wt)).toEqual({ branch: null, head });
    r.git(["checkout", "-q", "--orphan", "fresh"], wt);
    expect(await worktreeHead(wt)).toEqual({ branch: "fresh", head: null });
    expect((await listWorktrees(r.dir))[1]).toMatchObject({ path: wt, branch: "fresh", head: null, detached: false });
  });
});

describe("defaultBranchSync", () => {
  it("picks main, else master, else nothing", () => {
    expect(defaultBranchSync(repo().dir)).toBe("main");
    expect(defaultBranchSync(repo({ branch: "master" }).dir)).toBe("master");
    const both = repo({ branch: "master" });
    both.git(["branch", "main"]);
    expect(defaultBranchSync(both.dir)).toBe("main");
    expect(defaultBranchSync(repo({ branch: "trunk" }).dir)).toBeNull();
    expect(defaultBranchSync(tempDir())).toBeNull();
  });

  it("follows refs/remotes/origin/HEAD when that branch exists locally, from any worktree", () => {
    const r = repo();
    const wt = r.worktree("wt", "feature/x");
    r.git(["update-ref", "refs/remotes/origin/develop", "HEAD"]);
    r.git(["symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/develop"]);
    expect(defaultBranchSync(r.dir)).toBe("main"); // only the remote has develop
    r.git(["branch", "develop"]);
    expect(defaultBranchSync(r.dir)).toBe("develop");
    expect(defaultBranchSync(wt)).toBe("develop");
  });
});

describe("resolveCommit and branchExists", () => {
  it("resolves branches, peeled tags and ids to full commit ids, and names what does not exist", async () => {
    const r = repo();
    const head = r.git(["rev-parse", "HEAD"]);
    r.git(["tag", "-a", "v1", "-m", "release"]);
    expect(await resolveCommit(r.dir, "main")).toBe(head);
    expect(await resolveCommit(r.dir, "v1")).toBe(head);
    expect(await resolveCommit(r.dir, head.slice(0, 10))).toBe(head);
    await expect(resolveCommit(r.dir, "nope")).rejects.toMatchObject({ code: "unknown_ref", message: expect.stringContaining('"nope"') });
    await expect(resolveCommit(r.dir, r.git(["rev-parse", "HEAD^{tree}"]))).rejects.toMatchObject({ code: "unknown_ref" });
    await expect(resolveCommit(r.dir, "--all")).rejects.toMatchObject({ code: "unknown_ref" });
    await expect(resolveCommit(tempDir(), "main")).rejects.toMatchObject({ code: "not_a_repository" });
    await expect(resolveCommit(path.join(r.dir, "missing-folder"), "main")).rejects.toMatchObject({ code: "not_a_repository" });
  });

  it("knows which local branches exist", async () => {
    const r = repo();
    r.worktree("wt", "feature/a");
    r.git(["tag", "t1"]);
    expect(await branchExists(r.dir, "main")).toBe(true);
    expect(await branchExists(r.dir, "feature/a")).toBe(true);
    expect(await branchExists(r.dir, "feature")).toBe(false);
    expect(await branchExists(r.dir, "t1")).toBe(false);
    expect(await branchExists(r.dir, "-d")).toBe(false);
    await expect(branchExists(tempDir(), "main")).rejects.toBeInstanceOf(GitError);
  });
});

describe("branchChanges", () => {
  it("lists the commits (oldest first) and files since the merge base; a rename and a deletion give both paths", async () => {
    const r = repo({ files: { "a.txt": "a\n", "old.txt": "o\n", "gone.txt": "g\n" } });
    const wt = r.worktree("wt", "feature/x");
    const c1 = r.commit({ "b.txt": "b\n" }, "add b", wt);
    r.git(["mv", "old.txt", "new.txt"], wt);
    const c2 = r.commit({ "gone.txt": null, "dir/sub/c.txt": "c\n" }, "rename and delete", wt);
    r.commit({ "main-only.txt": "m\n" }, "target moves on");
    const ch = await branchChanges(r.dir, "feature/x", "main");
    expect(ch).toEqual({
      branch: "feature/x",
      target: "main",
      head: c2,
      merge_base: r.git(["merge-base", "main", "feature/x"]),
      commits: [c1, c2],
      files: ["b.txt", "dir/sub/c.txt", "gone.txt", "new.txt", "old.txt"],
    });
  });

  it("is empty for a branch with nothing of its own (silent case)", async () => {
    const r = repo();
    r.worktree("wt", "feature/none");
    r.commit({ "later.txt": "l\n" }, "target moves on");
    const ch = await branchChanges(r.dir, "feature/none", "main");
    expect(ch.commits).toEqual([]);
    expect(ch.files).toEqual([]);
    expect(ch.merge_base).toBe(ch.head);
  });

  it("includes merge commits and not the target's files a merge brought in", async () => {
    const r = repo();
    const wt = r.worktree("wt", "feature/m");
    const c1 = r.commit({ "f.txt": "f\n" }, "feature work", wt);
    r.commit({ "main-only.txt": "m\n" }, "target moves on");
    r.git(["merge", "-q", "--no-ff", "-m", "merge main into feature", "main"], wt);
    const merge = r.git(["rev-parse", "HEAD"], wt);
    const ch = await branchChanges(r.dir, "feature/m", "main");
    expect(ch.commits).toEqual([c1, merge]);
    expect(ch.files).toEqual(["f.txt"]);
  });

  it("takes every file of the branch for unrelated histories (merge_base null)", async () => {
    const r = repo();
    const wt = r.worktree("wt", "tmp");
    r.git(["checkout", "-q", "--orphan", "lonely"], wt);
    r.git(["rm", "-rqf", "."], wt);
    const c1 = r.commit({ "x.txt": "x\n" }, "root of another history", wt);
    const c2 = r.commit({ "d/y.txt": "y\n" }, "more", wt);
    const ch = await branchChanges(r.dir, "lonely", "main");
    expect(ch).toMatchObject({ merge_base: null, commits: [c1, c2], files: ["d/y.txt", "x.txt"] });
  });

  it("names a missing branch or target", async () => {
    const r = repo();
    r.worktree("wt", "feature/x");
    await expect(branchChanges(r.dir, "feature/none", "main")).rejects.toMatchObject({ code: "unknown_ref", message: expect.stringMatching(/branch "feature\/none" does not exist/) });
    await expect(branchChanges(r.dir, "feature/x", "trunk")).rejects.toMatchObject({ code: "unknown_ref", message: expect.stringMatching(/target branch "trunk" does not exist/) });
  });
});

describe("uncommittedChanges", () => {
  it("is empty for a clean worktree (silent case)", async () => {
    const r = repo({ files: { "a.txt": "a\n", ".gitignore": "*.log\n" } });
    r.write({ "debug.log": "ignored\n" });
    expect(await uncommittedChanges(r.dir)).toEqual([]);
  });

  it("lists staged, unstaged, untracked and deleted paths from the top level, not ignored ones, from any subfolder", async () => {
    const r = repo({ files: { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "src/d.txt": "d\n", ".gitignore": "*.log\n" } });
    const wt = r.worktree("wt", "feature/u");
    r.write({ "a.txt": "unstaged\n", "b.txt": null, "new.txt": "n\n", "debug.log": "x\n", "dir/deep/e.txt": "e\n", "src/d.txt": "staged\n" }, wt);
    r.git(["add", "src/d.txt"], wt);
    r.git(["rm", "-q", "c.txt"], wt);
    const want = ["a.txt", "b.txt", "c.txt", "dir/deep/e.txt", "new.txt", "src/d.txt"];
    expect(await uncommittedChanges(wt)).toEqual(want);
    expect(await uncommittedChanges(path.join(wt, "src"))).toEqual(want);
    expect(await uncommittedChanges(r.dir)).toEqual([]); // another worktree's edits are its own
  });

  it("lists a staged rename as its old and its new path", async () => {
    const r = repo({ files: { "a.txt": "some content that git can follow\n" } });
    r.git(["mv", "a.txt", "moved.txt"]);
    expect(await uncommittedChanges(r.dir)).toEqual(["a.txt", "moved.txt"]);
  });
});

describe("branch heads", () => {
  it("keeps the fingerprint while no branch moves, whatever else changes, and changes it when one does", async () => {
    const r = repo();
    const wt = r.worktree("wt", "feature/a");
    const first = await refsFingerprint(r.dir);
    expect(await refsFingerprint(wt)).toBe(first);
    r.git(["update-ref", "refs/signalbox/waves/P/1", "HEAD"]);
    r.git(["tag", "t1"]);
    r.write({ "dirty.txt": "uncommitted\n" }, wt);
    expect(await refsFingerprint(r.dir)).toBe(first);
    const moved = r.commit({ "a.txt": "a\n" }, "move feature/a", wt);
    const second = await refsFingerprint(r.dir);
    expect(second).not.toBe(first);
    expect(second).toContain(`${moved} refs/heads/feature/a`);
    expect(await branchHeads(wt)).toEqual(
      new Map([
        ["feature/a", moved],
        ["main", r.git(["rev-parse", "main"])],
      ]),
    );
    r.git(["branch", "feature/b"]);
    expect(await refsFingerprint(r.dir)).not.toBe(second);
  });
});
