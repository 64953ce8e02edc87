/**
 * The activity log: every coordination event, append-only, newest first
 * when read (execution-template.md, "Execution Documentation": "Agent
 * Activity Logs: real-time logs of agent activities"; DESIGN.md "Activity").
 *
 * An entry is written by the domain function that decided the event, inside
 * the same write transaction, so the log holds exactly what committed, from
 * every process on the store, and an aborted step leaves no entry. An entry
 * is edited only to fold a repetition into it ({@link repeatActivity}).
 *
 * Retention (config `retention`): each append removes at most
 * {@link ACTIVITY_PRUNE_BATCH} of the oldest entries beyond
 * `activity_max_entries`, and every {@link ACTIVITY_SWEEP_EVERY}th append
 * also removes the oldest entries whose latest time (`data.last_at` of a
 * folded entry, else `at`) is older than `activity_max_age_ms`, stopping at
 * the first younger one. When the store is at its quota (`limits.store_mb`,
 * store/lmdb/guard.ts) that look removes up to {@link ACTIVITY_QUOTA_BATCH} of
 * the oldest entries down to {@link ACTIVITY_QUOTA_KEEP}, so the pages they
 * held are reused by the writes that go on. Pruning only ever removes the
 * oldest entries, never the newest, so sequence numbers stay contiguous and
 * are never reused; an entry goes with its index keys. Cursors stay valid: a
 * page below a pruned sequence number is simply shorter. The decision log is
 * a separate record and is never pruned (src/log/decisions.ts).
 *
 * Key layout (database `activity`):
 * | key                          | value                 |
 * |------------------------------|-----------------------|
 * | `E` seq12                    | {@link ActivityRecord} |
 * | `a` agent_id `\0` seq12      | 1: entries by agent   |
 * | `f` feature_id `\0` seq12    | 1: entries by feature |
 *
 * The sequence number is the last `E` key plus one, read in the writing
 * transaction (no shared counter page is touched on the lock hot path). The
 * `E` keys run without a gap from the oldest kept entry to the newest, so
 * the log's length is their difference plus one.
 *
 * Kinds written (snake_case; `agent_id` is who acted, `feature_id` the
 * feature the event concerns, when one does):
 * | kind                         | written by                                  |
 * |------------------------------|---------------------------------------------|
 * | `lock_granted`, `lock_refused` | control/lock-hooks.ts (`decided` hook)   |
 * | `lock_broken`                | lock-breaks.ts (one per broken lock)        |
 * | `signal_emitted`             | signals.ts `createSignal` (agents, detectors) |
 * | `signal_resolved`            | signals.ts (`data.auto` when auto-resolved) |
 * | `audit_handoff`, `audit_handoff_acknowledged` | audit.ts                   |
 * | `handoff_sent`, `handoff_acknowledged` | handoffs.ts (cross-agent)         |
 * | `checkpoint_requested`, `checkpoint_reached`, `checkpoint_resumed` | checkpoints.ts |
 * | `convention_set`, `convention_clash_escalated` | conventions.ts            |
 */
import { atStoreQuota } from "../store/port.js";
import { nowIso, type ControlEnv } from "../control/registry/env.js";
import type { ActivityRecord } from "../control/registry/records.js";
import { activity } from "../store/schema.js";
import type { ReadTxn } from "../store/txn.js";
import { InvalidArgumentError } from "../errors.js";

/** Longest summary kept, in characters (longer ones are cut with an ellipsis). */
export const ACTIVITY_SUMMARY_MAX = 300;
/** Most entries in one page of {@link listActivity}. */
export const ACTIVITY_PAGE_MAX = 200;
/** Most entries one append removes past `retention.activity_max_entries` (amortised O(1); a lowered limit is reached gradually). */
export const ACTIVITY_PRUNE_BATCH = 4;
/** Every this many appends (by sequence number), entry ages and the store's quota are looked at too. */
export const ACTIVITY_SWEEP_EVERY = 8;
/** Most entries one such look removes while the store is at its quota. */
export const ACTIVITY_QUOTA_BATCH = 16;
/** While the store is at its quota, the log gives up its oldest entries down to this many. */
export const ACTIVITY_QUOTA_KEEP = 100;

