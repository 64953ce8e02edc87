/**
 * The repository a folder belongs to and its worktrees, from git's own
 * answers (`git rev-parse`, `git worktree list --porcelain -z`,
 * `git symbolic-ref`): which worktree, which common git directory (shared by
 * every worktree, where the store lives), which branch, which default branch.
 */
import fs from "node:fs";
import path from "node:path";
import { GitError, runGit, runGitSync } from "./cli.js";

/** A work tree of a repository, as `git rev-parse` sees it from inside. */
export interface RepoInfo {
  /** Real path of the worktree's top level (`--show-toplevel`). */
  worktree: string;
  /** Absolute real path of the repository's common git directory (`--git-common-dir`), shared by every worktree. */
  commonDir: string;
  /** Absolute real path of this worktree's own git directory (`--absolute-git-dir`; `.git/worktrees/<name>` for a linked worktree). */
  gitDir: string;
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * The repository whose work tree holds `cwd` (any folder inside it), from one
 * synchronous `git rev-parse --show-toplevel --git-common-dir
 * --absolute-git-dir`; `--git-common-dir` may print a path relative to `cwd`
 * (`../../.git` from a subfolder), which is resolved against `cwd`. Null
 * outside a work tree: no repository, inside a `.git` folder or a bare
 * repository (git refuses `--show-toplevel` there), a `.git` folder git does
 * not recognise, or git not installed. Never throws.
 */
export function discoverRepo(cwd: string): RepoInfo | null {
  let out: string;
  try {
    out = runGitSync(cwd, ["rev-parse", "--show-toplevel", "--git-common-dir", "--absolute-git-dir"]).stdout;
  } catch {
    return null;
  }
  const [top, common, gitDir] = out.split("\n");
  if (!top || !common || !gitDir) return null;
  return { worktree: real(top), commonDir: real(path.resolve(cwd, common)), gitDir: real(gitDir) };
}

/** One worktree of a repository (`git worktree list --porcelain`). */
export interface WorktreeInfo {
  /** Real path of the worktree (as listed when it no longer exists). */
  path: string;
  /** Its HEAD commit; null for a bare entry or an unborn branch. */
  head: string | null;
  /** Short name of the branch checked out (`feature/x`); null when detached or bare. */
  branch: string | null;
  detached: boolean;
  bare: boolean;
  locked: boolean;
  prunable: boolean;
}

/**
 * Parse `git worktree list --porcelain -z`: records of NUL-terminated
 * `label[ value]` fields (`worktree <path>`, `HEAD <id>`, `branch
 * refs/heads/<name>`, `detached`, `bare`, `locked[ <reason>]`, `prunable[
 * <reason>]`), each record ended by an empty field. Unknown labels are
 * skipped; an all-zero HEAD (an unborn branch) becomes null. Paths are
 * real-pathed when they exist (a prunable worktree's folder may be gone).
 */
export function parseWorktreeList(text: string): WorktreeInfo[] {
  const out: WorktreeInfo[] = [];
  let cur: WorktreeInfo | null = null;
  for (const field of text.split("\0")) {
    if (field === "") {
      if (cur) out.push(cur);
      cur = null;
      continue;
    }
    const space = field.indexOf(" ");
    const label = space < 0 ? field : field.slice(0, space);
    const value = space < 0 ? "" : field.slice(space + 1);
    if (label === "worktree") {
      if (cur) out.push(cur);
      cur = { path: real(value), head: null, branch: null, detached: false, bare: false, locked: false, prunable: false };
    } else if (cur) {
      if (label === "HEAD") cur.head = /^0+$/.test(value) ? null : value;
      else if (label === "branch") cur.branch = value.replace(/^refs\/heads\//, "");
      else if (label === "detached") cur.detached = true;
      else if (label === "bare") cur.bare = true;
      else if (label === "locked") cur.locked = true;
      else if (label === "prunable") cur.prunable = true;
    }
  }
  if (cur) out.push(cur);
  return out;
}

const WORKTREE_LIST = ["worktree", "list", "--porcelain", "-z"];

/**
 * Every worktree of the repository holding `cwd`, main worktree first, then
 * linked ones in git's order (`git worktree list --porcelain -z`, git >= 2.36).
 * @throws GitError `not_a_repository` outside a repository, `git_failed`.
 */
export async function listWorktrees(cwd: string): Promise<WorktreeInfo[]> {
  return parseWorktreeList((await runGit(cwd, WORKTREE_LIST)).stdout);
}

/** {@link listWorktrees}, synchronously (key normalisation asks it while resolving a path). @throws GitError as {@link listWorktrees}. */
export function listWorktreesSync(cwd: string): WorktreeInfo[] {
  return parseWorktreeList(runGitSync(cwd, WORKTREE_LIST).stdout);
}

/**
 * The branch checked out in `worktree` as a short name (null when detached)
 * and its HEAD commit id (null on an unborn branch, whose branch is still
 * named), from `git symbolic-ref -q HEAD` and `git rev-parse -q --verify HEAD`
 * (both exit 1 for "no such thing", which is an answer, not a failure).
 * @throws GitError `not_a_repository` outside a repository, `git_failed`.
 */
export async function worktreeHead(worktree: string): Promise<{ branch: string | null; head: string | null }> {
  const [sym, head] = await Promise.all([
    runGit(worktree, ["symbolic-ref", "-q", "HEAD"], { okCodes: [0, 1] }),
    runGit(worktree, ["rev-parse", "-q", "--verify", "HEAD"], { okCodes: [0, 1] }),
  ]);
  const ref = sym.exitCode === 0 ? sym.stdout.trim() : "";
  return {
    branch: ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null,
    head: head.exitCode === 0 ? head.stdout.trim() || null : null,
  };
}

/**
 * The repository's default branch as a short local branch name: the branch
 * `refs/remotes/origin/HEAD` points at (`refs/remotes/origin/develop` ->
 * `develop`) when it is set and that branch also exists locally (a name only
 * the remote has would not resolve as a local target), else `main` if
 * `refs/heads/main` exists, else `master` if it exists; null when none does,
 * and outside a repository. Synchronous (asked once at start-up); never throws.
 */
export function defaultBranchSync(cwd: string): string | null {
  try {
    const origin = runGitSync(cwd, ["symbolic-ref", "-q", "refs/remotes/origin/HEAD"], { okCodes: [0, 1] });
    const ref = origin.stdout.trim();
    if (origin.exitCode === 0 && ref.startsWith("refs/remotes/origin/")) {
      const name = ref.slice("refs/remotes/origin/".length);
      if (runGitSync(cwd, ["show-ref", "-q", "--verify", `refs/heads/${name}`], { okCodes: [0, 1] }).exitCode === 0) return name;
    }
    for (const name of ["main", "master"]) {
      if (runGitSync(cwd, ["show-ref", "-q", "--verify", `refs/heads/${name}`], { okCodes: [0, 1] }).exitCode === 0) return name;
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * The full id of the commit `ref` (a branch, tag, other ref or commit id, in
 * git's revision syntax) names, peeling tags (`git rev-parse -q --verify
 * <ref>^{commit}`).
 * @throws GitError `unknown_ref` naming `ref` when it names no commit (also a
 *         tree or blob id, or a name starting with `-`); `not_a_repository`.
 */
export async function resolveCommit(cwd: string, ref: string): Promise<string> {
  if (ref.startsWith("-")) throw new GitError("unknown_ref", `git: "${ref}" is not a ref or commit`);
  // Exit 1 is "names no commit"; 128 (not a repository) stays an error.
  const out = await runGit(cwd, ["rev-parse", "-q", "--verify", "--end-of-options", `${ref}^{commit}`], { okCodes: [0, 1] });
  const id = out.stdout.trim();
  if (out.exitCode !== 0 || id === "") throw new GitError("unknown_ref", `git: no commit "${ref}" in the repository`);
  return id;
}

/**
 * Whether the local branch `branch` (short name) exists: `git show-ref -q
 * --verify refs/heads/<branch>`. False for a name starting with `-` and for
 * a name git rejects.
 * @throws GitError `not_a_repository` outside a repository.
 */
export async function branchExists(cwd: string, branch: string): Promise<boolean> {
  if (branch.startsWith("-")) return false;
  const out = await runGit(cwd, ["show-ref", "-q", "--verify", `refs/heads/${branch}`], { okCodes: [0, 1] });
  return out.exitCode === 0;
}
