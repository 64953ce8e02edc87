/**
 * The control layer's stored records and their key layouts: the contract
 * every control module reads and writes. Each read-check-write on these
 * records happens in one LMDB write transaction (DESIGN.md, "Store rules").
 *
 * Times: `*_at` are ISO-8601 strings (display); `*_mono` are monotonic ms of
 * the boot `boot` (decisions). Sequence numbers come from `nextCounter` in the
 * same transaction that writes the record, so processes never share one.
 *
 * Key layouts (NUL-separated; ids holding NUL are refused by the tool schemas):
 *
 * | database      | key                          | value                         |
 * |---------------|------------------------------|-------------------------------|
 * | `agents`      | `A` agent_id                 | {@link AgentRecord}           |
 * |               | `P` phase `\0` agent_id      | role (phase membership)       |
 * |               | `F` feature_id `\0` agent_id | role (agents on a feature)    |
 * |               | `C` phase                    | {@link PhaseCoverageRecord}   |
 * | `features`    | `F` feature_id               | {@link FeatureRecord}         |
 * | `signals`     | `S` seq12                    | {@link SignalRecord}          |
 * |               | `O` seq12                    | 1: open and pausing (RED or algedonic) |
 * |               | `H` seq12                    | {@link AuditHandoffRecord}    |
 * |               | `h` feature_id `\0` seq12    | 1: audit handoffs by feature  |
 * | `messages`    | `I` agent_id `\0` seq12      | {@link MessageRecord}         |
 * |               | `U` seq12 `\0` agent_id      | created_mono: unacknowledged  |
 * |               | (acknowledged messages are pruned by `retention`, control/registry/inbox.ts) | |
 * | `conventions` | `C` scope `\0` key           | {@link ConventionRecord}      |
 * |               | `E` seq12                    | {@link EscalationRecord}      |
 * | `checkpoints` | `K` name                     | {@link CheckpointRecord}      |
 * |               | `O` name                     | 1: open checkpoints           |
 * | `metrics`     | owned by control/metrics.ts and control/detectors.ts |    |
 * | `quality`     | `G` gate name                | {@link GateRecord}            |
 * |               | `g` gate `\0` target `\0` seq12 | {@link GateResultRecord} (target: `F`feature_id or `W`plan_id`\0`wave6) |
 * |               | `R` seq12                    | {@link ReviewRecord}          |
 * |               | `o` reviewer `\0` seq12      | 1: open reviews by reviewer   |
 * |               | `r` feature_id `\0` seq12    | 1: reviews by feature         |
 * | `integrations`| `W` plan_id `\0` wave6       | {@link WaveIntegrationRecord} (the wave's integration status) |
 * |               | `I` plan_id `\0` wave6 `\0` attempt6 | {@link IntegrationReport} (every attempt, kept) |
 * |               | `X` feature_id `\0` seq12    | {@link FeatureRecord} archived by a rollback |
 * | `incidents`   | `N` seq12                    | {@link IncidentRecord}        |
 * |               | `O` seq12                    | 1: open incidents             |
 * | `activity`    | see log/activity.ts      | {@link ActivityRecord}        |
 *
 * `seq12` is the sequence number zero-padded to 12 digits, so keys sort in
 * creation order; `wave6` and `attempt6` are zero-padded to 6 digits.
 *
 * The `quality`, `integrations`, `incidents` and `activity` databases came
 * with the wave lifecycle (gates, reviews, integration, incidents, the
 * activity log); a store created by an older schema gets them empty at open.
 * Records written by an older schema lack the optional fields that came with
 * it, `AgentRecord.dispatched_by` and the `FeatureRecord` fields
 * `files_changed`, `commits`, `migrations`, `completed_seq` and `locked_keys`:
 * read them as empty (each field says how its absence is read).
 */

/** Zero-pad a sequence number to 12 digits for ordered string keys. */
export function seq12(n: number): string {
  return String(n).padStart(12, "0");
}

/**
 * Roles an agent is dispatched with (coordination-skill.md, "Agent
 * Assignment"; DESIGN.md "Agent"). `other` is any specialist not listed.
 */
export const ROLES = ["coder", "auditor", "test_engineer", "architect", "orchestrator", "other"] as const;
export type Role = (typeof ROLES)[number];

