/**
 * Agent inboxes: handoffs, audit signals, pause/resume and checkpoint
 * instructions, convention updates and escalations are delivered here in the
 * same write transaction as the change they announce, and stay until the
 * recipient acknowledges them (coordination-skill.md, "Cross-Agent Discovery
 * Handoff"; execution-template.md, "Communication Delays").
 *
 * A message unacknowledged longer than `control.ack_limit_ms` is a
 * communication delay. Key layout: store/schema.ts (`messages`).
 *
 * Retention (config `retention`, {@link pruneInbox}): acknowledged messages
 * go once they were acknowledged more than `inbox_max_age_ms` ago, or while
 * the inbox holds more than `inbox_max_entries_per_agent` messages (oldest
 * first), or, while the store is at its quota (store/lmdb/guard.ts), whatever
 * their age. Unacknowledged messages are never pruned: a message someone
 * must act on is not dropped silently, even past the count (an inbox full of
 * them shows as communication delays in signalbox://metrics instead).
 * Pruning runs when a message is delivered to the inbox and when its owner
 * acknowledges messages, a few at a time.
 */
import { atStoreQuota } from "../../store/port.js";
import { messages, meta } from "../../store/schema.js";
import type { ReadTxn } from "../../store/txn.js";
import { nowIso, type ControlEnv } from "./env.js";
import { paginate, type Page } from "./page.js";
import type { MessageKind, MessagePriority, MessageRecord } from "./records.js";
import { InvalidArgumentError } from "../../errors.js";

/** What a sender supplies; the inbox adds id, recipient and times. */
export interface Outgoing {
  from: string;
  kind: MessageKind;
  priority?: MessagePriority;
  summary: string;
  body?: Record<string, unknown>;
  ref?: { kind: string; id: string } | null;
}

/** A message as its recipient sees it: `delayed` when unacknowledged past the limit. */
export type MessageView = Omit<MessageRecord, "seq" | "created_mono" | "to"> & { delayed: boolean };

const PRIORITY_RANK: Record<MessagePriority, number> = { algedonic: 0, high: 1, normal: 2 };

/** Most acknowledged messages one pruning step removes from an inbox. */
export const INBOX_PRUNE_BATCH = 4;
/** How many of an inbox's oldest messages one pruning step looks at (unacknowledged ones are skipped). */
export const INBOX_PRUNE_SCAN = 16;

/**
 * Deliver one message to each of `recipients` (duplicates collapse). Call
 * inside a write transaction so the message commits with its cause.
 * Returns the shared `message_id` (`m-<seq>`) and who got it.
 */
export function deliver(env: ControlEnv, recipients: Iterable<string>, msg: Outgoing): { message_id: string; delivered_to: string[] } {
  return env.txn.write((tx) => {
    const { clock } = env;
    const to = [...new Set(recipients)];
    const seq = tx.next(meta.counter, ["message_seq"]);
    const message_id = `m-${seq}`;
    const created_at = nowIso(env);
    const created_mono = clock.monoMs();
    const squeezed = atStoreQuota(env.txn.usedBytes(), env.config.limits.store_mb);
    for (const agent of to) {
      const rec: MessageRecord = {
        message_id,
        seq,
        to: agent,
        from: msg.from,
        kind: msg.kind,
        priority: msg.priority ?? "normal",
        summary: msg.summary,
        body: msg.body ?? {},
        ref: msg.ref ?? null,
        created_at,
        created_mono,
        acked_at: null,
      };
      tx.put(messages.message, [agent, seq], rec);
      tx.put(messages.unacknowledged, [seq, agent], created_mono);
      pruneInbox(env, agent, squeezed);
    }
    return { message_id, delivered_to: to };
  });
}

/**
 * Retention of `agent`'s inbox (see the module comment): among its
 * {@link INBOX_PRUNE_SCAN} oldest messages, remove at most
 * {@link INBOX_PRUNE_BATCH} acknowledged ones that are past
 * `retention.inbox_max_age_ms` since their acknowledgement, or beyond
 * `retention.inbox_max_entries_per_agent` messages, or any acknowledged one
 * when `squeezed` (the store at its quota). Unacknowledged messages are
 * never removed. Inside a write transaction. Cost: one count of the inbox's
 * keys and at most {@link INBOX_PRUNE_SCAN} records read. Returns how many
 * were removed.
 */
export function pruneInbox(env: ControlEnv, agent: string, squeezed = false): number {
  return env.txn.write((tx) => {
    const { inbox_max_entries_per_agent: maxEntries, inbox_max_age_ms: maxAgeMs } = env.config.retention;
    let count = 0;
    for (const _ of tx.range(messages.message, { prefix: [agent] })) count++;
    const cutoff = env.clock.wallMs() - maxAgeMs;
    const doomed: [string, number][] = [];
    for (const { key, value: m } of tx.range(messages.message, { prefix: [agent], limit: INBOX_PRUNE_SCAN })) {
      if (doomed.length === INBOX_PRUNE_BATCH) break;
      if (m.acked_at === null) continue;
      if (squeezed || count > maxEntries || Date.parse(m.acked_at) < cutoff) {
        doomed.push(key);
        count--;
      }
    }
    for (const key of doomed) tx.remove(messages.message, key);
    return doomed.length;
  });
}

