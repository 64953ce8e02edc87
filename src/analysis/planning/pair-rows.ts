/**
 * Pair rows: the reasons between one task and every other task, computed on
 * demand from groups (key -> writers/readers, tables, serialized domains,
 * resources, artifacts, dependencies, merge conflicts, integration points)
 * instead of a stored entry per pair. The pair rules are those of
 * parallelism-framework.md Levels 2-3 and parallel-execution-protocol.md §1.2
 * / §5.1, packed as {@link PairBits} (reasons.ts).
 *
 * Why rows: tasks that share a key form a clique; 10,000 writers of one file
 * are 50 million pairs, more than any per-pair map or n x n array can hold.
 * A row costs the sizes of the task's groups and memory O(n), so a pass over
 * every row is bounded by the pair work and memory stays O(tasks + keys).
 *
 * Pure: no I/O, no module-level mutable state; the scratch arrays belong to
 * one instance (one request).
 */
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
} from "../reasons.js";
import type { NormalizedTask } from "../task-input.js";
import { groupBy, keyIndexOf, type KeyEntry } from "./key-index.js";

/** The bits of a directional reason `r` when the lower-indexed task of the pair runs first, and when the higher does. */
function dirBits(r: number): { low: number; high: number } {
  const shift = DIR_SHIFT[r] as number;
  return { low: (1 << r) | (A_FIRST << shift), high: (1 << r) | (B_FIRST << shift) };
}

/** What {@link PairRows} needs besides the tasks. */
export interface PairRowsOptions {
  /** Whether `dependency` covers transitive blockers (check_parallel) or only direct ones (plan_waves). */
  transitive: boolean;
  /** Predicted merge conflicts as task index pairs (i !== j). */
  mergePairs: readonly (readonly [number, number])[];
}

/**
 * The pair reasons of a task list, one row at a time. {@link row}(v) fills
 * `touched[0 .. count)` with every task u !== v that has a reason with v
 * (each once) and `bits[u]` with the {@link PairBits} of the pair in its
 * canonical orientation (a = min(u, v), b = max(u, v)). A row stays valid
 * until the next call. `visits` counts the group members visited so far
 * (the work done: a pair is visited once per shared key or group).
 */
export class PairRows {
  readonly n: number;
  /** Key -> writer and reader task indices (ascending), in first-seen order. */
  readonly keyIndex: Map<string, KeyEntry>;
  /** Every key; sorted by UTF-16 code units when there is a directory key, else in index order. */
  readonly sortedKeys: string[];
  /** Scratch: bits of the current row, indexed by task; zero outside the row. */
  readonly bits: Uint32Array;
  /** Scratch: the tasks of the current row, in visiting order. */
  readonly touched: Int32Array;
  /** Length of the current row. */
  count = 0;
  /** Group members visited by {@link row} so far. */
  visits = 0;

  private readonly writesOf: KeyEntry[][];
  private readonly readsOf: KeyEntry[][];
  /** Per key entry: the entries of the keys below it (directory keys only). */
  private readonly below: Map<KeyEntry, KeyEntry[]>;
  /** Per key entry: the entries of the directory keys above it. */
  private readonly above: Map<KeyEntry, KeyEntry[]>;
  private readonly tablesOf: number[][][];
  private readonly serializedOf: number[][][];
  private readonly resourcesOf: number[][][];
  private readonly consumersOf: number[][][];
  private readonly producersOf: number[][][];
  private readonly preds: readonly number[][];
  private readonly succs: number[][];
  private readonly mergeOf: number[][];
  private readonly ip: Uint8Array;
  private readonly ipList: number[];
  private readonly transitive: boolean;
  private readonly stamp: Int32Array;
  /** Last stamp used by {@link closure}; each closure takes a fresh one. */
  private mark = -1;
  private readonly stack: number[] = [];

