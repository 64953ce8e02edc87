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
import { keyKind, normalizeKeys } from "./paths.js";
import type { PairOrder, PairReason, PairResult, ReasonType, Severity, TaskSpec, Verdict } from "./tasks.js";

// ---------------------------------------------------------------------------
// Reasons
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

/** At most this many keys are kept per reason; `key_count` has the full number. */
export const MAX_REASON_KEYS = 10;

/** Direction bits, relative to the pair (a, b) with a before b in input order. */
const A_FIRST = 1;
const B_FIRST = 2;

/** One reason of one pair while it is being accumulated. */
class ReasonAcc {
  keys: string[] = [];
  count = 0;
  dir = 0;
  seen: Set<string> | undefined = undefined;

  add(key: string, dir: number): void {
    this.dir |= dir;
    if (this.seen !== undefined) {
      if (this.seen.has(key)) return;
      this.seen.add(key);
    } else if (this.keys.includes(key)) {
      return;
    } else if (this.count >= MAX_REASON_KEYS) {
      // `keys` holds every key seen so far; from now on a set keeps the count exact.
      this.seen = new Set(this.keys);
      this.seen.add(key);
    }
    this.count++;
    if (this.keys.length < MAX_REASON_KEYS) this.keys.push(key);
  }
}

/** The reasons of one pair, indexed like {@link REASON_TYPES}. */
export type PairAcc = (ReasonAcc | undefined)[];

/** Verdict codes used on the hot path. */
const V_PARALLEL = 0;
const V_SERIALIZE = 1;
const V_CONVERGE = 2;
const VERDICTS: readonly Verdict[] = ["PARALLEL", "SERIALIZE", "CONVERGE"];

/** Verdict code of a pair: CONVERGE if integration_point, SERIALIZE if any other CRITICAL reason, else PARALLEL. */
function verdictCode(acc: PairAcc): number {
  if (acc[R_INTEGRATION] !== undefined) return V_CONVERGE;
  for (let r = 0; r < R_RESOURCE; r++) if (acc[r] !== undefined) return V_SERIALIZE;
  return V_PARALLEL;
}

/**
 * Direction bits of a pair from its directional reasons (write_read, data_flow,
 * dependency, integration_point). An integration_point where both tasks are
 * integration points has no direction and is ignored here.
 */
function pairDirBits(acc: PairAcc): number {
  let bits = (acc[R_WRITE_READ]?.dir ?? 0) | (acc[R_DATA_FLOW]?.dir ?? 0) | (acc[R_DEPENDENCY]?.dir ?? 0);
  const ip = acc[R_INTEGRATION]?.dir ?? 0;
  if (ip !== (A_FIRST | B_FIRST)) bits |= ip;
  return bits;
}

function orderOfBits(bits: number): PairOrder {
  if (bits === A_FIRST) return "a_first";
  if (bits === B_FIRST) return "b_first";
  return "either";
}

// ---------------------------------------------------------------------------
// Normalised tasks
// ---------------------------------------------------------------------------

