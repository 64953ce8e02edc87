/**
 * The task list as a request states it, validated and normalised: ids,
 * resource keys (relative to the project root), artifact, table and resource
 * names, `blocked_by` resolved to input positions, estimates, and the Level 1
 * domains and Level 3 integration tags of each task
 * (parallel-execution-protocol.md §1.1 "Feature Dependency Graph";
 * parallelism-framework.md Level 1 "File Domain Check" and Level 3
 * "Integration Point Check"). Also the DAG check on `blocked_by` (§1.1: the
 * dependency graph must be acyclic for waves to exist).
 *
 * Shared by check_parallel and plan_waves through `analyzePairs` (pairs.ts).
 * Pure: no I/O, no module-level mutable state.
 */
import type { DomainMap } from "./domains.js";
import { normalizeKey } from "../paths.js";
import type { TaskSpec } from "./tasks.js";
import { InvalidArgumentError } from "../errors.js";

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

/** What {@link normalizeTasks} needs besides the task list. */
export interface TaskInputOptions {
  /** Absolute project root, for normalising keys. */
  root: string;
  domains: DomainMap;
  /** Name of the list in error messages: `tasks` (check_parallel) or `features` (plan_waves). */
  field: string;
  /** Noun used in error messages: `task` or `feature`. */
  noun: string;
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
  if (!Array.isArray(raw)) throw new InvalidArgumentError(`${owner}.${name}`, `expected an array of strings`);
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

/**
 * A list of names (artifacts, tags, tables, resources, blocker ids): NFC,
 * trimmed, an optional prefix (`table:`, `resource:`) stripped, deduplicated;
 * errors name `<owner>.<name>[k]`.
 */
function nameList(raw: unknown, owner: string, name: string, strip?: string): readonly string[] {
  if (raw === undefined || raw === null) return NONE;
  if (!Array.isArray(raw)) throw new InvalidArgumentError(`${owner}.${name}`, `expected an array of strings`);
  if (raw.length === 0) return NONE;
  const out: string[] = [];
  for (let k = 0; k < raw.length; k++) {
    const item: unknown = raw[k];
    if (typeof item !== "string") throw new InvalidArgumentError(`${owner}.${name}[${k}]`, `expected a string`);
    if (item.includes("\0")) throw new InvalidArgumentError(`${owner}.${name}[${k}]`, `contains a NUL byte`);
    let text = item.normalize("NFC").trim();
    if (strip !== undefined && text.startsWith(strip)) text = text.slice(strip.length).trim();
    if (text === "") throw new InvalidArgumentError(`${owner}.${name}[${k}]`, `is empty`);
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
  opts: TaskInputOptions,
): NormalizedTask[] {
  const { root, domains, field, noun } = opts;
  if (!Array.isArray(specs)) throw new InvalidArgumentError(field, `expected an array`);
  const byId = new Map<string, number>();
  specs.forEach((spec, i) => {
    const f = `${field}[${i}]`;
    if (spec === null || typeof spec !== "object") throw new InvalidArgumentError(f, `expected an object`);
    if (typeof spec.id !== "string" || spec.id.trim() === "") throw new InvalidArgumentError(`${f}.id`, `must be a non-empty string`);
    const first = byId.get(spec.id);
    if (first !== undefined) throw new InvalidArgumentError(`${f}.id`, `duplicate id "${spec.id}" (also ${field}[${first}])`);
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
        throw new InvalidArgumentError(`${f}.blocked_by`, `unknown ${noun} "${dep}" (named by ${noun} "${spec.id}")`);
      }
      if (j === i) throw new InvalidArgumentError(`${f}.blocked_by`, `dependency cycle: ${spec.id} -> ${spec.id}`);
      blockedBy.push(j);
    }

    let estimate = 1;
    if (spec.estimate !== undefined && spec.estimate !== null) {
      if (typeof spec.estimate !== "number" || !Number.isFinite(spec.estimate) || spec.estimate < 0) {
        throw new InvalidArgumentError(`${f}.estimate`, `expected a finite number >= 0, got ${String(spec.estimate)}`);
      }
      estimate = spec.estimate;
    }

    // Domains (Level 1): explicit domain, then the domains of written keys, then of read keys.
    const taskDomains: string[] = [];
    const serialized: string[] = [];
    if (spec.domain !== undefined && spec.domain !== null) {
      if (typeof spec.domain !== "string" || spec.domain.trim() === "") {
        throw new InvalidArgumentError(`${f}.domain`, `must be a non-empty string`);
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
  throw new InvalidArgumentError(`${field}[${first}].blocked_by`, `dependency cycle: ${names}`);
}
