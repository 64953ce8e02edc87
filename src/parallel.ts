/**
 * Levels 2 and 3 of the parallelism framework (parallelism-framework.md) and the
 * pre-execution conflict check of the parallel execution protocol
 * (parallel-execution-protocol.md §1.2, §5.1): which pairs of tasks may run side
 * by side, which must serialize (and in which order) and which meet at an
 * integration point. Also the pre-parallel checkpoint block of
 * coordination-skill.md ("Pre-Parallel Checkpoint").
 *
 * The pair analysis and the layering helper exported here are shared with the
 * wave planner (`waves.ts`).
 *
 * Pure: no I/O, no module-level mutable state.
 */
import type { DomainMap } from "./domains.js";
import { keyKind, normalizeKey } from "./paths.js";
import type { PairOrder, PairReason, PairResult, ReasonType, Severity, TaskSpec, Verdict } from "./tasks.js";

// ---------------------------------------------------------------------------
// Reasons, packed into one integer per pair
// ---------------------------------------------------------------------------

/** Every reason type, in the order reasons are listed in a pair (CRITICAL first, the WARNING last). */
export const REASON_TYPES: readonly ReasonType[] = [
  "same_file",
  "write_write",
  "write_read",
  "data_flow",
  "schema",
  "dependency",
  "serialized_domain",
  "integration_point",
  "resource_contention",
];

const R_SAME_FILE = 0;
const R_WRITE_WRITE = 1;
const R_WRITE_READ = 2;
const R_DATA_FLOW = 3;
const R_SCHEMA = 4;
const R_DEPENDENCY = 5;
const R_SERIALIZED = 6;
const R_INTEGRATION = 7;
const R_RESOURCE = 8;
const REASON_COUNT = 9;

/** At most this many keys are listed per reason; `key_count` has the full number. */
export const MAX_REASON_KEYS = 10;

/** Direction bits, relative to the pair (a, b) with a before b in input order. */
const A_FIRST = 1;
const B_FIRST = 2;
const BOTH = A_FIRST | B_FIRST;

/**
 * Where the two direction bits of a directional reason live in {@link PairBits}
 * (bits 0-8 say which reasons are present).
 */
const DIR_SHIFT: readonly number[] = [0, 0, 9, 11, 0, 13, 0, 15, 0];
const CRITICAL_MASK = (1 << R_RESOURCE) - 1; // bits 0-7
const BIT_INTEGRATION = 1 << R_INTEGRATION;
const BIT_RESOURCE = 1 << R_RESOURCE;
const BIT_DEPENDENCY = 1 << R_DEPENDENCY;
const ALL_REASONS = (1 << REASON_COUNT) - 1;

/**
 * The reasons of one pair packed into an integer: bit `r` is set when reason
 * `REASON_TYPES[r]` applies; for the directional reasons (write_read,
 * data_flow, dependency, integration_point) two more bits at `DIR_SHIFT[r]`
 * hold A_FIRST (1) and/or B_FIRST (2). The keys of each reason are recomputed
 * only for the pairs that are listed (see {@link PairExplainer}).
 */
export type PairBits = number;

/** Verdict codes used on the hot path. */
const V_PARALLEL = 0;
const V_SERIALIZE = 1;
const V_CONVERGE = 2;
const VERDICTS: readonly Verdict[] = ["PARALLEL", "SERIALIZE", "CONVERGE"];

/** Verdict code of a pair: CONVERGE if integration_point, SERIALIZE if any other CRITICAL reason, else PARALLEL. */
function verdictCode(bits: PairBits): number {
  if ((bits & BIT_INTEGRATION) !== 0) return V_CONVERGE;
  return (bits & CRITICAL_MASK) !== 0 ? V_SERIALIZE : V_PARALLEL;
}

function dirOf(bits: PairBits, r: number): number {
  return (bits >>> (DIR_SHIFT[r] as number)) & BOTH;
}

/**
 * Direction bits of a pair from its directional reasons (write_read, data_flow,
 * dependency, integration_point). An integration_point where both tasks are
 * integration points has no direction and is ignored here.
 */
function pairDirBits(bits: PairBits): number {
  const ip = dirOf(bits, R_INTEGRATION);
  return dirOf(bits, R_WRITE_READ) | dirOf(bits, R_DATA_FLOW) | dirOf(bits, R_DEPENDENCY) | (ip === BOTH ? 0 : ip);
}

function orderOfBits(dir: number): PairOrder {
  if (dir === A_FIRST) return "a_first";
  if (dir === B_FIRST) return "b_first";
  return "either";
}

