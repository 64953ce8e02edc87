/**
 * The activity log: every coordination event, append-only, newest first
 * when read (execution-template.md, "Execution Documentation": "Agent
 * Activity Logs: real-time logs of agent activities"; DESIGN.md "Activity").
 *
 * An entry is written by the domain function that decided the event, inside
 * the same write transaction, so the log holds exactly what committed, from
 * every process on the store, and an aborted step leaves no entry. Entries
 * are never edited or deleted.
 *
 * Key layout (database `activity`):
 * | key                          | value                 |
 * |------------------------------|-----------------------|
 * | `E` seq12                    | {@link ActivityRecord} |
 * | `a` agent_id `\0` seq12      | 1: entries by agent   |
 * | `f` feature_id `\0` seq12    | 1: entries by feature |
 *
 * The sequence number is the last `E` key plus one, read in the writing
 * transaction (no shared counter page is touched on the lock hot path).
 *
 * Kinds written (snake_case; `agent_id` is who acted, `feature_id` the
 * feature the event concerns, when one does):
 * | kind                         | written by                                  |
 * |------------------------------|---------------------------------------------|
 * | `lock_granted`, `lock_refused` | hooks.ts (lock manager `decided` hook)    |
 * | `lock_broken`                | lock-breaks.ts (one per broken lock)        |
 * | `signal_emitted`             | signals.ts `createSignal` (agents, detectors) |
 * | `signal_resolved`            | signals.ts (`data.auto` when auto-resolved) |
 * | `audit_handoff`, `audit_handoff_acknowledged` | audit.ts                   |
 * | `handoff_sent`, `handoff_acknowledged` | handoffs.ts (cross-agent)         |
 * | `checkpoint_requested`, `checkpoint_reached`, `checkpoint_resumed` | checkpoints.ts |
 * | `convention_set`, `convention_clash_escalated` | conventions.ts            |
 */
import { nowIso, type ControlEnv } from "./env.js";
import { seq12, type ActivityRecord } from "./records.js";

/** Longest summary kept, in characters (longer ones are cut with an ellipsis). */
export const ACTIVITY_SUMMARY_MAX = 300;
/** Most entries in one page of {@link listActivity}. */
export const ACTIVITY_PAGE_MAX = 200;

/** What a caller records; the sequence number and time are added. */
export interface ActivityInput {
  kind: string;
  agent_id: string;
  feature_id?: string | null;
  plan_id?: string | null;
  summary: string;
  data?: Record<string, unknown>;
}

function lastSeq(env: ControlEnv): number {
  for (const key of env.store.activity.getKeys({ start: "F", end: "E", reverse: true, limit: 1 })) {
    return Number((key as string).slice(1));
  }
  return 0;
}

