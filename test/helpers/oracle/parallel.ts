/**
 * REFERENCE IMPLEMENTATION (test oracle): the planner as it was before pair
 * rows, one stored entry per pair. Kept verbatim for the property test that
 * compares the row-based planner against it on small inputs; not used by the server.
 *
 * check_parallel: Levels 2 and 3 of the parallelism framework
 * (parallelism-framework.md, on top of the Level 1 domains of `domains.ts`) and
 * the pre-execution conflict check of the parallel execution protocol
 * (parallel-execution-protocol.md §1.2, §5.1): which pairs of tasks may run
 * side by side, which must serialize (and in which order) and which meet at an
 * integration point; groups in execution order (§2.1); and the pre-parallel
 * checkpoint block of coordination-skill.md ("Pre-Parallel Checkpoint").
 *
 * This module composes the parts:
 * - `task-input.ts`: validate and normalise the tasks, reject dependency cycles;
 * - `pairs.ts` (with the bit encoding of `reasons.ts`): the reasons of every pair;
 * - `pair-explainer.ts`: the keys behind the reasons of the listed pairs;
 * - `layering.ts`: the groups (shared with the wave planner, `waves.ts`);
 * - `checkpoint.ts`: the S2 pre-parallel checkpoint.
 *
 * Pure: no I/O, no module-level mutable state.
 */
import { preParallelCheckpoint, type Checkpoint } from "../../../src/analysis/pre-parallel-check.js";
import type { DomainMap } from "../../../src/analysis/domains.js";
import { layerTasks } from "./layering.js";
import { PairExplainer } from "../../../src/analysis/pair-explainer.js";
import { analyzePairs, type MergeConflictInput } from "./pairs.js";
import type { PairAnalysis as CurrentAnalysis } from "../../../src/analysis/pairs.js";
import { hasDependency, pairDirBits, tallyPairs } from "../../../src/analysis/reasons.js";
import type { PairResult, ReasonType, TaskSpec, Verdict } from "../../../src/analysis/tasks.js";

/** The result of {@link checkParallel}. */
export interface ParallelReport {
  /** CONVERGE if any pair converges, else SERIALIZE if any pair serializes, else PARALLEL. */
  verdict: Verdict;
  summary: {
    tasks: number;
    /** n * (n - 1) / 2. */
    pairs_total: number;
    parallel_pairs: number;
    serialize_pairs: number;
    converge_pairs: number;
    /** Pairs carrying a WARNING reason, whatever their verdict. */
    warning_pairs: number;
    /** Pairs having each reason; every reason type of REASON_TYPES present. */
    by_reason: Record<ReasonType, number>;
  };
  tasks: { id: string; domains: string[]; integration_tags: string[]; integration_point: boolean }[];
  /** Non-PARALLEL pairs and PARALLEL pairs with a WARNING: CONVERGE, SERIALIZE, then warnings; input order within each; capped. */
  pairs: PairResult[];
  /** Pairs left out by the `maxPairs` cap. */
  pairs_truncated: number;
  /** Task ids that may run together, group by group, in execution order. */
  groups: string[][];
  /** coordination-skill.md "S2 Pre-Parallel Check". */
  checkpoint: Checkpoint;
}

/** Options of {@link checkParallel}. */
export interface CheckParallelOptions {
  /** Absolute project root (keys are normalised relative to it). */
  root: string;
  domains: DomainMap;
  /** Most pairs listed (integer >= 0, default 500); the rest are counted in `pairs_truncated`. */
  maxPairs?: number;
  /** Predicted merge conflicts between the tasks' branches (git merge-tree, computed by the caller). */
  mergeConflicts?: readonly MergeConflictInput[];
}

/** Default of `maxPairs`. */
export const DEFAULT_MAX_PAIRS = 500;