/** What a caller records; the sequence number and time are added. */
export interface ActivityInput {
  kind: string;
  agent_id: string;
  feature_id?: string | null;
  plan_id?: string | null;
  summary: string;
  data?: Record<string, unknown>;
}

/** Sequence number of the newest entry, 0 when the log is empty. */
function lastSeq(tx: ReadTxn): number {
  return tx.first(activity.entry, { reverse: true })?.key[0] ?? 0;
}

/** Sequence number of the oldest entry kept, 0 when the log is empty. */
function firstSeq(tx: ReadTxn): number {
  return tx.first(activity.entry)?.key[0] ?? 0;
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
 * event (the entry then commits or aborts with the event; called outside
 * one, it commits on its own). Returns the stored
 * record. Cost: one reverse cursor step and two or three puts.
 */
export function recordActivity(env: ControlEnv, input: ActivityInput): ActivityRecord {
  return env.txn.write((tx) => {
    const seq = lastSeq(tx) + 1;
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
    tx.put(activity.entry, [seq], rec);
    tx.put(activity.byAgent, [rec.agent_id, seq], 1);
    if (rec.feature_id !== null) tx.put(activity.byFeature, [rec.feature_id, seq], 1);
    pruneActivity(env, seq);
    return rec;
  });
}

/** Epoch ms of an entry's latest event: a folded entry's `data.last_at`, else `at` (NaN if unreadable: kept). */
function latestMs(rec: ActivityRecord): number {
  return Date.parse(typeof rec.data.last_at === "string" ? rec.data.last_at : rec.at);
}

/**
 * Retention of the log (see the module comment): remove some of the oldest
 * entries, never `newest` itself, with their index keys. Inside the write
 * transaction that appended entry `newest`. Cost: one cursor step (every
 * {@link ACTIVITY_SWEEP_EVERY}th append also the store's size, about 8 µs),
 * plus on a pruning append at most {@link ACTIVITY_QUOTA_BATCH} records read
 * and removed. Returns how many entries were removed.
 */
export function pruneActivity(env: ControlEnv, newest: number): number {
  return env.txn.write((tx) => {
    const { activity_max_entries: maxEntries, activity_max_age_ms: maxAgeMs } = env.config.retention;
    const sweep = newest % ACTIVITY_SWEEP_EVERY === 0;
    const squeezed = sweep && atStoreQuota(env.txn.usedBytes(), env.config.limits.store_mb);
    const keep = squeezed ? Math.min(maxEntries, ACTIVITY_QUOTA_KEEP) : maxEntries;
    const oldest = firstSeq(tx);
    if (oldest === 0 || (!sweep && newest - oldest + 1 <= keep)) return 0;
    const cutoff = sweep ? env.clock.wallMs() - maxAgeMs : Number.NEGATIVE_INFINITY;
    const doomed: ActivityRecord[] = [];
    for (const { key, value: rec } of tx.range(activity.entry, { limit: squeezed ? ACTIVITY_QUOTA_BATCH : ACTIVITY_PRUNE_BATCH })) {
      const [seq] = key;
      if (seq >= newest) break;
      if (newest - seq + 1 <= keep && !(latestMs(rec) < cutoff)) break;
      doomed.push({ ...rec, seq });
    }
    for (const rec of doomed) {
      tx.remove(activity.entry, [rec.seq]);
      tx.remove(activity.byAgent, [rec.agent_id, rec.seq]);
      if (rec.feature_id !== null) tx.remove(activity.byFeature, [rec.feature_id, rec.seq]);
    }
    return doomed.length;
  });
}

/** The agent's newest activity entry, or undefined. Reads in the open transaction, if any. */
export function lastActivityOf(env: ControlEnv, agentId: string): ActivityRecord | undefined {
  const tx = env.txn.read();
  const newest = tx.first(activity.byAgent, { prefix: [agentId], reverse: true });
  return newest ? tx.get(activity.entry, [newest.key[1]]) : undefined;
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
  return env.txn.write((tx) => {
    tx.put(activity.entry, [rec.seq], next);
    return next;
  });
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
  /** Sequence number of the oldest entry the log still holds (older ones were pruned by retention); null when it is empty. */
  oldest_seq: number | null;
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
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > ACTIVITY_PAGE_MAX) {
    throw new InvalidArgumentError("limit", `expected an integer 1..${ACTIVITY_PAGE_MAX}, got ${filter.limit}`);
  }
  let below = Number.POSITIVE_INFINITY;
  if (filter.cursor !== undefined && filter.cursor !== null && filter.cursor !== "") {
    if (!/^\d{1,12}$/.test(filter.cursor)) throw new InvalidArgumentError("cursor", `expected a next_cursor returned by an earlier page, got "${filter.cursor}"`);
    below = Number(filter.cursor);
  }
  const tx = env.txn.latest();
  const { agent_id, feature_id } = filter;
  // Walk the narrowest index: by agent, else by feature, else every entry; newest first, below the cursor.
  const seqs = seqsNewestFirst(tx, agent_id ? { by: "agent", id: agent_id } : feature_id ? { by: "feature", id: feature_id } : null, below);
  const items: ActivityRecord[] = [];
  let more = false;
  for (const seq of seqs) {
    const rec = tx.get(activity.entry, [seq]);
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
  const oldest = firstSeq(tx);
  return {
    items,
    next_cursor: more && last ? String(last.seq) : null,
    oldest_seq: oldest === 0 ? null : oldest,
    total: filter.since_ms != null || filter.until_ms != null ? null : countMatching(tx, agent_id ? { by: "agent", id: agent_id } : feature_id ? { by: "feature", id: feature_id } : null, agent_id && feature_id ? feature_id : null),
  };
}

/** An index of the log: entries by agent or by feature. */
type ActivityIndex = { by: "agent" | "feature"; id: string } | null;

/** Sequence numbers under `index` (every entry for null) below `below`, newest first. */
function* seqsNewestFirst(tx: ReadTxn, index: ActivityIndex, below: number): Generator<number> {
  const bounded = below !== Number.POSITIVE_INFINITY && below > 0;
  if (below <= 0) return;
  if (index === null) {
    for (const { key } of tx.range(activity.entry, { reverse: true, ...(bounded ? { from: [below - 1] as [number] } : {}) })) yield key[0];
    return;
  }
  const c = index.by === "agent" ? activity.byAgent : activity.byFeature;
  for (const { key } of tx.range(c, { prefix: [index.id], reverse: true, ...(bounded ? { from: [index.id, below - 1] as [string, number] } : {}) })) yield key[1];
}

/** Entries under `index` (every entry for null); with `featureId`, only those of that feature (reads each record). */
function countMatching(tx: ReadTxn, index: ActivityIndex, featureId: string | null): number {
  if (index === null) {
    const oldest = firstSeq(tx);
    return oldest === 0 ? 0 : lastSeq(tx) - oldest + 1;
  }
  const c = index.by === "agent" ? activity.byAgent : activity.byFeature;
  let n = 0;
  for (const { key } of tx.range(c, { prefix: [index.id] })) {
    if (featureId === null || tx.get(activity.entry, [key[1]])?.feature_id === featureId) n++;
  }
  return n;
}

const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const ISO_START = /^\d{4}-\d{2}-\d{2}(?:$|T)/;

/**
 * A `since`/`until` value as epoch ms: an ISO time (`2025-01-31T12:00:00Z`)
 * or a duration ago (`30s`, `15m`, `2h`, `1d`, also `ms`) before `nowMs`.
 * @throws InvalidArgumentError naming `field` for anything else.
 */
export function parseInstant(field: string, value: string, nowMs: number): number {
  const d = DURATION.exec(value);
  if (d) return nowMs - Number(d[1]) * (UNIT_MS[d[2] as string] as number);
  const ms = ISO_START.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InvalidArgumentError(field, `expected an ISO time (2025-01-31T12:00:00Z) or a duration ago (30s, 15m, 2h, 1d), got "${value}"`);
  }
  return ms;
}