/** `text` cut to {@link ACTIVITY_SUMMARY_MAX} characters with an ellipsis, never inside a surrogate pair. */
function clip(text: string): string {
  if (text.length <= ACTIVITY_SUMMARY_MAX) return text;
  let end = ACTIVITY_SUMMARY_MAX - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * Append one entry. Call inside the write transaction that decided the
 * event (its puts join it, so the entry commits or aborts with the event;
 * called outside one, each put would commit on its own). Returns the stored
 * record. Cost: one reverse cursor step and two or three puts.
 */
export function recordActivity(env: ControlEnv, input: ActivityInput): ActivityRecord {
  const { activity } = env.store;
  const seq = lastSeq(env) + 1;
  const summary = clip(input.summary);
  const rec: ActivityRecord = {
    seq,
    kind: input.kind,
    agent_id: input.agent_id,
    feature_id: input.feature_id ?? null,
    plan_id: input.plan_id ?? null,
    summary,
    data: input.data ?? {},
    at: nowIso(env),
  };
  const s = seq12(seq);
  activity.putSync(`E${s}`, rec);
  activity.putSync(`a${rec.agent_id}\0${s}`, 1);
  if (rec.feature_id !== null) activity.putSync(`f${rec.feature_id}\0${s}`, 1);
  return rec;
}

/** The agent's newest activity entry, or undefined. Reads in the open transaction, if any. */
export function lastActivityOf(env: ControlEnv, agentId: string): ActivityRecord | undefined {
  const prefix = `a${agentId}\0`;
  for (const key of env.store.activity.getKeys({ start: `${prefix}\uffff`, end: prefix, reverse: true, limit: 1 })) {
    return env.store.activity.get(`E${(key as string).slice(prefix.length)}`) as ActivityRecord | undefined;
  }
  return undefined;
}

/**
 * Fold a repetition into an existing entry instead of appending one: the
 * entry keeps its seq and first time, and counts the repetitions in
 * `data.count` with the latest at `data.last_at` (ISO). Inside a write
 * transaction. What an agent polling in a loop costs the log is one entry.
 */
export function repeatActivity(env: ControlEnv, rec: ActivityRecord, summary: string): ActivityRecord {
  const count = (typeof rec.data.count === "number" ? rec.data.count : 1) + 1;
  const next: ActivityRecord = { ...rec, summary: clip(`${summary} (x${count})`), data: { ...rec.data, count, last_at: nowIso(env) } };
  env.store.activity.putSync(`E${seq12(rec.seq)}`, next);
  return next;
}

/** Filters of {@link listActivity}; times are epoch ms (inclusive bounds). */
export interface ActivityFilter {
  agent_id?: string | null;
  feature_id?: string | null;
  since_ms?: number | null;
  until_ms?: number | null;
  /** `next_cursor` of the previous page. */
  cursor?: string | null;
  /** Page size, 1..{@link ACTIVITY_PAGE_MAX}. */
  limit: number;
}

/** One page of the activity log, newest first. */
export interface ActivityPage {
  items: ActivityRecord[];
  /** Pass back as `cursor` for older entries; null on the last page. */
  next_cursor: string | null;
  /** Entries matching the agent/feature filters in all; null when a time filter is set (counting would read every entry). */
  total: number | null;
}

/**
 * A page of the activity log, newest first, filtered by agent, feature and
 * time. Read-only; starts a fresh read transaction.
 *
 * @throws Error `cursor: ...` for a cursor this function did not produce;
 *         `limit: ...` outside 1..{@link ACTIVITY_PAGE_MAX}.
 */
export function listActivity(env: ControlEnv, filter: ActivityFilter): ActivityPage {
  const { activity } = env.store;
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > ACTIVITY_PAGE_MAX) {
    throw new Error(`limit: expected an integer 1..${ACTIVITY_PAGE_MAX}, got ${filter.limit}`);
  }
  let below = Number.POSITIVE_INFINITY;
  if (filter.cursor !== undefined && filter.cursor !== null && filter.cursor !== "") {
    if (!/^\d{1,12}$/.test(filter.cursor)) throw new Error(`cursor: expected a next_cursor returned by an earlier page, got "${filter.cursor}"`);
    below = Number(filter.cursor);
  }
  env.store.env.resetReadTxn();
  const { agent_id, feature_id } = filter;
  // Walk the narrowest index: by agent, else by feature, else every entry.
  const prefix = agent_id ? `a${agent_id}\0` : feature_id ? `f${feature_id}\0` : "E";
  const upper = below === Number.POSITIVE_INFINITY ? `${prefix}\uffff` : `${prefix}${seq12(below)}`;
  const items: ActivityRecord[] = [];
  let more = false;
  for (const key of activity.getKeys({ start: upper, end: prefix, reverse: true })) {
    const k = key as string;
    if (k === upper) continue;
    const rec = activity.get(`E${k.slice(prefix.length)}`) as ActivityRecord | undefined;
    if (!rec) continue;
    if (agent_id && feature_id && rec.feature_id !== feature_id) continue;
    const at = Date.parse(rec.at);
    if (filter.until_ms != null && at > filter.until_ms) continue;
    if (filter.since_ms != null && at < filter.since_ms) break;
    if (items.length === filter.limit) {
      more = true;
      break;
    }
    items.push(rec);
  }
  const last = items[items.length - 1];
  return {
    items,
    next_cursor: more && last ? String(last.seq) : null,
    total: filter.since_ms != null || filter.until_ms != null ? null : countMatching(env, prefix, agent_id && feature_id ? feature_id : null),
  };
}

/** Entries under index `prefix`; with `featureId`, only those of that feature (reads each record). */
function countMatching(env: ControlEnv, prefix: string, featureId: string | null): number {
  const { activity } = env.store;
  if (prefix === "E") return lastSeq(env);
  if (featureId === null) return activity.getKeysCount({ start: prefix, end: `${prefix}\uffff` });
  let n = 0;
  for (const key of activity.getKeys({ start: prefix, end: `${prefix}\uffff` })) {
    const rec = activity.get(`E${(key as string).slice(prefix.length)}`) as ActivityRecord | undefined;
    if (rec?.feature_id === featureId) n++;
  }
  return n;
}
