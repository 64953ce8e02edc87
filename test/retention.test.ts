/**
 * Retention of what grows with every event (config `retention`): the
 * activity log by count and age, acknowledged inbox messages, detector
 * holder histories; pruning that frees room at the store's quota so holders
 * can still release; and the store staying sound (index keys consistent,
 * `checkStore` clean, cursors valid) after entries are gone.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { ACTIVITY_QUOTA_KEEP, listActivity } from "../src/log/activity.js";
import { HISTORY_PRUNE_STEP } from "../src/control/detectors.js";
import { acknowledgeMessages, deliver, listInbox } from "../src/control/registry/inbox.js";
import type { ActivityRecord, MessageRecord } from "../src/control/registry/records.js";
import { appendDecision } from "../src/log/decisions.js";
import { checkStore } from "../src/store/lmdb/check.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { quotaHeadroomBytes } from "../src/store/lmdb/guard.js";
import type { Store } from "../src/store/lmdb/store.js";
import { connect, type Harness } from "./helpers/client.js";
import { lmdbTxn } from "../src/store/lmdb/engine.js";

const MIB = 1024 * 1024;
let h: Harness | undefined;
let clock: ManualClock;
/** Polls made by {@link pollAlternating} on the current harness: the alternation carries over from one call to the next. */
let polled = 0;

afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function open(config: Record<string, unknown>): Promise<Harness> {
  clock = manualClock();
  polled = 0;
  h = await connect({ clock, config: parseConfig(config) });
  return h;
}

/**
 * Every activity index key points to an entry of its agent / feature, every
 * entry has its index keys, and the `E` keys run without a gap. Returns the
 * entries' sequence numbers, oldest first.
 */
function activityConsistency(store: Store): number[] {
  store.env.resetReadTxn();
  const entries = new Map<number, ActivityRecord>();
  const index = new Set<string>();
  for (const { key, value } of store.activity.getRange({})) {
    const k = key as string;
    if (k[0] === "E") entries.set(Number(k.slice(1)), value as ActivityRecord);
    else index.add(k);
  }
  const seqs = [...entries.keys()];
  seqs.forEach((s, i) => {
    if (i > 0) expect(s, "E keys run without a gap").toBe((seqs[i - 1] as number) + 1);
  });
  for (const k of index) {
    const [owner, seq] = k.slice(1).split("\0") as [string, string];
    const rec = entries.get(Number(seq));
    expect(rec, `index key ${JSON.stringify(k)} points to an entry`).toBeDefined();
    expect(k[0] === "a" ? rec?.agent_id : rec?.feature_id).toBe(owner);
  }
  for (const [seq, rec] of entries) {
    const s = String(seq).padStart(12, "0");
    expect(index.has(`a${rec.agent_id}\0${s}`)).toBe(true);
    if (rec.feature_id !== null) expect(index.has(`f${rec.feature_id}\0${s}`)).toBe(true);
  }
  expect(checkStore(store).problems).toEqual([]);
  return seqs;
}

/** Two refusals that differ (so they never fold): `bob` holds both keys, `alice` polls one, then both. */
async function pollAlternating(hh: Harness, n: number, keys: string[] = ["src/hot.ts", "src/warm.ts"]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await hh.ctx.locks.acquire({ agent_id: "alice", keys: polled++ % 2 === 0 ? keys.slice(0, 1) : keys, mode: "write", feature_id: "F1" });
    expect(r.granted).toBe(false);
  }
}

