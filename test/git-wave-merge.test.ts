/**
 * The speculative wave merge on real repositories with one worktree per
 * branch: branches merged in order inside git's object store, the result
 * kept under refs/signalbox/, the first conflict named, a stale result
 * removed; and no worktree's files, index, HEAD or branch ever changes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { GitError } from "../src/git/cli.js";
import { speculativeWaveMerge } from "../src/git/wave-merge.js";
import { makeRepo, untouched, type TempRepo } from "./helpers/git-repo.js";

let repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos) r.cleanup();
  repos = [];
});


/** Does `ref` exist? */
function refExists(r: TempRepo, ref: string): boolean {
  try {
    r.git(["rev-parse", "--verify", "-q", ref]);
    return true;
  } catch {
    return false;
  }
}

/** Three branches f1..f3, each in its own worktree (with uncommitted edits), that merge cleanly in any order. */
function threeBranches(): { r: TempRepo; wts: [string, string, string]; all: string[] } {
  const r = makeRepo({ files: { "shared.txt": "1\n2\n3\n4\n5\n6\n7\n8\n" } });
  repos.push(r);
  const wts = ["f1", "f2", "f3"].map((b) => r.worktree(`wt-${b}`, b)) as [string, string, string];
  r.commit({ "one.txt": "1\n" }, "f1", wts[0]);
  r.commit({ "two.txt": "2\n", "shared.txt": "one\n2\n3\n4\n5\n6\n7\n8\n" }, "f2", wts[1]);
  r.commit({ "three.txt": "3\n", "shared.txt": "1\n2\n3\n4\n5\n6\n7\neight\n" }, "f3", wts[2]);
  r.write({ "one.txt": "uncommitted, not merged\n", "scratch.txt": "untracked\n" }, wts[0]);
  r.write({ "staged.txt": "staged\n" }, wts[1]);
  r.git(["add", "staged.txt"], wts[1]);
  return { r, wts, all: [r.dir, ...wts] };
}