/**
 * Roles a RED signal pauses when they work on its feature: everyone who
 * writes source. Auditors and test engineers are read-only on source files
 * (coordination-skill.md, "Parallel Audit Rules"); the orchestrator arbitrates.
 */
export function isPausableRole(role: Role): boolean {
  return role !== "auditor" && role !== "test_engineer" && role !== "orchestrator";
}

/** Statuses an agent reports (execution-template.md, "Status Broadcasting System") plus `dispatched`. */
export const AGENT_STATUSES = ["dispatched", "working", "blocked", "completed", "error", "paused"] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

/** One agent in the registry. Written by dispatch_agents, report_status, start_feature, reassign_feature. */
export interface AgentRecord {
  agent_id: string;
  role: Role;
  domain: string | null;
  /** The feature the agent is assigned to now, if any. */
  feature_id: string | null;
  /** Phase it was dispatched in (e.g. CODE), if any. */
  phase: string | null;
  /** Dispatch batch number (one per dispatch_agents call). */
  batch: number | null;
  /**
   * The orchestrator whose dispatch_agents call registered it (its `by`),
   * counted against `capacity.per_orchestrator`; null for an agent that
   * registered itself (report_status, start_feature). Absent on records
   * written by an older schema (read as null: no dispatching orchestrator).
   */
  dispatched_by?: string | null;
  status: AgentStatus;
  current_task: string | null;
  progress_percentage: number | null;
  estimated_completion: string | null;
  blocking_issues: string[];
  outputs_ready: string[];
  dispatched_at: string;
  last_seen_at: string;
  last_seen_mono: number;
  boot: string;
  /**
   * Where the agent works, as git saw it at its last call that carried a
   * location (report_status, start_feature, dispatch_agents): the worktree's
   * real path, the branch checked out there (null when detached) and HEAD.
   * Absent on older records and outside git (read as null).
   */
  worktree?: string | null;
  branch?: string | null;
  head?: string | null;
}

/**
 * Audit coverage bookkeeping of one phase: when its earliest coder without a
 * concurrent auditor was dispatched, and whether the orchestrator was warned.
 */
export interface PhaseCoverageRecord {
  phase: string;
  /** Dispatch time (mono) of the first coder while the phase had no auditor; null once covered. */
  uncovered_since_mono: number | null;
  uncovered_since_boot: string | null;
  /** True once the warning message went to the orchestrator (sent at most once per uncovered spell). */
  warned: boolean;
}

/** A schema change recorded at completion (parallel-execution-protocol §4.1 `schema_changes`). */
export interface SchemaChange {
  feature_id: string;
  table: string;
  operation: string;
  committed: boolean;
}

/**
 * A migration a feature added (parallel-execution-protocol §6.2 "Schema merge
 * conflicts"): its file, and for revision-based tools (Alembic) its revision
 * and the revision it follows.
 */
export interface MigrationRecord {
  /** Normalised path relative to the root, e.g. `supabase/migrations/001_P2_profiles.sql`. */
  path: string;
  revision: string | null;
  down_revision: string | null;
}

/** Feature lifecycle record (parallel-execution-protocol §4.2 "State Update Protocol"). */
export interface FeatureRecord {
  feature_id: string;
  plan_id: string | null;
  status: "active" | "completed" | "failed";
  agent_id: string;
  blocked_by: string[];
  shared_resources: string[];
  started_at: string;
  ended_at: string | null;
  schema_changes: SchemaChange[];
  outputs: string[];
  failure_reason: string | null;
  /** How many times the feature was started (a failed or rolled-back feature may be started again). */
  attempts: number;
  /**
   * The git branch holding the feature's work (start_feature's `branch`, else
   * the branch checked out where the starting server runs; null when that is
   * the target branch itself, detached, or outside git). Absent on older records.
   */
  branch?: string | null;
  /** What the work really touched, reported by complete_feature (absent on records written by an older schema: read as empty). */
  files_changed?: string[];
  commits?: string[];
  migrations?: MigrationRecord[];
  /** Store-wide completion order (counter `completion_seq`), set by complete_feature (absent on records written by an older schema: read as 0, so `ended_at`, then id, orders them; integration.ts `byCompletion`). */
  completed_seq?: number;
  /** Write-lock keys granted for the feature while it was active (absent on records written by an older schema: read from the keys noted for the feature, features.ts `lockedKeysOf`). */
  locked_keys?: string[];
  /** Set when a rollback archived the record (`integrations` `X` keys). */
  rolled_back?: { plan_id: string; wave_number: number; reason: string; by: string; at: string } | null;
}

