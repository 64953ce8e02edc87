/**
 * Layering a task graph into groups / execution waves, shared by check_parallel
 * (`groups`) and plan_waves (`waves`): hard order edges (`blocked_by`), soft
 * order edges (producer before consumer, dropped deterministically where they
 * would close a cycle), exclusions (the two tasks of a non-PARALLEL pair never
 * share a layer) and integration points alone in their layer.
 *
 * Protocol: parallel-execution-protocol.md §2.1 "Execution Waves" (with the
 * independence check of §1.2); parallelism-framework.md Level 2 (dependency
 * order) and Level 3 (integration points serialize).
 *
 * The pairs come as rows computed on demand (`planning/pair-rows.ts`), never
 * as a stored list of pairs: every pass visits each task's row once, so the
 * cost is bounded by the pair work and the memory by O(tasks). Each pass
 * yields after every row (see `planning/steps.ts`).
 *
 * Pure: no I/O, no module-level mutable state.
 */
import type { PairAnalysis } from "./pairs.js";
import { Heap } from "./planning/heap.js";
import type { Steps } from "./planning/steps.js";
import { A_FIRST, B_FIRST, isConflict, type PairBits } from "./reasons.js";

/**
 * The pairs of a task list, one row at a time (implemented by `PairRows`):
 * `row(v)` fills `touched[0 .. count)` with the tasks having a reason with v
 * and `bits[u]` with the pair's {@link PairBits} (pair oriented (min, max));
 * valid until the next call.
 */
export interface RowSource {
  row(v: number): number;
  readonly touched: Int32Array;
  readonly bits: Uint32Array;
}

/** Input of {@link layer}: a task graph with hard order edges, and pairs giving soft order edges and exclusions. */
export interface LayerInput {
  n: number;
  /** Hard order edges (direct `blocked_by`): `hardPreds[v]` must run before v. Must be acyclic. */
  hardPreds: readonly (readonly number[])[];
  /** The pairs: every non-PARALLEL pair ({@link isConflict}) is an exclusion, and may be a soft order edge. */
  rows: RowSource;
  /**
   * Direction of the soft order edge of a non-PARALLEL pair (producer before
   * consumer): A_FIRST (1, the lower index first) or B_FIRST (2); 0 or 3: none.
   * Soft edges are dropped where they would close a cycle.
   */
  softDir: (bits: PairBits) => number;
  /** Tasks that must sit alone in their layer (integration points). */
  alone: readonly boolean[];
  /** Effort per task, for the critical path and the processing order. */
  weights: readonly number[];
  /** Largest layer; `Infinity` for no cap. */
  maxParallel: number;
  /**
   * Called in the first pass with each task v in input order, right after its
   * row is computed (`rows.touched` / `rows.bits` hold it); may throw to stop.
   */
  onRow?: (v: number, count: number) => void;
}

/** Output of {@link layer}. Layers are 0-based here. */
export interface Layering {
  /** Layer of each task. */
  layer: Int32Array;
  layerCount: number;
  /** Soft edges dropped to break cycles. */
  droppedEdges: number;
  /** Longest path by weight over the kept edges, as task indices, and its length. */
  criticalPath: number[];
  criticalLength: number;
}

/** Soft edge relation of a pair row entry: none, v -> u (out), u -> v (in). */
const NONE = 0;
const OUT = 1;
const IN = 2;

/** Pair classes of {@link pairClasses}: the pair is an exclusion; its soft edge runs from the lower / higher index. */
const C_CONFLICT = 1;
const C_LOW_FIRST = 2;
const C_HIGH_FIRST = 4;

/**
 * The class of every {@link PairBits} value (18 bits), filled on first use:
 * whether the pair excludes ({@link isConflict}) and where its soft edge runs
 * (`softDir`, for non-PARALLEL pairs only). One table lookup per row entry
 * instead of function calls.
 */
