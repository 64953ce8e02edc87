/**
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
 * - `pairs.ts` (with the bit encoding of `reasons.ts`): the reasons of every
 *   pair, as rows computed on demand (`planning/pair-rows.ts`);
 * - `pair-explainer.ts`: the keys behind the reasons of the listed pairs;
 * - `layering.ts`: the groups (shared with the wave planner, `waves.ts`);
 * - `pre-parallel-check.ts`: the S2 pre-parallel checkpoint.
 *
 * The computation is a generator ({@link checkParallelSteps}) that yields
 * after every pair row: {@link checkParallel} runs it at once,
 * {@link checkParallelSliced} gives the event loop back every few ms (the
 * server's tool handler uses it, so other calls are answered meanwhile).
 *
 * Pure: no I/O, no module-level mutable state.
 */
import { MAX_CHECKPOINT_ITEMS, preParallelCheckpoint, type Checkpoint } from "./pre-parallel-check.js";
import type { DomainMap } from "./domains.js";
import { layerTasks } from "./layering.js";
import { PairExplainer } from "./pair-explainer.js";
import { analyzePairs, DEFAULT_PAIR_VISITS, PairWorkGuard, type MergeConflictInput } from "./pairs.js";
import { FirstPairs } from "./planning/first-pairs.js";
import { runSteps, runStepsSliced, type Steps } from "./planning/steps.js";
import { hasDependency, pairDirBits, R_INTEGRATION, R_RESOURCE, REASON_COUNT, REASON_TYPES, isConflict } from "./reasons.js";
import type { PairResult, ReasonType, TaskSpec, Verdict } from "./tasks.js";
import { InvalidArgumentError } from "../errors.js";

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
  /** Most pair visits of the analysis (`limits.pair_visits_per_check`, default {@link DEFAULT_PAIR_VISITS}). */
  maxPairVisits?: number;
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
 * Cost: O(keys + pair work + integration points x n), never every file of
 * every pair, where the pair work counts each pair with a reason once per key
 * or group the two tasks share; memory O(tasks + keys + listed pairs), never
 * one entry per pair. Counts are exact however many pairs there are; the
 * listed pairs stop at `maxPairs` (the rest counted in `pairs_truncated`).
 *
 * @throws Error for duplicate or empty ids (`tasks[i].id: duplicate id "X" (also tasks[j])`),
 *         unknown blockers (`tasks[i].blocked_by: unknown task "X" ...`), dependency
 *         cycles (`tasks[i].blocked_by: dependency cycle: A -> B -> A`), bad
 *         estimates or `maxPairs`; `tasks: the pairwise analysis needs more than
 *         N pair visits (limits.pair_visits_per_check = N) ...` when the pair
 *         work passes `maxPairVisits`; KeyError for keys that cannot be normalised
 *         (`tasks[i].writes[k]: ...`).
 */
export function checkParallel(tasks: TaskSpec[], opts: CheckParallelOptions): ParallelReport {
  return runSteps(checkParallelSteps(tasks, opts));
}

/**
 * {@link checkParallel}, giving the event loop back every `sliceMs` ms
 * (default 8) so the server answers other calls meanwhile. Same result and
 * errors.
 */
export function checkParallelSliced(tasks: TaskSpec[], opts: CheckParallelOptions, sliceMs?: number): Promise<ParallelReport> {
  return runStepsSliced(checkParallelSteps(tasks, opts), sliceMs);
}

