/**
 * REFERENCE IMPLEMENTATION (test oracle): the planner as it was before pair
 * rows, one stored entry per pair. Kept verbatim for the property test that
 * compares the row-based planner against it on small inputs; not used by the server.
 *
 * The pairwise conflict analysis shared by check_parallel and plan_waves
 * (parallelism-framework.md Levels 2-3; parallel-execution-protocol.md §1.2
 * "Independence Check" and §5.1 "Pre-Execution Conflict Check"): for every
 * pair of tasks, which reasons keep them apart, packed as {@link PairBits}
 * (reasons.ts) in a {@link PairStore}. Built from the key index (key -> writers
 * and readers), never by comparing every file of every pair.
 *
 * Pure: no I/O, no module-level mutable state.
 */
import { keyKind } from "../../../src/paths.js";
import {
  A_FIRST,
  B_FIRST,
  BOTH,
  DIR_SHIFT,
  R_DATA_FLOW,
  R_DEPENDENCY,
  R_INTEGRATION,
  R_MERGE,
  R_RESOURCE,
  R_SAME_FILE,
  R_SCHEMA,
  R_SERIALIZED,
  R_WRITE_READ,
  R_WRITE_WRITE,
  type PairBits,
} from "../../../src/analysis/reasons.js";
import { assertAcyclic, normalizeTasks, type NormalizedTask, type TaskInputOptions } from "../../../src/analysis/task-input.js";
import type { TaskSpec } from "../../../src/analysis/tasks.js";

/** Largest task count for which pair reasons live in a dense n x n array (16 MiB at the limit). */
export const DENSE_PAIR_LIMIT = 2048;

/**
 * The {@link PairBits} of every pair with a reason, keyed `i * n + j` (i < j).
 * Up to {@link DENSE_PAIR_LIMIT} tasks a dense `Uint32Array(n * n)` (no hashing,
 * iteration in ascending key order); above it a `Map<number, number>`.
 */
export class PairStore {
  private readonly dense: Uint32Array | undefined;
  private readonly sparse: Map<number, number> | undefined;
  /** True when {@link forEach} visits pairs in ascending key order. */
  private readonly ordered: boolean;

  constructor(readonly n: number) {
    if (n <= DENSE_PAIR_LIMIT) this.dense = new Uint32Array(n * n);
    else this.sparse = new Map();
    this.ordered = this.dense !== undefined;
  }

  /** OR `bits` into the pair `pk`. */
  or(pk: number, bits: number): void {
    const d = this.dense;
    if (d !== undefined) {
      d[pk] = (d[pk] as number) | bits;
      return;
    }
    const m = this.sparse as Map<number, number>;
    const cur = m.get(pk);
    m.set(pk, cur === undefined ? bits : cur | bits);
  }

  /** The bits of pair `pk` (0 when it has no reason). */
  get(pk: number): PairBits {
    const d = this.dense;
    if (d !== undefined) return d[pk] ?? 0;
    return (this.sparse as Map<number, number>).get(pk) ?? 0;
  }

  /** Visit every pair with a reason (in ascending key order up to {@link DENSE_PAIR_LIMIT} tasks). */
  forEach(fn: (pk: number, bits: PairBits) => void): void {
    const d = this.dense;
    if (d === undefined) {
      (this.sparse as Map<number, number>).forEach((bits, pk) => fn(pk, bits));
      return;
    }
    const n = this.n;
    for (let i = 0; i < n; i++) {
      for (let pk = i * n + i + 1, end = (i + 1) * n; pk < end; pk++) {
        const bits = d[pk] as number;
        if (bits !== 0) fn(pk, bits);
      }
    }
  }

  /**
   * Pair keys collected in {@link forEach} order, in ascending order (= input
   * order of (a, b)): `keys` itself when forEach already visits in that order,
   * else a sorted copy.
   */
  inOrder(keys: readonly number[]): readonly number[] {
    return this.ordered ? keys : Array.from(Float64Array.from(keys).sort());
  }
}

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