describe("speculativeWaveMerge", () => {
  it("merges three branches in order onto the target into a ref under refs/signalbox/ holding all three, touching nothing else", async () => {
    const { r, all } = threeBranches();
    const target = r.git(["rev-parse", "main"]);
    const heads = ["f1", "f2", "f3"].map((b) => r.git(["rev-parse", b]));
    const ref = "refs/signalbox/waves/P1/1";
    const check = untouched(r, all);
    const m = await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1", feature_id: "F1" }, { branch: "f2", feature_id: null }, { branch: "f3" }], ref });
    check();
    expect(m).toMatchObject({ target: "main", target_commit: target, ref, first_conflict: null });
    expect(m.steps.map((s) => [s.branch, s.feature_id, s.commit, s.status, s.conflicts])).toEqual([
      ["f1", "F1", heads[0], "clean", []],
      ["f2", null, heads[1], "clean", []],
      ["f3", null, heads[2], "clean", []],
    ]);
    expect(m.commit).toBe(m.steps[2]?.result);
    expect(r.git(["rev-parse", ref])).toBe(m.commit);
    expect(r.git(["show", `${ref}:one.txt`])).toBe("1"); // committed work only, not the worktree's edit
    expect(r.git(["show", `${ref}:two.txt`])).toBe("2");
    expect(r.git(["show", `${ref}:three.txt`])).toBe("3");
    expect(r.git(["show", `${ref}:shared.txt`])).toBe("one\n2\n3\n4\n5\n6\n7\neight");
    expect(() => r.git(["show", `${ref}:staged.txt`])).toThrow();
    // Each step is a merge commit: the merge so far, then the branch head.
    expect(r.git(["rev-list", "--parents", "-n", "1", ref]).split(" ")).toEqual([m.commit, m.steps[1]?.result, heads[2]]);
    expect(r.git(["rev-list", "--parents", "-n", "1", m.steps[0]?.result ?? ""]).split(" ")).toEqual([m.steps[0]?.result, target, heads[0]]);
    expect(r.git(["log", "-1", "--format=%an <%ae>|%s", ref])).toBe("signalbox <signalbox@localhost>|signalbox: speculative wave merge: f3");
    // The same heads give the same commit.
    expect((await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1", feature_id: "F1" }, { branch: "f2" }, { branch: "f3" }], ref })).commit).toBe(m.commit);
  });

  it("stops at the first branch that conflicts, naming it and its files, and removes the ref an earlier clean merge wrote", async () => {
    const { r, wts, all } = threeBranches();
    const ref = "refs/signalbox/waves/P1/2";
    const first = await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1" }, { branch: "f2" }], ref });
    expect(r.git(["rev-parse", ref])).toBe(first.commit);
    r.commit({ "shared.txt": "ONE\n2\n3\n4\n5\n6\n7\n8\n" }, "f1 now clashes with f2", wts[0]);
    const check = untouched(r, all);
    const m = await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1", feature_id: "F1" }, { branch: "f2", feature_id: "F2" }, { branch: "f3", feature_id: "F3" }], ref });
    check();
    expect(m.commit).toBeNull();
    expect(m.first_conflict).toEqual({ branch: "f2", feature_id: "F2", files: ["shared.txt"] });
    expect(m.steps.map((s) => [s.branch, s.status, s.result === null])).toEqual([
      ["f1", "clean", false],
      ["f2", "conflict", true],
    ]);
    expect(m.steps[1]?.conflicts).toEqual([{ path: "shared.txt", kind: "content", message: "CONFLICT (content): Merge conflict in shared.txt" }]);
    expect(refExists(r, ref)).toBe(false);
    // A conflict with no earlier ref is fine too.
    const again = await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1" }, { branch: "f2" }], ref: "refs/signalbox/waves/P1/3" });
    expect(again.first_conflict?.branch).toBe("f2");
    expect(refExists(r, "refs/signalbox/waves/P1/3")).toBe(false);
  });

  it("takes a branch the merge already contains as a clean step that adds nothing", async () => {
    const { r } = threeBranches();
    const target = r.git(["rev-parse", "main"]);
    r.git(["branch", "old", "main"]); // nothing beyond the target
    const m = await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "old" }, { branch: "f1" }, { branch: "f1", feature_id: "again" }], ref: "refs/signalbox/waves/P/c" });
    expect(m.steps.map((s) => [s.branch, s.status])).toEqual([
      ["old", "clean"],
      ["f1", "clean"],
      ["f1", "clean"],
    ]);
    expect(m.steps[0]?.result).toBe(target);
    expect(m.steps[2]?.result).toBe(m.steps[1]?.result);
    expect(m.commit).toBe(m.steps[1]?.result);
    const none = await speculativeWaveMerge(r.dir, { target: "main", branches: [], ref: "refs/signalbox/waves/P/empty" });
    expect(none).toMatchObject({ commit: target, steps: [], first_conflict: null });
    expect(r.git(["rev-parse", "refs/signalbox/waves/P/empty"])).toBe(target);
  });

  it("refuses a ref outside refs/signalbox/ before running git, naming the field", async () => {
    const { r, all } = threeBranches();
    const check = untouched(r, all);
    for (const ref of ["refs/heads/main", "refs/heads/f1", "HEAD", "refs/signalbox/../heads/main", "refs/tags/v1", "main"]) {
      const err = await speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1" }], ref }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(GitError);
      expect((err as Error).message).toMatch(/^ref: .*refs\/signalbox\//);
    }
    check();
    expect(refExists(r, "refs/tags/v1")).toBe(false);
  });

  it("names a missing branch or target; refuses a branch with no history in common", async () => {
    const { r, wts } = threeBranches();
    const ref = "refs/signalbox/waves/P/x";
    await expect(speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "f1" }, { branch: "nope" }], ref })).rejects.toMatchObject({ code: "unknown_ref", message: expect.stringContaining('"nope"') });
    await expect(speculativeWaveMerge(r.dir, { target: "trunk", branches: [{ branch: "f1" }], ref })).rejects.toMatchObject({ code: "unknown_ref", message: expect.stringContaining('"trunk"') });
    r.git(["checkout", "-q", "--orphan", "lonely"], wts[2]);
    r.git(["rm", "-rqf", "."], wts[2]);
    r.commit({ "x.txt": "x\n" }, "another root", wts[2]);
    await expect(speculativeWaveMerge(r.dir, { target: "main", branches: [{ branch: "lonely" }], ref })).rejects.toMatchObject({ code: "git_failed", message: expect.stringMatching(/"lonely" shares no history/) });
    expect(refExists(r, ref)).toBe(false);
  });
});