/** {@link checkParallel} as a generator yielding after every pair row (see `planning/steps.ts`). */
export function* checkParallelSteps(tasks: TaskSpec[], opts: CheckParallelOptions): Steps<ParallelReport> {
  const maxPairs = opts.maxPairs ?? DEFAULT_MAX_PAIRS;
  if (!Number.isInteger(maxPairs) || maxPairs < 0) {
    throw new InvalidArgumentError("max_pairs", `expected an integer >= 0, got ${String(opts.maxPairs)}`);
  }
  const analysis = analyzePairs(tasks, {
    root: opts.root,
    domains: opts.domains,
    field: "tasks",
    noun: "task",
    transitive: true,
    ...(opts.mergeConflicts ? { mergeConflicts: opts.mergeConflicts } : {}),
  });
  const { n, rows } = analysis;
  const norm = analysis.tasks;
  const guard = new PairWorkGuard(rows, opts.maxPairVisits ?? DEFAULT_PAIR_VISITS, "tasks");

  // Classify every pair with a reason as its lower-indexed task's row passes (u > v):
  // reason counts, and the first pairs of each verdict in input order.
  const counts = new Array<number>(REASON_COUNT).fill(0);
  const converge = new FirstPairs(maxPairs);
  const serialize = new FirstPairs(Math.max(maxPairs, MAX_CHECKPOINT_ITEMS));
  const warnOnly = new FirstPairs(maxPairs);
  let warningPairs = 0;
  const { touched, bits } = rows;
  const onRow = (v: number, cnt: number): void => {
    guard.check();
    for (let k = 0; k < cnt; k++) {
      const u = touched[k] as number;
      if (u < v) continue;
      const b = bits[u] as number;
      for (let rest = b & ALL_REASONS; rest !== 0; rest &= rest - 1) {
        const r = 31 - Math.clz32(rest & -rest);
        counts[r] = (counts[r] as number) + 1;
      }
      const warn = (b & BIT_RESOURCE) !== 0;
      if (warn) warningPairs++;
      // The verdict as in verdictCode: integration_point, then any other CRITICAL reason.
      if ((b & BIT_INTEGRATION) !== 0) converge.add(u, b);
      else if (isConflict(b)) serialize.add(u, b);
      else if (warn) warnOnly.add(u, b);
    }
    converge.endRow(v, n);
    serialize.endRow(v, n);
    warnOnly.endRow(v, n);
  };

  // Groups: every non-PARALLEL pair without a dependency orders by its pair order.
  const { layering } = yield* layerTasks(analysis, (b) => (hasDependency(b) ? 0 : pairDirBits(b)), Infinity, onRow);
  const groups: string[][] = Array.from({ length: layering.layerCount }, () => []);
  for (const t of norm) groups[layering.layer[t.index] as number]?.push(t.id);

  // List the first pairs: CONVERGE, SERIALIZE, then warnings, each in input order.
  const explainer = new PairExplainer(analysis);
  const listed: PairResult[] = [];
  for (const bucket of [converge, serialize, warnOnly]) {
    bucket.keys.forEach((pk, x) => analysis.pairs.remember(pk, bucket.bits[x] as number));
    for (const pk of bucket.keys) {
      if (listed.length >= maxPairs) break;
      listed.push(explainer.result(pk));
    }
  }
  const candidates = converge.total + serialize.total + warnOnly.total;
  const pairsTotal = (n * (n - 1)) / 2;
  const byReason = {} as Record<ReasonType, number>;
  REASON_TYPES.forEach((r, k) => {
    byReason[r] = counts[k] as number;
  });
  // The checkpoint reads the first MAX_CHECKPOINT_ITEMS keys and the length: a
  // sparse array of that length holds exactly those (never one entry per pair).
  const serializeSorted = serialize.keys.slice();
  serializeSorted.length = serialize.total;

  return {
    verdict: converge.total > 0 ? "CONVERGE" : serialize.total > 0 ? "SERIALIZE" : "PARALLEL",
    summary: {
      tasks: n,
      pairs_total: pairsTotal,
      parallel_pairs: pairsTotal - converge.total - serialize.total,
      serialize_pairs: serialize.total,
      converge_pairs: converge.total,
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
    checkpoint: preParallelCheckpoint(analysis, serializeSorted),
  };
}

const ALL_REASONS = (1 << REASON_COUNT) - 1;
const BIT_RESOURCE = 1 << R_RESOURCE;
const BIT_INTEGRATION = 1 << R_INTEGRATION;
