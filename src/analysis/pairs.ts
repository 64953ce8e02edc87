/**
 * The pairwise conflict analysis shared by check_parallel and plan_waves
 * (parallelism-framework.md Levels 2-3; parallel-execution-protocol.md §1.2
 * "Independence Check" and §5.1 "Pre-Execution Conflict Check"): for every
 * pair of tasks, which reasons keep them apart, packed as {@link PairBits}
 * (reasons.ts).
 *
 * The pairs are never stored: tasks sharing a key, table, domain, resource or
 * artifact form a group (10,000 writers of one file are one group, not 50
 * million pairs), and the reasons of one task against all others are computed
 * on demand as a row (`planning/pair-rows.ts`). Memory stays O(tasks + keys);
 * time is bounded by the pair work, which {@link PairWorkGuard} caps at
 * `limits.pair_visits_per_check`.
 *
 * Pure: no I/O, no module-level mutable state.
 */
import { LimitError } from "../errors.js";
import { endOfKeysBelow, type KeyEntry } from "./planning/key-index.js";
import { PairRows } from "./planning/pair-rows.js";
import type { PairBits } from "./reasons.js";
import { assertAcyclic, normalizeTasks, type NormalizedTask, type TaskInputOptions } from "./task-input.js";
import type { TaskSpec } from "./tasks.js";

export { endOfKeysBelow, type KeyEntry };

/**
 * Default of `limits.pair_visits_per_check` (src/runtime/config.ts): 10,000 writers
 * of one file visit 99,990,000 pairs (each pair from both sides).
 */
export const DEFAULT_PAIR_VISITS = 200_000_000;

/** Two tasks whose branches git predicts do not merge cleanly, and the conflicting files. */
export interface MergeConflictInput {
  /** Task ids (order irrelevant; an id that is not a task is ignored). */
  a: string;
  b: string;
  files: readonly string[];
}

/** Options of {@link analyzePairs}. */
export interface AnalyzeOptions extends TaskInputOptions {
  /** Whether `dependency` covers transitive blockers (check_parallel) or only direct ones (plan_waves). */
  transitive: boolean;
  /**
   * Predicted merge conflicts between the tasks' branches (`git merge-tree`,
   * computed by the caller): each pair gets reason `merge_conflict`.
   */
  mergeConflicts?: readonly MergeConflictInput[];
}

/**
 * The bits of chosen pairs, keyed `i * n + j` (i < j): the pairs a report
 * lists are remembered as they are met; any other pair is recomputed from
 * its row.
 */
export class PairLookup {
  private readonly known = new Map<number, PairBits>();

  constructor(private readonly rows: PairRows) {}

  /** Remember the bits of pair `pk`. */
  remember(pk: number, bits: PairBits): void {
    this.known.set(pk, bits);
  }

  /** The bits of pair `pk` (0 when it has no reason); recomputes a row (and clobbers the current one) if not remembered. */
  get(pk: number): PairBits {
    const hit = this.known.get(pk);
    if (hit !== undefined) return hit;
    const n = this.rows.n;
    const i = Math.floor(pk / n);
    return this.rows.pairBits(i, pk - i * n);
  }
}

/** The result of the pairwise analysis. */
export interface PairAnalysis {
  tasks: NormalizedTask[];
  n: number;
  /** The reasons of one task against every other, on demand. */
  rows: PairRows;
  /** Bits of single pairs, keyed `i * n + j` (i < j, input positions). */
  pairs: PairLookup;
  /** Key index: key -> writer and reader task indices. */
  keyIndex: Map<string, KeyEntry>;
  /** Pair key -> the files of its predicted merge conflict, sorted (pairs with reason `merge_conflict`). */
  mergeFiles: Map<number, string[]>;
  /**
   * Every key; sorted by UTF-16 code units (so every key below a directory key
   * follows it) when there is at least one directory key, else in index order.
   */
  sortedKeys: string[];
}

/**
 * The pairwise conflict analysis shared by check_parallel and plan_waves
 * (parallelism-framework.md Levels 2-3; parallel-execution-protocol.md §5.1):
 * validate and normalise the tasks, reject dependency cycles, then index the
 * groups the pair rows are computed from (see {@link PairRows}). Cheap:
 * O(keys log keys + directory spans); the pair work happens in the passes
 * over the rows.
 *
 * @throws as {@link normalizeTasks}, and `<field>[i].blocked_by: dependency cycle: ...`.
 */
export function analyzePairs(specs: readonly TaskSpec[], opts: AnalyzeOptions): PairAnalysis {
  const tasks = normalizeTasks(specs, opts);
  assertAcyclic(tasks, opts.field);
  const n = tasks.length;

  // Predicted merge conflicts between the tasks' branches.
  const mergeFiles = new Map<number, string[]>();
  const mergePairs: [number, number][] = [];
  if (opts.mergeConflicts && opts.mergeConflicts.length > 0) {
    const byId = new Map(tasks.map((t) => [t.id, t.index]));
    for (const c of opts.mergeConflicts) {
      const i = byId.get(c.a);
      const j = byId.get(c.b);
      if (i === undefined || j === undefined || i === j) continue;
      const pk = i < j ? i * n + j : j * n + i;
      const known = mergeFiles.get(pk);
      if (known === undefined) mergePairs.push([i, j]);
      mergeFiles.set(pk, [...new Set([...(known ?? []), ...c.files])].sort());
    }
  }

  const rows = new PairRows(tasks, { transitive: opts.transitive, mergePairs });
  return { tasks, n, rows, pairs: new PairLookup(rows), keyIndex: rows.keyIndex, sortedKeys: rows.sortedKeys, mergeFiles };
}

/**
 * Caps the pair work of one planning call: the group members the first pass
 * over the rows visits (each pair with a reason is visited from both sides,
 * once per key or group the two tasks share). Call {@link check} after each
 * row of that pass.
 */
export class PairWorkGuard {
  /**
   * @param limit most visits (the configured `limits.pair_visits_per_check`).
   * @param field the task list's argument name (`tasks` / `features`), named in the error.
   */
  constructor(
    private readonly rows: PairRows,
    private readonly limit: number,
    private readonly field: string,
  ) {}

  /**
   * @throws LimitError `<field>: the pairwise analysis needs more than <limit> pair
   *         visits (limits.pair_visits_per_check) ...` once the rows computed
   *         so far visited more than the limit.
   */
  check(): void {
    if (this.rows.visits <= this.limit) return;
    throw new LimitError(
      this.field,
      "limits.pair_visits_per_check",
      `${this.field}: the pairwise analysis needs more than ${this.limit} pair visits ` +
        `(limits.pair_visits_per_check = ${this.limit}; a pair counts once per shared key or group, from each side): ` +
        `${this.rows.n} tasks conflict too densely; split them into smaller calls or raise the limit`,
    );
  }
}
