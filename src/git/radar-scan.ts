/**
 * Computing the conflict radar: every pair of feature branches (or of the
 * refs asked for) merged by git in its object store (`git merge-tree
 * --write-tree`), never touching a working tree, an index or a branch. With
 * uncommitted edits counted, each branch checked out in a worktree is first
 * snapshotted into a commit object through a temporary index (snapshot.ts).
 * The result is recorded by src/control/radar.ts.
 */
import type { RadarBranch, RadarMatrix, RadarPair } from "../control/radar.js";
import { GitError } from "./cli.js";
import { predictMany, requireMergeTree } from "./merge-tree.js";
import { branchHeads } from "./refs.js";
import { listWorktrees, resolveCommit } from "./repo.js";
import { snapshotWorktree } from "./snapshot.js";
import type { Workspace } from "./workspace.js";

/** A feature branch to watch: its branch and who works on it. */
export interface WatchedFeature {
  feature_id: string;
  agent_id: string;
  branch: string;
}

/** Options of {@link scanRadar}. */
export interface ScanOptions {
  /** Refs to compare instead of the features' branches (branch names, tags, commit ids). */
  refs?: readonly string[];
  /** Count uncommitted edits of the worktrees where the branches are checked out. */
  includeUncommitted?: boolean;
  /** Merges run at once (default 2: one per core of a small machine). */
  concurrency?: number;
  /** ISO time stamped on the matrix. */
  now: string;
}

/**
 * The fingerprint of what a radar matrix depends on: the target branch's head
 * and each watched branch's head with its feature (from one `git
 * for-each-ref` of the branch heads). Branches that do not exist count as
 * `missing`.
 */
export function radarFingerprint(target: string | null, heads: ReadonlyMap<string, string>, features: readonly WatchedFeature[]): string {
  const parts = [...features]
    .sort((x, y) => x.branch.localeCompare(y.branch) || x.feature_id.localeCompare(y.feature_id))
    .map((f) => `${f.branch}=${heads.get(f.branch) ?? "missing"}:${f.feature_id}:${f.agent_id}`);
  return [`${target ?? "-"}=${target ? (heads.get(target) ?? "missing") : "-"}`, ...parts].join("\n");
}

/**
 * The radar matrix of `features` (or `opts.refs`): one prediction per pair,
 * branches in the order given.
 * @throws GitError `git_too_old` (git < 2.38), `unknown_ref` for a ref that
 *         does not exist; Error `git: ...` outside a repository.
 */
export async function scanRadar(ws: Workspace, features: readonly WatchedFeature[], opts: ScanOptions): Promise<RadarMatrix> {
  const repo = ws.repo;
  if (!repo) throw new Error(`git: ${ws.root} is not inside a git repository; the radar compares git branches`);
  await requireMergeTree();
  const cwd = repo.worktree;
  const names = opts.refs ? [...new Set(opts.refs)] : [...new Set(features.map((f) => f.branch))];
  const checkedOut = opts.includeUncommitted ? await listWorktrees(cwd) : [];
  const branches: RadarBranch[] = [];
  for (const name of names) {
    const feature = features.find((f) => f.branch === name);
    let head = await resolveCommit(cwd, name);
    const wt = checkedOut.find((w) => w.branch === name && !w.bare && !w.prunable); // a prunable worktree's folder is gone
    if (wt) head = (await snapshotWorktree(wt.path)).commit;
    branches.push({ branch: name, head, feature_id: feature?.feature_id ?? null, agent_id: feature?.agent_id ?? null });
  }
  const pairs: Array<[RadarBranch, RadarBranch]> = [];
  for (let i = 0; i < branches.length; i++) {
    for (let j = i + 1; j < branches.length; j++) pairs.push([branches[i] as RadarBranch, branches[j] as RadarBranch]);
  }
  const predictions = await predictMany(
    cwd,
    pairs.map(([a, b]) => [a.head, b.head]),
    opts.concurrency ?? 2,
  );
  const out: RadarPair[] = predictions.map((p, i) => {
    const [a, b] = pairs[i] as [RadarBranch, RadarBranch];
    return {
      a,
      b,
      status: p.status,
      conflicts: p.conflicts.map((c) => ({ path: c.path, kind: c.kind })),
      both_changed: p.both_changed,
    };
  });
  const target = ws.targetBranch();
  const fingerprint = opts.refs || opts.includeUncommitted ? `adhoc:${opts.now}` : radarFingerprint(target, await branchHeads(cwd), features);
  return { computed_at: opts.now, target, include_uncommitted: opts.includeUncommitted ?? false, fingerprint, branches, pairs: out };
}

/**
 * The pairs of `features` whose branches git predicts do not merge cleanly,
 * as check_parallel's `merge_conflict` input (feature ids and conflicting
 * paths). Empty when git is too old for `merge-tree --write-tree` (the
 * analysis then runs on declarations alone).
 */
export async function predictedConflicts(ws: Workspace, features: readonly WatchedFeature[]): Promise<{ a: string; b: string; files: string[] }[]> {
  let matrix: RadarMatrix;
  try {
    matrix = await scanRadar(ws, features, { now: new Date(0).toISOString() });
  } catch (err) {
    if (err instanceof GitError && err.code === "git_too_old") return [];
    throw err;
  }
  return matrix.pairs
    .filter((p) => p.status === "conflict" && p.a.feature_id !== null && p.b.feature_id !== null)
    .map((p) => ({ a: p.a.feature_id as string, b: p.b.feature_id as string, files: p.conflicts.map((c) => c.path) }));
}
