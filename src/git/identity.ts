/**
 * The identity and dates of commit objects signalbox writes (snapshots of
 * uncommitted work, speculative wave merges). They are given explicitly so
 * `git commit-tree` works on machines with no configured identity, and the
 * dates are taken from the parents so the same inputs always give the same
 * commit id (a wave gate result names the merged commit it tested).
 */
import { runGit } from "./cli.js";

/** Author and committer of signalbox's commit objects. */
export const SIGNALBOX_IDENTITY = { name: "signalbox", email: "signalbox@localhost" } as const;

/**
 * Environment for `git commit-tree` with the signalbox identity, dated at the
 * newest committer time of `parents` (`git show -s --format=%ct`), in UTC.
 */
export async function commitEnv(cwd: string, parents: readonly string[]): Promise<Record<string, string>> {
  let newest = 0;
  if (parents.length > 0) {
    const out = await runGit(cwd, ["show", "-s", "--format=%ct", ...parents]);
    for (const line of out.stdout.split("\n")) {
      const t = Number(line.trim());
      if (Number.isFinite(t) && t > newest) newest = t;
    }
  }
  const date = `@${newest} +0000`;
  return {
    GIT_AUTHOR_NAME: SIGNALBOX_IDENTITY.name,
    GIT_AUTHOR_EMAIL: SIGNALBOX_IDENTITY.email,
    GIT_COMMITTER_NAME: SIGNALBOX_IDENTITY.name,
    GIT_COMMITTER_EMAIL: SIGNALBOX_IDENTITY.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
}