function pairClasses(softDir: (bits: PairBits) => number): (bits: PairBits) => number {
  const table = new Int8Array(1 << 18).fill(-1);
  return (bits) => {
    let c = table[bits] as number;
    if (c < 0) {
      c = 0;
      if (isConflict(bits)) {
        const d = softDir(bits);
        c = C_CONFLICT | (d === A_FIRST ? C_LOW_FIRST : d === B_FIRST ? C_HIGH_FIRST : 0);
      }
      table[bits] = c;
    }
    return c;
  };
}

/** The soft edge between v and u for a pair of class `c` (see {@link pairClasses}). */
function softRel(v: number, u: number, c: number): number {
  if ((c & C_LOW_FIRST) !== 0) return u > v ? OUT : IN;
  if ((c & C_HIGH_FIRST) !== 0) return u < v ? OUT : IN;
  return NONE;
}

/**
 * Layer a task graph: every task goes into the earliest layer after all its kept
 * predecessors that holds no task it conflicts with, is not an integration
 * point's layer and has room (`maxParallel`); a task marked `alone` gets a layer
 * of its own. Protocol: parallel-execution-protocol.md §2.1 (execution waves),
 * parallelism-framework.md Level 3 (integration points stand alone).
 *
 * Cycle breaking (deterministic): Kahn's algorithm over hard ∪ soft edges; when
 * it stalls, the lowest-index remaining task whose hard predecessors are all
 * done is released and its remaining incoming soft edges are dropped (they stay
 * exclusions). Such a task always exists because the hard edges are acyclic.
 * An edge u -> v is kept exactly when u comes before v in that order.
 *
 * Processing order: topological over the kept edges, ties broken by the longest
 * remaining path (critical path first), then input order. Placement skips full
 * layers with a union-find "next layer with room" pointer and checks only the
 * layers of already placed conflicting neighbours.
 *
 * Cost: four passes over the rows (in-degrees, Kahn, longest paths,
 * placement), each O(pair work), plus O(V log V); memory O(V). Without any
 * soft edge (e.g. writers of one file: `same_file` has no direction) the Kahn
 * and longest-path passes follow the hard edges only. Yields after every row.
 */
