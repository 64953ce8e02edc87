/**
 * REFERENCE IMPLEMENTATION (test oracle): the planner as it was before pair
 * rows, one stored entry per pair. Kept verbatim for the property test that
 * compares the row-based planner against it on small inputs; not used by the server.
 *
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
 * Pure: no I/O, no module-level mutable state.
 */
import type { PairAnalysis } from "./pairs.js";
import { A_FIRST, B_FIRST, isConflict, type PairBits } from "../../../src/analysis/reasons.js";

/** A binary min-heap of task indices under a comparator. */
class Heap {
  private readonly items: number[] = [];
  constructor(private readonly less: (a: number, b: number) => boolean) {}

  /** Add `x`. */
  push(x: number): void {
    const h = this.items;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as number;
      if (!this.less(x, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = x;
  }
  /** Remove and return the least item; `undefined` when empty. */
  pop(): number | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0] as number;
    const last = h.pop() as number;
    const len = h.length;
    if (len > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= len) break;
        let m = l;
        if (l + 1 < len && this.less(h[l + 1] as number, h[l] as number)) m = l + 1;
        const child = h[m] as number;
        if (!this.less(child, last)) break;
        h[i] = child;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

/** Input of {@link layer}: a task graph with hard and soft order edges and exclusions. */
export interface LayerInput {
  n: number;
  /** Hard order edges (direct `blocked_by`): `hardPreds[v]` must run before v. Must be acyclic. */
  hardPreds: readonly (readonly number[])[];
  /** Soft order edges `softFrom[k] -> softTo[k]` (producer before consumer); dropped where they would close a cycle. */
  softFrom: readonly number[];
  softTo: readonly number[];
  /** Exclusions (CSR, symmetric): `conflictTargets[conflictOffsets[v] .. conflictOffsets[v + 1])` may never share a layer with v. */
  conflictOffsets: Int32Array;
  conflictTargets: Int32Array;
  /** Tasks that must sit alone in their layer (integration points). */
  alone: readonly boolean[];
  /** Effort per task, for the critical path and the processing order. */
  weights: readonly number[];
  /** Largest layer; `Infinity` for no cap. */
  maxParallel: number;
}

/** Output of {@link layer}. Layers are 0-based here. */
export interface Layering {
  /** Layer of each task. */
  layer: Int32Array;
  layerCount: number;
  /** The order edges kept (every edge whose source runs first): `keptPreds[v]`. */
  keptPreds: number[][];
  /** Soft edges dropped to break cycles. */
  droppedEdges: number;
  /** Longest path by weight over the kept edges, as task indices, and its length. */
  criticalPath: number[];
  criticalLength: number;
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
 *
 * Processing order: topological over the kept edges, ties broken by the longest
 * remaining path (critical path first), then input order. Placement skips full
 * layers with a union-find "next layer with room" pointer and checks only the
 * layers of already placed conflicting neighbours, so the whole run is
 * O((V + E) log V) for E order edges and exclusion pairs.
 */
export function layer(input: LayerInput): Layering {
  const { n, hardPreds, softFrom, softTo, conflictOffsets, conflictTargets, alone, weights, maxParallel } = input;

  // Combined successor lists, CSR; hard edges flagged.
  const outDeg = new Int32Array(n + 1);
  const inAll = new Int32Array(n);
  const inHard = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    for (const u of hardPreds[v] ?? []) {
      outDeg[u] = (outDeg[u] as number) + 1;
      inAll[v] = (inAll[v] as number) + 1;
      inHard[v] = (inHard[v] as number) + 1;
    }
  }
  for (let k = 0; k < softFrom.length; k++) {
    const u = softFrom[k] as number;
    const v = softTo[k] as number;
    outDeg[u] = (outDeg[u] as number) + 1;
    inAll[v] = (inAll[v] as number) + 1;
  }
  const offs = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) offs[v + 1] = (offs[v] as number) + (outDeg[v] as number);
  const fill = offs.slice(0, n);
  const eTo = new Int32Array(offs[n] as number);
  const eHard = new Uint8Array(offs[n] as number);
  for (let v = 0; v < n; v++) {
    for (const u of hardPreds[v] ?? []) {
      const at = fill[u] as number;
      fill[u] = at + 1;
      eTo[at] = v;
      eHard[at] = 1;
    }
  }
  for (let k = 0; k < softFrom.length; k++) {
    const u = softFrom[k] as number;
    const at = fill[u] as number;
    fill[u] = at + 1;
    eTo[at] = softTo[k] as number;
  }

  // Pass 1: Kahn with deterministic cycle breaking; decides which edges are kept.
  const done = new Uint8Array(n);
  const keptPreds: number[][] = Array.from({ length: n }, () => []);
  const keptSucc: number[][] = Array.from({ length: n }, () => []);
  const queue: number[] = [];
  let head = 0;
  const hardReady = new Heap((a, b) => a < b);
  for (let v = 0; v < n; v++) {
    if (inAll[v] === 0) queue.push(v);
    if (inHard[v] === 0) hardReady.push(v);
  }
  const topo: number[] = [];
  let droppedEdges = 0;
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
    topo.push(v);
    for (let e = offs[v] as number; e < (offs[v + 1] as number); e++) {
      const t = eTo[e] as number;
      if (done[t] === 1) {
        droppedEdges++;
        continue;
      }
      (keptPreds[t] as number[]).push(v);
      (keptSucc[v] as number[]).push(t);
      inAll[t] = (inAll[t] as number) - 1;
      if (eHard[e] === 1) {
        inHard[t] = (inHard[t] as number) - 1;
        if (inHard[t] === 0) hardReady.push(t);
      }
      if (inAll[t] === 0) queue.push(t);
    }
  }

