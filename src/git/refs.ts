/**
 * Branch heads, read in one cheap `git for-each-ref` so a watcher can poll for
 * moved branches (the radar) without running any merge. Only `refs/heads/`
 * is read: signalbox's own refs (`refs/signalbox/`), tags and remote-tracking
 * branches never make a branch look moved.
 */
import { runGit } from "./cli.js";

const BRANCH_REFS = ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads"];

/**
 * Every branch head as one string, `<commit id> refs/heads/<name>` per line in
 * refname order (git sorts `for-each-ref` output by refname): equal strings
 * mean no branch was created, deleted or moved between two reads.
 * @throws GitError `not_a_repository` outside a repository, `git_failed`.
 */
export async function refsFingerprint(cwd: string): Promise<string> {
  return (await runGit(cwd, BRANCH_REFS)).stdout;
}

/**
 * Short branch name (`feature/x`) -> head commit id (full), for every
 * `refs/heads/` branch, in refname order; an empty map in a repository with no
 * commit yet.
 * @throws GitError `not_a_repository` outside a repository, `git_failed`.
 */
export async function branchHeads(cwd: string): Promise<Map<string, string>> {
  const heads = new Map<string, string>();
  for (const line of (await refsFingerprint(cwd)).split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    heads.set(line.slice(space + 1).replace(/^refs\/heads\//, ""), line.slice(0, space));
  }
  return heads;
}