  constructor(tasks: readonly NormalizedTask[], opts: PairRowsOptions) {
    const n = tasks.length;
    this.n = n;
    this.bits = new Uint32Array(n);
    this.touched = new Int32Array(n);
    this.transitive = opts.transitive;
    this.stamp = new Int32Array(n).fill(-1);

    const { keyIndex, sortedKeys, below, above } = keyIndexOf(tasks);
    this.keyIndex = keyIndex;
    this.sortedKeys = sortedKeys;
    this.below = below;
    this.above = above;
    this.writesOf = tasks.map((t) => t.writes.map((k) => keyIndex.get(k) as KeyEntry));
    this.readsOf = tasks.map((t) => t.reads.map((k) => keyIndex.get(k) as KeyEntry));

    const perTask = (select: (t: NormalizedTask) => readonly string[], m: Map<string, number[]>): number[][][] =>
      tasks.map((t) => select(t).map((x) => m.get(x) as number[]));
    this.tablesOf = perTask((t) => t.tables, groupBy(tasks, (t) => t.tables));
    this.serializedOf = perTask((t) => t.serializedDomains, groupBy(tasks, (t) => t.serializedDomains));
    this.resourcesOf = perTask((t) => t.resources, groupBy(tasks, (t) => t.resources));
    const consumers = groupBy(tasks, (t) => t.inputs);
    const producers = groupBy(tasks, (t) => t.outputs);
    this.consumersOf = tasks.map((t) => t.outputs.flatMap((x) => (consumers.has(x) ? [consumers.get(x) as number[]] : [])));
    this.producersOf = tasks.map((t) => t.inputs.flatMap((x) => (producers.has(x) ? [producers.get(x) as number[]] : [])));

    this.preds = tasks.map((t) => t.blockedBy);
    this.succs = Array.from({ length: n }, () => []);
    for (const t of tasks) for (const p of t.blockedBy) this.succs[p]?.push(t.index);
    this.mergeOf = Array.from({ length: n }, () => []);
    for (const [i, j] of opts.mergePairs) {
      this.mergeOf[i]?.push(j);
      this.mergeOf[j]?.push(i);
    }
    this.ip = Uint8Array.from(tasks, (t) => (t.integrationPoint ? 1 : 0));
    this.ipList = tasks.filter((t) => t.integrationPoint).map((t) => t.index);
  }

  /** OR the undirected reason bit `b` into the pair (v, u) for every u of `list`. */
  private und(v: number, list: readonly number[], b: number): void {
    const bits = this.bits;
    const touched = this.touched;
    let cnt = this.count;
    for (let k = 0; k < list.length; k++) {
      const u = list[k] as number;
      if (u === v) continue;
      if (bits[u] === 0) touched[cnt++] = u;
      bits[u] = (bits[u] as number) | b;
    }
    this.count = cnt;
    this.visits += list.length;
  }

  /** OR a directional reason into (v, u) for every u of `list`: `vFirst` when v runs first, else u does. */
  private dir(v: number, list: readonly number[], d: { low: number; high: number }, vFirst: boolean): void {
    const bits = this.bits;
    const touched = this.touched;
    // The pair is (min, max): A_FIRST (`low`) when the lower-indexed task runs first.
    const uAbove = vFirst ? d.low : d.high;
    const uBelow = vFirst ? d.high : d.low;
    let cnt = this.count;
    for (let k = 0; k < list.length; k++) {
      const u = list[k] as number;
      if (u === v) continue;
      if (bits[u] === 0) touched[cnt++] = u;
      bits[u] = (bits[u] as number) | (u > v ? uAbove : uBelow);
    }
    this.count = cnt;
    this.visits += list.length;
  }

  /** OR the directional reason of `dependency` for every ancestor (`vFirst` false) or descendant of v. */
  private closure(v: number, next: readonly number[][], d: { low: number; high: number }, vFirst: boolean): void {
    const stamp = this.stamp;
    const mark = ++this.mark;
    const stack = this.stack;
    const found: number[] = [];
    for (const p of next[v] as number[]) {
      if (stamp[p] === mark) continue;
      stamp[p] = mark;
      stack.push(p);
    }
    while (stack.length > 0) {
      const a = stack.pop() as number;
      found.push(a);
      for (const p of next[a] as number[]) {
        if (stamp[p] === mark) continue;
        stamp[p] = mark;
        stack.push(p);
      }
    }
    this.dir(v, found, d, vFirst);
  }

