/**
 * Predicted merges (`git merge-tree --write-tree`) with their conflict kinds
 * and the both-changed warning, the git version gate, and snapshots of
 * uncommitted work, on real repositories with real worktrees; and that none
 * of them changes any worktree's files, index, HEAD or branches.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { uncommittedChanges } from "../src/git/changes.js";
import { GitError } from "../src/git/cli.js";
import { assertMergeTreeSupported, conflictKind, gitVersion, parseGitVersion, predictMany, predictMerge, requireMergeTree } from "../src/git/merge-tree.js";
import { snapshotWorktree } from "../src/git/snapshot.js";
import { makeRepo, untouched, type TempRepo } from "./helpers/git-repo.js";

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
  vi.restoreAllMocks();
});
function repo(opts?: Parameters<typeof makeRepo>[0]): TempRepo {
  const r = makeRepo(opts);
  cleanups.push(() => r.cleanup());
  return r;
}
/** Set environment variables (undefined: unset) until the test ends. */
function setEnv(vars: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  apply(vars);
  cleanups.push(() => apply(saved));
}


describe("predictMerge", () => {
  /** Branches b1 and b2, each in its own worktree with uncommitted edits, that clash in every way git names. */
  function diverged(): { r: TempRepo; w1: string; w2: string } {
    const r = repo({ files: { "f.txt": "l1\nl2\nl3\n", "del.txt": "x\n", "ren.txt": "r\n", "wide.txt": "1\n2\n3\n4\n5\n6\n7\n8\n9\n" } });
    const w1 = r.worktree("w1", "b1");
    const w2 = r.worktree("w2", "b2");
    r.git(["mv", "ren.txt", "ren1.txt"], w1);
    r.commit({ "f.txt": "l1\nA\nl3\n", "add.txt": "one\n", "del.txt": "modified\n", "wide.txt": "one\n2\n3\n4\n5\n6\n7\n8\n9\n", "fd/x": "dir\n" }, "b1", w1);
    r.git(["mv", "ren.txt", "ren2.txt"], w2);
    r.commit({ "f.txt": "l1\nB\nl3\n", "add.txt": "two\n", "del.txt": null, "wide.txt": "1\n2\n3\n4\n5\n6\n7\n8\nnine\n", fd: "a file\n" }, "b2", w2);
    r.write({ "scratch.txt": "untracked\n", "f.txt": "unstaged\n" }, w1);
    r.write({ "staged.txt": "staged\n" }, w2);
    r.git(["add", "staged.txt"], w2);
    return { r, w1, w2 };
  }

  it("names each conflicting path with its kind and git's message, and the clean both-changed paths, touching nothing", async () => {
    const { r, w1, w2 } = diverged();
    const check = untouched(r, [r.dir, w1, w2]);
    const p = await predictMerge(r.dir, "b1", "b2");
    check();
    expect(p).toMatchObject({ a: "b1", b: "b2", a_commit: r.git(["rev-parse", "b1"]), b_commit: r.git(["rev-parse", "b2"]), merge_base: r.git(["rev-parse", "main"]), status: "conflict" });
    // git names the sides by the commit ids it was given: the file of a
    // file/directory clash is moved aside to fd~<b2's id>.
    expect(p.conflicts.map((c) => [c.path, c.kind])).toEqual([
      ["add.txt", "add/add"],
      ["del.txt", "modify/delete"],
      ["f.txt", "content"],
      ["fd", "other"],
      [`fd~${p.b_commit}`, "other"],
      ["ren.txt", "rename"],
      ["ren1.txt", "rename"],
      ["ren2.txt", "rename"],
    ]);
    expect(p.conflicts.find((c) => c.path === "f.txt")?.message).toBe("CONFLICT (content): Merge conflict in f.txt");
    expect(p.conflicts.every((c) => c.message.startsWith("CONFLICT ("))).toBe(true);
    expect(p.both_changed).toEqual(["wide.txt"]);
    expect(p.tree).toMatch(/^[0-9a-f]{40}$/);
    expect(r.git(["show", `${p.tree}:f.txt`])).toContain("<<<<<<<"); // git writes a tree with markers even on conflict
    expect(r.git(["show", `${p.tree}:wide.txt`])).toBe("one\n2\n3\n4\n5\n6\n7\n8\nnine");
  });

  it("calls a clean pair clean (silent: no conflicts), warns of a file both edited in different regions, and touches nothing", async () => {
    const r = repo({ files: { "a.txt": "a\n", "b.txt": "b\n", "wide.txt": "1\n2\n3\n4\n5\n6\n7\n8\n9\n" } });
    const x = r.worktree("wx", "x");
    const y = r.worktree("wy", "y");
    r.commit({ "a.txt": "A\n", "wide.txt": "one\n2\n3\n4\n5\n6\n7\n8\n9\n" }, "x", x);
    r.commit({ "b.txt": "B\n", "wide.txt": "1\n2\n3\n4\n5\n6\n7\n8\nnine\n" }, "y", y);
    const check = untouched(r, [r.dir, x, y]);
    const p = await predictMerge(r.dir, "x", "y");
    check();
    expect(p).toMatchObject({ status: "clean", conflicts: [], both_changed: ["wide.txt"], merge_base: r.git(["rev-parse", "main"]) });
    expect(r.git(["show", `${p.tree}:wide.txt`])).toBe("one\n2\n3\n4\n5\n6\n7\n8\nnine");
    expect(r.git(["show", `${p.tree}:a.txt`])).toBe("A");
    const disjoint = await predictMerge(r.dir, "x", "main");
    expect(disjoint).toMatchObject({ status: "clean", conflicts: [], both_changed: [] });
  });

  it("merges unrelated histories (merge_base null), conflicting only where both add the same path", async () => {
    const r = repo({ files: { "a.txt": "a\n" } });
    const wt = r.worktree("wt", "tmp");
    r.git(["checkout", "-q", "--orphan", "other"], wt);
    r.git(["rm", "-rqf", "."], wt);
    r.commit({ "o.txt": "o\n" }, "another root", wt);
    expect(await predictMerge(r.dir, "main", "other")).toMatchObject({ merge_base: null, status: "clean", conflicts: [], both_changed: [] });
    r.commit({ "a.txt": "different\n" }, "same path", wt);
    const p = await predictMerge(r.dir, "main", "other");
    expect(p).toMatchObject({ merge_base: null, status: "conflict" });
    expect(p.conflicts.map((c) => [c.path, c.kind])).toEqual([["a.txt", "add/add"]]);
  });

  it("names a side that is no commit, given as a name or as a full id", async () => {
    const r = repo();
    await expect(predictMerge(r.dir, "main", "nope")).rejects.toMatchObject({ code: "unknown_ref", message: expect.stringContaining('"nope"') });
    const missing = "0123456789abcdef0123456789abcdef01234567";
    await expect(predictMerge(r.dir, missing, "main")).rejects.toMatchObject({ code: "unknown_ref", message: expect.stringContaining(missing) });
  });
});

