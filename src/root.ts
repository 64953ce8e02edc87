/**
 * Where the project root and the store live (issue 2, "Shape"):
 * root = `--root`, else `SIGNALBOX_ROOT`, else the nearest folder holding
 * `.git`, else the working directory; the store is `<root>/.signalbox/`
 * unless `SIGNALBOX_DB` names another folder.
 */
import fs from "node:fs";
import path from "node:path";

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

/** The store folder for a root. */
export function resolveStoreDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.SIGNALBOX_DB ? path.resolve(env.SIGNALBOX_DB) : path.join(root, ".signalbox");
}
