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
 * Snapshot the worktree holding the folder `worktree` (see the module
 * docstring): staged and unstaged edits, deletions and untracked files that
 * are not ignored. A worktree whose files equal HEAD's tree gives
 * `{ commit: HEAD, dirty: false }` and writes nothing. The commit's identity
 * is `signalbox <signalbox@localhost>` (given in the environment, so no git
 * identity need be configured), dated from HEAD, with the message
 * `signalbox: snapshot of uncommitted changes in <worktree>`. The temporary
 * index lives in a fresh folder under the OS temp folder, removed on every path.
 * @throws GitError `git_failed` on an unborn branch (no HEAD to start from) or
 *         when git fails; `not_a_repository` when `worktree` is not in one.
 */
export async function snapshotWorktree(worktree: string): Promise<Snapshot> {
  const head = (await runGit(worktree, ["rev-parse", "--verify", "HEAD"])).stdout.trim();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-index-"));
  const env = { GIT_INDEX_FILE: path.join(dir, "index") };
  try {
    const own = path.resolve(worktree, (await runGit(worktree, ["rev-parse", "--git-path", "index"])).stdout.trim());
    if (fs.existsSync(own)) fs.copyFileSync(own, env.GIT_INDEX_FILE);
    else await runGit(worktree, ["read-tree", head], { env });
    await runGit(worktree, ["add", "-A"], { env }); // no pathspec: the whole worktree, from any folder in it
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
