/**
 * REFERENCE IMPLEMENTATION (test oracle): the planner as it was before pair
 * rows, one stored entry per pair. Kept verbatim for the property test that
 * compares the row-based planner against it on small inputs; not used by the server.
 *
 * plan_waves: a dependency graph of features -> execution waves
 * (parallel-execution-protocol.md §2.1 "Execution Waves", with the independence
 * check of §1.2 and the conflict rules of §5.1; integration points from
 * parallelism-framework.md Level 3 stand alone).
 *
 * Pure: the caller assigns the plan id and stores the plan.
 */
import type { DomainMap } from "../../../src/analysis/domains.js";
import { layerTasks } from "./layering.js";
import { analyzePairs } from "./pairs.js";
import { conflictBeyondDependency, flowDirBits, hasDependency, pairOrderOf, reasonTypesOf } from "../../../src/analysis/reasons.js";
import type { NormalizedTask } from "../../../src/analysis/task-input.js";
import type { PairOrder, ReasonType, TaskSpec } from "../../../src/analysis/tasks.js";

/** One execution wave (parallel-execution-protocol.md §2.1). */
export interface Wave {
  /** 1-based. */
  wave_number: number;
  /** Feature ids in input order. */
  features: string[];
  /** Waves (numbers, ascending) holding a `blocked_by` predecessor or a conflicting feature placed earlier. */
  prerequisites: number[];
  /** `features.length > 1`. */
  can_parallelize: boolean;
  /** The wave holds an integration point (it is then the wave's only feature). */
  integration_point: boolean;
}

/** A pair of features kept apart by a conflict (not by a dependency alone). */
export interface WaveConflict {
  a: string;
  b: string;
  reasons: ReasonType[];
  order: PairOrder;
  /** e.g. `a in wave 1, b in wave 2`, with the feature ids. */
  placed: string;
}

/** The computed part of a wave plan (no `plan_id`; the caller persists it). */
export interface WavePlanBody {
  name?: string;
  waves: Wave[];
  /** Conflicts in input order of the pairs, at most {@link MAX_WAVE_CONFLICTS}. */
  conflicts: WaveConflict[];
  conflicts_total: number;
  /** Longest path by estimate (default 1 per feature) over the order edges used. */
  critical_path: { features: string[]; length: number };
  feature_count: number;
  /** Number of distinct direct `blocked_by` edges. */
  dependency_count: number;
}

/** Options of {@link planWaves}. */
export interface PlanWavesOptions {
  /** Absolute project root (keys are normalised relative to it). */
  root: string;
  domains: DomainMap;
  /** Most features per wave (integer >= 1); no cap when absent. */
  maxParallel?: number;
  /** Plan name, copied to the result. */
  name?: string;
}

/** Most conflicts listed in a plan. */
export const MAX_WAVE_CONFLICTS = 500;

/**
 * Plan execution waves (parallel-execution-protocol.md §2.1).
 *
 * - Validation first: ids non-empty and unique; every `blocked_by` names a
 *   feature of the request; no dependency cycle; keys normalisable.
 * - A feature goes into the earliest wave after all its `blocked_by`
 *   predecessors. Two features of a non-PARALLEL pair (the check_parallel pair
 *   rules, with DIRECT dependencies only) never share a wave. Producers go
 *   before consumers (write_read, data_flow) where that closes no cycle with
 *   the dependencies: edges that would are dropped one by one, deterministically
 *   (see `layer` in layering.ts) and stay exclusions. An integration point is
 *   alone in its wave. `maxParallel` caps the features per wave.
 * - Features are placed in topological order, ties broken by the longest
 *   remaining path (critical path first), then input order.
 * - Runs in O((V + E) log V) plus the pair analysis; 10,000 features with 30,000
 *   dependencies plan in well under a second.
 *
 * @returns the plan body; waves are numbered from 1.
 * @throws Error `features[i].id: ...` (empty or duplicate id),
 *         `features[i].blocked_by: unknown feature "X" (named by feature "Y")`,
 *         `features[i].blocked_by: dependency cycle: A -> B -> A` (A runs before B),
 *         `max_parallel: ...`; KeyError `features[i].writes[k]: ...` for bad keys.
 */
export function planWaves(features: TaskSpec[], opts: PlanWavesOptions): WavePlanBody {
  const maxParallel = opts.maxParallel ?? Infinity;
  if (opts.maxParallel !== undefined && (!Number.isInteger(opts.maxParallel) || opts.maxParallel < 1)) {
    throw new Error(`max_parallel: expected an integer >= 1, got ${String(opts.maxParallel)}`);
  }
  const analysis = analyzePairs(features, {
    root: opts.root,
    domains: opts.domains,
    field: "features",
    noun: "feature",
    transitive: false,
  });
  const { n, pairs } = analysis;
  const tasks = analysis.tasks;

  // Soft order edges: producer before consumer, unless the pair is a direct dependency
  // (the dependency decides) or the flow reasons disagree.
  const { graph, layering } = layerTasks(
    analysis,
    (bits) => (hasDependency(bits) ? 0 : flowDirBits(bits)),
    maxParallel,
  );
  const waveOf = layering.layer;

  const members: NormalizedTask[][] = Array.from({ length: layering.layerCount }, () => []);
  for (const t of tasks) members[waveOf[t.index] as number]?.push(t);
  const prereqs: Set<number>[] = Array.from({ length: layering.layerCount }, () => new Set<number>());
  for (const t of tasks) {
    const w = waveOf[t.index] as number;
    const set = prereqs[w] as Set<number>;
    for (const p of t.blockedBy) set.add(waveOf[p] as number);
    for (let e = graph.offsets[t.index] as number; e < (graph.offsets[t.index + 1] as number); e++) {
      const wu = waveOf[graph.targets[e] as number] as number;
      if (wu < w) set.add(wu);
    }
  }
  const waves: Wave[] = members.map((list, w) => ({
    wave_number: w + 1,
    features: list.map((t) => t.id),
    prerequisites: [...(prereqs[w] as Set<number>)].sort((x, y) => x - y).map((x) => x + 1),
    can_parallelize: list.length > 1,
    integration_point: list.some((t) => t.integrationPoint),
  }));

  // Conflicts: non-PARALLEL pairs with a CRITICAL reason other than the dependency itself.
  const conflictKeys = graph.conflictKeys.filter((pk) => conflictBeyondDependency(pairs.get(pk)));
  const listed = pairs.inOrder(conflictKeys).slice(0, MAX_WAVE_CONFLICTS);
  const conflicts: WaveConflict[] = listed.map((pk) => {
    const bits = pairs.get(pk);
    const i = Math.floor(pk / n);
    const j = pk - i * n;
    const a = tasks[i] as NormalizedTask;
    const b = tasks[j] as NormalizedTask;
    return {
      a: a.id,
      b: b.id,
      reasons: reasonTypesOf(bits),
      order: pairOrderOf(bits),
      placed: `${a.id} in wave ${(waveOf[i] as number) + 1}, ${b.id} in wave ${(waveOf[j] as number) + 1}`,
    };
  });

  let dependencyCount = 0;
  for (const t of tasks) dependencyCount += t.blockedBy.length;

  return {
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    waves,
    conflicts,
    conflicts_total: conflictKeys.length,
    critical_path: {
      features: layering.criticalPath.map((i) => (tasks[i] as NormalizedTask).id),
      length: layering.criticalLength,
    },
    feature_count: n,
    dependency_count: dependencyCount,
  };
}