export const SIGNAL_LEVELS = ["GREEN", "YELLOW", "RED"] as const;
export type SignalLevel = (typeof SIGNAL_LEVELS)[number];

/** An S3* audit signal (coordination-skill.md, "Audit Signals", "Signal Format"). */
export interface SignalRecord {
  signal_id: string;
  seq: number;
  level: SignalLevel;
  summary: string;
  observation: string | null;
  concern: string | null;
  recommendation: string | null;
  feature_id: string | null;
  files: string[];
  /** Security or ethics: straight to the orchestrator, never auto-resolved. */
  algedonic: boolean;
  emitted_by: string;
  emitted_at: string;
  emitted_mono: number;
  /** `agent` for emit_audit_signal, `oscillation_detector` for the S2 detector. */
  source: "agent" | "oscillation_detector";
  /** Agents paused by name (besides the pausable agents on `feature_id`). */
  target_agents: string[];
  /** `open` pauses (RED or algedonic) until resolved; GREEN and YELLOW are `noted`. */
  status: "open" | "resolved" | "noted";
  resolved_by: string | null;
  resolution: string | null;
  resolved_at: string | null;
  resolved_mono: number | null;
  escalation_id: string | null;
}

/** The S3* audit handoff to the test phase (coordination-skill.md, "S3* Audit Handoff Format"). */
export interface AuditHandoffRecord {
  handoff_id: string;
  seq: number;
  feature_id: string;
  from_agent: string;
  concerns: { priority: string; concern: string; location: string | null }[];
  extra_coverage: { area: string; reason: string }[];
  test_strategy: string[];
  focus: string[];
  created_at: string;
  delivered_to: string[];
  /** The test engineer who acknowledged it; the feature's test phase starts then. */
  acknowledged_by: string | null;
  acknowledged_at: string | null;
}

