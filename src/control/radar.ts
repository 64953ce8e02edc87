/**
 * The conflict radar: predicted merge conflicts between the branches of
 * active features, computed by git as real three-way merges
 * (`git merge-tree --write-tree`, src/git/merge-tree.ts) outside any store
 * transaction, then recorded here in one write transaction.
 *
 * A pair that newly starts to conflict sends one inbox message to each of the
 * two features' agents; a pair that stays in conflict sends nothing more, and
 * a pair that stays clean never sends anything. A pair that becomes clean
 * again is forgotten, so a later conflict is news again.
 *
 * Key layout in `integrations` (besides integration.ts and wave-git.ts):
 * | key                  | value                         |
 * |----------------------|-------------------------------|
 * | `R` a `\0` b         | {@link RadarPairState} (a < b, branch names) |
 * | `Rmatrix`            | {@link RadarMatrix}: the latest matrix |
 * (`R` + branch name never equals `Rmatrix`'s layout: pair keys hold a NUL.)
 */
import { recordActivity } from "../log/activity.js";
import { nowIso, type ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import type { FeatureRecord } from "./registry/records.js";
import { features, integrations } from "../store/schema.js";

/** A feature branch on the radar. */
export interface RadarBranch {
  branch: string;
  /** Full commit id of the head predicted from (a snapshot commit when uncommitted edits were included). */
  head: string;
  feature_id: string | null;
  agent_id: string | null;
}

/** One conflicting path of a pair, with git's kind of conflict. */
export interface RadarConflict {
  path: string;
  kind: string;
}

/** The prediction for one pair of branches. */
export interface RadarPair {
  a: RadarBranch;
  b: RadarBranch;
  status: "clean" | "conflict";
  conflicts: RadarConflict[];
  /** Paths both sides changed that merged cleanly: a semantic-risk warning. */
  both_changed: string[];
}

/** The latest radar matrix. */
export interface RadarMatrix {
  /** ISO time it was computed. */
  computed_at: string;
  target: string | null;
  /** Whether uncommitted edits in worktrees were counted. */
  include_uncommitted: boolean;
  /**
   * What the matrix was computed from: the target's head and each watched
   * branch's head and feature. A watcher recomputes only when the current
   * fingerprint differs (any process may have computed it already).
   */
  fingerprint: string;
  branches: RadarBranch[];
  pairs: RadarPair[];
}

/** What the radar remembers of a pair that conflicts. */
export interface RadarPairState {
  a: string;
  b: string;
  /** ISO time the pair was first seen conflicting (in this spell). */
  since: string;
  files: string[];
}

/** What {@link recordRadar} did. */
export interface RadarUpdate {
  /** Pairs that started to conflict with this matrix (their agents were told). */
  newly_conflicting: RadarPair[];
  /** Agents told. */
  notified: string[];
}

/** The key parts of the pair of branches `a` and `b`: the lower name first. */
function pairOf(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

/** One string per pair, for a set of pairs (NUL never occurs in a branch name). */
function pairId([a, b]: readonly [string, string]): string {
  return `${a}\0${b}`;
}

/** Active features that have a branch: what the radar watches. Reads in the open transaction, if any. */
export function radarFeatures(env: ControlEnv): FeatureRecord[] {
  const out: FeatureRecord[] = [];
  for (const f of env.txn.read().values(features.feature)) {
    if (f.status === "active" && f.branch) out.push(f);
  }
  return out;
}

/** The latest matrix, or undefined before the first prediction. */
export function latestRadar(env: ControlEnv): RadarMatrix | undefined {
  return env.txn.read().get(integrations.radarMatrix, []);
}

/**
 * Record a full matrix (every active feature branch, committed work) as the
 * latest, in one write transaction, and tell the agents of each pair that
 * starts to conflict with it: one `merge_conflict` message per agent per
 * pair, naming the other branch and the files. The state of a pair absent
 * from `matrix` (a feature no longer active) is forgotten, so the pair is
 * news again should it come back in conflict.
 */
export function recordRadar(env: ControlEnv, matrix: RadarMatrix): RadarUpdate {
  return env.txn.write((tx): RadarUpdate => {
    tx.put(integrations.radarMatrix, [], matrix);
    const newly: RadarPair[] = [];
    const notified = new Set<string>();
    const current = new Set(matrix.pairs.map((p) => pairId(pairOf(p.a.branch, p.b.branch))));
    for (const { key } of tx.range(integrations.radarPair)) {
      // `Rmatrix` shares the prefix: it decodes as one part, a pair as two.
      if (key.length === 2 && !current.has(pairId(key))) tx.remove(integrations.radarPair, key);
    }
    for (const p of matrix.pairs) {
      const key = pairOf(p.a.branch, p.b.branch);
      const prev = tx.get(integrations.radarPair, key);
      if (p.status === "clean") {
        if (prev) tx.remove(integrations.radarPair, key);
        continue;
      }
      const files = p.conflicts.map((c) => c.path);
      if (prev) {
        if (prev.files.join("\0") !== files.join("\0")) tx.put(integrations.radarPair, key, { ...prev, files });
        continue;
      }
      tx.put(integrations.radarPair, key, { a: p.a.branch, b: p.b.branch, since: nowIso(env), files } satisfies RadarPairState);
      newly.push(p);
      for (const [me, other] of [
        [p.a, p.b],
        [p.b, p.a],
      ] as const) {
        if (!me.agent_id) continue;
        deliver(env, [me.agent_id], {
          from: "signalbox",
          kind: "merge_conflict",
          priority: "high",
          summary:
            `predicted merge conflict: your branch ${me.branch}${me.feature_id ? ` (${me.feature_id})` : ""} and ${other.branch}` +
            `${other.feature_id ? ` (${other.feature_id}, agent ${other.agent_id ?? "?"})` : ""} conflict in ${files.slice(0, 5).join(", ")}${files.length > 5 ? ` and ${files.length - 5} more` : ""}`,
          body: { branch: me.branch, other_branch: other.branch, other_feature: other.feature_id, other_agent: other.agent_id, conflicts: p.conflicts.slice(0, 50) },
          ref: { kind: "radar", id: `${key[0]}..${key[1]}` },
        });
        notified.add(me.agent_id);
      }
      recordActivity(env, {
        kind: "merge_conflict_predicted",
        agent_id: "signalbox",
        feature_id: p.a.feature_id,
        summary: `branches ${p.a.branch} and ${p.b.branch} are predicted to conflict in ${files.slice(0, 5).join(", ")}${files.length > 5 ? " and more" : ""}`,
        data: { a: p.a.branch, b: p.b.branch, a_feature: p.a.feature_id, b_feature: p.b.feature_id, files: files.slice(0, 50) },
      });
    }
    return { newly_conflicting: newly, notified: [...notified] };
  });
}

/** The matrix as tools and resources show it: pairs with their branches, and how many conflict. */
export interface RadarView extends Record<string, unknown> {
  computed_at: string;
  target: string | null;
  include_uncommitted: boolean;
  pairs: RadarPair[];
  conflicting_pairs: number;
}

/** {@link RadarView} of `m`, with exactly its fields (tool results are built to their output schema). */
export function radarView(m: RadarMatrix): RadarView {
  const branch = (b: RadarBranch): RadarBranch => ({ branch: b.branch, feature_id: b.feature_id, agent_id: b.agent_id, head: b.head });
  return {
    computed_at: m.computed_at,
    target: m.target,
    include_uncommitted: m.include_uncommitted,
    pairs: m.pairs.map((p) => ({
      a: branch(p.a),
      b: branch(p.b),
      status: p.status,
      conflicts: p.conflicts.map((c) => ({ path: c.path, kind: c.kind })),
      both_changed: p.both_changed,
    })),
    conflicting_pairs: m.pairs.filter((p) => p.status === "conflict").length,
  };
}
