/**
 * Store integrity check (built for the fault-injection harness, RELIABILITY.md; now also `signalbox check`).
 *
 * Read-only: every read below runs synchronously right after
 * `resetReadTxn()`, so all of them see one read snapshot; no write
 * transaction is opened and nothing is repaired.
 *
 * Invariants of the lock table (layout in src/locks/table.ts) and the decision log:
 * - every live index entry (`H` by key, `A` by agent) points to a lock record
 *   in state "held" with the same key / agent;
 * - every held record is indexed under both, and has a lease (a finite
 *   `expires_mono`) and a boot id: no lock without a lease;
 * - every queue entry (`Q`) points to a waiter (`W`) queued on that key, and
 *   every waiter has a queue entry for each of its keys;
 * - the `#fencing_token` counter is at least every record's token, and the
 *   `#waiter_seq` counter at least every waiter's seq;
 * - decision sequence numbers run 1..N without a gap and the `decision_seq`
 *   counter in `meta` equals N;
 * - every record of every named database can be read and decoded: damage
 *   inside the data file's pages (flipped bytes) is a problem naming the
 *   database and the key, never an exception.
 */
import type { Database, Key } from "lmdb";
import { DB_NAMES, type DecisionRecord, type LockRecord, type Store, type WaiterRecord } from "./store.js";
import { isStoreDamaged, shortMessage } from "./validate.js";

/** What {@link checkStore} counted and found. `problems` empty means the store is sound. */
export interface StoreCheck {
  locks: { held: number; ended: number };
  index_entries: number;
  waiters: number;
  queue_entries: number;
  decisions: number;
  fencing_token: number;
  /** How often a server reopened the store after an LMDB failure (`meta` key `store_recoveries`; absent = 0). */
  recoveries: number;
  /** One line per broken invariant, naming the key. */
  problems: string[];
}

const TOKEN_WIDTH = 15;

/** Split `prefix + name + "\0" + 15-digit number` into name and number, or null if malformed. */
function splitEntry(key: string): { name: string; num: number } | null {
  const nul = key.lastIndexOf("\0");
  if (nul < 1) return null;
  const digits = key.slice(nul + 1);
  const num = Number(digits);
  if (digits.length !== TOKEN_WIDTH || !Number.isSafeInteger(num)) return null;
  return { name: key.slice(1, nul), num };
}

const show = (key: string) => JSON.stringify(key.replace(/\0/g, "\\0"));
const showKey = (key: unknown) => (typeof key === "string" ? show(key) : String(key));
/** An error's message on one line; for a damaged-store error raised while decoding, the decoder's own message. */
const messageOf = (err: unknown): string => {
  if (isStoreDamaged(err) && err.cause !== undefined) return messageOf(err.cause);
  return shortMessage(err);
};

/**
 * Read every record of database `name` in key order, handing each decoded
 * one to `visit`. A value that cannot be decoded (msgpack "Unexpected end of
 * buffer" and the like) becomes a line in `problems` naming the database
 * and key, then `undecodable(key)` is called and the walk goes on; an error
 * of the key walk itself (a damaged key or tree page, LMDB MDB_CORRUPTED)
 * ends this database's walk with a line naming the last key read.
 */
function walkRecords<K extends Key>(
  db: Database<unknown, K>,
  name: string,
  problems: string[],
  visit: (key: K, value: unknown) => void,
  undecodable: (key: K) => void = () => undefined,
): void {
  let last: { key: K } | null = null;
  try {
    for (const key of db.getKeys({})) {
      last = { key };
      let value: unknown;
      try {
        value = db.get(key);
      } catch (err) {
        problems.push(`database ${name}, key ${showKey(key)}: the record cannot be decoded (${messageOf(err)}); the data file is damaged`);
        undecodable(key);
        continue;
      }
      visit(key, value);
    }
  } catch (err) {
    const where = last ? `after key ${showKey(last.key)}` : "at its first key";
    problems.push(`database ${name}: reading stopped ${where} (${messageOf(err)}); the data file is damaged`);
  }
}