  /**
   * Compute the row of task `v` (see the class docstring); returns its length.
   * Cost: the sizes of v's groups (and, for transitive dependencies, of its
   * ancestor and descendant closures), plus n when v is an integration point.
   */
  row(v: number): number {
    const bits = this.bits;
    const touched = this.touched;
    for (let k = 0; k < this.count; k++) bits[touched[k] as number] = 0;
    this.count = 0;

    const sameFile = 1 << R_SAME_FILE;
    const writeWrite = 1 << R_WRITE_WRITE;
    const wr = WRITE_READ;
    for (const e of this.writesOf[v] as KeyEntry[]) {
      this.und(v, e.w, sameFile);
      this.dir(v, e.r, wr, true);
      for (const k of this.below.get(e) ?? NO_ENTRIES) {
        this.und(v, k.w, writeWrite);
        this.dir(v, k.r, wr, true);
      }
      for (const d of this.above.get(e) ?? NO_ENTRIES) {
        this.und(v, d.w, writeWrite);
        this.dir(v, d.r, wr, true);
      }
    }
    for (const e of this.readsOf[v] as KeyEntry[]) {
      this.dir(v, e.w, wr, false);
      for (const k of this.below.get(e) ?? NO_ENTRIES) this.dir(v, k.w, wr, false);
      for (const d of this.above.get(e) ?? NO_ENTRIES) this.dir(v, d.w, wr, false);
    }

    for (const g of this.tablesOf[v] as number[][]) this.und(v, g, 1 << R_SCHEMA);
    for (const g of this.serializedOf[v] as number[][]) this.und(v, g, 1 << R_SERIALIZED);
    for (const g of this.resourcesOf[v] as number[][]) this.und(v, g, 1 << R_RESOURCE);
    for (const g of this.consumersOf[v] as number[][]) this.dir(v, g, DATA_FLOW, true);
    for (const g of this.producersOf[v] as number[][]) this.dir(v, g, DATA_FLOW, false);

    if (this.transitive) {
      // Two closures per row: ancestors (they run first) and descendants (v runs first).
      this.closure(v, this.preds, DEPENDENCY, false);
      this.closure(v, this.succs, DEPENDENCY, true);
    } else {
      this.dir(v, this.preds[v] as number[], DEPENDENCY, false);
      this.dir(v, this.succs[v] as number[], DEPENDENCY, true);
    }

    this.und(v, this.mergeOf[v] as number[], 1 << R_MERGE);

    // Integration points pair with every other task; the integration point goes first.
    if (this.ip[v] === 1) {
      const ip = this.ip;
      let cnt = this.count;
      for (let u = 0; u < this.n; u++) {
        if (u === v) continue;
        const b = ip[u] === 1 ? BOTH_INTEGRATION : u > v ? INTEGRATION.low : INTEGRATION.high;
        if (bits[u] === 0) touched[cnt++] = u;
        bits[u] = (bits[u] as number) | b;
      }
      this.count = cnt;
      this.visits += this.n;
    } else {
      this.dir(v, this.ipList, INTEGRATION, false);
    }
    return this.count;
  }

  /** The bits of the pair (i, j), i !== j; recomputes row i (clobbers the current row). */
  pairBits(i: number, j: number): number {
    this.row(i);
    return this.bits[j] ?? 0;
  }
}

const NO_ENTRIES: readonly KeyEntry[] = Object.freeze([]);
const WRITE_READ = dirBits(R_WRITE_READ);
const DATA_FLOW = dirBits(R_DATA_FLOW);
const DEPENDENCY = dirBits(R_DEPENDENCY);
const INTEGRATION = dirBits(R_INTEGRATION);
const BOTH_INTEGRATION = (1 << R_INTEGRATION) | (BOTH << (DIR_SHIFT[R_INTEGRATION] as number));

