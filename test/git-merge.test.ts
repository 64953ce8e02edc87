/**
 * The git layer on real repositories with real worktrees: repository
 * discovery, branch changes, uncommitted edits, predicted merges with their
 * conflict kinds, snapshots and the speculative wave merge; and that none of
 * them changes a working tree, an index, HEAD or a branch.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { branchChanges, uncommittedChanges } from "../src/git/changes.js";
import { GitError } from "../src/git/cli.js";
import { assertMergeTreeSupported, parseGitVersion, predictMany, predictMerge } from "../src/git/merge-tree.js";
import { branchExists, defaultBranchSync, discoverRepo, listWorktrees, resolveCommit, worktreeHead } from "../src/git/repo.js";
import { snapshotWorktree } from "../src/git/snapshot.js";
import { speculativeWaveMerge } from "../src/git/wave-merge.js";
import { makeRepo, type TempRepo } from "./helpers/git-repo.js";

let repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos) r.cleanup();
  repos = [];
});
function repo(opts?: Parameters<typeof makeRepo>[0]): TempRepo {
  const r = makeRepo(opts);
  repos.push(r);
  return r;
}

describe("repository discovery", () => {
  it("finds the same common git directory from the main worktree and a linked one, and nothing outside git", async () => {
    const r = repo();
    const wt = r.worktree("wt-a", "feature/a");
    const main = discoverRepo(r.dir);
    const linked = discoverRepo(path.join(wt));
    expect(main?.worktree).toBe(r.dir);
    expect(linked?.worktree).toBe(wt);
    expect(linked?.commonDir).toBe(main?.commonDir);
    expect(main?.commonDir).toBe(fs.realpathSync(path.join(r.dir, ".git")));
    expect(linked?.gitDir).not.toBe(main?.gitDir);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-nogit-"));
    try {
      expect(discoverRepo(outside)).toBeNull();
      fs.mkdirSync(path.join(outside, ".git")); // a folder git does not recognise
      expect(discoverRepo(outside)).toBeNull();
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
    const list = await listWorktrees(wt);
    expect(list.map((w) => [w.path, w.branch])).toEqual([
      [r.dir, "main"],
      [wt, "feature/a"],
    ]);
    expect(await worktreeHead(wt)).toEqual({ branch: "feature/a", head: r.git(["rev-parse", "HEAD"]) });
    r.git(["checkout", "-q", "--detach"], wt);
    expect((await worktreeHead(wt)).branch).toBeNull();
    expect((await listWorktrees(r.dir))[1]?.detached).toBe(true);
  });

  it("picks main, else master, else nothing as the default branch; resolves commits and names a missing one", async () => {
    expect(defaultBranchSync(repo().dir)).toBe("main");
    expect(defaultBranchSync(repo({ branch: "master" }).dir)).toBe("master");
    const trunk = repo({ branch: "trunk" });
    expect(defaultBranchSync(trunk.dir)).toBeNull();
    expect(await branchExists(trunk.dir, "trunk")).toBe(true);
    expect(await branchExists(trunk.dir, "nope")).toBe(false);
    await expect(resolveCommit(trunk.dir, "nope")).rejects.toMatchObject({ code: "unknown_ref" });
    expect(await resolveCommit(trunk.dir, "trunk")).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe("branch changes and uncommitted edits", () => {
  it("lists the commits and files since the merge base, renames and deletions as both paths", async () => {
    const r = repo({ files: { "a.txt": "a\n", "old.txt": "o\n", "gone.txt": "g\n" } });
    const wt = r.worktree("wt", "feature/x");
    const c1 = r.commit({ "b.txt": "b\n" }, "add b", wt);
    r.git(["mv", "old.txt", "new.txt"], wt);
    const c2 = r.commit({ "gone.txt": null }, "rename and delete", wt);
    r.commit({ "main-only.txt": "m\n" }, "target moves on");
    const ch = await branchChanges(r.dir, "feature/x", "main");
    expect(ch.commits).toEqual([c1, c2]);
    expect(ch.files).toEqual(["b.txt", "gone.txt", "new.txt", "old.txt"]);
    expect(ch.merge_base).toBe(r.git(["merge-base", "main", "feature/x"]));
    await expect(branchChanges(r.dir, "feature/none", "main")).rejects.toThrow(/branch "feature\/none" does not exist/);
    await expect(branchChanges(r.dir, "feature/x", "trunk")).rejects.toThrow(/target branch "trunk" does not exist/);
  });

  it("sees staged, unstaged, untracked and deleted files, but not ignored ones", async () => {
    const r = repo({ files: { "a.txt": "a\n", "b.txt": "b\n", ".gitignore": "*.log\n" } });
    expect(await uncommittedChanges(r.dir)).toEqual([]);
    r.write({ "a.txt": "changed\n", "new.txt": "n\n", "b.txt": null, "debug.log": "x\n", "dir/deep.txt": "d\n" });
    r.git(["add", "new.txt"]);
    expect(await uncommittedChanges(r.dir)).toEqual(["a.txt", "b.txt", "dir/deep.txt", "new.txt"]);
  });
});

describe("predicted merges (git merge-tree --write-tree)", () => {
  function diverged(): TempRepo {
    const r = repo({ files: { "f.txt": "l1\nl2\nl3\n", "del.txt": "x\n", "ren.txt": "r\n", "wide.txt": "1\n2\n3\n4\n5\n6\n7\n8\n9\n" } });
    r.git(["branch", "b1"]);
    r.git(["branch", "b2"]);
    r.git(["checkout", "-q", "b1"]);
    r.write({ "f.txt": "l1\nA\nl3\n", "add.txt": "one\n", "del.txt": "modified\n", "wide.txt": "one\n2\n3\n4\n5\n6\n7\n8\n9\n" });
    r.git(["mv", "ren.txt", "ren1.txt"]);
    r.commit({}, "b1");
    r.git(["checkout", "-q", "b2"]);
    r.write({ "f.txt": "l1\nB\nl3\n", "add.txt": "two\n", "del.txt": null, "wide.txt": "1\n2\n3\n4\n5\n6\n7\n8\nnine\n" });
    r.git(["mv", "ren.txt", "ren2.txt"]);
    r.commit({}, "b2");
    r.git(["checkout", "-q", "main"]);
    return r;
  }

  it("names each conflicting path with its kind, and the files both sides changed that merged cleanly", async () => {
    const r = diverged();
    const before = r.fingerprint();
    const p = await predictMerge(r.dir, "b1", "b2");
    expect(p.status).toBe("conflict");
    expect(p.conflicts.map((c) => [c.path, c.kind])).toEqual([
      ["add.txt", "add/add"],
      ["del.txt", "modify/delete"],
      ["f.txt", "content"],
      ["ren.txt", "rename"],
      ["ren1.txt", "rename"],
      ["ren2.txt", "rename"],
    ]);
    expect(p.both_changed).toEqual(["wide.txt"]);
    expect(p.merge_base).toBe(r.git(["rev-parse", "main"]));
    expect(r.fingerprint()).toBe(before);
  });

  it("calls a clean pair clean (silent: no conflicts), and keeps input order across concurrent merges", async () => {
    const r = repo({ files: { "a.txt": "a\n", "b.txt": "b\n" } });
    const x = r.worktree("wx", "x");
    const y = r.worktree("wy", "y");
    r.commit({ "a.txt": "A\n" }, "x", x);
    r.commit({ "b.txt": "B\n" }, "y", y);
    const [xy, yx, xm] = await predictMany(r.dir, [["x", "y"], ["y", "x"], ["x", "main"]], 2);
    expect(xy).toMatchObject({ a: "x", b: "y", status: "clean", conflicts: [], both_changed: [] });
    expect(yx).toMatchObject({ a: "y", b: "x", status: "clean" });
    expect(xm?.status).toBe("clean");
    await expect(predictMerge(r.dir, "x", "nope")).rejects.toBeInstanceOf(GitError);
  });

  it("refuses a git older than 2.38 with a clear error naming the version", () => {
    expect(() => assertMergeTreeSupported(parseGitVersion("git version 2.37.1"))).toThrow(/2\.38\.0.*2\.37\.1/);
    try {
      assertMergeTreeSupported(parseGitVersion("git version 2.37.1"));
    } catch (err) {
      expect((err as GitError).code).toBe("git_too_old");
    }
    expect(() => assertMergeTreeSupported(parseGitVersion("git version 2.39.5 (Apple Git-143)"))).not.toThrow();
    expect(() => assertMergeTreeSupported(parseGitVersion("git version 3.0.0"))).not.toThrow();
  });
});

describe("snapshots of uncommitted work", () => {
  it("captures edits, untracked files and deletions in a commit while the worktree, index and refs stay as they were", async () => {
    const r = repo({ files: { "a.txt": "a\n", "b.txt": "b\n" } });
    const wt = r.worktree("wt", "feature/s");
    const head = r.git(["rev-parse", "HEAD"], wt);
    expect(await snapshotWorktree(wt)).toEqual({ commit: head, dirty: false });
    r.write({ "a.txt": "edited\n", "b.txt": null, "c.txt": "new\n" }, wt);
    r.git(["add", "a.txt"], wt);
    const indexFile = path.join(r.git(["rev-parse", "--absolute-git-dir"], wt), "index");
    const before = r.fingerprint(wt); // may refresh the index's stat cache: read the index after it
    const indexBefore = fs.readFileSync(indexFile);
    const snap = await snapshotWorktree(wt);
    expect(fs.readFileSync(indexFile).equals(indexBefore)).toBe(true);
    expect(await uncommittedChanges(wt)).toEqual(["a.txt", "b.txt", "c.txt"]);
    expect(snap.dirty).toBe(true);
    expect(r.git(["show", `${snap.commit}:a.txt`])).toBe("edited");
    expect(r.git(["show", `${snap.commit}:c.txt`])).toBe("new");
    expect(r.git(["ls-tree", "--name-only", snap.commit])).not.toMatch(/b\.txt/);
    expect(r.git(["rev-parse", `${snap.commit}^`])).toBe(head);
    expect(r.fingerprint(wt)).toBe(before);
    expect(fs.readFileSync(indexFile).equals(indexBefore)).toBe(true);
  });
});

describe("the speculative wave merge", () => {
  function threeBranches(): { r: TempRepo; wts: string[] } {
    const r = repo({ files: { "shared.txt": "1\n2\n3\n4\n5\n6\n7\n8\n" } });
    const wts = ["f1", "f2", "f3"].map((b) => r.worktree(`wt-${b}`, b));
    r.commit({ "one.txt": "1\n" }, "f1", wts[0]);
    r.commit({ "two.txt": "2\n", "shared.txt": "one\n2\n3\n4\n5\n6\n7\n8\n" }, "f2", wts[1]);
    r.commit({ "three.txt": "3\n", "shared.txt": "1\n2\n3\n4\n5\n6\n7\neight\n" }, "f3", wts[2]);
    return { r, wts };
  }

  it("merges branches in order onto the target inside git, keeps the result under refs/signalbox/, and is reproducible", async () => {
    const { r, wts } = threeBranches();
    const before = [r.fingerprint(), ...wts.map((w) => r.fingerprint(w))];
    const input = { target: "main", branches: [{ branch: "f1", feature_id: "F1" }, { branch: "f2" }, { branch: "f3" }], ref: "refs/signalbox/waves/P/1" };
    const m = await speculativeWaveMerge(r.dir, input);
    expect(m.first_conflict).toBeNull();
    expect(m.steps.map((s) => [s.branch, s.status])).toEqual([
      ["f1", "clean"],
      ["f2", "clean"],
      ["f3", "clean"],
    ]);
    expect(r.git(["rev-parse", "refs/signalbox/waves/P/1"])).toBe(m.commit);
    expect(r.git(["show", "refs/signalbox/waves/P/1:shared.txt"])).toBe("one\n2\n3\n4\n5\n6\n7\neight");
    expect(r.git(["show", "refs/signalbox/waves/P/1:three.txt"])).toBe("3");
    expect([r.fingerprint(), ...wts.map((w) => r.fingerprint(w))]).toEqual(before);
    expect((await speculativeWaveMerge(r.dir, input)).commit).toBe(m.commit);
  });

  it("stops at the first branch that conflicts, names it and its files, and removes a stale merged ref", async () => {
    const { r, wts } = threeBranches();
    const ref = "refs/signalbox/waves/P/2";
    await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1" }], ref });
    r.commit({ "shared.txt": "ONE\n2\n3\n4\n5\n6\n7\n8\n" }, "f1 clashes with f2", wts[0]);
    const m = await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1", feature_id: "F1" }, { branch: "f2", feature_id: "F2" }, { branch: "f3" }], ref });
    expect(m.commit).toBeNull();
    expect(m.first_conflict).toEqual({ branch: "f2", feature_id: "F2", files: ["shared.txt"] });
    expect(m.steps).toHaveLength(2);
    expect(() => r.git(["rev-parse", "--verify", ref])).toThrow();
    await expect(speculativeWaveMerge(r.dir, { target: "main", branches: [], ref: "refs/heads/main" })).rejects.toThrow(/^ref: .*refs\/signalbox/);
  });
});