export function* layer(input: LayerInput): Steps<Layering> {
  const { n, hardPreds, rows, weights, onRow } = input;
  const { touched, bits } = rows;
  const cls = pairClasses(input.softDir);
  const hardSucc: number[][] = Array.from({ length: n }, () => []);
  for (let v = 0; v < n; v++) for (const u of hardPreds[v] ?? []) hardSucc[u]?.push(v);

  // Pass 0: in-degrees over hard and soft edges.
  const inAll = new Int32Array(n);
  const inHard = new Int32Array(n);
  let softEdges = 0;
  for (let v = 0; v < n; v++) {
    let ins = (hardPreds[v] ?? []).length;
    inHard[v] = ins;
    const cnt = rows.row(v);
    for (let k = 0; k < cnt; k++) {
      const u = touched[k] as number;
      if (softRel(v, u, cls(bits[u] as number)) === IN) ins++;
    }
    softEdges += ins - (inHard[v] as number);
    inAll[v] = ins;
    onRow?.(v, cnt);
    yield;
  }

  // Pass 1: Kahn with deterministic cycle breaking; decides which edges are kept.
  const done = new Uint8Array(n);
  const topoPos = new Int32Array(n);
  const keptIn = new Int32Array(n);
  const queue: number[] = [];
  let head = 0;
  const hardReady = new Heap((a, b) => a < b);
  for (let v = 0; v < n; v++) {
    if (inAll[v] === 0) queue.push(v);
    if (inHard[v] === 0) hardReady.push(v);
  }
  const topo: number[] = [];
  let droppedEdges = 0;
  /** Follow the edge v -> t when v is done: kept unless t is done already. */
  const follow = (t: number, hard: boolean): void => {
    if (done[t] === 1) {
      droppedEdges++;
      return;
    }
    keptIn[t] = (keptIn[t] as number) + 1;
    inAll[t] = (inAll[t] as number) - 1;
    if (hard) {
      inHard[t] = (inHard[t] as number) - 1;
      if (inHard[t] === 0) hardReady.push(t);
    }
    if (inAll[t] === 0) queue.push(t);
  };
  while (topo.length < n) {
    if (head === queue.length) {
      let v = hardReady.pop();
      while (v !== undefined && done[v] === 1) v = hardReady.pop();
      if (v === undefined) throw new Error("internal: hard order edges are cyclic");
      queue.push(v);
    }
    const v = queue[head++] as number;
    if (done[v] === 1) continue;
    done[v] = 1;
    topoPos[v] = topo.length;
    topo.push(v);
    for (const t of hardSucc[v] as number[]) follow(t, true);
    if (softEdges === 0) continue; // no soft edge anywhere: the rows add nothing to the order
    const cnt = rows.row(v);
    for (let k = 0; k < cnt; k++) {
      const u = touched[k] as number;
      if (softRel(v, u, cls(bits[u] as number)) === OUT) follow(u, false);
    }
    yield;
  }

  /** Visit the kept successors of v (computes v's row). */
  const keptSucc = (v: number, fn: (s: number) => void): void => {
    const pos = topoPos[v] as number;
    for (const s of hardSucc[v] as number[]) if ((topoPos[s] as number) > pos) fn(s);
    if (softEdges === 0) return;
    const cnt = rows.row(v);
    for (let k = 0; k < cnt; k++) {
      const u = touched[k] as number;
      if ((topoPos[u] as number) > pos && softRel(v, u, cls(bits[u] as number)) === OUT) fn(u);
    }
  };

  // Pass 2: longest remaining path (including the task itself) over the kept DAG.
  const remaining = new Float64Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const v = topo[k] as number;
    let best = 0;
    keptSucc(v, (s) => {
      if ((remaining[s] as number) > best) best = remaining[s] as number;
    });
    remaining[v] = (weights[v] ?? 1) + best;
    yield;
  }

  const layerOf = yield* place(input, cls, topoPos, keptIn, remaining, hardSucc, softEdges > 0);

  // Critical path: start at the largest remaining length, follow the heaviest kept successor.
  const criticalPath: number[] = [];
  let criticalLength = 0;
  if (n > 0) {
    let start = 0;
    for (let v = 1; v < n; v++) if ((remaining[v] as number) > (remaining[start] as number)) start = v;
    criticalLength = remaining[start] as number;
    let cur: number | undefined = start;
    while (cur !== undefined) {
      criticalPath.push(cur);
      let best: number | undefined;
      keptSucc(cur, (s) => {
        if (
          best === undefined ||
          (remaining[s] as number) > (remaining[best] as number) ||
          ((remaining[s] as number) === (remaining[best] as number) && s < best)
        ) {
          best = s;
        }
      });
      cur = best;
      yield;
    }
  }
  return { layer: layerOf.layer, layerCount: layerOf.count, droppedEdges, criticalPath, criticalLength };
}

/**
 * Pass 3 of {@link layer}: place the tasks in processing order (topological
 * over the kept edges, longest remaining path first, then input order), each
 * in the earliest layer allowed. `hasSoft`: whether any soft edge exists.
 * Returns the layer of each task and the count.
 */