describe("conflictKind", () => {
  it("maps git's labels", () => {
    const cases: Array<[string, string]> = [
      ["content", "content"],
      ["contents", "content"],
      ["add/add", "add/add"],
      ["modify/delete", "modify/delete"],
      ["rename/delete", "modify/delete"],
      ["rename/rename", "rename"],
      ["rename/add", "rename"],
      ["rename involved in collision", "rename"],
      ["file/directory", "other"],
      ["distinct modes", "other"],
      ["submodule", "other"],
    ];
    expect(cases.map(([label]) => [label, conflictKind(label)])).toEqual(cases);
  });
});

describe("predictMany", () => {
  it("answers every pair in input order, at most `concurrency` at once, any concurrency given", async () => {
    const r = repo({ files: { "a.txt": "a\n", "b.txt": "b\n" } });
    const x = r.worktree("wx", "x");
    const y = r.worktree("wy", "y");
    const z = r.worktree("wz", "z");
    r.commit({ "a.txt": "A\n" }, "x", x);
    r.commit({ "b.txt": "B\n" }, "y", y);
    r.commit({ "a.txt": "AAA\n" }, "z", z);
    const pairs: Array<[string, string]> = [
      ["x", "y"],
      ["y", "x"],
      ["x", "z"],
      ["z", "main"],
    ];
    for (const c of [1, 2, 8, 0, Number.NaN]) {
      const out = await predictMany(r.dir, pairs, c);
      expect(out.map((p) => [p.a, p.b, p.status])).toEqual([
        ["x", "y", "clean"],
        ["y", "x", "clean"],
        ["x", "z", "conflict"],
        ["z", "main", "clean"],
      ]);
    }
    expect(await predictMany(r.dir, [])).toEqual([]);
    await expect(predictMany(r.dir, [["x", "nope"]])).rejects.toBeInstanceOf(GitError);
  });
});

