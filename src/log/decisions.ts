/**
 * The append-only decision log (DESIGN.md, "Decision": never edited, never
 * lost). Each entry gets the next sequence number in the same write
 * transaction that stores it, so concurrent processes never share a number.
 * Source: coordination-skill.md (S2 "Decision logs", Anti-Oscillation
 * "Document: record resolution") and parallel-execution-protocol.md §5 conflict log.
 */
import type { Clock } from "../store/clock.js";
import { nextCounter, type DecisionRecord, type Store } from "../store/index.js";

/** Kinds of decision the protocol names. */
export const DECISION_TYPES = [
  "interface_arbitration",
  "convention",
  "conflict_resolution",
  "reallocation",
  "integration",
  "lock_break",
  "dependency_violation",
  "rollback",
  "gate",
  "emergency",
  "post_incident_review",
  "other",
] as const;
export type DecisionType = (typeof DECISION_TYPES)[number];

/** What a caller records. `refs` are free-form references (files, feature ids, URLs). */
export interface DecisionInput {
  type: DecisionType;
  decided_by: string;
  context: string;
  decision: string;
  rationale?: string | null;
  refs?: string[];
}

/** Append one decision in its own write transaction; returns the stored entry with its `seq` (1, 2, ...). */
export function recordDecision(store: Store, clock: Clock, input: DecisionInput): DecisionRecord {
  return store.write(() => appendDecision(store, clock, input));
}

/**
 * Append inside an already open write transaction, so that a decision and the
 * change it explains commit together.
 */
export function appendDecision(store: Store, clock: Clock, input: DecisionInput): DecisionRecord {
  const seq = nextCounter(store, "decision_seq");
  const entry: DecisionRecord = {
    seq,
    type: input.type,
    decided_by: input.decided_by,
    context: input.context,
    decision: input.decision,
    rationale: input.rationale ?? null,
    refs: input.refs ?? [],
    recorded_at: new Date(clock.wallMs()).toISOString(),
  };
  store.decisions.putSync(seq, entry);
  return entry;
}

/**
 * Decisions newest first. `before`: only entries with a smaller seq (for
 * paging); `limit`: page size (default 100). `total` counts the whole log.
 */
export function listDecisions(
  store: Store,
  opts: { limit?: number; before?: number } = {},
): { decisions: DecisionRecord[]; total: number } {
  store.env.resetReadTxn();
  const limit = opts.limit ?? 100;
  const decisions: DecisionRecord[] = [];
  const range = store.decisions.getRange({
    reverse: true,
    ...(opts.before !== undefined ? { start: opts.before - 1 } : {}),
    limit,
  });
  for (const { value } of range) decisions.push(value);
  const total = (store.meta.get("decision_seq") as number | undefined) ?? 0;
  return { decisions, total };
}