/** Whether a pair has a `dependency` reason. */
export function hasDependency(bits: PairBits): boolean {
  return (bits & BIT_DEPENDENCY) !== 0;
}

/** Direction bits of the producer-before-consumer reasons (write_read, data_flow) of a pair; 3 when they disagree. */
export function flowDirBits(bits: PairBits): number {
  return dirOf(bits, R_WRITE_READ) | dirOf(bits, R_DATA_FLOW);
}

/** The reason types present on a pair, in {@link REASON_TYPES} order. */
export function reasonTypesOf(bits: PairBits): ReasonType[] {
  const out: ReasonType[] = [];
  for (let r = 0; r < REASON_COUNT; r++) if ((bits & (1 << r)) !== 0) out.push(REASON_TYPES[r] as ReasonType);
  return out;
}

/** The pair order: `a_first`, `b_first`, `either`, or `none` for a PARALLEL pair. */
export function pairOrderOf(bits: PairBits): PairOrder {
  return verdictCode(bits) === V_PARALLEL ? "none" : orderOfBits(pairDirBits(bits));
}

/** Whether a pair has a CRITICAL reason other than `dependency` (plan_waves lists those as conflicts). */
export function conflictBeyondDependency(bits: PairBits): boolean {
  return (bits & CRITICAL_MASK & ~BIT_DEPENDENCY) !== 0;
}

/** Whether a pair is not PARALLEL (it has a CRITICAL reason). */
export function isConflict(bits: PairBits): boolean {
  return (bits & CRITICAL_MASK) !== 0;
}

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
  readonly ordered: boolean;

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

  /** Visit every pair with a reason (ascending keys when {@link ordered}). */
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
}

// ---------------------------------------------------------------------------
// Normalised tasks
// ---------------------------------------------------------------------------

/** A task after validation and key normalisation; `index` is its input position. */
export interface NormalizedTask {
  index: number;
  id: string;
  /** Normalised keys written, first-seen order, no duplicates. */
  writes: string[];
  /** Normalised keys read, minus the keys the task also writes. */
  reads: string[];
  /** Data artifacts consumed / produced (trimmed names). */
  inputs: readonly string[];
  outputs: readonly string[];
  /** Table names (a `table:` prefix is stripped). */
  tables: readonly string[];
  /** Shared resource names (a `resource:` prefix is stripped). */
  resources: readonly string[];
  /** Explicit tags followed by the tags derived from written keys, deduplicated. */
  tags: string[];
  /** Explicit domain (if any) followed by the domains of written, then read, keys. */
  domains: string[];
  /** The serialized (`parallel: "none"`) domains among the explicit domain and the domains of written keys. */
  serializedDomains: string[];
  /** Direct predecessors (indices into the task list), deduplicated. */
  blockedBy: number[];
  /** Effort for the critical path (default 1). */
  estimate: number;
  /** True when the task has any tag (Level 3). */
  integrationPoint: boolean;
}

/** Options of {@link analyzePairs}. */
export interface AnalyzeOptions {
  /** Absolute project root, for normalising keys. */
  root: string;
  domains: DomainMap;
  /** Name of the list in error messages: `tasks` (check_parallel) or `features` (plan_waves). */
  field: string;
  /** Noun used in error messages: `task` or `feature`. */
  noun: string;
  /** Whether `dependency` covers transitive blockers (check_parallel) or only direct ones (plan_waves). */
  transitive: boolean;
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
  /** Whether `dependency` was computed transitively. */
  transitive: boolean;
  /** Key index: key -> writer and reader task indices. */
  keyIndex: Map<string, KeyEntry>;
  /**
   * Every key; sorted by UTF-16 code units (so every key below a directory key
   * follows it) when there is at least one directory key, else in index order.
   */
  sortedKeys: string[];
}

const SIMPLE_KEY = /^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$/;
const NOT_CANONICAL = /(?:^|\/)\.{1,2}(?:\/|$)|\/\/|\\|^\/|\/$|^table:|^resource:/;

/**
 * Fast path of key normalisation: true when `raw` is already a canonical file
 * key, i.e. `normalizeKey(raw) === raw` is guaranteed without running it:
 * printable ASCII (so NFC is the identity), no whitespace at either end, at
 * most 255 characters (so no component or key length limit applies), no
 * backslash, no leading or trailing `/`, no empty, `.` or `..` segment, not a
 * `table:`/`resource:` key. Everything else goes through `normalizeKey`.
 */
