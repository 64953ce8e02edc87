/**
 * plan_waves: a dependency graph of features -> execution waves
 * (parallel-execution-protocol.md §2.1 "Execution Waves", with the independence
 * check of §1.2 and the conflict rules of §5.1; integration points from
 * parallelism-framework.md Level 3 stand alone).
 *
 * The pairs come as rows computed on demand (see pairs.ts), so memory stays
 * O(features + keys) however densely the features conflict. The planner is a
 * generator ({@link planWavesSteps}) yielding after every row:
 * {@link planWaves} runs it at once, {@link planWavesSliced} gives the event
 * loop back every few ms (the server's tool handler uses it).
 *
 * Pure: the caller assigns the plan id and stores the plan.
 */
import type { DomainMap } from "./domains.js";
import { layerTasks } from "./layering.js";
import { analyzePairs, DEFAULT_PAIR_VISITS, PairWorkGuard } from "./pairs.js";
import { FirstPairs } from "./planning/first-pairs.js";
import { runSteps, runStepsSliced, type Steps } from "./planning/steps.js";
import { wavePrerequisites } from "./planning/wave-prerequisites.js";
import { conflictBeyondDependency, flowDirBits, hasDependency, pairOrderOf, reasonTypesOf } from "./reasons.js";
import type { NormalizedTask } from "./task-input.js";
import type { PairOrder, ReasonType, TaskSpec } from "./tasks.js";
import { InvalidArgumentError } from "../errors.js";

/** One execution wave (parallel-execution-protocol.md §2.1). */
export interface Wave {
  /** 1-based. */
  wave_number: number;
  /** Feature ids in input order. */
  features: string[];
  /**
   * Waves (numbers, ascending) holding a `blocked_by` predecessor or a
   * conflicting feature placed earlier; at most {@link MAX_WAVE_PREREQUISITES},
   * the latest ones (closest to this wave) when there are more.
   */
  prerequisites: number[];
  /** Present only when `prerequisites` was cut: how many earlier prerequisite waves are left out. */
  prerequisites_omitted?: number;
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
  /** Most pair visits of the analysis (`limits.pair_visits_per_check`, default {@link DEFAULT_PAIR_VISITS}). */
  maxPairVisits?: number;
}

/** Most conflicts listed in a plan. */
export const MAX_WAVE_CONFLICTS = 500;

/** Most prerequisite waves listed per wave (a wave of one of 10,000 features writing one file follows all 9,999 others). */
export const MAX_WAVE_PREREQUISITES = 100;

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
 * - Runs in O((V + E) log V) plus five passes over the pair rows (bounded by
 *   the pair work, capped by `maxPairVisits`); 10,000 features with 30,000
 *   dependencies plan in well under a second. `conflicts` lists the first
 *   {@link MAX_WAVE_CONFLICTS} (`conflicts_total` counts all); a wave lists at
 *   most {@link MAX_WAVE_PREREQUISITES} prerequisites (`prerequisites_omitted`).
 *
 * @returns the plan body; waves are numbered from 1.
 * @throws Error `features[i].id: ...` (empty or duplicate id),
 *         `features[i].blocked_by: unknown feature "X" (named by feature "Y")`,
 *         `features[i].blocked_by: dependency cycle: A -> B -> A` (A runs before B),
 *         `max_parallel: ...`, `features: the pairwise analysis needs more than N
 *         pair visits (limits.pair_visits_per_check = N) ...`; KeyError `features[i].writes[k]: ...` for bad keys.
 */
export function planWaves(features: TaskSpec[], opts: PlanWavesOptions): WavePlanBody {
  return runSteps(planWavesSteps(features, opts));
}

/** {@link planWaves}, giving the event loop back every `sliceMs` ms (default 8). Same result and errors. */
export function planWavesSliced(features: TaskSpec[], opts: PlanWavesOptions, sliceMs?: number): Promise<WavePlanBody> {
  return runStepsSliced(planWavesSteps(features, opts), sliceMs);
}

/** {@link planWaves} as a generator yielding after every pair row (see `planning/steps.ts`). */
export function* planWavesSteps(features: TaskSpec[], opts: PlanWavesOptions): Steps<WavePlanBody> {
  const maxParallel = opts.maxParallel ?? Infinity;
  if (opts.maxParallel !== undefined && (!Number.isInteger(opts.maxParallel) || opts.maxParallel < 1)) {
    throw new InvalidArgumentError("max_parallel", `expected an integer >= 1, got ${String(opts.maxParallel)}`);
  }
  const analysis = analyzePairs(features, {
    root: opts.root,
    domains: opts.domains,
    field: "features",
    noun: "feature",
    transitive: false,
  });
  const { n, rows } = analysis;
  const tasks = analysis.tasks;
  const guard = new PairWorkGuard(rows, opts.maxPairVisits ?? DEFAULT_PAIR_VISITS, "features");

  // Conflicts: non-PARALLEL pairs with a CRITICAL reason other than the dependency itself, met row by row.
  const found = new FirstPairs(MAX_WAVE_CONFLICTS);
  const onRow = (v: number, cnt: number): void => {
    guard.check();
    for (let k = 0; k < cnt; k++) {
      const u = rows.touched[k] as number;
      if (u > v && conflictBeyondDependency(rows.bits[u] as number)) found.add(u, rows.bits[u] as number);
    }
    found.endRow(v, n);
  };

  // Soft order edges: producer before consumer, unless the pair is a direct dependency
  // (the dependency decides) or the flow reasons disagree.
  const { layering } = yield* layerTasks(analysis, (bits) => (hasDependency(bits) ? 0 : flowDirBits(bits)), maxParallel, onRow);
  const waveOf = layering.layer;

  const members: NormalizedTask[][] = Array.from({ length: layering.layerCount }, () => []);
  for (const t of tasks) members[waveOf[t.index] as number]?.push(t);
  const prereqs = yield* wavePrerequisites(analysis, waveOf, members, MAX_WAVE_PREREQUISITES);
  const waves: Wave[] = members.map((list, w) => {
    const p = prereqs[w] as { waves: number[]; omitted: number };
    return {
      wave_number: w + 1,
      features: list.map((t) => t.id),
      prerequisites: p.waves.map((x) => x + 1),
      ...(p.omitted > 0 ? { prerequisites_omitted: p.omitted } : {}),
      can_parallelize: list.length > 1,
      integration_point: list.some((t) => t.integrationPoint),
    };
  });

  const conflicts: WaveConflict[] = found.keys.map((pk, x) => {
    const bits = found.bits[x] as number;
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
    conflicts_total: found.total,
    critical_path: {
      features: layering.criticalPath.map((i) => (tasks[i] as NormalizedTask).id),
      length: layering.criticalLength,
    },
    feature_count: n,
    dependency_count: dependencyCount,
  };
}
