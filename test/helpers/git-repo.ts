/**
 * Real git repositories for tests: a temp folder with `git init`, commits
 * made with the real git CLI and real linked worktrees (`git worktree add`).
 * Nothing here fakes git; each repository is removed by `cleanup()`.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";

/** A temporary repository; `dir` is its main worktree (realpath'd). */
export interface TempRepo {
  /** The main worktree's absolute, real path. */
  dir: string;
  /** Run git in `cwd` (default `dir`); returns stdout, trimmed. Throws with git's stderr. */
  git(args: readonly string[], cwd?: string): string;
  /**
   * Write (string) or delete (null) files in `cwd` (default `dir`), stage
   * everything and commit; returns the new commit's full id.
   */
  commit(files: Record<string, string | null>, message: string, cwd?: string): string;
  /** Write (string) or delete (null) files without staging or committing. */
  write(files: Record<string, string | null>, cwd?: string): void;
  /** `git worktree add -b <branch> <path> <from>` beside the main worktree; returns the new worktree's real path. */
  worktree(name: string, branch: string, from?: string): string;
  /** `git status --porcelain=v1 -z --untracked-files=all` plus HEAD, the index's tree and every branch and tag (not refs/signalbox/): equal before and after means nothing was touched. */
  fingerprint(cwd?: string): string;
  /** Remove the repository and its worktrees. */
  cleanup(): void;
}

/** Environment for test git runs: fixed identity and dates, no user or system config. */
const GIT_TEST_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "Test Agent",
  GIT_AUTHOR_EMAIL: "agent@example.test",
  GIT_COMMITTER_NAME: "Test Agent",
  GIT_COMMITTER_EMAIL: "agent@example.test",
  LC_ALL: "C",
};
for (const v of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"]) delete GIT_TEST_ENV[v];

/**
 * Create a repository with one initial commit on `branch` (default `main`).
 * @param opts.files  the initial commit's files (default `README.md`)
 */
export function makeRepo(opts: { branch?: string; files?: Record<string, string> } = {}): TempRepo {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-git-")));
  const dir = path.join(base, "repo");
  fs.mkdirSync(dir);
  const git = (args: readonly string[], cwd = dir): string => {
    try {
      return execFileSync("git", args as string[], { cwd, env: GIT_TEST_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`git ${args.join(" ")} (in ${cwd}): ${e.stderr ?? e.message}`);
    }
  };
  const write = (files: Record<string, string | null>, cwd = dir): void => {
    for (const [file, content] of Object.entries(files)) {
      const abs = path.join(cwd, file);
      if (content === null) fs.rmSync(abs, { force: true });
      else {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, content);
      }
    }
  };
  const commit = (files: Record<string, string | null>, message: string, cwd = dir): string => {
    write(files, cwd);
    git(["add", "-A"], cwd);
    git(["commit", "-q", "--allow-empty", "-m", message], cwd);
    return git(["rev-parse", "HEAD"], cwd);
  };
  git(["init", "-q", "-b", opts.branch ?? "main"]);
  git(["config", "user.name", "Test Agent"]);
  git(["config", "user.email", "agent@example.test"]);
  git(["config", "commit.gpgsign", "false"]);
  commit(opts.files ?? { "README.md": "# test repository\n" }, "initial commit");
  return {
    dir,
    git,
    commit,
    write,
    worktree(name, branch, from = "HEAD") {
      const wt = path.join(base, name);
      git(["worktree", "add", "-q", "-b", branch, wt, from]);
      return fs.realpathSync(wt);
    },
    fingerprint(cwd = dir) {
      const status = git(["status", "--porcelain=v1", "-z", "--untracked-files=all"], cwd);
      const head = git(["rev-parse", "HEAD"], cwd);
      const index = git(["write-tree"], cwd); // the index's tree; write-tree only adds objects
      const refs = git(["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags", "refs/remotes"], cwd);
      const symbolic = git(["symbolic-ref", "-q", "HEAD"], cwd);
      return JSON.stringify({ status, head, index, refs, symbolic });
    },
    cleanup() {
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * Record every worktree's fingerprint (status bytes, HEAD, index tree,
 * branches) and its index file's bytes and mtime; the returned check asserts
 * nothing changed. The index is read after the fingerprint, whose own `git
 * status` may refresh it, and compared before the next one.
 */
export function untouched(r: TempRepo, worktrees: readonly string[]): () => void {
  const prints = worktrees.map((w) => r.fingerprint(w));
  const indexes = worktrees.map((w) => {
    const file = path.join(r.git(["rev-parse", "--absolute-git-dir"], w), "index");
    return { file, bytes: fs.readFileSync(file), mtime: fs.statSync(file).mtimeMs };
  });
  return () => {
    for (const i of indexes) {
      expect(fs.statSync(i.file).mtimeMs).toBe(i.mtime);
      expect(fs.readFileSync(i.file).equals(i.bytes)).toBe(true);
    }
    expect(worktrees.map((w) => r.fingerprint(w))).toEqual(prints);
  };
}
