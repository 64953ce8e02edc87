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
 * The repository whose work tree holds `cwd`, from one `git rev-parse`; null
 * outside a work tree (no repository, a bare repository, a `.git` folder git
 * does not recognise, or git not installed).
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

/** Parse `git worktree list --porcelain -z`: records of NUL-terminated `label value` lines, separated by an empty field. */
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

/** Every worktree of the repository holding `cwd`, main worktree first. @throws GitError outside a repository. */
export async function listWorktrees(cwd: string): Promise<WorktreeInfo[]> {
  return parseWorktreeList((await runGit(cwd, WORKTREE_LIST)).stdout);
}

/** {@link listWorktrees}, synchronously (key normalisation asks it while resolving a path). */
export function listWorktreesSync(cwd: string): WorktreeInfo[] {
  return parseWorktreeList(runGitSync(cwd, WORKTREE_LIST).stdout);
}

/**
 * The branch checked out in `worktree` (null when detached) and its HEAD
 * commit (null on an unborn branch), from `git symbolic-ref -q HEAD` and
 * `git rev-parse -q --verify HEAD`.
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
 * The repository's default branch: the branch `refs/remotes/origin/HEAD`
 * points at when it is set, else `main` if it exists, else `master`; null
 * when none of these exists.
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
 * The full id of the commit `ref` names (`git rev-parse --verify <ref>^{commit}`).
 * @throws GitError `unknown_ref` naming `ref` when it names no commit.
 */
export async function resolveCommit(cwd: string, ref: string): Promise<string> {
  if (ref.startsWith("-")) throw new GitError("unknown_ref", `git: "${ref}" is not a ref or commit`);
  const out = await runGit(cwd, ["rev-parse", "-q", "--verify", "--end-of-options", `${ref}^{commit}`], { okCodes: [0, 1, 128] });
  const id = out.stdout.trim();
  if (out.exitCode !== 0 || id === "") throw new GitError("unknown_ref", `git: no commit "${ref}" in the repository`);
  return id;
}

/** Whether branch `branch` exists (`refs/heads/<branch>`). */
export async function branchExists(cwd: string, branch: string): Promise<boolean> {
  if (branch.startsWith("-")) return false;
  const out = await runGit(cwd, ["show-ref", "-q", "--verify", `refs/heads/${branch}`], { okCodes: [0, 1, 128] });
  return out.exitCode === 0;
}
