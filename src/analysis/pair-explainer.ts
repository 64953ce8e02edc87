/**
 * Explaining a pair: the full {@link PairResult} (verdict, order, and the keys
 * behind each reason) of a pair from the packed analysis. The keys are
 * recomputed from the two tasks, and only for the pairs check_parallel lists
 * (parallelism-framework.md Levels 2-3; parallel-execution-protocol.md §5.1
 * "Pre-Execution Conflict Check").
 *
 * Pure: no I/O; the only state is the per-request cache of one explainer.
 */
import type { PairAnalysis } from "./pairs.js";
import { keyKind } from "../paths.js";
import {
  B_FIRST,
  dirOf,
  DIR_SHIFT,
  orderOfBits,
  pairOrderOf,
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
  REASON_COUNT,
  REASON_TYPES,
  verdictCode,
  VERDICTS,
} from "./reasons.js";
import type { NormalizedTask } from "./task-input.js";
import type { PairOrder, PairReason, PairResult, ReasonType, Severity, Verdict } from "./tasks.js";

/** At most this many keys are listed per reason; `key_count` has the full number. */
export const MAX_REASON_KEYS = 10;

/** Keys of `b` covered by a directory key of `a`, and keys of `a` covered by a directory key of `b` (never identical keys). */
function coveredKeys(a: readonly string[], b: readonly string[], out: Set<string>): void {
  for (const d of a) {
    if (keyKind(d) !== "dir") continue;
    for (const k of b) if (k !== d && k.startsWith(d)) out.add(k);
  }
  for (const d of b) {
    if (keyKind(d) !== "dir") continue;
    for (const k of a) if (k !== d && k.startsWith(d)) out.add(k);
  }
}

/** Add the names found in both `a` and `b` to `out`, in `a` order. */
function common(a: readonly string[], b: readonly string[], out: Set<string>): void {
  for (const x of a) if (b.includes(x)) out.add(x);
}

/**
 * Materialises pairs as {@link PairResult}s, recomputing the keys behind each
 * reason from the two tasks (cheap: only listed pairs are explained). One
 * instance per request; it caches the key sets and transitive blockers of tasks.
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
      order: pairOrderOf(bits),
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
      case R_MERGE:
        for (const f of this.analysis.mergeFiles.get(a.index < b.index ? a.index * this.analysis.n + b.index : b.index * this.analysis.n + a.index) ?? []) out.add(f);
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