/**
 * check_parallel: decide for every pair of tasks whether they may run side by
 * side (parallelism-framework.md Levels 1-3; parallel-execution-protocol.md
 * §1.2 and §5.1), suggest groups in execution order and emit the pre-parallel
 * checkpoint (coordination-skill.md "Pre-Parallel Checkpoint").
 *
 * Pair rules (a before b in input order; keys normalised per
 * `tasks[i].writes` / `tasks[i].reads`):
 * - `same_file`: both write the identical key (CRITICAL, either);
 * - `write_write`: writes overlap only through a directory key (CRITICAL, either);
 * - `write_read`: one writes a key the other reads, identical or through a
 *   directory key (CRITICAL, writer first);
 * - `data_flow`: one's `outputs` meet the other's `inputs` (CRITICAL, producer first);
 * - `schema`: a common `schema_changes` table (CRITICAL, either);
 * - `dependency`: one is in the other's `blocked_by`, directly or transitively
 *   (CRITICAL, blocker first);
 * - `serialized_domain`: both write into the same `parallel: "none"` domain
 *   (CRITICAL, either; the key is the domain);
 * - `integration_point`: either task has a tag, explicit or derived from the
 *   `integration_points` patterns of its written keys (verdict CONVERGE; the
 *   integration point first if only one is, else either);
 * - `merge_conflict`: git predicts that the two tasks' branches do not merge
 *   cleanly (a real three-way merge, `git merge-tree`, supplied in
 *   `opts.mergeConflicts`; CRITICAL, either; the keys are the conflicting files);
 * - `resource_contention`: common `shared_resources` (WARNING; stays PARALLEL).
 * Read-read is fine. A shared key conflicts even across domains; `same_domain`
 * is informational. Pair order: all directional reasons agree -> that
 * direction, else `either`; PARALLEL pairs have `none`.
 *
 * Groups: layering over the order edges (direct `blocked_by`, plus the pair
 * order of every non-PARALLEL pair without a dependency); never two tasks of a
 * non-PARALLEL pair in one group; an integration point alone; each task in the
 * earliest group allowed; cycles broken deterministically (see `layer` in layering.ts).
 *
 * Cost: O(keys + pairs with a reason + integration points x n), never every file of every pair.
 *
 * @throws Error for duplicate or empty ids (`tasks[i].id: duplicate id "X" (also tasks[j])`),
 *         unknown blockers (`tasks[i].blocked_by: unknown task "X" ...`), dependency
 *         cycles (`tasks[i].blocked_by: dependency cycle: A -> B -> A`), bad
 *         estimates or `maxPairs`; KeyError for keys that cannot be normalised
 *         (`tasks[i].writes[k]: ...`).
 */
export function checkParallel(tasks: TaskSpec[], opts: CheckParallelOptions): ParallelReport {
  const maxPairs = opts.maxPairs ?? DEFAULT_MAX_PAIRS;
  if (!Number.isInteger(maxPairs) || maxPairs < 0) {
    throw new Error(`max_pairs: expected an integer >= 0, got ${String(opts.maxPairs)}`);
  }
  const analysis = analyzePairs(tasks, {
    root: opts.root,
    domains: opts.domains,
    field: "tasks",
    noun: "task",
    transitive: true,
    ...(opts.mergeConflicts ? { mergeConflicts: opts.mergeConflicts } : {}),
  });
  const { n, pairs } = analysis;
  const norm = analysis.tasks;

  // Classify every pair that has a reason.
  const { byReason, converge, serialize, warnOnly, warningPairs } = tallyPairs(pairs);

  // List the first pairs: CONVERGE, SERIALIZE, then warnings, each in input order.
  const explainer = new PairExplainer(analysis as unknown as CurrentAnalysis);
  const serializeSorted = pairs.inOrder(serialize);
  const listed: PairResult[] = [];
  for (const bucket of [converge, serialize, warnOnly]) {
    if (listed.length >= maxPairs) break;
    for (const pk of bucket === serialize ? serializeSorted : pairs.inOrder(bucket)) {
      if (listed.length >= maxPairs) break;
      listed.push(explainer.result(pk));
    }
  }
  const candidates = converge.length + serialize.length + warnOnly.length;
  const pairsTotal = (n * (n - 1)) / 2;

  // Groups: every non-PARALLEL pair without a dependency orders by its pair order.
  const { layering } = layerTasks(analysis, (bits) => (hasDependency(bits) ? 0 : pairDirBits(bits)), Infinity);
  const groups: string[][] = Array.from({ length: layering.layerCount }, () => []);
  for (const t of norm) groups[layering.layer[t.index] as number]?.push(t.id);

  return {
    verdict: converge.length > 0 ? "CONVERGE" : serialize.length > 0 ? "SERIALIZE" : "PARALLEL",
    summary: {
      tasks: n,
      pairs_total: pairsTotal,
      parallel_pairs: pairsTotal - converge.length - serialize.length,
      serialize_pairs: serialize.length,
      converge_pairs: converge.length,
      warning_pairs: warningPairs,
      by_reason: byReason,
    },
    tasks: norm.map((t) => ({
      id: t.id,
      domains: t.domains,
      integration_tags: t.tags,
      integration_point: t.integrationPoint,
    })),
    pairs: listed,
    pairs_truncated: candidates - listed.length,
    groups,
    checkpoint: preParallelCheckpoint(analysis as unknown as CurrentAnalysis, serializeSorted),
  };
}