describe("activity log retention", () => {
  it("keeps at most activity_max_entries, removing the oldest with their index keys", async () => {
    const hh = await open({ retention: { activity_max_entries: 50 } });
    expect((await hh.ctx.locks.acquire({ agent_id: "bob", keys: ["src/hot.ts", "src/warm.ts"], mode: "write" })).granted).toBe(true);
    await pollAlternating(hh, 300);
    const seqs = activityConsistency(hh.ctx.store);
    expect(seqs).toHaveLength(50);
    expect(seqs[seqs.length - 1]).toBe(301);
    const page = listActivity(hh.ctx, { limit: 10 });
    expect(page).toMatchObject({ total: 50, oldest_seq: 252 });
    expect(listActivity(hh.ctx, { agent_id: "alice", limit: 10 }).total).toBe(50);
    expect(listActivity(hh.ctx, { feature_id: "F1", limit: 10 }).total).toBe(50);
  });

  it("drops entries older than activity_max_age_ms, a few per append, and keeps a folded entry by its latest time", async () => {
    const hh = await open({ retention: { activity_max_age_ms: 60_000 } });
    await hh.ctx.locks.acquire({ agent_id: "bob", keys: ["src/hot.ts", "src/warm.ts"], mode: "write" });
    await pollAlternating(hh, 20); // seq 2..21, two minutes old below (bob's 10-minute lease still holds)
    clock.advance(120_000);
    await pollAlternating(hh, 60);
    const left = listActivity(hh.ctx, { limit: 200 }).items;
    const cutoff = clock.wallMs() - 60_000;
    expect(left.every((e) => Date.parse(e.at) >= cutoff)).toBe(true);
    expect(left).toHaveLength(60);
    activityConsistency(hh.ctx.store);
  });

  it("judges a folded entry by its latest repetition, and stops at the first young entry", async () => {
    const hh = await open({ retention: { activity_max_age_ms: 60_000 } });
    await hh.ctx.locks.acquire({ agent_id: "bob", keys: ["src/hot.ts", "src/warm.ts"], mode: "write" });
    await hh.ctx.locks.acquire({ agent_id: "carol", keys: ["src/hot.ts"], mode: "write" });
    clock.advance(120_000);
    // Repeated two minutes later: the entry (seq 2) was first logged long ago, but it is young.
    await hh.ctx.locks.acquire({ agent_id: "carol", keys: ["src/hot.ts"], mode: "write" });
    await pollAlternating(hh, 40);
    const items = listActivity(hh.ctx, { limit: 200 }).items;
    expect(items.map((e) => e.seq).slice(-1)).toEqual([2]);
    expect(items[items.length - 1]?.data.count).toBe(2);
    expect(listActivity(hh.ctx, { agent_id: "bob", limit: 10 }).items).toHaveLength(0);
    activityConsistency(hh.ctx.store);
  });

  it("keeps cursors of signalbox://activity working when the entries below them are pruned", async () => {
    const hh = await open({ retention: { activity_max_entries: 20 } });
    await hh.ctx.locks.acquire({ agent_id: "bob", keys: ["src/hot.ts", "src/warm.ts"], mode: "write" });
    await pollAlternating(hh, 19);
    type Body = { items: ActivityRecord[]; next_cursor: string | null; next_uri: string | null; total: number | null; oldest_seq: number | null };
    const first = await hh.readJson<Body>("signalbox://activity?limit=5");
    expect(first.items.map((e) => e.seq)).toEqual([20, 19, 18, 17, 16]);
    expect(first.oldest_seq).toBe(1);
    // Part of the rest is pruned while the reader pages: the next page starts below its cursor, at what is left.
    await pollAlternating(hh, 8);
    const second = await hh.readJson<Body>(first.next_uri as string);
    expect(second.items.map((e) => e.seq)).toEqual([15, 14, 13, 12, 11]);
    expect(second.oldest_seq).toBe(9);
    // Everything below the cursor is gone: an empty last page, never an error.
    await pollAlternating(hh, 30);
    const third = await hh.readJson<Body>(second.next_uri as string);
    expect(third).toMatchObject({ items: [], next_cursor: null, next_uri: null, total: 20, oldest_seq: 39 });
    activityConsistency(hh.ctx.store);
  });

  it("5,000 refused polls of one agent: identical ones fold, differing ones are pruned, the store grows little", async () => {
    const hh = await open({ retention: { activity_max_entries: 200 } });
    await hh.ctx.locks.acquire({ agent_id: "bob", keys: ["src/hot.ts", "src/warm.ts"], mode: "write" });
    const before = hh.ctx.store.usedBytes();
    for (let i = 0; i < 2500; i++) await hh.ctx.locks.acquire({ agent_id: "alice", keys: ["src/hot.ts"], mode: "write" });
    const folded = listActivity(hh.ctx, { agent_id: "alice", limit: 10 });
    expect(folded.items).toHaveLength(1);
    expect(folded.items[0]?.data.count).toBe(2500);
    await pollAlternating(hh, 2500);
    const grown = hh.ctx.store.usedBytes() - before;
    const seqs = activityConsistency(hh.ctx.store);
    expect(seqs.length).toBe(200);
    expect(seqs[0]).toBeGreaterThan(2000);
    expect(grown, `store grew ${grown} bytes`).toBeLessThan(512 * 1024);
  });
});