/** A task after validation and key normalisation; `index` is its input position. */
export interface NormalizedTask {
  index: number;
  id: string;
  /** Normalised keys written. */
  writes: string[];
  /** Normalised keys read, minus the keys the task also writes. */
  reads: string[];
  /** Data artifacts consumed / produced (trimmed names). */
  inputs: string[];
  outputs: string[];
  /** Table names (a `table:` prefix is stripped). */
  tables: string[];
  /** Shared resource names (a `resource:` prefix is stripped). */
  resources: string[];
  /** Explicit tags followed by tags derived from written keys, deduplicated. */
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

/** The result of the pairwise analysis: pairs keyed `i * n + j` with i < j; only pairs with a reason are present. */
export interface PairAnalysis {
  tasks: NormalizedTask[];
  n: number;
  pairs: Map<number, PairAcc>;
  /** Key index: key -> writer and reader task indices (input order). */
  keyIndex: Map<string, KeyEntry>;
  /** Keys sorted by UTF-16 code units, so every key below a directory key follows it. */
  sortedKeys: string[];
}

/** Writers and readers (task indices, ascending) of one key. */
export interface KeyEntry {
  w: number[];
  r: number[];
}

function nameList(raw: unknown, field: string, strip?: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${field}: expected an array of strings`);
  const out: string[] = [];
  const seen = new Set<string>();
  raw.forEach((item: unknown, k) => {
    if (typeof item !== "string") throw new Error(`${field}[${k}]: expected a string`);
    if (item.includes("\0")) throw new Error(`${field}[${k}]: contains a NUL byte`);
    let name = item.normalize("NFC").trim();
    if (strip !== undefined && name.startsWith(strip)) name = name.slice(strip.length).trim();
    if (name === "") throw new Error(`${field}[${k}]: is empty`);
    if (!seen.has(name)) {
      seen.add(name);
      out.push(name);
    }
  });
  return out;
}

function keyList(raw: unknown, root: string, field: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Error(`${field}: expected an array of strings`);
  return normalizeKeys(raw as string[], root, field);
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

  return specs.map((spec, i) => {
    const f = `${field}[${i}]`;
    const writes = keyList(spec.writes, root, `${f}.writes`);
    const writeSet = new Set(writes);
    const reads = keyList(spec.reads, root, `${f}.reads`).filter((k) => !writeSet.has(k));
    const inputs = nameList(spec.inputs, `${f}.inputs`);
    const outputs = nameList(spec.outputs, `${f}.outputs`);
    const tables = nameList(spec.schema_changes, `${f}.schema_changes`, "table:");
    const resources = nameList(spec.shared_resources, `${f}.shared_resources`, "resource:");
    const tags = nameList(spec.tags, `${f}.tags`);
    const blockerIds = nameList(spec.blocked_by, `${f}.blocked_by`);

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

    let explicitDomain: string | undefined;
    if (spec.domain !== undefined && spec.domain !== null) {
      if (typeof spec.domain !== "string" || spec.domain.trim() === "") {
        throw new Error(`${f}.domain: must be a non-empty string`);
      }
      explicitDomain = spec.domain.trim();
    }

    const taskDomains: string[] = [];
    const serialized: string[] = [];
    const addDomain = (d: string, written: boolean): void => {
      if (!taskDomains.includes(d)) taskDomains.push(d);
      if (written && domains.isSerialized(d) && !serialized.includes(d)) serialized.push(d);
    };
    if (explicitDomain !== undefined) addDomain(explicitDomain, true);
    for (const k of writes) {
      for (const d of domains.domainsOf(k)) addDomain(d, true);
      for (const t of domains.tagsOf(k)) if (!tags.includes(t)) tags.push(t);
    }
    for (const k of reads) for (const d of domains.domainsOf(k)) addDomain(d, false);

    return {
      index: i,
      id: spec.id,
      writes,
      reads,
      inputs,
      outputs,
      tables,
      resources,
      tags,
      domains: taskDomains,
      serializedDomains: serialized,
      blockedBy,
      estimate,
      integrationPoint: tags.length > 0,
    };
  });
}

/**
 * A dependency cycle among direct `blocked_by` edges, in execution order
 * (`X -> Y`: X must finish before Y), starting and ending at the same task and
 * rotated to start at the lowest input index; `undefined` for an acyclic graph.
 * Iterative DFS, O(V + E).
 */
export function findDependencyCycle(tasks: readonly NormalizedTask[]): number[] | undefined {
  const n = tasks.length;
  const succ: number[][] = Array.from({ length: n }, () => []);
  for (const t of tasks) for (const p of t.blockedBy) succ[p]?.push(t.index);
  const color = new Uint8Array(n); // 0 white, 1 on stack, 2 done
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
 * Throw if the direct `blocked_by` graph has a cycle.
 * @throws Error `<field>[i].blocked_by: dependency cycle: A -> B -> C -> A`, where
 *         `i` is the first task of the cycle and `A -> B` means A runs before B.
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
 * per pair in a Map keyed `i * n + j` (i < j), keeping at most
 * {@link MAX_REASON_KEYS} keys per reason plus an exact count.
 *
 * @throws as {@link normalizeTasks}, and `<field>[i].blocked_by: dependency cycle: ...`.
 */
export function analyzePairs(specs: readonly TaskSpec[], opts: AnalyzeOptions): PairAnalysis {
  const tasks = normalizeTasks(specs, opts);
  assertAcyclic(tasks, opts.field);
  const n = tasks.length;
  const pairs = new Map<number, PairAcc>();

  /** Record `key` for reason `r` on the pair {i, j}; `dir` is relative to (i, j). */
  const add = (i: number, j: number, r: number, key: string, dir: number): void => {
    if (i === j) return;
    if (i > j) {
      const t = i;
      i = j;
      j = t;
      dir = ((dir & A_FIRST) << 1) | ((dir & B_FIRST) >> 1);
    }
    const pk = i * n + j;
    let acc = pairs.get(pk);
    if (acc === undefined) {
      acc = new Array<ReasonAcc | undefined>(REASON_COUNT);
      pairs.set(pk, acc);
    }
    let reason = acc[r];
    if (reason === undefined) {
      reason = new ReasonAcc();
      acc[r] = reason;
    }
    reason.add(key, dir);
  };

  // Key index: identical keys.
  const keyIndex = new Map<string, KeyEntry>();
  const entry = (k: string): KeyEntry => {
    let e = keyIndex.get(k);
    if (e === undefined) {
      e = { w: [], r: [] };
      keyIndex.set(k, e);
    }
    return e;
  };
  for (const t of tasks) {
    for (const k of t.writes) entry(k).w.push(t.index);
    for (const k of t.reads) entry(k).r.push(t.index);
  }
  for (const [key, e] of keyIndex) {
    const { w, r } = e;
    for (let x = 0; x < w.length; x++) {
      const wx = w[x] as number;
      for (let y = x + 1; y < w.length; y++) add(wx, w[y] as number, R_SAME_FILE, key, 0);
      for (const ry of r) add(wx, ry, R_WRITE_READ, key, A_FIRST);
    }
  }

  // Directory keys: every key below them in sorted order.
  const sortedKeys = [...keyIndex.keys()].sort();
  for (let d = 0; d < sortedKeys.length; d++) {
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
        for (const y of eK.w) if (x !== y) add(x, y, R_WRITE_WRITE, inner, 0);
        for (const y of eK.r) if (x !== y) add(x, y, R_WRITE_READ, inner, A_FIRST);
      }
      for (const x of eD.r) {
        for (const y of eK.w) if (x !== y) add(y, x, R_WRITE_READ, inner, A_FIRST);
      }
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
    for (const [name, list] of m) {
      for (let x = 0; x < list.length; x++) {
        for (let y = x + 1; y < list.length; y++) add(list[x] as number, list[y] as number, r, name, 0);
      }
    }
  };
  allPairs(group((t) => t.tables), R_SCHEMA);
  allPairs(group((t) => t.serializedDomains), R_SERIALIZED);
  allPairs(group((t) => t.resources), R_RESOURCE);

  const producers = group((t) => t.outputs);
  const consumers = group((t) => t.inputs);
  for (const [artifact, prod] of producers) {
    const cons = consumers.get(artifact);
    if (cons === undefined) continue;
    for (const p of prod) for (const c of cons) add(p, c, R_DATA_FLOW, artifact, A_FIRST);
  }

  // Dependencies: direct, or transitive (DFS over blockers per task).
  if (!opts.transitive) {
    for (const t of tasks) for (const p of t.blockedBy) add(p, t.index, R_DEPENDENCY, (tasks[p] as NormalizedTask).id, A_FIRST);
  } else {
    const stamp = new Int32Array(n).fill(-1);
    const stack: number[] = [];
    const via: number[] = [];
    for (const t of tasks) {
      const b = t.index;
      for (const p of t.blockedBy) {
        if (stamp[p] === b) continue;
        stamp[p] = b;
        stack.push(p);
        via.push(p);
      }
      while (stack.length > 0) {
        const a = stack.pop() as number;
        const v = via.pop() as number;
        const aId = (tasks[a] as NormalizedTask).id;
        add(a, b, R_DEPENDENCY, a === v ? aId : `${aId} (via ${(tasks[v] as NormalizedTask).id})`, A_FIRST);
        for (const p of (tasks[a] as NormalizedTask).blockedBy) {
          if (stamp[p] === b) continue;
          stamp[p] = b;
          stack.push(p);
          via.push(v);
        }
      }
    }
  }

  // Integration points pair with every other task; the integration point goes first.
  for (const t of tasks) {
    if (!t.integrationPoint) continue;
    for (const o of tasks) {
      if (o.index === t.index) continue;
      if (o.integrationPoint) {
        if (o.index < t.index) continue; // the pair was handled from `o`
        for (const tag of t.tags) add(t.index, o.index, R_INTEGRATION, tag, A_FIRST | B_FIRST);
        for (const tag of o.tags) add(t.index, o.index, R_INTEGRATION, tag, A_FIRST | B_FIRST);
      } else {
        for (const tag of t.tags) add(t.index, o.index, R_INTEGRATION, tag, A_FIRST);
      }
    }
  }

  return { tasks, n, pairs, keyIndex, sortedKeys };
}

/** Materialise one accumulated pair as a {@link PairResult}. */
export function pairResult(analysis: PairAnalysis, pk: number): PairResult {
  const { n, tasks } = analysis;
  const i = Math.floor(pk / n);
  const j = pk - i * n;
  const a = tasks[i] as NormalizedTask;
  const b = tasks[j] as NormalizedTask;
  const acc = analysis.pairs.get(pk) ?? [];
  const code = verdictCode(acc);
  const reasons: PairReason[] = [];
  for (let r = 0; r < REASON_COUNT; r++) {
    const reason = acc[r];
    if (reason === undefined) continue;
    const severity: Severity = r === R_RESOURCE ? "WARNING" : "CRITICAL";
    let order: PairOrder;
    if (r === R_RESOURCE) order = "none";
    else if (r === R_INTEGRATION || r === R_WRITE_READ || r === R_DATA_FLOW || r === R_DEPENDENCY) {
      order = orderOfBits(reason.dir);
    } else order = "either";
    reasons.push({
      type: REASON_TYPES[r] as ReasonType,
      severity,
      keys: [...reason.keys],
      key_count: reason.count,
      order,
    });
  }
  return {
    a: a.id,
    b: b.id,
    verdict: VERDICTS[code] as Verdict,
    order: code === V_PARALLEL ? "none" : orderOfBits(pairDirBits(acc)),
    same_domain: a.domains.some((d) => b.domains.includes(d)),
    reasons,
  };
}

// ---------------------------------------------------------------------------
// Layering (shared with waves.ts)
// ---------------------------------------------------------------------------

/** A binary min-heap of task indices under a comparator. */
class Heap {
  private readonly items: number[] = [];
  constructor(private readonly less: (a: number, b: number) => boolean) {}
  get size(): number {
    return this.items.length;
  }
  push(x: number): void {
    const h = this.items;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as number, h[p] as number)) break;
      [h[i], h[p]] = [h[p] as number, h[i] as number];
      i = p;
    }
  }
  pop(): number | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0] as number;
    const last = h.pop() as number;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l] as number, h[m] as number)) m = l;
        if (r < h.length && this.less(h[r] as number, h[m] as number)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as number, h[i] as number];
        i = m;
      }
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
  /** Exclusions: `conflicts(v)` lists tasks that may never share a layer with v (symmetric). */
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

/**
 * Symmetric exclusion lists (CSR) from the non-PARALLEL pairs of an analysis,
 * plus the soft order edges chosen by `softDir` (bits relative to (a, b); 0 = none).
 */
export function conflictGraph(
  analysis: PairAnalysis,
  softDir: (acc: PairAcc) => number,
): { offsets: Int32Array; targets: Int32Array; softFrom: number[]; softTo: number[]; conflictKeys: number[] } {
  const { n, pairs } = analysis;
  const deg = new Int32Array(n + 1);
  const conflictKeys: number[] = [];
  const softFrom: number[] = [];
  const softTo: number[] = [];
  for (const [pk, acc] of pairs) {
    if (verdictCode(acc) === V_PARALLEL) continue;
    const i = Math.floor(pk / n);
    const j = pk - i * n;
    conflictKeys.push(pk);
    deg[i] = (deg[i] as number) + 1;
    deg[j] = (deg[j] as number) + 1;
    const bits = softDir(acc);
    if (bits === A_FIRST) {
      softFrom.push(i);
      softTo.push(j);
    } else if (bits === B_FIRST) {
      softFrom.push(j);
      softTo.push(i);
    }
  }
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

/** Whether a pair has a `dependency` reason. */
export function hasDependency(acc: PairAcc): boolean {
  return acc[R_DEPENDENCY] !== undefined;
}

/** Direction bits of the producer-before-consumer reasons (write_read, data_flow) of a pair; 3 when they disagree. */
export function flowDirBits(acc: PairAcc): number {
  return (acc[R_WRITE_READ]?.dir ?? 0) | (acc[R_DATA_FLOW]?.dir ?? 0);
}

/** The reason types present on a pair, in {@link REASON_TYPES} order. */
export function reasonTypesOf(acc: PairAcc): ReasonType[] {
  const out: ReasonType[] = [];
  for (let r = 0; r < REASON_COUNT; r++) if (acc[r] !== undefined) out.push(REASON_TYPES[r] as ReasonType);
  return out;
}

/** The pair order (`a_first`, `b_first`, `either`, or `none` for a PARALLEL pair). */
export function pairOrderOf(acc: PairAcc): PairOrder {
  return verdictCode(acc) === V_PARALLEL ? "none" : orderOfBits(pairDirBits(acc));
}

/** Whether a pair is not PARALLEL (it has a CRITICAL reason). */
export function isConflict(acc: PairAcc): boolean {
  return verdictCode(acc) !== V_PARALLEL;
}

// ---------------------------------------------------------------------------
// check_parallel
// ---------------------------------------------------------------------------

/** One shared key of the pre-parallel checkpoint. */
export interface SharedFile {
  key: string;
  /** Writer ids in input order, at most {@link MAX_LISTED_IDS}; `writer_count` has the full number. */
  writers: string[];
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
    /** Pairs carrying a WARNING reason (whatever their verdict). */
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
    shared_files: SharedFile[];
    anticipated_conflicts: { tasks: [string, string]; sequencing: string }[];
    text: string;
  };
}

/** Options of {@link checkParallel}. */
export interface CheckParallelOptions {
  /** Absolute project root (keys are normalised relative to it). */
  root: string;
  domains: DomainMap;
  /** Most pairs listed (default 500); the rest are counted in `pairs_truncated`. */
  maxPairs?: number;
}

/** Most ids listed per shared file (writers, readers). */
export const MAX_LISTED_IDS = 20;
/** Most shared files and anticipated conflicts listed in the checkpoint. */
export const MAX_CHECKPOINT_ITEMS = 50;
const DEFAULT_MAX_PAIRS = 500;

/**
 * check_parallel: decide for every pair of tasks whether they may run side by
 * side (parallelism-framework.md Levels 1-3; parallel-execution-protocol.md
 * §1.2 and §5.1), suggest groups in execution order and emit the pre-parallel
 * checkpoint (coordination-skill.md).
 *
 * Pair rules (a before b in input order; keys normalised per
 * `tasks[i].writes` / `tasks[i].reads`):
 * - `same_file`: both write the identical key (CRITICAL, either);
 * - `write_write`: writes overlap through a directory key (CRITICAL, either);
 * - `write_read`: one writes a key the other reads, identical or through a
 *   directory key (CRITICAL, writer first);
 * - `data_flow`: one's `outputs` meet the other's `inputs` (CRITICAL, producer first);
 * - `schema`: common `schema_changes` table (CRITICAL, either);
 * - `dependency`: one is in the other's `blocked_by`, directly or transitively
 *   (CRITICAL, blocker first);
 * - `serialized_domain`: both write into the same `parallel: "none"` domain
 *   (CRITICAL, either);
 * - `integration_point`: either task has a tag, explicit or derived from the
 *   `integration_points` patterns of its written keys (verdict CONVERGE; the
 *   integration point first if only one is);
 * - `resource_contention`: common `shared_resources` (WARNING; stays PARALLEL).
 * Read-read is fine. A shared key conflicts even across domains; `same_domain`
 * is informational. The pair order combines the directional reasons: all agree
 * -> that direction, otherwise `either`; PARALLEL pairs have `none`.
 *
 * Groups: layering over the order edges (direct `blocked_by`, plus the pair
 * order of every non-PARALLEL pair without a dependency), never two tasks of a
 * non-PARALLEL pair in one group, an integration point alone (see {@link layer}).
 *
 * @throws Error for duplicate or empty ids, unknown `blocked_by` ids, dependency
 *         cycles, bad estimates, bad `maxPairs`; KeyError for keys that cannot be
 *         normalised (`tasks[i].writes[k]: ...`).
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

  // Classify every accumulated pair.
  const byReason = Object.fromEntries(REASON_TYPES.map((r) => [r, 0])) as Record<ReasonType, number>;
  const reasonCounts = new Array<number>(REASON_COUNT).fill(0);
  const converge: number[] = [];
  const serialize: number[] = [];
  const warnOnly: number[] = [];
  let warningPairs = 0;
  for (const [pk, acc] of pairs) {
    for (let r = 0; r < REASON_COUNT; r++) if (acc[r] !== undefined) reasonCounts[r] = (reasonCounts[r] as number) + 1;
    const code = verdictCode(acc);
    const warn = acc[R_RESOURCE] !== undefined;
    if (warn) warningPairs++;
    if (code === V_CONVERGE) converge.push(pk);
    else if (code === V_SERIALIZE) serialize.push(pk);
    else if (warn) warnOnly.push(pk);
  }
  REASON_TYPES.forEach((r, k) => {
    byReason[r] = reasonCounts[k] as number;
  });
  const sortNum = (xs: number[]): number[] => Array.from(Float64Array.from(xs).sort());
  const convergeSorted = sortNum(converge);
  const serializeSorted = sortNum(serialize);
  const warnSorted = sortNum(warnOnly);
  const listed: PairResult[] = [];
  for (const bucket of [convergeSorted, serializeSorted, warnSorted]) {
    for (const pk of bucket) {
      if (listed.length >= maxPairs) break;
      listed.push(pairResult(analysis, pk));
    }
  }
  const candidates = converge.length + serialize.length + warnOnly.length;
  const pairsTotal = (n * (n - 1)) / 2;

  // Groups.
  const graph = conflictGraph(analysis, (acc) => (hasDependency(acc) ? 0 : pairDirBits(acc)));
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
    verdict: convergeSorted.length > 0 ? "CONVERGE" : serializeSorted.length > 0 ? "SERIALIZE" : "PARALLEL",
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

/** A key's writers and readers for the checkpoint: the key itself, and for a directory key everything below it. */
function sharedFiles(analysis: PairAnalysis): { key: string; w: number[]; r: number[]; heat: number }[] {
  const { keyIndex, sortedKeys } = analysis;
  const out: { key: string; w: number[]; r: number[]; heat: number }[] = [];
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
        const eK = keyIndex.get(inner) as KeyEntry;
        for (const x of eK.w) ws.add(x);
        for (const x of eK.r) rs.add(x);
      }
      for (const x of ws) rs.delete(x);
      w = [...ws].sort((a, b) => a - b);
      r = [...rs].sort((a, b) => a - b);
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
function checkpoint(analysis: PairAnalysis, serializeSorted: number[]): ParallelReport["checkpoint"] {
  const tasks = analysis.tasks;
  const idOf = (i: number): string => (tasks[i] as NormalizedTask).id;
  const shared = sharedFiles(analysis);
  const sharedFilesOut: SharedFile[] = shared.slice(0, MAX_CHECKPOINT_ITEMS).map((s) => {
    const mitigation =
      s.w.length >= 2
        ? `${s.w.length} writers: sequence them or assign section boundaries; each takes a write lock`
        : `${idOf(s.w[0] as number)} writes first (write lock); ${s.r.length} reader(s) wait for it`;
    return {
      key: s.key,
      writers: s.w.slice(0, MAX_LISTED_IDS).map(idOf),
      readers: s.r.slice(0, MAX_LISTED_IDS).map(idOf),
      writer_count: s.w.length,
      reader_count: s.r.length,
      mitigation,
    };
  });

  const anticipated = serializeSorted.slice(0, MAX_CHECKPOINT_ITEMS).map((pk) => {
    const acc = analysis.pairs.get(pk) as PairAcc;
    const n = analysis.n;
    const i = Math.floor(pk / n);
    const a = idOf(i);
    const b = idOf(pk - i * n);
    const reasons = reasonTypesOf(acc)
      .filter((r) => r !== "resource_contention")
      .join(", ");
    return { tasks: [a, b] as [string, string], sequencing: sequencing(a, b, pairOrderOf(acc), reasons) };
  });

  // Shared interfaces: integration points and artifacts passed between tasks.
  const ips = tasks.filter((t) => t.integrationPoint);
  const interfaces: string[] = ips.slice(0, 3).map((t) => `integration point ${t.id} [${t.tags.join(", ")}]`);
  let ifaceTotal = ips.length;
  const consumers = new Map<string, string[]>();
  for (const t of tasks) for (const x of t.inputs) consumers.set(x, [...(consumers.get(x) ?? []), t.id]);
  const seenArtifacts = new Set<string>();
  for (const t of tasks) {
    for (const x of t.outputs) {
      const users = consumers.get(x);
      if (users === undefined || seenArtifacts.has(x)) continue;
      seenArtifacts.add(x);
      ifaceTotal++;
      if (interfaces.length < 6) interfaces.push(`"${x}" defined by ${t.id}, used by ${users.slice(0, 3).join(", ")}`);
    }
  }

  const filesLine =
    shared.length === 0
      ? "none"
      : andMore(
          shared.slice(0, 3).map((s) => `${s.key} (${s.w.length} writer(s), ${s.r.length} reader(s))`),
          shared.length,
        ) + " - sequence writers or assign section boundaries";
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
    `- Shared interfaces: ${interfaces.length === 0 ? "none" : andMore(interfaces, ifaceTotal)}`,
    "- Conventions: first agent establishes; the others follow it",
    `- Anticipated conflicts: ${conflictsLine}`,
  ].join("\n");

  return { shared_files: sharedFilesOut, anticipated_conflicts: anticipated, text };
}