  // Pass 2: longest remaining path (including the task itself) over the kept DAG.
  const remaining = new Float64Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const v = topo[k] as number;
    let best = 0;
    for (const s of keptSucc[v] as number[]) if ((remaining[s] as number) > best) best = remaining[s] as number;
    remaining[v] = (weights[v] ?? 1) + best;
  }

  // Pass 3: processing order — topological, critical path first, then input order.
  const indeg = new Int32Array(n);
  for (let v = 0; v < n; v++) indeg[v] = (keptPreds[v] as number[]).length;
  const ready = new Heap((a, b) => {
    const ra = remaining[a] as number;
    const rb = remaining[b] as number;
    return ra !== rb ? ra > rb : a < b;
  });
  for (let v = 0; v < n; v++) if (indeg[v] === 0) ready.push(v);

  // Placement.
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
  const openLayer = (): void => {
    sizes.push(0);
    next.push(sizes.length); // the new sentinel
  };
  const closeLayer = (w: number): void => {
    next[w] = w + 1;
  };
  const mark = new Int32Array(n + 1).fill(-1);

  for (let placed = 0; placed < n; placed++) {
    const v = ready.pop() as number;
    let lb = 0;
    for (const u of keptPreds[v] as number[]) {
      const w = (layerOf[u] as number) + 1;
      if (w > lb) lb = w;
    }
    let w: number;
    if (alone[v] === true) {
      w = Math.max(lb, sizes.length);
    } else {
      for (let e = conflictOffsets[v] as number; e < (conflictOffsets[v + 1] as number); e++) {
        const lu = layerOf[conflictTargets[e] as number] as number;
        if (lu >= lb) mark[lu] = v;
      }
      w = find(lb);
      while (mark[w] === v) w = find(w + 1);
    }
    while (w >= sizes.length) openLayer();
    layerOf[v] = w;
    sizes[w] = (sizes[w] as number) + 1;
    if (alone[v] === true || (sizes[w] as number) >= maxParallel) closeLayer(w);
    for (const s of keptSucc[v] as number[]) {
      indeg[s] = (indeg[s] as number) - 1;
      if (indeg[s] === 0) ready.push(s);
    }
  }

  // Critical path: start at the largest remaining length, follow the heaviest successor.
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
      for (const s of keptSucc[cur] as number[]) {
        if (
          best === undefined ||
          (remaining[s] as number) > (remaining[best] as number) ||
          ((remaining[s] as number) === (remaining[best] as number) && s < best)
        ) {
          best = s;
        }
      }
      cur = best;
    }
  }

  return { layer: layerOf, layerCount: sizes.length, keptPreds, droppedEdges, criticalPath, criticalLength };
}

