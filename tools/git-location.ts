/**
 * What the tools ask of git about their caller: where the calling server
 * runs (worktree, branch, head), and which branch a feature works on.
 */
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import type { AgentLocation } from "../src/control/registry/agents.js";
import { GitError } from "../src/git/cli.js";
import { branchExists, resolveCommit } from "../src/git/repo.js";

/** A git branch name as an argument (short name, e.g. `feature/login`). */
export const branchName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\s~^:?*[\\\0-][^\s~^:?*[\\\0]*$/, "a git branch name (not starting with -, no spaces or ~ ^ : ? * [ \\)")
  .describe("Git branch (short name, e.g. feature/login)");

/** The calling server's worktree, branch and head: the location an agent gets when it gives none. */
export async function callerLocation(ctx: Context): Promise<AgentLocation> {
  if (!ctx.git.isGit) return {};
  return ctx.git.here();
}

/**
 * A location the caller gives (an agent served over HTTP works elsewhere
 * than this server): the worktree as given, the branch as given, and its
 * head when the branch exists in this repository (else null).
 */
export async function givenLocation(ctx: Context, worktree: string | undefined, branch: string | undefined): Promise<AgentLocation> {
  let head: string | null = null;
  if (branch !== undefined && ctx.git.repo && (await branchExists(ctx.git.repo.worktree, branch))) {
    head = await resolveCommit(ctx.git.repo.worktree, `refs/heads/${branch}`);
  }
  return { worktree: worktree ?? null, branch: branch ?? null, head };
}

/**
 * The branch a feature works on: `given` (which must exist in the
 * repository), else the branch checked out where this server runs; null when
 * that is the target branch itself (work committed straight to it has no
 * branch of its own), detached, or outside git.
 * @throws GitError `not_a_repository` (field `branch`) when `given` is named outside a git repository, `unknown_ref` when it does not exist.
 */
export async function featureBranch(ctx: Context, given: string | undefined, here: AgentLocation): Promise<string | null> {
  if (given !== undefined) {
    if (!ctx.git.repo) throw new GitError("not_a_repository", `branch: "${given}" was given, but ${ctx.root} is not inside a git repository`, null, "", "branch");
    if (!(await branchExists(ctx.git.repo.worktree, given))) {
      throw new GitError("unknown_ref", `branch: no branch "${given}" in the repository (create it first, e.g. git worktree add -b ${given} <path>)`, null, "", "branch");
    }
    return given;
  }
  const branch = here.branch ?? null;
  return branch !== null && branch === ctx.git.targetBranch() ? null : branch;
}

/**
 * A commit argument as its full id, asked of git (`rev-parse --verify`).
 * @throws GitError `not_a_repository` (field `commit`) outside a git repository, `unknown_ref` for an unknown commit.
 */
export async function resolveCommitArg(ctx: Context, commit: string): Promise<string> {
  if (!ctx.git.repo) throw new GitError("not_a_repository", `commit: ${ctx.root} is not inside a git repository`, null, "", "commit");
  try {
    return await resolveCommit(ctx.git.repo.worktree, commit);
  } catch (err) {
    if (err instanceof GitError && err.code === "unknown_ref") throw new GitError("unknown_ref", `commit: no commit "${commit}" in the repository`, null, "", "commit");
    throw err;
  }
}
