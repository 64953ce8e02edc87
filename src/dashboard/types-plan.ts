/**
 * The wire shapes of the dashboard's Waves and Radar sections (part of
 * `DashboardState` in ./types.ts, which re-exports them): a stored plan
 * as a graph with its waves' integration reports, and the radar matrix.
 * Imports nothing. Times `*_at` are ISO-8601.
 */

/** A stored plan in the plan list. */
export interface PlanSummaryRow {
  plan_id: string;
  name: string | null;
  created_at: string;
  wave_count: number;
  feature_count: number;
}

/** A feature's state in its plan: the lifecycle record's, else derived from its prerequisites. */
export type FeatureState = "completed" | "active" | "failed" | "blocked" | "ready" | "pending";

/** A feature node of the plan graph. */
export interface FeatureNode {
  id: string;
  wave: number;
  state: FeatureState;
  agent_id: string | null;
  attempts: number;
  branch: string | null;
  /** On the plan's critical path. */
  critical: boolean;
  /** Failed prerequisites when `state` is blocked. */
  blocked_because: string[];
}

/** A serialized conflict of the plan: the pair, its reasons, and how it was placed. */
export interface ConflictEdge {
  a: string;
  b: string;
  reasons: string[];
  order: string;
  placed: string;
}

/** A wave of the plan with its integration, if any. */
export interface WaveRow {
  wave_number: number;
  features: string[];
  prerequisites: number[];
  integration_point: boolean;
  integration: IntegrationRow | null;
}

/** The latest integration report of a wave (lists capped at 20; `*_total` count all). */
export interface IntegrationRow {
  status: "integrated" | "failed" | "rolled_back" | string;
  attempt: number;
  at: string;
  by: string;
  reasons: string[];
  actions: string[];
  undeclared_writes: { feature_id: string; file: string }[];
  undeclared_writes_total: number;
  overlapping_changes: { file: string; features: string[] }[];
  overlapping_changes_total: number;
  migration_collisions: { kind: string; value: string; paths: string[] }[];
  gates: { gate: string; required: boolean; status: string }[];
  reviews: { feature_id: string; reviewer: string | null; status: string }[];
  merge: { status: string; conflict_files: string[] } | null;
}

/** One stored plan as a graph: features by wave, dependency edges, serialized conflicts, critical path. */
export interface PlanGraph {
  plan_id: string;
  name: string | null;
  created_at: string;
  features: FeatureNode[];
  /** Features of the plan left out of `features` (the graph shows the first 300). */
  features_omitted: number;
  /** `blocked_by` edges: `from` must complete before `to`. */
  edges: { from: string; to: string }[];
  conflicts: ConflictEdge[];
  conflicts_total: number;
  critical_path: { features: string[]; length: number };
  waves: WaveRow[];
  counts: Record<FeatureState, number>;
}

/** The conflict radar: predicted merge conflicts between active feature branches. */
export interface RadarState {
  available: boolean;
  /** Why there is no matrix (available false). */
  reason: string | null;
  computed_at: string | null;
  target: string | null;
  branches: { branch: string; feature_id: string | null; agent_id: string | null }[];
  pairs: RadarPairRow[];
}

/** The prediction for one pair of branches. */
export interface RadarPairRow {
  a: string;
  b: string;
  status: "clean" | "conflict" | string;
  conflicts: { path: string; kind: string }[];
  both_changed: string[];
}
