/**
 * What a feature's branch really changed, as lock keys: the commits since the
 * merge base with the target branch, the files they change, and the
 * uncommitted edits of the worktree where the branch is checked out. This is
 * what complete_feature fills in or checks a declaration against, and what
 * integrate_wave judges (DESIGN.md, "Git is the source of truth where it
 * knows the answer").
 */
import path from "node:path";
import type { FeatureGitChanges } from "../control/wave-git.js";
import { branchChanges, uncommittedChanges, type BranchChanges } from "./changes.js";
import { listWorktrees } from "./repo.js";
import type { Workspace } from "./workspace.js";

/** Map a path relative to the repository's top level to a lock key; null when it has none (outside the root). */
export type KeyOf = (repoPath: string) => string | null;

/** Which keys are migration files (an integration point tagged `migration`). */
export type IsMigration = (key: string) => boolean;

/** A branch's changes (changes.ts) with its files as keys. */
export interface BranchFacts extends BranchChanges {
  /** Uncommitted edits in the worktree where the branch is checked out (none when it is checked out nowhere). */
  uncommitted: string[];
  /** That worktree; null when the branch is checked out in no worktree. */
  worktree: string | null;
}

/**
 * A key mapper for `ws`: a repository path is joined to the server's worktree
 * and normalised like any key (`normalize`, which may follow symlinks and
 * fold case); a path the normaliser refuses (outside the root) has no key.
 */
export function keyMapper(ws: Workspace, normalize: (abs: string) => string): KeyOf {
  const top = ws.repo?.worktree ?? ws.root;
  return (repoPath) => {
    try {
      return normalize(path.join(top, repoPath));
    } catch {
      return null;
    }
  };
}

function keysOf(paths: readonly string[], keyOf: KeyOf): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const k = keyOf(p);
    if (k !== null) out.add(k);
  }
  return [...out].sort();
}

/**
 * Facts about `branch` against the workspace's target branch; with
 * `withUncommitted` false the worktree's uncommitted edits are not asked for
 * (`uncommitted` empty, `worktree` null): one `git status` less.
 * @throws GitError `unknown_ref` naming the branch or target; Error `git.target_branch: ...` when there is no target branch.
 */
export async function branchFacts(ws: Workspace, branch: string, keyOf: KeyOf, withUncommitted = true): Promise<BranchFacts> {
  const repo = ws.repo;
  if (!repo) throw new Error(`git: ${ws.root} is not inside a git repository`);
  const target = ws.targetBranch();
  if (target === null) {
    throw new Error("git.target_branch: the repository has no main or master branch; set git.target_branch in signalbox.config.json");
  }
  const changes = await branchChanges(repo.worktree, branch, target);
  const worktree = withUncommitted ? ((await listWorktrees(repo.worktree)).find((w) => w.branch === branch && !w.bare && !w.prunable)?.path ?? null) : null;
  const uncommitted = worktree ? keysOf(await uncommittedChanges(worktree), keyOf) : [];
  return {
    branch,
    target,
    head: changes.head,
    merge_base: changes.merge_base,
    commits: changes.commits,
    files: keysOf(changes.files, keyOf),
    uncommitted,
    worktree,
  };
}

/**
 * A completed feature's changes for the integration: its branch's committed
 * changes (uncommitted edits are not part of what merges), migrations being
 * the changed files `isMigration` accepts.
 */
export async function featureChanges(ws: Workspace, feature: { feature_id: string; branch: string }, keyOf: KeyOf, isMigration: IsMigration): Promise<FeatureGitChanges> {
  const facts = await branchFacts(ws, feature.branch, keyOf, false);
  return {
    feature_id: feature.feature_id,
    branch: facts.branch,
    head: facts.head,
    merge_base: facts.merge_base,
    files: facts.files,
    commits: facts.commits,
    migrations: facts.files.filter(isMigration).map((p) => ({ path: p, revision: null, down_revision: null })),
  };
}

/** Where a declaration and git disagree (each list sorted). */
export interface DeclarationCheck {
  /** Declared files git shows no change to on the branch. */
  files_only_declared: string[];
  /** Files the branch changed that were not declared. */
  files_only_in_git: string[];
  /** Declared commits that are not on the branch since the merge base. */
  commits_only_declared: string[];
  /** Commits on the branch since the merge base that were not declared. */
  commits_only_in_git: string[];
}

/**
 * Compare what a caller declared with what git knows. `declaredCommits` must
 * be full ids (resolved by the caller); undefined lists are not compared.
 */
export function checkDeclaration(
  facts: Pick<BranchFacts, "files" | "commits">,
  declaredFiles: readonly string[] | undefined,
  declaredCommits: readonly string[] | undefined,
): DeclarationCheck {
  const minus = (a: readonly string[], b: readonly string[]) => {
    const drop = new Set(b);
    return [...new Set(a)].filter((x) => !drop.has(x)).sort();
  };
  return {
    files_only_declared: declaredFiles ? minus(declaredFiles, facts.files) : [],
    files_only_in_git: declaredFiles ? minus(facts.files, declaredFiles) : [],
    commits_only_declared: declaredCommits ? minus(declaredCommits, facts.commits) : [],
    commits_only_in_git: declaredCommits ? minus(facts.commits, declaredCommits) : [],
  };
}

/** One sentence per kind of difference in `check`, naming the first paths or commits. */
export function describeDifferences(check: DeclarationCheck, branch: string): string[] {
  const list = (xs: readonly string[]) => `${xs.slice(0, 10).join(", ")}${xs.length > 10 ? ` and ${xs.length - 10} more` : ""}`;
  const out: string[] = [];
  if (check.files_only_declared.length > 0) out.push(`declared but not changed on branch ${branch}: ${list(check.files_only_declared)}`);
  if (check.files_only_in_git.length > 0) out.push(`changed on branch ${branch} but not declared: ${list(check.files_only_in_git)}`);
  if (check.commits_only_declared.length > 0) out.push(`declared commits not on branch ${branch} since its merge base: ${list(check.commits_only_declared.map((c) => c.slice(0, 12)))}`);
  if (check.commits_only_in_git.length > 0) out.push(`commits on branch ${branch} not declared: ${list(check.commits_only_in_git.map((c) => c.slice(0, 12)))}`);
  return out;
}