function* place(
  input: LayerInput,
  cls: (bits: PairBits) => number,
  topoPos: Int32Array,
  keptIn: Int32Array,
  remaining: Float64Array,
  hardSucc: readonly number[][],
  hasSoft: boolean,
): Steps<{ layer: Int32Array; count: number }> {
  const { n, hardPreds, rows, alone, maxParallel } = input;
  const { touched, bits } = rows;
  const indeg = keptIn.slice();
  const ready = new Heap((a, b) => {
    const ra = remaining[a] as number;
    const rb = remaining[b] as number;
    return ra !== rb ? ra > rb : a < b;
  });
  for (let v = 0; v < n; v++) if (indeg[v] === 0) ready.push(v);

  const layerOf = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  const next: number[] = [0]; // union-find: next layer >= i with room; index == sizes.length is the open new layer
  const find = (x: number): number => {
    let root = x;
    while (next[root] !== root) root = next[root] as number;
    while (next[x] !== root) {
      const up = next[x] as number;
      next[x] = root;
      x = up;
    }
    return root;
  };
  const mark = new Int32Array(n + 1).fill(-1);
  const release = (s: number): void => {
    indeg[s] = (indeg[s] as number) - 1;
    if (indeg[s] === 0) ready.push(s);
  };

  for (let placed = 0; placed < n; placed++) {
    const v = ready.pop() as number;
    const pos = topoPos[v] as number;
    let lb = 0;
    for (const u of hardPreds[v] ?? []) if ((topoPos[u] as number) < pos) lb = Math.max(lb, (layerOf[u] as number) + 1);
    // One sweep over the row: mark the layers of placed conflicting tasks (only those
    // from lb up matter), and raise lb past kept soft predecessors (all placed already).
    const cnt = rows.row(v);
    const isAlone = alone[v] === true;
    for (let k = 0; k < cnt; k++) {
      const u = touched[k] as number;
      const c = cls(bits[u] as number);
      if (c === 0) continue; // PARALLEL: neither an exclusion nor an order edge
      const lu = layerOf[u] as number;
      if (lu < 0) continue; // not placed yet
      if (!isAlone) mark[lu] = v;
      if ((topoPos[u] as number) < pos && softRel(v, u, c) === IN && lu + 1 > lb) lb = lu + 1;
    }
    let w: number;
    if (isAlone) {
      w = Math.max(lb, sizes.length);
    } else {
      w = find(lb);
      while (mark[w] === v) w = find(w + 1);
    }
    while (w >= sizes.length) {
      sizes.push(0);
      next.push(sizes.length); // the new sentinel
    }
    layerOf[v] = w;
    sizes[w] = (sizes[w] as number) + 1;
    if (alone[v] === true || (sizes[w] as number) >= maxParallel) next[w] = w + 1; // close the layer
    for (const s of hardSucc[v] as number[]) if ((topoPos[s] as number) > pos) release(s);
    for (let k = 0; hasSoft && k < cnt; k++) {
      const u = touched[k] as number;
      if ((topoPos[u] as number) > pos && softRel(v, u, cls(bits[u] as number)) === OUT) release(u);
    }
    yield;
  }
  return { layer: layerOf, count: sizes.length };
}

/** A layering of the tasks of an analysis. */
export interface TaskLayering {
  layering: Layering;
}

/**
 * Layer the tasks of an analysis with {@link layer}: the direct `blocked_by`
 * edges are hard, the exclusions and soft edges (by `softDir`) come from the
 * analysis' pair rows, integration points sit alone, estimates weigh the
 * critical path, and at most `maxParallel` tasks share a layer (`Infinity`:
 * no cap). `onRow` sees every row once, in input order (see {@link LayerInput}).
 */
export function* layerTasks(
  analysis: PairAnalysis,
  softDir: (bits: PairBits) => number,
  maxParallel: number,
  onRow?: (v: number, count: number) => void,
): Steps<TaskLayering> {
  const tasks = analysis.tasks;
  const layering = yield* layer({
    n: analysis.n,
    hardPreds: tasks.map((t) => t.blockedBy),
    rows: analysis.rows,
    softDir,
    alone: tasks.map((t) => t.integrationPoint),
    weights: tasks.map((t) => t.estimate),
    maxParallel,
    ...(onRow ? { onRow } : {}),
  });
  return { layering };
}
