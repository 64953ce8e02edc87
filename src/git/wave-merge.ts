/**
 * The speculative merge of a wave: its feature branches merged one after
 * another, in the order given (completion order), onto the target branch,
 * entirely inside git's object store: `git merge-tree --write-tree` for each
 * step, `git commit-tree` for each clean result (dated from its parents, so
 * the same heads always give the same commit), and `git update-ref` under
 * `refs/signalbox/` for the final commit. No checkout: no working tree,
 * index, HEAD or branch changes.
 */
import { GitError, runGit } from "./cli.js";
import { commitEnv } from "./identity.js";
import { conflictsOf, parseMergeTree, requireMergeTree, type MergeConflict } from "./merge-tree.js";
import { resolveCommit } from "./repo.js";

/** Refs signalbox may write. */
export const SIGNALBOX_REF_PREFIX = "refs/signalbox/";

/** One branch merged. */
export interface WaveMergeStep {
  branch: string;
  feature_id: string | null;
  /** The branch head merged. */
  commit: string;
  status: "clean" | "conflict";
  conflicts: MergeConflict[];
  /** The merged commit after this step; null when it conflicted. */
  result: string | null;
}

/** The whole merge. */
export interface WaveMergeResult {
  target: string;
  target_commit: string;
  ref: string;
  /** The final merged commit; null when a step conflicted. */
  commit: string | null;
  /** Steps up to and including the first conflict. */
  steps: WaveMergeStep[];
  first_conflict: { branch: string; feature_id: string | null; files: string[] } | null;
}

/** Input of {@link speculativeWaveMerge}. */
export interface WaveMergeInput {
  target: string;
  branches: ReadonlyArray<{ branch: string; feature_id?: string | null }>;
  /** Where the merged commit is kept, under `refs/signalbox/` (e.g. `refs/signalbox/waves/P1/2`). */
  ref: string;
  message?: string;
}

/**
 * Merge `input.branches` in order onto `input.target` (see the module
 * docstring). Each clean step is a two-parent commit (accumulated merge,
 * branch head) by `signalbox <signalbox@localhost>` with the message
 * `<input.message or "signalbox: speculative wave merge">: <branch>[ (<feature_id>)]`.
 * A branch already contained in the result (`git merge-base --is-ancestor`)
 * is a clean step that adds nothing (`result` is the unchanged merge). When
 * every step is clean the final commit (the target's own commit for no
 * branches) is written to `input.ref` (`git update-ref`); when one conflicts
 * the merge stops there and `input.ref` is deleted (`git update-ref -d`), so
 * no stale merge is left to be tested. Only objects and `input.ref` are
 * written: never a working tree, index, HEAD or branch.
 * @throws Error `ref: ...` for a ref outside `refs/signalbox/` (checked first,
 *         before git runs); GitError `unknown_ref` for a missing branch or
 *         target, `git_too_old` (git < 2.38), `git_failed` for a branch with
 *         no history in common with the target.
 */
export async function speculativeWaveMerge(cwd: string, input: WaveMergeInput): Promise<WaveMergeResult> {
  if (!input.ref.startsWith(SIGNALBOX_REF_PREFIX) || input.ref.includes("..")) {
    throw new Error(`ref: "${input.ref}" must lie under ${SIGNALBOX_REF_PREFIX}; signalbox never writes branches`);
  }
  await requireMergeTree();
  const target_commit = await resolveCommit(cwd, input.target);
  let acc = target_commit;
  const steps: WaveMergeStep[] = [];
  for (const b of input.branches) {
    const commit = await resolveCommit(cwd, b.branch);
    const feature_id = b.feature_id ?? null;
    const contained = await runGit(cwd, ["merge-base", "--is-ancestor", commit, acc], { okCodes: [0, 1] });
    if (contained.exitCode === 0) {
      steps.push({ branch: b.branch, feature_id, commit, status: "clean", conflicts: [], result: acc });
      continue;
    }
    const run = await runGit(cwd, ["merge-tree", "--write-tree", "-z", "--name-only", acc, commit], { okCodes: [0, 1] }).catch((err: unknown) => {
      if (err instanceof GitError && /unrelated histories/.test(err.stderr)) {
        throw new GitError("git_failed", `git: branch "${b.branch}" shares no history with target "${input.target}"; it cannot be merged into the wave`, err.exitCode, err.stderr);
      }
      throw err;
    });
    const parsed = parseMergeTree(run.stdout);
    if (run.exitCode === 1 || parsed.tree === null) {
      const conflicts = conflictsOf(parsed);
      steps.push({ branch: b.branch, feature_id, commit, status: "conflict", conflicts, result: null });
      await dropRef(cwd, input.ref);
      return {
        target: input.target,
        target_commit,
        ref: input.ref,
        commit: null,
        steps,
        first_conflict: { branch: b.branch, feature_id, files: conflicts.map((c) => c.path) },
      };
    }
    const message = `${input.message ?? "signalbox: speculative wave merge"}: ${b.branch}${feature_id ? ` (${feature_id})` : ""}`;
    acc = (await runGit(cwd, ["commit-tree", parsed.tree, "-p", acc, "-p", commit, "-m", message], { env: await commitEnv(cwd, [acc, commit]) })).stdout.trim();
    steps.push({ branch: b.branch, feature_id, commit, status: "clean", conflicts: [], result: acc });
  }
  await runGit(cwd, ["update-ref", input.ref, acc]);
  return { target: input.target, target_commit, ref: input.ref, commit: acc, steps, first_conflict: null };
}

/**
 * Delete `ref`, which must lie under `refs/signalbox/` (a wave's merge after
 * its rollback); a ref that does not exist is fine.
 * @throws Error `ref: ...` for a ref outside `refs/signalbox/`.
 */
export async function dropRef(cwd: string, ref: string): Promise<void> {
  if (!ref.startsWith(SIGNALBOX_REF_PREFIX) || ref.includes("..")) throw new Error(`ref: "${ref}" must lie under ${SIGNALBOX_REF_PREFIX}`);
  await runGit(cwd, ["update-ref", "-d", ref]);
}
