/**
 * Branch heads, read in one cheap `git for-each-ref` so a watcher can poll for
 * moved branches (the radar) without running any merge.
 */
import { runGit } from "./cli.js";

/** Short branch name -> head commit id, for every `refs/heads/` branch. */
export async function branchHeads(cwd: string): Promise<Map<string, string>> {
  const out = await runGit(cwd, ["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads"]);
  const heads = new Map<string, string>();
  for (const line of out.stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    heads.set(line.slice(space + 1).replace(/^refs\/heads\//, ""), line.slice(0, space));
  }
  return heads;
}
