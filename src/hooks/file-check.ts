/**
 * What both hooks share: find the project root and its store the way the
 * server does (inside git, the store of the repository's common git
 * directory, whichever worktree the hook runs in), read the two config fields that matter, name the
 * caller, map file paths to lock keys exactly as `acquire_lock` maps them
 * (src/paths.ts KeyResolver: root-relative, symlinks followed, case folded
 * on a case-insensitive root), and look up the live locks covering a key in
 * a read-only snapshot of the store (src/store/lmdb/lock-reader.ts, opened on the
 * first look, never created).
 */
import fs from "node:fs";
import { KeyError, KeyResolver } from "../paths.js";
import { Workspace } from "../git/workspace.js";
import { locateStore, resolveRoot } from "../runtime/root.js";
import { systemClock } from "../store/clock.js";
import { readLinkNames } from "../store/lmdb/link-names.js";
import { openLockReader, type LiveLock, type LockReader } from "../store/lmdb/lock-reader.js";
import { readHookSettings, resolveAgentId, storeFileOf, type HookOptions, type HookSettings } from "./settings.js";

/** One project's locks as a hook sees them. */
export interface FileCheck {
  /** The project root (absolute, real path). */
  readonly root: string;
  readonly settings: HookSettings;
  /** The caller's agent id; null when unknown. */
  readonly agent: string | null;
  /**
   * The lock key of file `file` (absolute, or relative to the root), or null
   * when it can have none: outside the root, the root itself, over-long.
   */
  keyOf(file: string): string | null;
  /** Live locks on file key `key` or a folder key above it (see lock-reader.ts). */
  locksCovering(key: string): LiveLock[];
  /** Close the store if it was opened. */
  close(): Promise<void>;
}

/**
 * Set up a {@link FileCheck} for the project found from `cwd` (or
 * `opts.root`, else `SIGNALBOX_ROOT`); null when the project has no store
 * yet (nobody holds anything; nothing is created).
 * @throws Error `root: ...` when the root is not a directory, `invalid
 *         .../signalbox.config.json: ...` when the config is malformed; a
 *         later {@link FileCheck.locksCovering} throws `store: ...` when the
 *         store cannot be read.
 */
export async function openFileCheck(opts: HookOptions & { cwd: string }): Promise<FileCheck | null> {
  const env = opts.env ?? process.env;
  const root = resolveRoot({ ...(opts.root !== undefined ? { root: opts.root } : {}), env, cwd: opts.cwd });
  const location = locateStore(root, env);
  const storeDir = location.dir;
  if (!fs.existsSync(storeFileOf(storeDir))) return null;
  const settings = await readHookSettings(root);
  const workspace = new Workspace(root, location.repo);
  let reader: LockReader | null = null;
  const openReader = () => (reader ??= openLockReader(storeDir, systemClock()));
  const keys = new KeyResolver(root, {
    caseSensitive: settings.case_sensitive,
    worktrees: () => workspace.otherWorktrees(),
    links: readLinkNames((id) => openReader().linkName(id)),
  });
  return {
    root,
    settings,
    agent: resolveAgentId(opts.agentId, env),
    keyOf(file) {
      try {
        return keys.normalize(file, "file");
      } catch (err) {
        if (err instanceof KeyError) return null;
        throw err;
      }
    },
    locksCovering(key) {
      return openReader().locksCovering(key);
    },
    async close() {
      await reader?.close();
      reader = null;
    },
  };
}