describe("inbox retention", () => {
  const send = (hh: Harness, n: number, to = "dev") =>
    hh.ctx.store.write(() => Array.from({ length: n }, (_, i) => deliver(hh.ctx, [to], { from: "orch", kind: "notice", summary: `note ${i}` }).message_id));
  const inboxRecords = (hh: Harness, agent = "dev") => {
    hh.ctx.store.env.resetReadTxn();
    return [...hh.ctx.store.messages.getRange({ start: `I${agent}\0`, end: `I${agent}\x01` })].map(({ value }) => value as MessageRecord);
  };
  /** Every `U` key marks an unacknowledged record, and every unacknowledged record has one. */
  const unreadIndexConsistent = (hh: Harness) => {
    const u = [...hh.ctx.store.messages.getKeys({ start: "U", end: "V" })].map((k) => {
      const [seq, agent] = (k as string).slice(1).split("\0") as [string, string];
      return `I${agent}\0${seq}`;
    });
    const unread = [...hh.ctx.store.messages.getRange({ start: "I", end: "J" })].filter(({ value }) => (value as MessageRecord).acked_at === null).map(({ key }) => key as string);
    expect(u.sort()).toEqual(unread.sort());
  };

  it("never drops an unacknowledged message, even past inbox_max_entries_per_agent", async () => {
    const hh = await open({ retention: { inbox_max_entries_per_agent: 10 } });
    send(hh, 40);
    expect(inboxRecords(hh)).toHaveLength(40);
    expect(listInbox(hh.ctx, "dev", { limit: 100 }).unread).toBe(40);
  });

  it("prunes acknowledged messages past the count, oldest first, when messages arrive or are acknowledged", async () => {
    const hh = await open({ retention: { inbox_max_entries_per_agent: 10 } });
    const ids = send(hh, 30);
    hh.ctx.store.write(() => acknowledgeMessages(hh.ctx, "dev", ids.slice(0, 25)));
    expect(inboxRecords(hh)).toHaveLength(26); // the acknowledgement itself pruned 4
    const fresh = send(hh, 8);
    const left = inboxRecords(hh);
    // 5 unread + 8 fresh unread stay; the acknowledged ones go until the inbox is down to 10 or none is left.
    expect(left.filter((m) => m.acked_at === null)).toHaveLength(13);
    expect(left.filter((m) => m.acked_at !== null)).toHaveLength(0);
    expect(left.map((m) => m.message_id)).toEqual([...ids.slice(25), ...fresh]);
    unreadIndexConsistent(hh);
    // An id pruned after its acknowledgement is unknown now.
    expect(hh.ctx.store.write(() => acknowledgeMessages(hh.ctx, "dev", [ids[0] as string])).unknown).toEqual([ids[0]]);
  });

  it("prunes acknowledged messages inbox_max_age_ms after their acknowledgement", async () => {
    const hh = await open({ retention: { inbox_max_age_ms: 60_000 } });
    const ids = send(hh, 6);
    hh.ctx.store.write(() => acknowledgeMessages(hh.ctx, "dev", ids.slice(0, 3)));
    send(hh, 1);
    expect(inboxRecords(hh)).toHaveLength(7);
    clock.advance(61_000);
    send(hh, 1);
    expect(inboxRecords(hh).map((m) => m.message_id)).toEqual([...ids.slice(3), "m-7", "m-8"]);
    unreadIndexConsistent(hh);
  });
});

