/**
 * What `signalbox init` reads of a repository: its tracked files (`git
 * ls-files`, else a walk of the folder without `.git`, `node_modules` and
 * dot-folders) and the files each recent commit changed (`git log
 * --name-only`). Read-only: nothing in the working tree, index or branches
 * changes.
 */
import fs from "node:fs";
import path from "node:path";
import { runGit } from "../git/cli.js";
import { discoverRepo } from "../git/repo.js";

/** Commits read for co-change clusters, newest first. */
export const HISTORY_COMMITS = 1000;
/** Files listed at most when walking a folder outside git. */
const WALK_MAX = 100_000;

/** The files and history {@link import("./infer.js").inferConfig} needs. */
export interface RepoScan {
  /** Whether the root is inside a git repository. */
  git: boolean;
  files: string[];
  commits: string[][];
}

/** Read the files and, in a repository, the recent history of `root`. */
export async function scanRepository(root: string): Promise<RepoScan> {
  if (discoverRepo(root) === null) return { git: false, files: walk(root), commits: [] };
  const listed = await runGit(root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
  const files = listed.stdout.split("\0").filter((f) => f !== "");
  const log = await runGit(root, ["log", `-n${HISTORY_COMMITS}`, "--no-merges", "--format=%x01", "--name-only", "-z", "--relative"], { okCodes: [0, 128] });
  const commits = log.exitCode === 0 ? parseLog(log.stdout) : []; // 128: a repository without commits
  return { git: true, files: [...new Set(files)].sort(), commits };
}

/** `git log --format=%x01 --name-only -z` output: one list of paths per commit. */
export function parseLog(text: string): string[][] {
  return text
    .split("\x01")
    .map((chunk) => chunk.split(/[\0\n]/).filter((f) => f !== ""))
    .filter((c) => c.length > 0);
}

function walk(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (out.length >= WALK_MAX) return;
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) visit(path.join(dir, e.name), r);
      else if (e.isFile()) out.push(r);
    }
  };
  visit(root, "");
  return out.sort();
}
