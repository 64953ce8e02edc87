/**
 * The wire shapes of the dashboard's JSON API (`/api/state`, the `state`
 * events of `/api/events`, `/api/activity`): built by src/dashboard/state*.ts
 * from the domain views, rendered by web/. This file and ./types-plan.ts
 * import nothing else, so the browser code type-checks against them alone.
 *
 * Units: `*_at` are ISO-8601 wall-clock times; `*_ms` are milliseconds,
 * measured by the server at `generated_at` (the page counts down from there
 * with its own monotonic clock, so a skewed browser clock does not matter).
 * No lock_id ever appears: it is the holder's secret.
 */
import type { PlanGraph, PlanSummaryRow, RadarState } from "./types-plan.js";

export type * from "./types-plan.js";

/** What the page shows at one moment; pushed on every change of the store (coalesced). */
export interface DashboardState {
  generated_at: string;
  /** Project root the serving process runs in. */
  root: string;
  /** Store folder. */
  store: string;
  /** `control.heartbeat_ms`: an agent silent longer than this is stale. */
  heartbeat_ms: number;
  agents: AgentRow[];
  /** Agents beyond the first 200, not listed. */
  agents_omitted: number;
  /** Live locks in key order, each with the waiters queued on an overlapping key. */
  locks: LockRow[];
  locks_omitted: number;
  /** Live waiters that overlap no held key (queued behind other waiters only). */
  waiting: WaiterRow[];
  signals: SignalsBlock;
  /** Open checkpoints. */
  checkpoints: CheckpointRow[];
  incidents: IncidentsBlock;
  /** Cross-agent handoffs some recipient has not acknowledged, oldest first. */
  handoffs: HandoffRow[];
  /** Audit handoffs to the test phase that no test engineer has acknowledged yet. */
  audit_handoffs: AuditHandoffRow[];
  /** Stored wave plans, newest first (at most 50). */
  plans: PlanSummaryRow[];
  /** The plan asked for (`?plan=`), else the newest; null when there is none. */
  plan: PlanGraph | null;
  radar: RadarState;
  /** Sequence number of the newest activity entry (null: empty log): the page refetches its first page when it rises. */
  activity_head: number | null;
}

/** One agent on the status board. */
export interface AgentRow {
  agent_id: string;
  role: string;
  domain: string | null;
  status: "working" | "blocked" | "completed" | "error" | "paused" | string;
  feature_id: string | null;
  current_task: string | null;
  /** 0..100, or null when never reported. */
  progress: number | null;
  blocking_issues: string[];
  worktree: string | null;
  branch: string | null;
  /** Short commit id of HEAD where it works, or null. */
  head: string | null;
  /** False once silent longer than `heartbeat_ms` (or seen under another boot). */
  available: boolean;
  /** Time since its last call, ms; -1 when seen under another boot (unknown). */
  silent_ms: number;
  last_seen_at: string;
  /** Open pausing signals that pause it. */
  paused_by: { signal_id: string; level: string; algedonic: boolean; summary: string }[];
}

/** What a lock key names: a file, a folder (covers everything below it), a table or a shared resource. */
export type KeyKind = "file" | "folder" | "table" | "resource";

/** A live lock. */
export interface LockRow {
  key: string;
  kind: KeyKind;
  mode: "read" | "write";
  agent_id: string;
  feature_id: string | null;
  fencing_token: number;
  acquired_at: string;
  expires_at: string;
  /** Lease left at `generated_at`, ms (0 when lapsed). */
  lease_left_ms: number;
  /** Waiters asking for this key or one overlapping it, FIFO. */
  queue: WaiterRow[];
}

/** A queued lock request. */
export interface WaiterRow {
  agent_id: string;
  mode: "read" | "write";
  keys: string[];
  feature_id: string | null;
  enqueued_at: string;
  gives_up_at: string;
  /** Time until it gives up, at `generated_at`, ms. */
  gives_up_in_ms: number;
}

/** An audit signal. */
export interface SignalRow {
  signal_id: string;
  level: "GREEN" | "YELLOW" | "RED" | string;
  algedonic: boolean;
  status: "open" | "resolved" | "noted" | string;
  summary: string;
  feature_id: string | null;
  files: string[];
  emitted_by: string;
  emitted_at: string;
  /** Agents it pauses now (open signals only). */
  pauses: string[];
}

/** Open signals (algedonic first, then RED, oldest first) and the newest ones. */
export interface SignalsBlock {
  open: SignalRow[];
  open_omitted: number;
  recent: SignalRow[];
  total: number;
}

/** An open integration checkpoint. */
export interface CheckpointRow {
  name: string;
  requested_by: string;
  reason: string;
  feature_id: string | null;
  expected: number;
  arrived: string[];
  missing: string[];
  requested_at: string;
}

/** An emergency. */
export interface IncidentRow {
  incident_id: string;
  type: string;
  description: string;
  temporary_measures: string | null;
  reported_by: string;
  reported_at: string;
  escalated_to: string[];
  status: "open" | "closed" | string;
  closed_at: string | null;
  recovery: string | null;
}

/** Open incidents (oldest first) and the newest closed ones. */
export interface IncidentsBlock {
  open: IncidentRow[];
  open_total: number;
  closed: IncidentRow[];
  closed_total: number;
}

/** A cross-agent handoff not yet acknowledged by every recipient. */
export interface HandoffRow {
  message_id: string;
  from: string;
  priority: string;
  discovery: string;
  affects: string;
  impact: string;
  files: string[];
  created_at: string;
  /** Recipients that have not acknowledged it. */
  waiting_on: string[];
  /** Unacknowledged past `control.ack_limit_ms`. */
  delayed: boolean;
}

/** An audit handoff to the test phase awaiting acknowledgement. */
export interface AuditHandoffRow {
  handoff_id: string;
  feature_id: string;
  from_agent: string;
  concerns: number;
  created_at: string;
  delivered_to: string[];
}

/** One activity entry. */
export interface ActivityRow {
  seq: number;
  kind: string;
  agent_id: string;
  feature_id: string | null;
  plan_id: string | null;
  summary: string;
  at: string;
}

/** A page of `/api/activity`, newest first. */
export interface ActivityPageBody {
  items: ActivityRow[];
  /** Pass as `cursor` for older entries; null on the last page. */
  next_cursor: string | null;
  /** Matching entries in all; null when a time filter is set. */
  total: number | null;
  oldest_seq: number | null;
}

/** The body of a refused API request. */
export interface ApiError {
  error: string;
}