/** Kinds of inbox message. */
export const MESSAGE_KINDS = [
  "handoff",
  "audit_signal",
  "audit_handoff",
  "pause",
  "resume",
  "checkpoint",
  "convention",
  "escalation",
  "reassignment",
  "coverage",
  "notice",
  "review",
  "gate",
  "integration",
  "incident",
  "merge_conflict",
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Algedonic messages sort above everything else in an inbox. */
export type MessagePriority = "algedonic" | "high" | "normal";

/** One inbox entry. A message sent to several agents is one record per recipient sharing `message_id`. */
export interface MessageRecord {
  message_id: string;
  seq: number;
  to: string;
  from: string;
  kind: MessageKind;
  priority: MessagePriority;
  summary: string;
  body: Record<string, unknown>;
  /** The record the message is about, e.g. `{kind: "audit_handoff", id: "ah-3"}`. */
  ref: { kind: string; id: string } | null;
  created_at: string;
  created_mono: number;
  acked_at: string | null;
}

/** A convention (coordination-skill.md, "Convention Authority": first agent's choice = standard). */
export interface ConventionRecord {
  scope: string;
  key: string;
  value: string;
  set_by: string;
  set_at: string;
  rationale: string | null;
  decision_seq: number;
}

/** A question for the orchestrator: a convention clash or an oscillation (S2 anti-oscillation). */
export interface EscalationRecord {
  escalation_id: string;
  seq: number;
  kind: "convention_clash" | "oscillation";
  opened_by: string;
  summary: string;
  detail: Record<string, unknown>;
  agents: string[];
  status: "open" | "resolved";
  opened_at: string;
  opened_mono: number;
  resolved_at: string | null;
  resolved_mono: number | null;
  decision_seq: number | null;
}

/** A Level 3 integration checkpoint (parallelism-framework.md, "handle_integration_point"). */
export interface CheckpointRecord {
  name: string;
  requested_by: string;
  reason: string;
  /** The integration feature whose work continues while the checkpoint is open. */
  feature_id: string | null;
  status: "open" | "resumed";
  /** Agents active when it was requested: each must reach it. */
  expected: string[];
  /**
   * The integration work, fixed when it was requested: the requester, the
   * agents it named and those registered on `feature_id` then. Only their
   * write locks are admitted while it is open. Absent on records written
   * before it existed (read: the requester and the feature's agents).
   */
  integrators?: string[];
  arrived: { agent_id: string; at: string }[];
  requested_at: string;
  requested_mono: number;
  resumed_at: string | null;
  resumed_by: string | null;
}

/** What refuses a write lock before conflicts are checked (defined with the lock API). */
export type { LockStop as Stop } from "../../locks/types.js";

/** When a gate applies (execution-template.md, "Quality Gates": Trigger). */
export const GATE_TRIGGERS = ["feature_complete", "wave_integration", "before_merge"] as const;
export type GateTrigger = (typeof GATE_TRIGGERS)[number];

/**
 * A quality gate (execution-template.md, "Quality Gates": trigger, criteria,
 * responsible agent, pass/fail actions). A `feature_complete` gate guards
 * complete_feature of every feature; `before_merge` guards integrate_wave for
 * each feature of the wave; `wave_integration` guards integrate_wave for the
 * wave as a whole. Redefining a gate raises its `revision`; results of older
 * revisions no longer count.
 */
export interface GateRecord {
  name: string;
  trigger: GateTrigger;
  criteria: string;
  responsible_role: Role;
  required: boolean;
  /** The gate passes only with an approved peer review of the feature (of each feature of the wave). */
  requires_review: boolean;
  revision: number;
  defined_by: string;
  defined_at: string;
}

/** One recorded gate result. `target` is a feature or a plan's wave. */
export interface GateResultRecord {
  seq: number;
  gate: string;
  gate_revision: number;
  feature_id: string | null;
  /** The feature attempt the result is about (results of an earlier attempt no longer count). */
  feature_attempt: number | null;
  plan_id: string | null;
  wave_number: number | null;
  /** The commit validated (full id): for a wave gate, the wave's merged commit. Absent on older records. */
  commit?: string | null;
  passed: boolean;
  evidence: string;
  recorded_by: string;
  recorded_at: string;
}

/** Verdicts of a submitted review (execution-template.md, "Review Process": approval mechanism). */
export const REVIEW_VERDICTS = ["approve", "changes_requested"] as const;
export type ReviewVerdict = (typeof REVIEW_VERDICTS)[number];

/** A peer review (execution-template.md, "Peer Review Mechanisms"). */
export interface ReviewRecord {
  review_id: string;
  seq: number;
  feature_id: string;
  /** The feature attempt under review. */
  feature_attempt: number;
  files: string[];
  expertise: string | null;
  requested_by: string;
  /** The feature's agent: never its reviewer. */
  author: string;
  reviewer: string;
  /** Why this reviewer (domain, role, workload). */
  reason: string;
  status: "open" | "approved" | "changes_requested" | "withdrawn";
  findings: string[];
  requested_at: string;
  submitted_at: string | null;
}

/** The integration status of one wave of a plan. */
export interface WaveIntegrationRecord {
  plan_id: string;
  wave_number: number;
  status: "integrated" | "failed" | "rolled_back";
  /** Attempts of integrate_wave so far (reports are kept per attempt). */
  attempt: number;
  at: string;
  by: string;
  reasons: string[];
  decision_seq: number;
}

/** Emergency types (execution-template.md, "Emergency Coordination Protocols"). */
export const EMERGENCY_TYPES = ["agent_failure", "resource_failure", "communication_breakdown", "quality_crisis", "external_dependency"] as const;
export type EmergencyType = (typeof EMERGENCY_TYPES)[number];

/** An emergency (execution-template.md, "Emergency Response": alert, escalation, temporary measures, recovery, post-incident review). */
export interface IncidentRecord {
  incident_id: string;
  seq: number;
  type: EmergencyType;
  description: string;
  temporary_measures: string | null;
  reported_by: string;
  reported_at: string;
  escalated_to: string[];
  status: "open" | "closed";
  closed_by: string | null;
  closed_at: string | null;
  recovery: string | null;
  review: string | null;
  /** The decision carrying the post-incident review. */
  decision_seq: number | null;
}

/** One entry of the activity log (execution-template.md, "Live Documentation": agent activity logs). */
export interface ActivityRecord {
  seq: number;
  /** e.g. lock_granted, lock_refused, signal_emitted, handoff_sent, gate_result, wave_integrated. */
  kind: string;
  agent_id: string;
  feature_id: string | null;
  plan_id: string | null;
  summary: string;
  data: Record<string, unknown>;
  at: string;
}
