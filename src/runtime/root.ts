/**
 * Where the project root and the store live.
 *
 * - Root: `--root`, else `SIGNALBOX_ROOT`, else the nearest folder holding
 *   `.git` (a repository's main worktree, or a linked worktree whose `.git` is
 *   a file), else the working directory. Keys are relative to it; every
 *   worktree of one repository has the same tree, so `app/a.py` is one key in
 *   all of them.
 * - Store: `SIGNALBOX_DB` when set; else, inside a git repository, the
 *   repository's common git directory (`git rev-parse --git-common-dir`, e.g.
 *   `.git/signalbox/`), shared by every worktree and never inside a working
 *   tree, so `git status` never sees it; else `<root>/.signalbox/`.
 * - Upgrade: a store left at the old place `<root>/.signalbox/` by an earlier
 *   version is moved into the common git directory by the first server that
 *   opens the repository (one `rename`: LMDB's files keep their inodes, so a
 *   process still holding the old path open keeps working on the same files).
 *   When the move is impossible (another filesystem) the store is opened
 *   where it is, with a one-line notice. Readers (hooks, terminal views)
 *   never move anything: they read the old place while the new one is empty.
 */
import fs from "node:fs";
import path from "node:path";
import { discoverRepo, type RepoInfo } from "../git/repo.js";

/** Folder name of the store inside the common git directory. */
export const GIT_STORE_DIR = "signalbox";
/** Folder name of the store at the root, outside git (and the old place inside git). */
export const ROOT_STORE_DIR = ".signalbox";
/** The store's data file inside a store folder (lmdb-js names it after `path`). */
export const STORE_FILE = "signalbox.mdb";

/** Resolve the project root to an absolute, real path. */
export function resolveRoot(opts: { root?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const chosen = opts.root ?? env.SIGNALBOX_ROOT;
  if (chosen) {
    const abs = path.resolve(cwd, chosen);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
      throw new Error(`root: ${abs} is not a directory`);
    }
    return fs.realpathSync(abs);
  }
  let dir = path.resolve(cwd);
  for (;;) {
    if (fs.existsSync(path.join(dir, ".git"))) return fs.realpathSync(dir);
    const up = path.dirname(dir);
    if (up === dir) return fs.realpathSync(cwd);
    dir = up;
  }
}

/** Where a root's store is, and why. */
export interface StoreLocation {
  /** The store folder to open. */
  dir: string;
  /** `env`: SIGNALBOX_DB; `git`: the common git directory; `root`: `<root>/.signalbox/` (outside git, or an old store that could not move). */
  source: "env" | "git" | "root";
  /** The repository the root belongs to; null outside git (or with SIGNALBOX_DB when not asked). */
  repo: RepoInfo | null;
  /** An old store at `<root>/.signalbox/` that is not the one opened (left there); null when there is none. */
  legacy: string | null;
}

function holdsStore(dir: string): boolean {
  return fs.existsSync(path.join(dir, STORE_FILE));
}

/**
 * Where the store of `root` is, without changing anything on disk. Inside git,
 * while the common git directory holds no store yet and the old place does,
 * the old place is returned (`source: "root"`): what a reader should open.
 * @param repo  the repository of `root` when already known (else asked of git, one process)
 */
export function locateStore(root: string, env: NodeJS.ProcessEnv = process.env, repo?: RepoInfo | null): StoreLocation {
  const old = path.join(root, ROOT_STORE_DIR);
  const info = repo === undefined ? discoverRepo(root) : repo;
  if (env.SIGNALBOX_DB) return { dir: path.resolve(env.SIGNALBOX_DB), source: "env", repo: info, legacy: null };
  if (info === null) return { dir: old, source: "root", repo: null, legacy: null };
  const dir = path.join(info.commonDir, GIT_STORE_DIR);
  if (!holdsStore(dir) && holdsStore(old)) return { dir: old, source: "root", repo: info, legacy: null };
  return { dir, source: "git", repo: info, legacy: holdsStore(old) ? old : null };
}

/** The store folder for a root (see {@link locateStore}); what read-only views open. */
export function resolveStoreDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return locateStore(root, env).dir;
}

/**
 * The store folder a server opens for `root`: {@link locateStore}, after
 * moving an old `<root>/.signalbox/` store into the common git directory
 * when the new place holds none. Two servers upgrading at once are safe: one
 * rename wins, the other finds the store already moved.
 * @param notice  receives one line when an old store is moved, left in place, or shadowed
 */
export function prepareStore(root: string, env: NodeJS.ProcessEnv, notice: (line: string) => void, repo?: RepoInfo | null): StoreLocation {
  const found = locateStore(root, env, repo);
  if (found.source === "env") return found;
  if (found.legacy !== null) {
    notice(`signalbox: using the store in ${found.dir}; an older store at ${found.legacy} is left untouched (remove it once you no longer need it)`);
    return found;
  }
  if (found.source !== "root" || found.repo === null || !holdsStore(found.dir)) return found;
  const target = path.join(found.repo.commonDir, GIT_STORE_DIR);
  try {
    fs.renameSync(found.dir, target);
    notice(`signalbox: moved the store from ${found.dir} to ${target} (the repository's common git directory, shared by every worktree)`);
    return { dir: target, source: "git", repo: found.repo, legacy: null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === "ENOENT" || code === "ENOTEMPTY" || code === "EEXIST") && holdsStore(target)) {
      return { dir: target, source: "git", repo: found.repo, legacy: null }; // another server moved it first
    }
    notice(`signalbox: could not move the store from ${found.dir} to ${target} (${code ?? (err as Error).message}); opening it where it is`);
    return found;
  }
}