describe("detector history retention", () => {
  it("each new holder history prunes a few stale ones, so histories stay bounded by the window", async () => {
    const hh = await open({ control: { oscillation_window_ms: 1000 } });
    const grant = async (key: string) => {
      const r = await hh.ctx.locks.acquire({ agent_id: "dev", keys: [key], mode: "write" });
      expect(r.granted).toBe(true);
      await hh.ctx.locks.release("dev", { keys: [key] });
    };
    const histories = () => {
      hh.ctx.store.env.resetReadTxn();
      return hh.ctx.store.metrics.getKeysCount({ start: "o", end: "p" });
    };
    for (let i = 0; i < 100; i++) await grant(`src/old/f${i}.ts`);
    expect(histories()).toBe(100);
    clock.advance(5000);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) await grant(`src/new${round}/f${i}.ts`);
      clock.advance(5000);
    }
    // 400 histories were started; only the last 100 are within the window, and each new one looked at HISTORY_PRUNE_STEP others.
    expect(histories()).toBeLessThanOrEqual(100 + 100 / HISTORY_PRUNE_STEP);
    expect(checkStore(hh.ctx.store).problems).toEqual([]);
  });
});

describe("the store at its quota", () => {
  /** Long keys make each refusal entry large, so a 1 MiB quota fills in a few hundred polls. */
  const longKeys = Array.from({ length: 12 }, (_, i) => `src/${"deeply-nested-folder/".repeat(4)}module-${i}.ts`);

  it("an agent polling fills the store to its quota: retention frees room, polls go on, a holder still releases", async () => {
    const hh = await open({ limits: { store_mb: 1, disk_reserve_mb: 0 } });
    const held = await hh.ctx.locks.acquire({ agent_id: "bob", keys: longKeys, mode: "write" });
    expect(held.granted).toBe(true);
    let polls = 0;
    while (hh.ctx.store.usedBytes() < MIB) {
      await pollAlternating(hh, 2, longKeys);
      polls += 2;
      expect(polls, "the store should reach 1 MiB").toBeLessThan(20_000);
    }
    const atQuota = activityConsistency(hh.ctx.store).length;
    // At the quota every write goes on (nothing is refused) and the log gives up its oldest entries.
    await pollAlternating(hh, 1000, longKeys);
    expect(hh.ctx.store.usedBytes()).toBeLessThan(MIB + quotaHeadroomBytes(1));
    const seqs = activityConsistency(hh.ctx.store);
    expect(seqs.length).toBeLessThan(atQuota);
    expect(seqs.length).toBeLessThanOrEqual(ACTIVITY_QUOTA_KEEP + 16);
    const released = await hh.ctx.locks.release("bob", { lock_ids: held.granted ? held.locks.map((l) => l.lock_id) : [] });
    expect(released.released).toHaveLength(longKeys.length);
    expect(checkStore(hh.ctx.store).problems).toEqual([]);
  });

  it("a store filled past its quota by the decision log (never pruned) still lets a holder release", async () => {
    const hh = await open({ limits: { store_mb: 1, disk_reserve_mb: 0 } });
    const held = await hh.ctx.locks.acquire({ agent_id: "bob", keys: ["src/a.ts", "src/b.ts"], mode: "write" });
    expect(held.granted).toBe(true);
    const fill = "d".repeat(64 * 1024);
    for (let i = 0; hh.ctx.store.usedBytes() < MIB; i++) {
      hh.ctx.store.write(() => appendDecision(lmdbTxn(hh.ctx.store), clock, { type: "other", decided_by: "orch", context: fill, decision: `d${i}` }));
    }
    // The guard looks at the size every QUOTA_CHECK_MS below the quota: let it see the quota, then at every write.
    const until = performance.now() + 260;
    while (performance.now() < until) {
      /* spin */
    }
    const r = await hh.ctx.locks.release("bob", { keys: ["src/a.ts"] });
    expect(r.released).toHaveLength(1);
    // Growing through the headroom is still refused, naming the limit.
    let refused: Error | null = null;
    for (let i = 0; i < 20 && !refused; i++) {
      try {
        hh.ctx.store.write(() => appendDecision(lmdbTxn(hh.ctx.store), clock, { type: "other", decided_by: "orch", context: fill, decision: `more ${i}` }));
      } catch (err) {
        refused = err as Error;
      }
    }
    expect(refused?.message).toMatch(/limits\.store_mb \(1 MiB\).*raise limits\.store_mb/);
    // Past the headroom too, where every new write is refused, the holder still gives its lock back.
    expect((await hh.ctx.locks.release("bob", { keys: ["src/b.ts"] })).released).toHaveLength(1);
    expect(checkStore(hh.ctx.store).problems).toEqual([]);
  });
});
