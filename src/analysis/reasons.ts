/**
 * Pair reasons packed into one integer per pair ({@link PairBits}): which of the
 * ten reason types of the pair rules apply to a pair of tasks, in which
 * direction, and the verdict and order that follow from them.
 *
 * The reason types are the conflict kinds of parallelism-framework.md Levels 2-3
 * and parallel-execution-protocol.md §1.2 / §5.1 (file writes, schema,
 * dependencies, integration points), plus the resource contention WARNING of
 * coordination-skill.md ("Conflict Prevention Rules"), and the merge conflict
 * git predicts between the tasks' branches (a real three-way merge, `git
 * merge-tree`, supplied by the caller). Producers of these bits:
 * `pairs.ts`; readers: `pair-explainer.ts`, `layering.ts`, `pre-parallel-check.ts`,
 * `parallel.ts`, `waves.ts`.
 *
 * Pure: constants and functions only.
 */
import { REASON_TYPES, type PairOrder, type ReasonType, type Verdict } from "./tasks.js";

/** Every reason type, in the order reasons are listed in a pair (CRITICAL first, the WARNING last). */
export { REASON_TYPES };

// Bit position of each reason (its index in REASON_TYPES).
/** Reason bit: `same_file`. */
export const R_SAME_FILE = 0;
/** Reason bit: `write_write`. */
export const R_WRITE_WRITE = 1;
/** Reason bit: `write_read` (directional). */
export const R_WRITE_READ = 2;
/** Reason bit: `data_flow` (directional). */
export const R_DATA_FLOW = 3;
/** Reason bit: `schema`. */
export const R_SCHEMA = 4;
/** Reason bit: `dependency` (directional). */
export const R_DEPENDENCY = 5;
/** Reason bit: `serialized_domain`. */
export const R_SERIALIZED = 6;
/** Reason bit: `integration_point` (directional). */
export const R_INTEGRATION = 7;
/** Reason bit: `merge_conflict` (undirected): git predicts the two tasks' branches conflict. */
export const R_MERGE = 8;
/** Reason bit: `resource_contention` (the only WARNING, the last reason). */
export const R_RESOURCE = 9;
/** Number of reason types. */
export const REASON_COUNT = 10;

/** Direction bit, relative to the pair (a, b) with a before b in input order: a runs first. */
export const A_FIRST = 1;
/** Direction bit: b runs first. */
export const B_FIRST = 2;
/** Both direction bits: the reasons disagree, or there is no direction. */
export const BOTH = A_FIRST | B_FIRST;

/**
 * Where the two direction bits of a directional reason live in {@link PairBits}
 * (bits 0-9 say which reasons are present, bits 10-17 hold directions); 0 for
 * an undirected reason.
 */
export const DIR_SHIFT: readonly number[] = [0, 0, 10, 12, 0, 14, 0, 16, 0, 0];

// Module-local copies for the functions below, which run once per pair: reading
// an exported binding (even in its own module) costs an extra load per access.
const DIR_MASK = BOTH;
const SHIFT_WRITE_READ = DIR_SHIFT[R_WRITE_READ] as number;
const SHIFT_DATA_FLOW = DIR_SHIFT[R_DATA_FLOW] as number;
const SHIFT_DEPENDENCY = DIR_SHIFT[R_DEPENDENCY] as number;
const SHIFT_INTEGRATION = DIR_SHIFT[R_INTEGRATION] as number;
const CRITICAL_MASK = (1 << R_RESOURCE) - 1; // bits 0-8: every reason but the WARNING
const BIT_INTEGRATION = 1 << R_INTEGRATION;
const BIT_RESOURCE = 1 << R_RESOURCE;
const BIT_DEPENDENCY = 1 << R_DEPENDENCY;
const ALL_REASONS = (1 << REASON_COUNT) - 1;

/**
 * The reasons of one pair packed into an integer: bit `r` is set when reason
 * `REASON_TYPES[r]` applies; for the directional reasons (write_read,
 * data_flow, dependency, integration_point) two more bits at `DIR_SHIFT[r]`
 * hold A_FIRST (1) and/or B_FIRST (2). The keys of each reason are recomputed
 * only for the pairs that are listed (see `PairExplainer`).
 */
