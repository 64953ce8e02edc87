/**
 * The git facts integrate_wave judges, computed before its write
 * transaction: each feature's real changes on its branch
 * (feature-changes.ts) and the wave's speculative merge, the features'
 * branches merged in completion order onto the target inside git's object
 * store and kept at `refs/signalbox/waves/<plan_id>/<wave_number>`
 * (wave-merge.ts; no checkout, no working tree, index or branch touched).
 */
import { completedWave, waveIntegration } from "../control/integration.js";
import type { ControlEnv } from "../control/registry/env.js";
import { nowIso } from "../control/registry/env.js";
import { waveMergeRef, type FeatureGitChanges, type WaveGitInput, type WaveMergeRecord } from "../control/wave-git.js";
import { featureChanges, type IsMigration, type KeyOf } from "./feature-changes.js";
import { speculativeWaveMerge } from "./wave-merge.js";
import type { Workspace } from "./workspace.js";

/**
 * Git facts for wave `waveNumber` of `planId`; undefined when there is nothing
 * git can say (outside git, no target branch, a feature not completed yet, or
 * no feature with a branch: the integration then judges declarations) or the
 * wave is already integrated (the call is refused; no merge is rebuilt).
 * A branch git cannot read is left out (the report says it was judged from
 * its declaration).
 * @throws GitError when git itself fails (e.g. `git_too_old` for merge-tree).
 */
export async function waveGitFacts(
  env: ControlEnv,
  ws: Workspace,
  planId: string,
  waveNumber: number,
  keyOf: KeyOf,
  isMigration: IsMigration,
): Promise<WaveGitInput | undefined> {
  const repo = ws.repo;
  const target = ws.targetBranch();
  if (!repo || target === null) return undefined;
  if (waveIntegration(env, planId, waveNumber)?.status === "integrated") return undefined; // integrate_wave refuses it: build nothing
  const done = completedWave(env, planId, waveNumber);
  if (!done) return undefined;
  const branched = done.filter((f): f is typeof f & { branch: string } => typeof f.branch === "string" && f.branch !== "");
  if (branched.length === 0) return undefined;
  const changes: FeatureGitChanges[] = [];
  const readable: typeof branched = [];
  for (const f of branched) {
    try {
      changes.push(await featureChanges(ws, { feature_id: f.feature_id, branch: f.branch }, keyOf, isMigration));
      readable.push(f);
    } catch {
      // The branch is gone or unreadable: the feature is judged from its declaration.
    }
  }
  if (readable.length === 0) return { changes, merge: null };
  const merged = await speculativeWaveMerge(repo.worktree, {
    target,
    branches: readable.map((f) => ({ branch: f.branch, feature_id: f.feature_id })),
    ref: waveMergeRef(planId, waveNumber),
    message: `signalbox: speculative merge of wave ${waveNumber} of plan ${planId}`,
  });
  const merge: WaveMergeRecord = {
    plan_id: planId,
    wave_number: waveNumber,
    ref: merged.ref,
    target: merged.target,
    target_commit: merged.target_commit,
    commit: merged.commit,
    status: merged.first_conflict ? "conflict" : "clean",
    steps: merged.steps.map((s) => ({
      feature_id: s.feature_id ?? "",
      branch: s.branch,
      commit: s.commit,
      status: s.status,
      conflicts: s.conflicts.map((c) => ({ path: c.path, kind: c.kind })),
    })),
    first_conflict: merged.first_conflict
      ? { feature_id: merged.first_conflict.feature_id ?? "", branch: merged.first_conflict.branch, files: merged.first_conflict.files }
      : null,
    at: nowIso(env),
  };
  return { changes, merge };
}
