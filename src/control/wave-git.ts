/**
 * What git says about a wave: each feature's real changes on its branch and
 * the speculative merge of the wave's branches, as the integration judges
 * them (integration.ts) and as wave gates are tied to (gates.ts).
 *
 * Git runs outside store transactions (a git process takes milliseconds; a
 * write transaction blocks every process): the tool layer asks git first
 * (src/git/), then hands the facts to the one write transaction that judges
 * them. A fact names the commits it was computed from, so the report says
 * exactly which heads it judged.
 *
 * Key layout in `integrations` (besides integration.ts's `W`, `I`, `X`):
 * | key                       | value                       |
 * |---------------------------|-----------------------------|
 * | `M` plan_id `\0` wave6    | {@link WaveMergeRecord}: the wave's current merged commit |
 */
import type { ControlEnv } from "./registry/env.js";
import type { MigrationRecord } from "./registry/records.js";
import { integrations } from "../store/schema.js";

/** What git says one completed feature changed on its branch since the merge base with the target branch. */
export interface FeatureGitChanges {
  feature_id: string;
  branch: string;
  /** The branch head judged (full commit id). */
  head: string;
  merge_base: string | null;
  /** Changed files as lock keys (repository paths under the root), sorted. */
  files: string[];
  /** Commits on the branch since the merge base, oldest first. */
  commits: string[];
  /** Migration files the branch added (files matching an integration point tagged `migration`), plus those the feature declared. */
  migrations: MigrationRecord[];
}

/** One branch merged into a wave's speculative merge. */
export interface WaveMergeStepRecord {
  feature_id: string;
  branch: string;
  /** The branch head merged. */
  commit: string;
  status: "clean" | "conflict";
  /** Conflicting paths of a conflicting step, with git's conflict kind. */
  conflicts: { path: string; kind: string }[];
}

/**
 * The speculative merge of a wave: the features' branches merged in
 * completion order onto the target branch inside git's object store
 * (`git merge-tree --write-tree`, `git commit-tree`), kept at `ref`.
 * `commit` is null when a branch did not merge cleanly (`first_conflict`).
 */
export interface WaveMergeRecord {
  plan_id: string;
  wave_number: number;
  /** `refs/signalbox/waves/<plan_id>/<wave_number>`. */
  ref: string;
  target: string;
  target_commit: string;
  commit: string | null;
  status: "clean" | "conflict";
  steps: WaveMergeStepRecord[];
  first_conflict: { feature_id: string; branch: string; files: string[] } | null;
  /** ISO time it was computed. */
  at: string;
}

/** Git facts handed to integrate_wave: changes per feature that has a branch, and the wave's merge (null: no feature has a branch). */
export interface WaveGitInput {
  changes: FeatureGitChanges[];
  merge: WaveMergeRecord | null;
}

/** The ref a wave's speculative merge is kept at (under `refs/signalbox/`, never a branch). */
export function waveMergeRef(planId: string, waveNumber: number): string {
  return `refs/signalbox/waves/${planId}/${waveNumber}`;
}

/** The wave's current merged commit record, or undefined when none was computed. Reads in the open transaction, if any. */
export function currentWaveMerge(env: ControlEnv, planId: string, waveNumber: number): WaveMergeRecord | undefined {
  return env.txn.read().get(integrations.waveMerge, [planId, waveNumber]);
}

/** Store `rec` as the wave's current merge, replacing the previous one. Inside a write transaction. */
export function putWaveMerge(env: ControlEnv, rec: WaveMergeRecord): void {
  env.txn.write((tx) => tx.put(integrations.waveMerge, [rec.plan_id, rec.wave_number], rec));
}

/**
 * Store `rec` as the wave's current merge in its own write transaction: the
 * merged commit is known (and gate results can name it) even when the
 * integration that computed it is refused.
 */
export function recordWaveMerge(env: ControlEnv, rec: WaveMergeRecord): void {
  // Outside a write, putWaveMerge's write is a transaction of its own.
  putWaveMerge(env, rec);
}

/** Forget the wave's merge (a rollback: the wave's work is gone). Inside a write transaction. */
export function clearWaveMerge(env: ControlEnv, planId: string, waveNumber: number): void {
  env.txn.write((tx) => tx.remove(integrations.waveMerge, [planId, waveNumber]));
}

/** What one completed feature changed, as the integration judges it, and where that comes from. */
export interface JudgedChanges {
  feature_id: string;
  /** `git`: the feature's branch since its merge base; `declared`: what complete_feature recorded (no branch, or no git). */
  source: "git" | "declared";
  branch: string | null;
  /** The branch head judged; null when declared. */
  head: string | null;
  files_changed: string[];
  commits: string[];
  migrations: MigrationRecord[];
}

/** The record fields {@link judgeChanges} reads. */
interface CompletedFeature {
  feature_id: string;
  branch?: string | null;
  files_changed?: string[];
  commits?: string[];
  migrations?: MigrationRecord[];
}

/**
 * Each feature's changes: git's, when the feature has a branch and `git`
 * holds changes computed for that branch; else what it declared at
 * completion. Migrations declared with revisions keep them when git finds the
 * same file.
 */
export function judgeChanges(features: readonly CompletedFeature[], git: WaveGitInput | undefined): JudgedChanges[] {
  return features.map((f) => {
    const found = f.branch ? git?.changes.find((c) => c.feature_id === f.feature_id && c.branch === f.branch) : undefined;
    if (!found) {
      return {
        feature_id: f.feature_id,
        source: "declared",
        branch: f.branch ?? null,
        head: null,
        files_changed: f.files_changed ?? [],
        commits: f.commits ?? [],
        migrations: f.migrations ?? [],
      };
    }
    const declared = new Map((f.migrations ?? []).map((m) => [m.path, m]));
    const migrations = found.migrations.map((m) => declared.get(m.path) ?? m);
    return {
      feature_id: f.feature_id,
      source: "git",
      branch: found.branch,
      head: found.head,
      files_changed: found.files,
      commits: found.commits,
      migrations,
    };
  });
}