export type PairBits = number;

// Verdict codes (indices into VERDICTS).
const V_PARALLEL = 0;
const V_SERIALIZE = 1;
const V_CONVERGE = 2;
/** The verdict of each verdict code (see {@link verdictCode}). */
export const VERDICTS: readonly Verdict[] = ["PARALLEL", "SERIALIZE", "CONVERGE"];

/** Verdict code of a pair (index into {@link VERDICTS}): CONVERGE if integration_point, SERIALIZE if any other CRITICAL reason, else PARALLEL. */
export function verdictCode(bits: PairBits): number {
  if ((bits & BIT_INTEGRATION) !== 0) return V_CONVERGE;
  return (bits & CRITICAL_MASK) !== 0 ? V_SERIALIZE : V_PARALLEL;
}

/** The direction bits (A_FIRST, B_FIRST, both or none) of the directional reason `r` of a pair. */
export function dirOf(bits: PairBits, r: number): number {
  return (bits >>> (DIR_SHIFT[r] as number)) & DIR_MASK;
}

/** The direction bits stored at `shift`. */
function dirAt(bits: PairBits, shift: number): number {
  return (bits >>> shift) & DIR_MASK;
}

/**
 * Direction bits of a pair from its directional reasons (write_read, data_flow,
 * dependency, integration_point). An integration_point where both tasks are
 * integration points has no direction and is ignored here.
 */
export function pairDirBits(bits: PairBits): number {
  const ip = dirAt(bits, SHIFT_INTEGRATION);
  const rest = dirAt(bits, SHIFT_WRITE_READ) | dirAt(bits, SHIFT_DATA_FLOW) | dirAt(bits, SHIFT_DEPENDENCY);
  return rest | (ip === DIR_MASK ? 0 : ip);
}

/** The order named by direction bits: exactly one direction -> `a_first` / `b_first`, else `either`. */
export function orderOfBits(dir: number): PairOrder {
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
  return dirAt(bits, SHIFT_WRITE_READ) | dirAt(bits, SHIFT_DATA_FLOW);
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

/** What {@link tallyPairs} counts and collects in one pass over the pairs. */
export interface PairTally {
  /** Pairs having each reason; every reason type present, in {@link REASON_TYPES} order. */
  byReason: Record<ReasonType, number>;
  /** Keys of the CONVERGE pairs, in visiting order. */
  converge: number[];
  /** Keys of the SERIALIZE pairs, in visiting order. */
  serialize: number[];
  /** Keys of the PARALLEL pairs with a WARNING, in visiting order. */
  warnOnly: number[];
  /** Pairs carrying a WARNING reason, whatever their verdict. */
  warningPairs: number;
}

/** Count the reasons of every pair with a reason (a `PairStore`) and split the pairs by verdict. O(pairs). */
export function tallyPairs(pairs: { forEach(fn: (pk: number, bits: PairBits) => void): void }): PairTally {
  const counts = new Array<number>(REASON_COUNT).fill(0);
  const converge: number[] = [];
  const serialize: number[] = [];
  const warnOnly: number[] = [];
  let warningPairs = 0;
  pairs.forEach((pk, bits) => {
    for (let rest = bits & ALL_REASONS; rest !== 0; rest &= rest - 1) {
      const r = 31 - Math.clz32(rest & -rest);
      counts[r] = (counts[r] as number) + 1;
    }
    const warn = (bits & BIT_RESOURCE) !== 0;
    if (warn) warningPairs++;
    // The verdict as in verdictCode: integration_point, then any other CRITICAL reason.
    if ((bits & BIT_INTEGRATION) !== 0) converge.push(pk);
    else if ((bits & CRITICAL_MASK) !== 0) serialize.push(pk);
    else if (warn) warnOnly.push(pk);
  });
  const byReason = {} as Record<ReasonType, number>;
  REASON_TYPES.forEach((r, k) => {
    byReason[r] = counts[k] as number;
  });
  return { byReason, converge, serialize, warnOnly, warningPairs };
}