describe("the git version gate", () => {
  it("accepts 2.38 and newer, and refuses 2.37.1 naming it and the version needed", () => {
    for (const ok of ["git version 2.38.0", "git version 2.39.5 (Apple Git-143)", "git version 3.0.0", "git version 2.40.1.windows.1"]) {
      expect(() => assertMergeTreeSupported(parseGitVersion(ok))).not.toThrow();
    }
    let caught: unknown;
    try {
      assertMergeTreeSupported(parseGitVersion("git version 2.37.1"));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GitError);
    expect(caught).toMatchObject({ code: "git_too_old", message: expect.stringMatching(/2\.37\.1/) });
    expect((caught as Error).message).toMatch(/merge-tree --write-tree/);
    expect((caught as Error).message).toMatch(/2\.38/);
  });

  it("asks the installed git: this one passes; a git 2.37.1 first on PATH is refused by name", async () => {
    const v = await gitVersion();
    expect(v.text).toMatch(/^git version /);
    await expect(requireMergeTree()).resolves.toBeUndefined();
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-fakegit-"));
    cleanups.push(() => fs.rmSync(bin, { recursive: true, force: true }));
    fs.writeFileSync(path.join(bin, "git"), '#!/bin/sh\necho "git version 2.37.1"\n', { mode: 0o755 });
    setEnv({ PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` });
    await expect(requireMergeTree()).rejects.toMatchObject({ code: "git_too_old", message: expect.stringMatching(/2\.37\.1/) });
  });
});

describe("snapshotWorktree", () => {
  it("gives HEAD itself for a clean worktree (silent case), ignored files not counting", async () => {
    const r = repo({ files: { "a.txt": "a\n", ".gitignore": "*.log\n" } });
    const wt = r.worktree("wt", "feature/s");
    r.write({ "debug.log": "ignored\n" }, wt);
    const check = untouched(r, [r.dir, wt]);
    expect(await snapshotWorktree(wt)).toEqual({ commit: r.git(["rev-parse", "HEAD"], wt), dirty: false });
    check();
  });

  it("captures staged and unstaged edits, untracked files and deletions in a commit on HEAD, touching nothing", async () => {
    const r = repo({ files: { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "src/keep.txt": "k\n", ".gitignore": "*.log\n" } });
    const wt = r.worktree("wt", "feature/s");
    const other = r.worktree("wt-other", "feature/o");
    const head = r.git(["rev-parse", "HEAD"], wt);
    r.write({ "a.txt": "staged\n", "b.txt": null, "new/untracked.txt": "new\n", "src/keep.txt": "unstaged\n", "debug.log": "ignored\n" }, wt);
    r.git(["add", "a.txt"], wt);
    r.git(["rm", "-q", "c.txt"], wt);
    const mkdtemp = vi.spyOn(fs, "mkdtempSync");
    const check = untouched(r, [r.dir, wt, other]);
    const snap = await snapshotWorktree(path.join(wt, "src")); // from a subfolder: still the whole worktree
    check();
    expect(snap.dirty).toBe(true);
    expect(snap.commit).not.toBe(head);
    expect(r.git(["rev-parse", `${snap.commit}^`])).toBe(head);
    expect(r.git(["rev-list", "--parents", "-n", "1", snap.commit]).split(" ")).toHaveLength(2);
    expect(r.git(["ls-tree", "-r", "--name-only", snap.commit]).split("\n")).toEqual([".gitignore", "a.txt", "new/untracked.txt", "src/keep.txt"]);
    expect(r.git(["show", `${snap.commit}:a.txt`])).toBe("staged");
    expect(r.git(["show", `${snap.commit}:src/keep.txt`])).toBe("unstaged");
    expect(r.git(["show", `${snap.commit}:new/untracked.txt`])).toBe("new");
    expect(r.git(["log", "-1", "--format=%an <%ae> %cn <%ce>|%s", snap.commit])).toBe(`signalbox <signalbox@localhost> signalbox <signalbox@localhost>|signalbox: snapshot of uncommitted changes in ${path.join(wt, "src")}`);
    expect(await uncommittedChanges(wt)).toEqual(["a.txt", "b.txt", "c.txt", "new/untracked.txt", "src/keep.txt"]);
    // The temporary index lived outside the repository and is gone.
    const temps = mkdtemp.mock.results.map((res) => res.value as string);
    expect(temps.length).toBeGreaterThan(0);
    for (const t of temps) {
      expect(t.startsWith(os.tmpdir())).toBe(true);
      expect(fs.existsSync(t)).toBe(false);
    }
    expect(await snapshotWorktree(path.join(wt, "src"))).toEqual(snap); // same edits, same commit
  });

  it("works with no git identity configured anywhere", async () => {
    const r = repo();
    r.git(["config", "--unset", "user.name"]);
    r.git(["config", "--unset", "user.email"]);
    setEnv({ GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", GIT_AUTHOR_NAME: undefined, GIT_AUTHOR_EMAIL: undefined, GIT_COMMITTER_NAME: undefined, GIT_COMMITTER_EMAIL: undefined, EMAIL: undefined });
    r.write({ "README.md": "edited\n" });
    const snap = await snapshotWorktree(r.dir);
    expect(snap.dirty).toBe(true);
    expect(r.git(["log", "-1", "--format=%an <%ae>", snap.commit])).toBe("signalbox <signalbox@localhost>");
  });

  it("refuses an unborn branch with a GitError", async () => {
    const r = repo();
    const wt = r.worktree("wt", "tmp");
    r.git(["checkout", "-q", "--orphan", "fresh"], wt);
    await expect(snapshotWorktree(wt)).rejects.toBeInstanceOf(GitError);
  });
});
