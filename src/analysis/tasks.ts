/**
 * Shapes shared by the parallelism check (`parallel.ts`) and the wave planner
 * (`waves.ts`). A task and a feature are the same thing seen at two moments:
 * a unit of work an agent will do, with what it reads and writes.
 *
 * Source: parallel-execution-protocol.md §1.1 (Feature_Dependencies) and
 * parallelism-framework.md Levels 1-3.
 */

/** A task or feature as the caller declares it (keys not yet normalised). */
export interface TaskSpec {
  /** Unique id within one request. */
  id: string;
  /** Resource keys the task reads (files, `dir/`, `table:x`, `resource:x`). */
  reads?: string[];
  /** Resource keys the task writes. */
  writes?: string[];
  /** Data artifacts the task consumes (names, not paths). */
  inputs?: string[];
  /** Data artifacts the task produces. */
  outputs?: string[];
  /** Tables the task creates or modifies. */
  schema_changes?: string[];
  /** Named shared resources the task uses (auth, database...). */
  shared_resources?: string[];
  /** Integration triggers (`migration`, `api_contract`, ...); any tag makes the task an integration point. */
  tags?: string[];
  /** Ids of tasks that must complete before this one starts. */
  blocked_by?: string[];
  /** Domain override; otherwise derived from the domain map. */
  domain?: string;
  /** Relative effort for the critical path (default 1). */
  estimate?: number;
}

/**
 * Why two tasks may not simply run side by side (parallelism-framework.md
 * Levels 1-3, parallel-execution-protocol.md §5.1), in the order reports list them.
 */
export const REASON_TYPES = [
  "same_file",
  "write_write",
  "write_read",
  "data_flow",
  "schema",
  "dependency",
  "serialized_domain",
  "integration_point",
  "merge_conflict",
  "resource_contention",
] as const;
export type ReasonType = (typeof REASON_TYPES)[number];

/** CRITICAL reasons force SERIALIZE or CONVERGE; a WARNING leaves the pair PARALLEL. */
export type Severity = "CRITICAL" | "WARNING";

/** One reason for a pair, with the keys (files, tables, artifacts, domains, tags) involved. */
export interface PairReason {
  type: ReasonType;
  severity: Severity;
  /** The keys involved, at most 10; `key_count` has the full number. */
  keys: string[];
  key_count: number;
  /** Which task must go first for this reason, if the reason has a direction. */
  order: PairOrder;
}

export type Verdict = "PARALLEL" | "SERIALIZE" | "CONVERGE";
/** `a_first`: task `a` must finish before `b` starts; `either`: one at a time, any order. */
export type PairOrder = "a_first" | "b_first" | "either" | "none";

/** The verdict for one pair of tasks. `a` comes before `b` in the input order. */
export interface PairResult {
  a: string;
  b: string;
  verdict: Verdict;
  order: PairOrder;
  /** True when both tasks fall in at least one common domain (Level 1). */
  same_domain: boolean;
  reasons: PairReason[];
}