export function isCanonicalKey(raw: string): boolean {
  return SIMPLE_KEY.test(raw) && !NOT_CANONICAL.test(raw);
}

/**
 * `normalizeKeys` with the {@link isCanonicalKey} fast path; same results, same
 * errors (naming `<owner>.<name>[k]`). The field name is only built on error.
 */
function keyList(raw: unknown, root: string, owner: string, name: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${owner}.${name}: expected an array of strings`);
  const out: string[] = [];
  const seen = raw.length > 16 ? new Set<string>() : undefined;
  for (let k = 0; k < raw.length; k++) {
    const item: unknown = raw[k];
    const key =
      typeof item === "string" && isCanonicalKey(item) ? item : normalizeKey(item as string, root, `${owner}.${name}[${k}]`);
    if (seen === undefined ? out.includes(key) : seen.has(key)) continue;
    seen?.add(key);
    out.push(key);
  }
  return out;
}

/** The shared empty list (frozen; never mutated). */
const NONE: readonly string[] = Object.freeze([]);

function nameList(raw: unknown, owner: string, name: string, strip?: string): readonly string[] {
  if (raw === undefined || raw === null) return NONE;
  if (!Array.isArray(raw)) throw new Error(`${owner}.${name}: expected an array of strings`);
  if (raw.length === 0) return NONE;
  const out: string[] = [];
  for (let k = 0; k < raw.length; k++) {
    const item: unknown = raw[k];
    if (typeof item !== "string") throw new Error(`${owner}.${name}[${k}]: expected a string`);
    if (item.includes("\0")) throw new Error(`${owner}.${name}[${k}]: contains a NUL byte`);
    let text = item.normalize("NFC").trim();
    if (strip !== undefined && text.startsWith(strip)) text = text.slice(strip.length).trim();
    if (text === "") throw new Error(`${owner}.${name}[${k}]: is empty`);
    if (!out.includes(text)) out.push(text);
  }
  return out;
}

/**
 * Validate and normalise a task list (parallel-execution-protocol.md §1.1 shape).
 *
 * @returns the normalised tasks, in input order.
 * @throws Error `tasks[i].id: ...` for a missing, empty or duplicate id (naming the
 *         duplicate and its first position); `tasks[i].blocked_by: unknown task "X"`
 *         for a blocker not in the request; `tasks[i].estimate: ...` for a
 *         negative or non-finite estimate; `tasks[i].inputs[k]: is empty` and the like.
 * @throws KeyError `tasks[i].writes[k]: ...` (or `.reads[k]`) for a key that cannot be
 *         normalised (empty, NUL byte, leaving the root).
 */
export function normalizeTasks(
  specs: readonly TaskSpec[],
  opts: Pick<AnalyzeOptions, "root" | "domains" | "field" | "noun">,
): NormalizedTask[] {
  const { root, domains, field, noun } = opts;
  if (!Array.isArray(specs)) throw new Error(`${field}: expected an array`);
  const byId = new Map<string, number>();
  specs.forEach((spec, i) => {
    const f = `${field}[${i}]`;
    if (spec === null || typeof spec !== "object") throw new Error(`${f}: expected an object`);
    if (typeof spec.id !== "string" || spec.id.trim() === "") throw new Error(`${f}.id: must be a non-empty string`);
    const first = byId.get(spec.id);
    if (first !== undefined) throw new Error(`${f}.id: duplicate id "${spec.id}" (also ${field}[${first}])`);
    byId.set(spec.id, i);
  });

  const out: NormalizedTask[] = new Array<NormalizedTask>(specs.length);
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i] as TaskSpec;
    const f = `${field}[${i}]`;
    const writes = keyList(spec.writes, root, f, "writes");
    let reads = keyList(spec.reads, root, f, "reads");
    if (reads.length > 0 && writes.length > 0) reads = reads.filter((k) => !writes.includes(k));
    const tags = nameList(spec.tags, f, "tags").slice();
    const blockerIds = nameList(spec.blocked_by, f, "blocked_by");

    const blockedBy: number[] = [];
    for (const dep of blockerIds) {
      const j = byId.get(dep);
      if (j === undefined) {
        throw new Error(`${f}.blocked_by: unknown ${noun} "${dep}" (named by ${noun} "${spec.id}")`);
      }
      if (j === i) throw new Error(`${f}.blocked_by: dependency cycle: ${spec.id} -> ${spec.id}`);
      blockedBy.push(j);
    }

    let estimate = 1;
    if (spec.estimate !== undefined && spec.estimate !== null) {
      if (typeof spec.estimate !== "number" || !Number.isFinite(spec.estimate) || spec.estimate < 0) {
        throw new Error(`${f}.estimate: expected a finite number >= 0, got ${String(spec.estimate)}`);
      }
      estimate = spec.estimate;
    }

    // Domains (Level 1): explicit domain, then the domains of written keys, then of read keys.
    const taskDomains: string[] = [];
    const serialized: string[] = [];
    if (spec.domain !== undefined && spec.domain !== null) {
      if (typeof spec.domain !== "string" || spec.domain.trim() === "") {
        throw new Error(`${f}.domain: must be a non-empty string`);
      }
      const d = spec.domain.trim();
      taskDomains.push(d);
      if (domains.isSerialized(d)) serialized.push(d);
    }
    for (const k of writes) {
      for (const d of domains.domainsOf(k)) {
        if (!taskDomains.includes(d)) taskDomains.push(d);
        if (domains.isSerialized(d) && !serialized.includes(d)) serialized.push(d);
      }
      for (const t of domains.tagsOf(k)) if (!tags.includes(t)) tags.push(t);
    }
    for (const k of reads) for (const d of domains.domainsOf(k)) if (!taskDomains.includes(d)) taskDomains.push(d);

    out[i] = {
      index: i,
      id: spec.id,
      writes,
      reads,
      inputs: nameList(spec.inputs, f, "inputs"),
      outputs: nameList(spec.outputs, f, "outputs"),
      tables: nameList(spec.schema_changes, f, "schema_changes", "table:"),
      resources: nameList(spec.shared_resources, f, "shared_resources", "resource:"),
      tags,
      domains: taskDomains,
      serializedDomains: serialized,
      blockedBy,
      estimate,
      integrationPoint: tags.length > 0,
    };
  }
  return out;
}

/**
 * A dependency cycle among direct `blocked_by` edges, in execution order
 * (`X -> Y`: X must finish before Y), starting and ending at the same task and
 * rotated to start at its lowest input index; `undefined` for an acyclic graph.
 * Iterative DFS, O(V + E).
 */
export function findDependencyCycle(tasks: readonly NormalizedTask[]): number[] | undefined {
  const n = tasks.length;
  const succ: number[][] = Array.from({ length: n }, () => []);
  for (const t of tasks) for (const p of t.blockedBy) succ[p]?.push(t.index);
  const color = new Uint8Array(n); // 0 white, 1 on the stack, 2 done
  const edgePos = new Int32Array(n);
  const stack: number[] = [];
  for (let s = 0; s < n; s++) {
    if (color[s] !== 0) continue;
    stack.push(s);
    color[s] = 1;
    while (stack.length > 0) {
      const v = stack[stack.length - 1] as number;
      const list = succ[v] as number[];
      const k = edgePos[v] as number;
      if (k < list.length) {
        edgePos[v] = k + 1;
        const w = list[k] as number;
        if (color[w] === 0) {
          color[w] = 1;
          stack.push(w);
        } else if (color[w] === 1) {
          const cycle = stack.slice(stack.indexOf(w));
          let start = 0;
          cycle.forEach((x, idx) => {
            if (x < (cycle[start] as number)) start = idx;
          });
          const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
          rotated.push(rotated[0] as number);
          return rotated;
        }
      } else {
        color[v] = 2;
        stack.pop();
      }
    }
  }
  return undefined;
}

/**
 * Throw if the direct `blocked_by` graph has a cycle (parallel-execution-protocol.md
 * §1.1: the dependency graph must be a DAG for waves to exist).
 * @throws Error `<field>[i].blocked_by: dependency cycle: A -> B -> C -> A`, where
 *         `i` is the position of A (the cycle's first task in input order) and
 *         `A -> B` means A runs before B (B is blocked by A).
 */
export function assertAcyclic(tasks: readonly NormalizedTask[], field: string): void {
  const cycle = findDependencyCycle(tasks);
  if (cycle === undefined) return;
  const first = cycle[0] as number;
  const names = cycle.map((i) => tasks[i]?.id ?? String(i)).join(" -> ");
  throw new Error(`${field}[${first}].blocked_by: dependency cycle: ${names}`);
}

/**
 * The pairwise conflict analysis shared by check_parallel and plan_waves
 * (parallelism-framework.md Levels 2-3; parallel-execution-protocol.md §5.1).
 *
 * Never compares every file of every pair: it indexes key -> writers/readers,
 * matches directory keys against the sorted key list by prefix, and groups
 * tasks by serialized domain, table, artifact and resource. Reasons accumulate
 * per pair as {@link PairBits} in a Map keyed `i * n + j` (i < j): one integer
 * per pair, no allocation, so a key written by 647 tasks (~209k pairs) stays
 * cheap. Keys per reason are recomputed for listed pairs only.
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
    for (let k = d + 1; k < sortedKeys.length; k++) {
      const inner = sortedKeys[k] as string;
      if (!inner.startsWith(dirKey)) break;
      const kind = keyKind(inner);
      if (kind === "table" || kind === "resource") continue;
      const eK = keyIndex.get(inner) as KeyEntry;
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

  // Integration points pair with every other task; the integration point goes first.
  const ipShift = DIR_SHIFT[R_INTEGRATION] as number;
  for (const t of tasks) {
    if (!t.integrationPoint) continue;
    for (const o of tasks) {
      if (o.index === t.index) continue;
      if (o.integrationPoint) {
        if (o.index > t.index) or(t.index * n + o.index, BIT_INTEGRATION | (BOTH << ipShift));
      } else {
        directed(t.index, o.index, R_INTEGRATION);
      }
    }
  }

  return { tasks, n, pairs, transitive: opts.transitive, keyIndex, sortedKeys };
}

// ---------------------------------------------------------------------------
// Explaining a pair: the keys behind each reason (listed pairs only)
// ---------------------------------------------------------------------------

function isNamedKey(key: string): boolean {
  return key.startsWith("table:") || key.startsWith("resource:");
}

/** Keys of `b` covered by a directory key of `a`, and keys of `a` covered by a directory key of `b` (never identical keys). */
function coveredKeys(a: readonly string[], b: readonly string[], out: Set<string>): void {
  for (const d of a) {
    if (!d.endsWith("/") || isNamedKey(d)) continue;
    for (const k of b) if (k !== d && k.startsWith(d) && !isNamedKey(k)) out.add(k);
  }
  for (const d of b) {
    if (!d.endsWith("/") || isNamedKey(d)) continue;
    for (const k of a) if (k !== d && k.startsWith(d) && !isNamedKey(k)) out.add(k);
  }
}

function common(a: readonly string[], b: readonly string[], out: Set<string>): void {
  for (const x of a) if (b.includes(x)) out.add(x);
}

/**
 * Materialises pairs as {@link PairResult}s, recomputing the keys behind each
 * reason from the two tasks (cheap: only listed pairs are explained). One
 * instance per request; it caches the transitive blockers of a task.
 */
export class PairExplainer {
  private readonly via = new Map<number, Map<number, number>>();
  private readonly sets = new Map<string, Set<string>>();

  constructor(private readonly analysis: PairAnalysis) {}

  /** The full pair result for the pair key `i * n + j`. */
  result(pk: number): PairResult {
    const { n, tasks } = this.analysis;
    const i = Math.floor(pk / n);
    const j = pk - i * n;
    const a = tasks[i] as NormalizedTask;
    const b = tasks[j] as NormalizedTask;
    const bits = this.analysis.pairs.get(pk);
    const code = verdictCode(bits);
    const reasons: PairReason[] = [];
    for (let r = 0; r < REASON_COUNT; r++) {
      if ((bits & (1 << r)) === 0) continue;
      const keys = this.keys(a, b, r, dirOf(bits, r));
      const severity: Severity = r === R_RESOURCE ? "WARNING" : "CRITICAL";
      let order: PairOrder = "either";
      if (r === R_RESOURCE) order = "none";
      else if (DIR_SHIFT[r] !== 0) order = orderOfBits(dirOf(bits, r));
      reasons.push({
        type: REASON_TYPES[r] as ReasonType,
        severity,
        keys: keys.slice(0, MAX_REASON_KEYS),
        key_count: keys.length,
        order,
      });
    }
    return {
      a: a.id,
      b: b.id,
      verdict: VERDICTS[code] as Verdict,
      order: code === V_PARALLEL ? "none" : orderOfBits(pairDirBits(bits)),
      same_domain: a.domains.some((d) => b.domains.includes(d)),
      reasons,
    };
  }

  /** Every key behind reason `r` of the pair (a, b), deduplicated, in a stable order. */
  keys(a: NormalizedTask, b: NormalizedTask, r: number, dir: number): string[] {
    const out = new Set<string>();
    switch (r) {
      case R_SAME_FILE:
        for (const k of a.writes) if (this.setOf(b, "w").has(k)) out.add(k);
        break;
      case R_WRITE_WRITE:
        coveredKeys(a.writes, b.writes, out);
        break;
      case R_WRITE_READ:
        for (const k of a.writes) if (this.setOf(b, "r").has(k)) out.add(k);
        coveredKeys(a.writes, b.reads, out);
        for (const k of b.writes) if (this.setOf(a, "r").has(k)) out.add(k);
        coveredKeys(b.writes, a.reads, out);
        break;
      case R_DATA_FLOW:
        common(a.outputs, b.inputs, out);
        common(b.outputs, a.inputs, out);
        break;
      case R_SCHEMA:
        common(a.tables, b.tables, out);
        break;
      case R_SERIALIZED:
        common(a.serializedDomains, b.serializedDomains, out);
        break;
      case R_RESOURCE:
        common(a.resources, b.resources, out);
        break;
      case R_INTEGRATION:
        if (a.integrationPoint) for (const t of a.tags) out.add(t);
        if (b.integrationPoint) for (const t of b.tags) out.add(t);
        break;
      case R_DEPENDENCY: {
        const [first, second] = dir === B_FIRST ? [b, a] : [a, b];
        if (second.blockedBy.includes(first.index)) out.add(first.id);
        else {
          const via = this.viaOf(second.index).get(first.index);
          const hop = via === undefined ? undefined : this.analysis.tasks[via];
          out.add(hop === undefined ? first.id : `${first.id} (via ${hop.id})`);
        }
        break;
      }
    }
    return [...out];
  }

  /** The written (`w`) or read (`r`) keys of a task as a set, built once per task. */
  private setOf(t: NormalizedTask, kind: "w" | "r"): Set<string> {
    const id = `${kind}${t.index}`;
    let set = this.sets.get(id);
    if (set === undefined) {
      set = new Set(kind === "w" ? t.writes : t.reads);
      this.sets.set(id, set);
    }
    return set;
  }

  /** For task `b`: each transitive blocker -> the direct blocker of `b` through which it is reached. */
  private viaOf(b: number): Map<number, number> {
    const hit = this.via.get(b);
    if (hit !== undefined) return hit;
    const tasks = this.analysis.tasks;
    const out = new Map<number, number>();
    const stack: [number, number][] = [];
    for (const p of (tasks[b] as NormalizedTask).blockedBy) {
      if (out.has(p)) continue;
      out.set(p, p);
      stack.push([p, p]);
    }
    while (stack.length > 0) {
      const [x, v] = stack.pop() as [number, number];
      for (const p of (tasks[x] as NormalizedTask).blockedBy) {
        if (out.has(p)) continue;
        out.set(p, v);
        stack.push([p, v]);
      }
    }
    this.via.set(b, out);
    return out;
  }
}

// ---------------------------------------------------------------------------
// Layering (shared with waves.ts)
// ---------------------------------------------------------------------------

/** A binary min-heap of task indices under a comparator. */
class Heap {
  private readonly items: number[] = [];
  constructor(private readonly less: (a: number, b: number) => boolean) {}
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
  /** Pair keys of the non-PARALLEL pairs, in Map order (unsorted). */
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
    if ((bits & CRITICAL_MASK) === 0) return;
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

/** Pair keys in ascending order (= input order of (a, b)). */
export function sortPairKeys(keys: readonly number[]): number[] {
  return Array.from(Float64Array.from(keys).sort());
}

// ---------------------------------------------------------------------------
// check_parallel
// ---------------------------------------------------------------------------

/** One shared key of the pre-parallel checkpoint. */
export interface SharedFile {
  key: string;
  /** Writer ids in input order, at most {@link MAX_LISTED_IDS}; `writer_count` has the full number. */
  writers: string[];
  /** Reader ids (tasks reading but not writing it) in input order, at most {@link MAX_LISTED_IDS}. */
  readers: string[];
  writer_count: number;
  reader_count: number;
  mitigation: string;
}

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
    /** Pairs having each reason; all nine keys present. */
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
  checkpoint: {
    /** Keys touched by >= 2 tasks with >= 1 writer (a directory key counts the keys below it), hottest first, at most {@link MAX_CHECKPOINT_ITEMS}. */
    shared_files: SharedFile[];
    /** The first SERIALIZE pairs in input order, at most {@link MAX_CHECKPOINT_ITEMS}. */
    anticipated_conflicts: { tasks: [string, string]; sequencing: string }[];
    /** The `**S2 Pre-Parallel Check**` block: a header and four lines. */
    text: string;
  };
}

/** Options of {@link checkParallel}. */
export interface CheckParallelOptions {
  /** Absolute project root (keys are normalised relative to it). */
  root: string;
  domains: DomainMap;
  /** Most pairs listed (integer >= 0, default 500); the rest are counted in `pairs_truncated`. */
  maxPairs?: number;
}

/** Most ids listed per shared file (writers, readers). */
export const MAX_LISTED_IDS = 20;
/** Most shared files and anticipated conflicts listed in the checkpoint. */
export const MAX_CHECKPOINT_ITEMS = 50;
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
 * - `resource_contention`: common `shared_resources` (WARNING; stays PARALLEL).
 * Read-read is fine. A shared key conflicts even across domains; `same_domain`
 * is informational. Pair order: all directional reasons agree -> that
 * direction, else `either`; PARALLEL pairs have `none`.
 *
 * Groups: layering over the order edges (direct `blocked_by`, plus the pair
 * order of every non-PARALLEL pair without a dependency); never two tasks of a
 * non-PARALLEL pair in one group; an integration point alone; each task in the
 * earliest group allowed; cycles broken deterministically (see {@link layer}).
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
  });
  const { n, pairs } = analysis;
  const norm = analysis.tasks;

  // Classify every pair that has a reason.
  const reasonCounts = new Array<number>(REASON_COUNT).fill(0);
  const converge: number[] = [];
  const serialize: number[] = [];
  const warnOnly: number[] = [];
  let warningPairs = 0;
  pairs.forEach((pk, bits) => {
    for (let rest = bits & ALL_REASONS; rest !== 0; rest &= rest - 1) {
      const r = 31 - Math.clz32(rest & -rest);
      reasonCounts[r] = (reasonCounts[r] as number) + 1;
    }
    const warn = (bits & BIT_RESOURCE) !== 0;
    if (warn) warningPairs++;
    const code = verdictCode(bits);
    if (code === V_CONVERGE) converge.push(pk);
    else if (code === V_SERIALIZE) serialize.push(pk);
    else if (warn) warnOnly.push(pk);
  });
  const byReason = {} as Record<ReasonType, number>;
  REASON_TYPES.forEach((r, k) => {
    byReason[r] = reasonCounts[k] as number;
  });

  // List the first pairs: CONVERGE, SERIALIZE, then warnings, each in input order.
  const explainer = new PairExplainer(analysis);
  const serializeSorted = pairs.ordered ? serialize : sortPairKeys(serialize);
  const listed: PairResult[] = [];
  for (const bucket of [converge, serialize, warnOnly]) {
    if (listed.length >= maxPairs) break;
    const sorted = bucket === serialize ? serializeSorted : pairs.ordered ? bucket : sortPairKeys(bucket);
    for (const pk of sorted) {
      if (listed.length >= maxPairs) break;
      listed.push(explainer.result(pk));
    }
  }
  const candidates = converge.length + serialize.length + warnOnly.length;
  const pairsTotal = (n * (n - 1)) / 2;

  // Groups.
  const graph = conflictGraph(analysis, (bits) => (hasDependency(bits) ? 0 : pairDirBits(bits)));
  const layering = layer({
    n,
    hardPreds: norm.map((t) => t.blockedBy),
    softFrom: graph.softFrom,
    softTo: graph.softTo,
    conflictOffsets: graph.offsets,
    conflictTargets: graph.targets,
    alone: norm.map((t) => t.integrationPoint),
    weights: norm.map((t) => t.estimate),
    maxParallel: Infinity,
  });
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
    checkpoint: checkpoint(analysis, serializeSorted),
  };
}

interface Shared {
  key: string;
  w: number[];
  r: number[];
  /** Conflicting pairs this key causes: C(writers, 2) + writers x readers. */
  heat: number;
}

/** Keys touched by >= 2 tasks with >= 1 writer; a directory key also counts the tasks on keys below it. Hottest first. */
function sharedFiles(analysis: PairAnalysis): Shared[] {
  const { keyIndex, sortedKeys } = analysis;
  const out: Shared[] = [];
  for (let d = 0; d < sortedKeys.length; d++) {
    const key = sortedKeys[d] as string;
    const e = keyIndex.get(key) as KeyEntry;
    let w = e.w;
    let r = e.r;
    if (keyKind(key) === "dir") {
      const ws = new Set(w);
      const rs = new Set(r);
      for (let k = d + 1; k < sortedKeys.length; k++) {
        const inner = sortedKeys[k] as string;
        if (!inner.startsWith(key)) break;
        if (isNamedKey(inner)) continue;
        const eK = keyIndex.get(inner) as KeyEntry;
        for (const x of eK.w) ws.add(x);
        for (const x of eK.r) rs.add(x);
      }
      for (const x of ws) rs.delete(x);
      w = [...ws].sort((x, y) => x - y);
      r = [...rs].sort((x, y) => x - y);
    } else if (w.length > 0 && r.length > 0) {
      r = r.filter((x) => !w.includes(x));
    }
    if (w.length === 0 || w.length + r.length < 2) continue;
    out.push({ key, w, r, heat: (w.length * (w.length - 1)) / 2 + w.length * r.length });
  }
  out.sort((x, y) => y.heat - x.heat || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return out;
}

function andMore(items: string[], total: number): string {
  return total > items.length ? `${items.join("; ")}; +${total - items.length} more` : items.join("; ");
}

function sequencing(a: string, b: string, order: PairOrder, reasons: string): string {
  if (order === "a_first") return `${a} before ${b} (${reasons})`;
  if (order === "b_first") return `${b} before ${a} (${reasons})`;
  return `${a} and ${b} one at a time (${reasons})`;
}

/** The pre-parallel checkpoint (coordination-skill.md "S2 Pre-Parallel Check"). */
function checkpoint(analysis: PairAnalysis, serializeSorted: readonly number[]): ParallelReport["checkpoint"] {
  const { tasks, n } = analysis;
  const idOf = (i: number): string => (tasks[i] as NormalizedTask).id;
  const shared = sharedFiles(analysis);
  const sharedOut: SharedFile[] = shared.slice(0, MAX_CHECKPOINT_ITEMS).map((s) => ({
    key: s.key,
    writers: s.w.slice(0, MAX_LISTED_IDS).map(idOf),
    readers: s.r.slice(0, MAX_LISTED_IDS).map(idOf),
    writer_count: s.w.length,
    reader_count: s.r.length,
    mitigation:
      s.w.length >= 2
        ? `${s.w.length} writers: sequence them or assign section boundaries; each takes a write lock`
        : `${idOf(s.w[0] as number)} writes it first (write lock); its ${s.r.length} reader(s) wait`,
  }));

  const anticipated = serializeSorted.slice(0, MAX_CHECKPOINT_ITEMS).map((pk) => {
    const bits = analysis.pairs.get(pk);
    const i = Math.floor(pk / n);
    const a = idOf(i);
    const b = idOf(pk - i * n);
    const reasons = reasonTypesOf(bits)
      .filter((r) => r !== "resource_contention")
      .join(", ");
    return { tasks: [a, b] as [string, string], sequencing: sequencing(a, b, pairOrderOf(bits), reasons) };
  });

  // Shared interfaces: integration points, and artifacts passed from one task to another.
  const interfaces: string[] = [];
  let interfaceTotal = 0;
  for (const t of tasks) {
    if (!t.integrationPoint) continue;
    interfaceTotal++;
    if (interfaces.length < 3) interfaces.push(`integration point ${t.id} [${t.tags.join(", ")}]`);
  }
  const consumers = new Map<string, string[]>();
  for (const t of tasks) {
    for (const x of t.inputs) {
      const list = consumers.get(x);
      if (list === undefined) consumers.set(x, [t.id]);
      else list.push(t.id);
    }
  }
  const seenArtifacts = new Set<string>();
  for (const t of tasks) {
    for (const x of t.outputs) {
      const users = consumers.get(x);
      if (users === undefined || seenArtifacts.has(x)) continue;
      seenArtifacts.add(x);
      interfaceTotal++;
      if (interfaces.length < 6) interfaces.push(`"${x}" from ${t.id} to ${users.slice(0, 3).join(", ")}`);
    }
  }

  const filesLine =
    shared.length === 0
      ? "none"
      : `${andMore(
          shared.slice(0, 3).map((s) => `${s.key} (${s.w.length} writer(s), ${s.r.length} reader(s))`),
          shared.length,
        )}: sequence writers or assign section boundaries`;
  const conflictsLine =
    serializeSorted.length === 0
      ? "none"
      : andMore(
          anticipated.slice(0, 3).map((c) => c.sequencing),
          serializeSorted.length,
        );
  const text = [
    "**S2 Pre-Parallel Check**:",
    `- Shared files: ${filesLine}`,
    `- Shared interfaces: ${interfaces.length === 0 ? "none" : andMore(interfaces, interfaceTotal)}`,
    "- Conventions: first agent establishes; the others follow it",
    `- Anticipated conflicts: ${conflictsLine}`,
  ].join("\n");

  return { shared_files: sharedOut, anticipated_conflicts: anticipated, text };
}