/** Writers and readers (task indices, ascending) of one key. */
export interface KeyEntry {
  w: number[];
  r: number[];
}

/** The result of the pairwise analysis. */
export interface PairAnalysis {
  tasks: NormalizedTask[];
  n: number;
  /** Pairs with at least one reason, keyed `i * n + j` (i < j, input positions). */
  pairs: PairStore;
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
 * End (exclusive) of the keys below the directory key `sortedKeys[d]`: in a
 * sorted key list they are exactly `sortedKeys[d + 1 .. end)`. None of them is
 * a `table:` or `resource:` key (such a key never starts with a directory key).
 */
export function endOfKeysBelow(sortedKeys: readonly string[], d: number): number {
  const dirKey = sortedKeys[d] as string;
  let end = d + 1;
  while (end < sortedKeys.length && (sortedKeys[end] as string).startsWith(dirKey)) end++;
  return end;
}

/**
 * The pairwise conflict analysis shared by check_parallel and plan_waves
 * (parallelism-framework.md Levels 2-3; parallel-execution-protocol.md §5.1):
 * validate and normalise the tasks, reject dependency cycles, then find the
 * reasons of every pair.
 *
 * Never compares every file of every pair: it indexes key -> writers/readers,
 * matches directory keys against the sorted key list by prefix, and groups
 * tasks by serialized domain, table, artifact and resource. Reasons accumulate
 * per pair as {@link PairBits} in a {@link PairStore} keyed `i * n + j`
 * (i < j): one integer per pair, no allocation, so a key written by 647 tasks
 * (~209k pairs) stays cheap. Keys per reason are recomputed for listed pairs
 * only (`PairExplainer`).
 *
 * @throws as {@link normalizeTasks}, and `<field>[i].blocked_by: dependency cycle: ...`.
 */
export function analyzePairs(specs: readonly TaskSpec[], opts: AnalyzeOptions): PairAnalysis {
  const tasks = normalizeTasks(specs, opts);
  assertAcyclic(tasks, opts.field);
  const n = tasks.length;
  const pairs = new PairStore(n);
  const or = (pk: number, v: number): void => pairs.or(pk, v);
  /** A reason without direction on the pair {i, j}. */
  const undirected = (i: number, j: number, r: number): void => {
    if (i === j) return;
    or(i < j ? i * n + j : j * n + i, 1 << r);
  };
  /** A directional reason: `first` must run before `second`. */
  const directed = (first: number, second: number, r: number): void => {
    if (first === second) return;
    const shift = DIR_SHIFT[r] as number;
    if (first < second) or(first * n + second, (1 << r) | (A_FIRST << shift));
    else or(second * n + first, (1 << r) | (B_FIRST << shift));
  };

  // Key index: identical keys.
  const keyIndex = new Map<string, KeyEntry>();
  for (const t of tasks) {
    for (const k of t.writes) {
      const e = keyIndex.get(k);
      if (e === undefined) keyIndex.set(k, { w: [t.index], r: [] });
      else e.w.push(t.index);
    }
    for (const k of t.reads) {
      const e = keyIndex.get(k);
      if (e === undefined) keyIndex.set(k, { w: [], r: [t.index] });
      else e.r.push(t.index);
    }
  }
  const sameFile = 1 << R_SAME_FILE;
  for (const e of keyIndex.values()) {
    const { w, r } = e;
    for (let x = 0; x < w.length; x++) {
      const wx = w[x] as number;
      const base = wx * n;
      // Writers are in ascending order, so wx < w[y].
      for (let y = x + 1; y < w.length; y++) or(base + (w[y] as number), sameFile);
      for (const ry of r) directed(wx, ry, R_WRITE_READ);
    }
  }

  // Directory keys: every key below them in sorted order.
  let hasDir = false;
  for (const k of keyIndex.keys()) {
    if (k.endsWith("/") && keyKind(k) === "dir") {
      hasDir = true;
      break;
    }
  }
  const sortedKeys = hasDir ? [...keyIndex.keys()].sort() : [...keyIndex.keys()];
  for (let d = 0; hasDir && d < sortedKeys.length; d++) {
    const dirKey = sortedKeys[d] as string;
    if (keyKind(dirKey) !== "dir") continue;
    const eD = keyIndex.get(dirKey) as KeyEntry;
    for (let k = d + 1, end = endOfKeysBelow(sortedKeys, d); k < end; k++) {
      const eK = keyIndex.get(sortedKeys[k] as string) as KeyEntry;
      for (const x of eD.w) {
        for (const y of eK.w) undirected(x, y, R_WRITE_WRITE);
        for (const y of eK.r) directed(x, y, R_WRITE_READ);
      }
      for (const x of eD.r) for (const y of eK.w) directed(y, x, R_WRITE_READ);
    }
  }

  // Grouped reasons: tables, serialized domains, resources (undirected), artifacts (producer first).
  const group = (select: (t: NormalizedTask) => readonly string[]): Map<string, number[]> => {
    const m = new Map<string, number[]>();
    for (const t of tasks) {
      for (const name of select(t)) {
        const list = m.get(name);
        if (list === undefined) m.set(name, [t.index]);
        else list.push(t.index);
      }
    }
    return m;
  };
  const allPairs = (m: Map<string, number[]>, r: number): void => {
    for (const list of m.values()) {
      for (let x = 0; x < list.length; x++) {
        for (let y = x + 1; y < list.length; y++) undirected(list[x] as number, list[y] as number, r);
      }
    }
  };
  allPairs(group((t) => t.tables), R_SCHEMA);
  allPairs(group((t) => t.serializedDomains), R_SERIALIZED);
  allPairs(group((t) => t.resources), R_RESOURCE);
  const consumers = group((t) => t.inputs);
  for (const [artifact, prod] of group((t) => t.outputs)) {
    const cons = consumers.get(artifact);
    if (cons === undefined) continue;
    for (const p of prod) for (const c of cons) directed(p, c, R_DATA_FLOW);
  }

  // Dependencies: direct, or transitive (one DFS over the blockers of each task).
  if (!opts.transitive) {
    for (const t of tasks) for (const p of t.blockedBy) directed(p, t.index, R_DEPENDENCY);
  } else {
    const stamp = new Int32Array(n).fill(-1);
    const stack: number[] = [];
    for (const t of tasks) {
      const b = t.index;
      for (const p of t.blockedBy) {
        if (stamp[p] === b) continue;
        stamp[p] = b;
        stack.push(p);
      }
      while (stack.length > 0) {
        const a = stack.pop() as number;
        directed(a, b, R_DEPENDENCY);
        for (const p of (tasks[a] as NormalizedTask).blockedBy) {
          if (stamp[p] === b) continue;
          stamp[p] = b;
          stack.push(p);
        }
      }
    }
  }

  // Predicted merge conflicts between the tasks' branches.
  const mergeFiles = new Map<number, string[]>();
  if (opts.mergeConflicts && opts.mergeConflicts.length > 0) {
    const byId = new Map(tasks.map((t) => [t.id, t.index]));
    for (const c of opts.mergeConflicts) {
      const i = byId.get(c.a);
      const j = byId.get(c.b);
      if (i === undefined || j === undefined || i === j) continue;
      const pk = i < j ? i * n + j : j * n + i;
      undirected(i, j, R_MERGE);
      mergeFiles.set(pk, [...new Set([...(mergeFiles.get(pk) ?? []), ...c.files])].sort());
    }
  }

  // Integration points pair with every other task; the integration point goes first.
  const bothIntegration = (1 << R_INTEGRATION) | (BOTH << (DIR_SHIFT[R_INTEGRATION] as number));
  for (const t of tasks) {
    if (!t.integrationPoint) continue;
    for (const o of tasks) {
      if (o.index === t.index) continue;
      if (o.integrationPoint) {
        if (o.index > t.index) or(t.index * n + o.index, bothIntegration);
      } else {
        directed(t.index, o.index, R_INTEGRATION);
      }
    }
  }

  return { tasks, n, pairs, keyIndex, sortedKeys, mergeFiles };
}
