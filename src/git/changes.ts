/**
 * What a branch changed since it left its target, and what a worktree holds
 * uncommitted, from git: `git merge-base`, `git rev-list`, `git diff
 * --name-only --no-renames -z` and `git status --porcelain=v1 -z`.
 */
import { GitError, runGit, splitNul } from "./cli.js";
import { resolveCommit } from "./repo.js";

/** A branch's work since its merge base with the target branch. */
export interface BranchChanges {
  branch: string;
  target: string;
  /** The branch head (full commit id). */
  head: string;
  /** The best common ancestor of branch and target; null for unrelated histories. */
  merge_base: string | null;
  /** Commits reachable from the branch and not from the target (merge commits included), oldest first. */
  commits: string[];
  /**
   * Paths (relative to the repository's top level) that differ between the
   * merge base and the branch head, sorted; a rename lists its old and its
   * new path (`--no-renames`). Unrelated histories: every file of the head.
   */
  files: string[];
}

async function commitOf(cwd: string, ref: string, field: string): Promise<string> {
  try {
    return await resolveCommit(cwd, ref);
  } catch (err) {
    if (err instanceof GitError && err.code === "unknown_ref") throw new GitError("unknown_ref", `git: ${field} "${ref}" does not exist in the repository`);
    throw err;
  }
}

/**
 * The changes of `branch` since its merge base with `target` (both refs or
 * commit ids): `git merge-base` (exit 1: unrelated histories, merge_base
 * null), `git rev-list --reverse <branch> ^<target>` for the commits, and
 * `git diff --name-only --no-renames -z <merge_base> <branch>` for the files
 * (`git ls-tree -r --name-only` of the branch head when there is no merge base).
 * @throws GitError `unknown_ref` naming the branch or the target when it does
 *         not exist; `not_a_repository`; `git_failed`.
 */
export async function branchChanges(cwd: string, branch: string, target: string): Promise<BranchChanges> {
  const head = await commitOf(cwd, branch, "branch");
  const targetCommit = await commitOf(cwd, target, "target branch");
  const base = await runGit(cwd, ["merge-base", head, targetCommit], { okCodes: [0, 1] });
  const merge_base = base.exitCode === 0 ? base.stdout.trim() || null : null;
  const commits = (await runGit(cwd, ["rev-list", "--reverse", head, `^${targetCommit}`])).stdout.split("\n").filter((c) => c !== "");
  const diff = merge_base
    ? await runGit(cwd, ["diff", "--name-only", "--no-renames", "-z", merge_base, head, "--"])
    : await runGit(cwd, ["ls-tree", "-r", "--name-only", "-z", head]);
  const files = [...new Set(splitNul(diff.stdout))].sort();
  return { branch, target, head, merge_base, commits, files };
}

/**
 * Uncommitted paths of the worktree holding the folder `worktree`, relative
 * to its top level (porcelain output always is, from any subfolder), POSIX
 * separators, sorted: staged and unstaged changes (deletions included) and
 * untracked files that are not ignored, each file of an untracked folder
 * listed (`--untracked-files=all`); a staged rename lists both paths
 * (`--no-renames`). Runs `git status --porcelain=v1 -z` with optional locks
 * off, so the worktree's index is not refreshed.
 * @throws GitError `not_a_repository`; `git_failed`.
 */
export async function uncommittedChanges(worktree: string): Promise<string[]> {
  const out = await runGit(worktree, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]);
  const files = new Set<string>();
  for (const entry of splitNul(out.stdout)) {
    if (entry.length > 3) files.add(entry.slice(3));
  }
  return [...files].sort();
}
