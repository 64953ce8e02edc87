/**
 * The append-only decision log (DESIGN.md, "Decision": never edited, never
 * lost). Each entry gets the next sequence number in the same write
 * transaction that stores it, so concurrent processes never share a number.
 * Source: coordination-skill.md (S2 "Decision logs", Anti-Oscillation
 * "Document: record resolution") and parallel-execution-protocol.md §5 conflict log.
 */
import type { Clock } from "../store/clock.js";
import type { DecisionRecord } from "./decision-record.js";
import { decisions, meta } from "../store/schema.js";
import type { Db, ReadTxn, WriteTxn } from "../store/txn.js";

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

/**
 * Append one decision in its own write transaction; resolves with the
 * stored entry and its `seq` (1, 2, ...) once it is durable.
 */
export function recordDecision(db: Db, clock: Clock, input: DecisionInput): Promise<DecisionRecord> {
  return db.write((tx) => appendDecision(tx, clock, input));
}

/**
 * Append inside an already open write transaction, so that a decision and the
 * change it explains commit together (code still inside `store.write` passes
 * `lmdbTxn(store)`, store/lmdb/engine.ts).
 */
export function appendDecision(tx: WriteTxn, clock: Clock, input: DecisionInput): DecisionRecord {
  const seq = tx.next(meta.counter, ["decision_seq"]);
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
  tx.put(decisions, [seq], entry);
  return entry;
}

/** A page of decisions: newest first, `total` the whole log's count. */
export interface DecisionPage {
  decisions: DecisionRecord[];
  total: number;
}

/**
 * Decisions newest first, read in `tx`. `before`: only entries with a
 * smaller seq (for paging); `limit`: page size (default 100).
 */
export function decisionPage(tx: ReadTxn, opts: { limit?: number; before?: number } = {}): DecisionPage {
  const page = [
    ...tx.values(decisions, {
      reverse: true,
      limit: opts.limit ?? 100,
      ...(opts.before !== undefined ? { from: [opts.before - 1] as [number] } : {}),
    }),
  ];
  return { decisions: page, total: tx.get(meta.counter, ["decision_seq"]) ?? 0 };
}

/** {@link decisionPage} over one snapshot of `db`. */
export function listDecisions(db: Db, opts: { limit?: number; before?: number } = {}): Promise<DecisionPage> {
  return db.read((tx) => decisionPage(tx, opts));
}