/** Exclusion lists and soft order edges derived from an analysis (input of {@link layer}). */
export interface ConflictGraph {
  /** CSR: the tasks conflicting with v are `targets[offsets[v] .. offsets[v + 1])`. */
  offsets: Int32Array;
  targets: Int32Array;
  /** Soft order edges `softFrom[k] -> softTo[k]`. */
  softFrom: number[];
  softTo: number[];
  /** Pair keys of the non-PARALLEL pairs, in `PairStore.forEach` order (see `PairStore.inOrder`). */
  conflictKeys: number[];
}

/**
 * Symmetric exclusion lists (CSR) over the non-PARALLEL pairs of an analysis,
 * plus one soft order edge per pair whose `softDir(bits)` is A_FIRST (1, a
 * before b) or B_FIRST (2); 0 or 3 add none. O(pairs).
 */
export function conflictGraph(analysis: PairAnalysis, softDir: (bits: PairBits) => number): ConflictGraph {
  const { n, pairs } = analysis;
  const deg = new Int32Array(n + 1);
  const conflictKeys: number[] = [];
  const softFrom: number[] = [];
  const softTo: number[] = [];
  pairs.forEach((pk, bits) => {
    if (!isConflict(bits)) return;
    const i = Math.floor(pk / n);
    const j = pk - i * n;
    conflictKeys.push(pk);
    deg[i] = (deg[i] as number) + 1;
    deg[j] = (deg[j] as number) + 1;
    const dir = softDir(bits);
    if (dir === A_FIRST) {
      softFrom.push(i);
      softTo.push(j);
    } else if (dir === B_FIRST) {
      softFrom.push(j);
      softTo.push(i);
    }
  });
  const offsets = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) offsets[v + 1] = (offsets[v] as number) + (deg[v] as number);
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(offsets[n] as number);
  for (const pk of conflictKeys) {
    const i = Math.floor(pk / n);
    const j = pk - i * n;
    targets[fill[i] as number] = j;
    fill[i] = (fill[i] as number) + 1;
    targets[fill[j] as number] = i;
    fill[j] = (fill[j] as number) + 1;
  }
  return { offsets, targets, softFrom, softTo, conflictKeys };
}

/** A layering of the tasks of an analysis, with the conflict graph it honours. */
export interface TaskLayering {
  graph: ConflictGraph;
  layering: Layering;
}

/**
 * Layer the tasks of an analysis with {@link layer}: the direct `blocked_by`
 * edges are hard, the soft edges and exclusions come from {@link conflictGraph}
 * with `softDir`, integration points sit alone, estimates weigh the critical
 * path, and at most `maxParallel` tasks share a layer (`Infinity`: no cap).
 */
export function layerTasks(
  analysis: PairAnalysis,
  softDir: (bits: PairBits) => number,
  maxParallel: number,
): TaskLayering {
  const tasks = analysis.tasks;
  const graph = conflictGraph(analysis, softDir);
  const layering = layer({
    n: analysis.n,
    hardPreds: tasks.map((t) => t.blockedBy),
    softFrom: graph.softFrom,
    softTo: graph.softTo,
    conflictOffsets: graph.offsets,
    conflictTargets: graph.targets,
    alone: tasks.map((t) => t.integrationPoint),
    weights: tasks.map((t) => t.estimate),
    maxParallel,
  });
  return { graph, layering };
}