/** `db.get(key)`, or undefined when the record cannot be decoded (the walk of its database reports it). */
function safeGet(db: Database<unknown, string>, key: string): unknown {
  try {
    return db.get(key);
  } catch {
    return undefined;
  }
}

/**
 * Check the lock table and the decision log of an open store.
 * Never throws on a damaged store: every problem becomes a line in `problems`.
 */
export function checkStore(store: Store): StoreCheck {
  store.env.resetReadTxn();
  const problems: string[] = [];
  const locks = new Map<number, LockRecord>();
  const waiters = new Map<number, WaiterRecord>();
  const hEntries: { key: string; name: string; token: number; value: unknown }[] = [];
  const aEntries: { key: string; name: string; token: number; value: unknown }[] = [];
  const qEntries: { key: string; name: string; seq: number; value: unknown }[] = [];
  const counters = new Map<string, unknown>();

  walkRecords(store.lockTable, "lockTable", problems, (key, value) => {
    const tag = key[0];
    if (tag === "#") counters.set(key.slice(1), value);
    else if (tag === "L") {
      const rec = value as LockRecord;
      const token = Number(key.slice(1));
      if (!rec || typeof rec !== "object" || rec.fencing_token !== token) {
        problems.push(`lock record ${show(key)}: not a lock record with token ${token}`);
        return;
      }
      locks.set(token, rec);
    } else if (tag === "W") {
      const w = value as WaiterRecord;
      const seq = Number(key.slice(1));
      if (!w || typeof w !== "object" || w.seq !== seq || !Array.isArray(w.keys)) {
        problems.push(`waiter ${show(key)}: not a waiter record with seq ${seq}`);
        return;
      }
      waiters.set(seq, w);
    } else if (tag === "E") {
      // The memory of an agent's ended lock per key: a token, pointing at a record that may have been tombstoned since.
      if (!key.includes("\0") || typeof value !== "number") problems.push(`ended-lock entry ${show(key)}: expected agent \\0 key -> token`);
    } else if (tag === "H" || tag === "A" || tag === "Q") {
      const parts = splitEntry(key);
      if (!parts) {
        problems.push(`index entry ${show(key)}: malformed key`);
        return;
      }
      if (tag === "H") hEntries.push({ key, name: parts.name, token: parts.num, value });
      else if (tag === "A") aEntries.push({ key, name: parts.name, token: parts.num, value });
      else qEntries.push({ key, name: parts.name, seq: parts.num, value });
    } else {
      problems.push(`lock table key ${show(key)}: unknown prefix`);
    }
  });

  // Index entries point to held records.
  const byKey = new Set<number>();
  for (const e of hEntries) {
    const rec = locks.get(e.token);
    if (e.value !== e.token) problems.push(`index entry ${show(e.key)}: value ${String(e.value)} is not its token ${e.token}`);
    if (!rec) problems.push(`index entry ${show(e.key)}: no lock record with token ${e.token} (dangling)`);
    else if (rec.state !== "held") problems.push(`index entry ${show(e.key)}: lock ${e.token} on ${rec.key} is ${rec.state}, not held`);
    else if (rec.key !== e.name) problems.push(`index entry ${show(e.key)}: lock ${e.token} is on ${rec.key}`);
    else byKey.add(e.token);
  }
  const byAgent = new Set<number>();
  for (const e of aEntries) {
    const rec = locks.get(e.token);
    if (!rec) problems.push(`agent index entry ${show(e.key)}: no lock record with token ${e.token} (dangling)`);
    else if (rec.state !== "held") problems.push(`agent index entry ${show(e.key)}: lock ${e.token} on ${rec.key} is ${rec.state}, not held`);
    else if (rec.agent_id !== e.name || rec.key !== e.value) {
      problems.push(`agent index entry ${show(e.key)}: lock ${e.token} is ${rec.agent_id}'s on ${rec.key}`);
    } else byAgent.add(e.token);
  }

  // Held records are indexed and leased.
  let held = 0;
  let maxToken = 0;
  for (const [token, rec] of locks) {
    maxToken = Math.max(maxToken, token);
    if (rec.state !== "held") continue;
    held++;
    if (!byKey.has(token)) problems.push(`held lock ${token} on ${rec.key}: missing from the key index`);
    if (!byAgent.has(token)) problems.push(`held lock ${token} on ${rec.key}: missing from agent ${rec.agent_id}'s index`);
    if (typeof rec.expires_mono !== "number" || !Number.isFinite(rec.expires_mono)) {
      problems.push(`held lock ${token} on ${rec.key}: no lease (expires_mono ${String(rec.expires_mono)})`);
    }
    if (typeof rec.boot !== "string" || rec.boot === "") problems.push(`held lock ${token} on ${rec.key}: no boot id`);
  }

  // Queue entries and waiters point to each other.
  const queued = new Set<string>();
  for (const e of qEntries) {
    const w = waiters.get(e.seq);
    if (!w) problems.push(`queue entry ${show(e.key)}: no waiter ${e.seq} (dangling)`);
    else if (!w.keys.includes(e.name)) problems.push(`queue entry ${show(e.key)}: waiter ${e.seq} is not queued on ${e.name}`);
    else queued.add(`${e.seq}\0${e.name}`);
  }
  let maxSeq = 0;
  for (const [seq, w] of waiters) {
    maxSeq = Math.max(maxSeq, seq);
    for (const k of w.keys) {
      if (!queued.has(`${seq}\0${k}`)) problems.push(`waiter ${seq} (${w.agent_id}): no queue entry for ${k}`);
    }
  }

  // Counters.
  const tokenCounter = (counters.get("fencing_token") as number | undefined) ?? 0;
  if (tokenCounter < maxToken) problems.push(`#fencing_token is ${tokenCounter}, below lock token ${maxToken}`);
  const seqCounter = (counters.get("waiter_seq") as number | undefined) ?? 0;
  if (seqCounter < maxSeq) problems.push(`#waiter_seq is ${seqCounter}, below waiter ${maxSeq}`);

  // The decision log: 1..N without gaps, counter = N.
  let n = 0;
  const nextEntry = (key: number) => {
    n++;
    if (key !== n) {
      problems.push(`decision log: entry ${String(key)} where ${n} was expected (gap or stray key)`);
      n = typeof key === "number" ? key : n;
    }
  };
  walkRecords(
    store.decisions,
    "decisions",
    problems,
    (key, value) => {
      nextEntry(key);
      if ((value as DecisionRecord | undefined)?.seq !== key) problems.push(`decision ${String(key)}: record carries seq ${String((value as DecisionRecord | undefined)?.seq)}`);
    },
    nextEntry, // an undecodable decision is still an entry of the log: its key was read
  );
  const decisionSeq = (safeGet(store.meta, "decision_seq") as number | undefined) ?? 0;
  if (decisionSeq !== n) problems.push(`meta decision_seq is ${decisionSeq} but the log ends at ${n}`);

  // Every other database: each record must decode (lockTable and decisions were read above).
  for (const name of DB_NAMES) {
    if (name !== "lockTable" && name !== "decisions") walkRecords(store[name] as Database<unknown, Key>, name, problems, () => undefined);
  }

  const recoveries = safeGet(store.meta, "store_recoveries");
  return {
    locks: { held, ended: locks.size - held },
    index_entries: hEntries.length + aEntries.length,
    waiters: waiters.size,
    queue_entries: qEntries.length,
    decisions: n,
    fencing_token: tokenCounter,
    recoveries: typeof recoveries === "number" ? recoveries : 0,
    problems,
  };
}
