/**
 * A worktree's uncommitted work as a commit object, without touching it: a
 * temporary index file (outside the repository) starts as a copy of the
 * worktree's index (read, never written: its stat data lets `git add` hash
 * only the files that changed; without an index, from HEAD by `git
 * read-tree`), takes in the working tree (`git add -A`, which honours
 * .gitignore), is written as a tree and wrapped in a commit whose parent is
 * HEAD (`git commit-tree`). The worktree's own index, files, HEAD and refs are
 * left exactly as they were; the commit is reachable from no ref.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runGit } from "./cli.js";
import { commitEnv } from "./identity.js";

/** A snapshot: the commit, and whether the worktree had uncommitted work (else `commit` is HEAD itself). */
export interface Snapshot {
  commit: string;
  dirty: boolean;
}

/**
 * Snapshot `worktree` (see the module docstring).
 * @throws GitError when git fails (e.g. an unborn branch has no HEAD to start from).
 */
export async function snapshotWorktree(worktree: string): Promise<Snapshot> {
  const head = (await runGit(worktree, ["rev-parse", "--verify", "HEAD"])).stdout.trim();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-index-"));
  const env = { GIT_INDEX_FILE: path.join(dir, "index") };
  try {
    const own = path.resolve(worktree, (await runGit(worktree, ["rev-parse", "--git-path", "index"])).stdout.trim());
    if (fs.existsSync(own)) fs.copyFileSync(own, env.GIT_INDEX_FILE);
    else await runGit(worktree, ["read-tree", head], { env });
    await runGit(worktree, ["add", "-A", "--", "."], { env });
    const tree = (await runGit(worktree, ["write-tree"], { env })).stdout.trim();
    const headTree = (await runGit(worktree, ["rev-parse", `${head}^{tree}`])).stdout.trim();
    if (tree === headTree) return { commit: head, dirty: false };
    const commit = (
      await runGit(worktree, ["commit-tree", tree, "-p", head, "-m", `signalbox: snapshot of uncommitted changes in ${worktree}`], {
        env: await commitEnv(worktree, [head]),
      })
    ).stdout.trim();
    return { commit, dirty: true };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
