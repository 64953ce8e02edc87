/**
 * The repository a server process runs in, as git sees it: which worktree,
 * which branch is checked out there now, and which branch work integrates
 * into (the target branch). Created once per process, in the context; the
 * branch and head are asked of git at each call because an agent may switch
 * branches under a running server.
 */
import { defaultBranchSync, listWorktreesSync, worktreeHead, type RepoInfo } from "./repo.js";

/** Where a caller works: its worktree folder, the branch checked out there and its head commit (all null outside git). */
export interface GitLocation {
  /** Absolute real path of the worktree's top level. */
  worktree: string | null;
  /** Short branch name (`feature/login`); null when detached or outside git. */
  branch: string | null;
  /** Full commit id of HEAD; null on an unborn branch or outside git. */
  head: string | null;
}

/** The git side of a server's context. */
export class Workspace {
  private target: string | null | undefined;

  /**
   * @param root        the server's project root (its worktree's top level inside git)
   * @param repo        the repository of `root`; null outside git
   * @param targetBranch `git.target_branch` from the config, when set
   */
  constructor(
    readonly root: string,
    readonly repo: RepoInfo | null,
    targetBranch?: string,
  ) {
    this.target = targetBranch;
  }

  /** Whether the root is inside a git work tree. */
  get isGit(): boolean {
    return this.repo !== null;
  }

  /**
   * The branch features integrate into: `git.target_branch` when configured,
   * else the repository's default branch (origin's HEAD, else `main`, else
   * `master`, as found); null outside git or when none of those exists.
   * Asked of git once per process.
   */
  targetBranch(): string | null {
    if (this.target === undefined) this.target = this.repo ? defaultBranchSync(this.repo.worktree) : null;
    return this.target;
  }

  /** The server's own worktree, branch and head, read from git now. */
  async here(): Promise<GitLocation> {
    if (!this.repo) return { worktree: null, branch: null, head: null };
    const { branch, head } = await worktreeHead(this.repo.worktree);
    return { worktree: this.repo.worktree, branch, head };
  }

  /**
   * Real paths of every worktree of the repository except this one, from
   * `git worktree list` (asked each time: worktrees come and go). Empty
   * outside git.
   */
  otherWorktrees(): string[] {
    if (!this.repo) return [];
    const own = this.repo.worktree;
    return listWorktreesSync(own)
      .filter((w) => !w.bare && !w.prunable && w.path !== own)
      .map((w) => w.path);
  }
}
