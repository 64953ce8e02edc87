/** The stored shape of the decision log (log/decisions.ts; schema.ts `decisions`). */

/** One entry of the append-only decision log. */
export interface DecisionRecord {
  seq: number;
  type: string;
  decided_by: string;
  context: string;
  decision: string;
  rationale: string | null;
  refs: string[];
  recorded_at: string;
}