function inboxRecords(tx: ReadTxn, agent: string): Iterable<MessageRecord> {
  return tx.values(messages.message, { prefix: [agent] });
}

function isDelayed(env: ControlEnv, m: MessageRecord): boolean {
  return m.acked_at === null && env.clock.monoMs() - m.created_mono > env.config.control.ack_limit_ms;
}

function view(env: ControlEnv, m: MessageRecord): MessageView {
  const { seq: _seq, created_mono: _mono, to: _to, ...rest } = m;
  return { ...rest, delayed: isDelayed(env, m) };
}

/** How many messages `agent` has not acknowledged. Read inside or outside a transaction. */
export function unreadCount(env: ControlEnv, agent: string): number {
  let n = 0;
  for (const m of inboxRecords(env.txn.read(), agent)) if (m.acked_at === null) n++;
  return n;
}

/**
 * The inbox of `agent`: algedonic first, then high, then normal priority,
 * oldest first within a priority. Read-only.
 */
export function listInbox(
  env: ControlEnv,
  agent: string,
  opts: { unread_only?: boolean; cursor?: string | null; limit?: number } = {},
): Page<MessageView> & { unread: number; delayed: number } {
  const tx = env.txn.latest();
  const all: MessageRecord[] = [];
  let unread = 0;
  let delayed = 0;
  for (const m of inboxRecords(tx, agent)) {
    if (m.acked_at === null) unread++;
    if (isDelayed(env, m)) delayed++;
    if (opts.unread_only && m.acked_at !== null) continue;
    all.push(m);
  }
  all.sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.seq - b.seq);
  const page = paginate(all, opts.cursor, opts.limit ?? env.config.control.page_size);
  return { ...page, items: page.items.map((m) => view(env, m)), unread, delayed };
}

/** The outcome of {@link acknowledgeMessages}: every id lands in exactly one list. */
export interface AckResult {
  acknowledged: MessageRecord[];
  already: string[];
  /** Ids not in this inbox: never delivered to it, or acknowledged and since pruned by retention. */
  unknown: string[];
}

/**
 * Mark `message_ids` of `agent`'s inbox acknowledged, then prune the inbox
 * ({@link pruneInbox}). Call inside a write transaction; ids not in this
 * agent's inbox come back as `unknown`.
 * @throws Error naming `message_ids[i]` if an id is not of the form `m-<n>`.
 */
export function acknowledgeMessages(env: ControlEnv, agent: string, ids: string[]): AckResult {
  return env.txn.write((tx) => {
    const out: AckResult = { acknowledged: [], already: [], unknown: [] };
    const at = nowIso(env);
    ids.forEach((id, i) => {
      const m = /^m-(\d{1,12})$/.exec(id);
      if (!m) throw new InvalidArgumentError(`message_ids[${i}]`, `expected a message id like m-12, got "${id}"`);
      const seq = Number(m[1]);
      const rec = tx.get(messages.message, [agent, seq]);
      if (!rec) out.unknown.push(id);
      else if (rec.acked_at !== null) out.already.push(id);
      else {
        const acked = { ...rec, acked_at: at };
        tx.put(messages.message, [agent, seq], acked);
        tx.remove(messages.unacknowledged, [seq, agent]);
        out.acknowledged.push(acked);
      }
    });
    if (out.acknowledged.length > 0) pruneInbox(env, agent, atStoreQuota(env.txn.usedBytes(), env.config.limits.store_mb));
    return out;
  });
}

/** An unacknowledged message older than the limit: a communication delay (execution-template.md, "Bottleneck Types"). */
export interface DelayedMessage {
  message_id: string;
  to: string;
  kind: MessageKind;
  summary: string;
  created_at: string;
  waiting_ms: number;
}

/** Every unacknowledged message older than `control.ack_limit_ms`, oldest first. Read-only. */
export function delayedMessages(env: ControlEnv): DelayedMessage[] {
  const now = env.clock.monoMs();
  const limit = env.config.control.ack_limit_ms;
  const tx = env.txn.read();
  const out: DelayedMessage[] = [];
  for (const { key, value: created } of tx.range(messages.unacknowledged)) {
    if (now - created <= limit) continue;
    const [seq, agent] = key;
    const rec = tx.get(messages.message, [agent, seq]);
    if (!rec) continue;
    out.push({
      message_id: rec.message_id,
      to: agent,
      kind: rec.kind,
      summary: rec.summary,
      created_at: rec.created_at,
      waiting_ms: Math.round(now - created),
    });
  }
  return out;
}
