/**
 * Section 5: how soon a subscriber hears of another process's commit
 * (README, "Live notifications": within one second).
 *
 * 5 (end to end): two server processes on one store: A's client subscribes
 * to `signalbox://locks`, B's client takes and releases a lock; the latency
 * runs from B's call to A's `notifications/resources/updated` (from B's
 * call, not its answer: woken by a watch, A can hear of the commit before
 * B's answer arrives). The floor is B's own acquire_lock round trip in the
 * same run; what wakes A's change feed (a watch on the data file, or the
 * poll) makes the rest.
 *
 * 5b (the change feed alone, docs/change-feed.md): a writer process commits
 * on the store (`store.write` of the built store module, writing the
 * commit's number n); in this process three feeds on the same store listen
 * to the same commits at once:
 * - watch + reader-visible id: watching the data file, confirming with
 *   `Store.lastTxnId()`, the id a read transaction started now sees
 *   (store.ts `readerVisibleTxnId`): what the server runs;
 * - watch + meta id: the same, confirming with the meta page's id (which
 *   shows a commit before readers can see it), for comparison;
 * - poll only, every CHANGE_POLL_MS, with the meta page's id: the feed
 *   before the watch.
 * Latency runs from the moment the writer calls `store.write` to each
 * feed's listener call, both on the system's monotonic clock
 * (`process.hrtime`, one clock for every process on Linux), so it includes
 * the commit itself (its fsyncs). Each listener then reads the store in a
 * fresh snapshot as a subscriber does; a read that does not yet show n is
 * counted as stale (a subscriber would have missed that update). Floors in
 * the same run: the polling feed, and the writer's own `store.write` (no one
 * can hear of a commit before its meta page is written, at its very end).
 */
import { spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { CHANGE_POLL_MS, CHANGE_SAFETY_POLL_MS, ChangeFeed } from "../src/runtime/changes.js";
import { STORE_FILE } from "../src/runtime/root.js";
import { openStore, type Store } from "../src/store/lmdb/store.js";
import { nowMs, PACKAGE, quantile, startServer, tempDir } from "./lib.js";

export interface NotifyResult {
  samples: number;
  poll_ms: number;
  /** From B's call to A's notification. */
  latency_p50_ms: number;
  latency_p95_ms: number;
  latency_max_ms: number;
  acquire_p50_ms: number;
  ratio_p50: number;
  /** From B's answer to A's notification (below zero when A heard first). */
  after_answer_p50_ms: number;
}

export async function benchNotify(samples = 40): Promise<NotifyResult> {
  const root = tempDir("signalbox-bench-notify-root-");
  const store = tempDir("signalbox-bench-notify-store-");
  const a = await startServer(root.dir, store.dir);
  const b = await startServer(root.dir, store.dir);
  try {
    let heard: (() => void) | null = null;
    a.client.setNotificationHandler(ResourceUpdatedNotificationSchema, () => heard?.());
    await a.client.subscribeResource({ uri: "signalbox://locks" });
    const latency: number[] = [];
    const afterAnswer: number[] = [];
    const acquire: number[] = [];
    for (let i = 0; i < samples; i++) {
      const op = i % 2 === 0 ? "acquire_lock" : "release_lock";
      const args = op === "acquire_lock" ? { agent_id: "b", paths: [`n${i}.ts`], mode: "write" } : { agent_id: "b", all: true };
      const notified = new Promise<number>((resolve) => (heard = () => resolve(nowMs())));
      const t0 = nowMs();
      await b.call(op, args);
      const answered = nowMs();
      if (op === "acquire_lock") acquire.push(answered - t0);
      const at = await notified;
      latency.push(at - t0);
      afterAnswer.push(at - answered);
      heard = null;
      // Start the next change at a random phase of the poll.
      await new Promise((r) => setTimeout(r, Math.random() * CHANGE_POLL_MS));
    }
    const p50 = quantile(latency, 0.5);
    const acq = quantile(acquire, 0.5);
    return {
      samples,
      poll_ms: CHANGE_POLL_MS,
      latency_p50_ms: p50,
      latency_p95_ms: quantile(latency, 0.95),
      latency_max_ms: Math.max(...latency),
      acquire_p50_ms: acq,
      ratio_p50: p50 / acq,
      after_answer_p50_ms: quantile(afterAnswer, 0.5),
    };
  } finally {
    await a.close();
    await b.close();
    root.cleanup();
    store.cleanup();
  }
}


/** Latency quantiles of one feed in section 5b (ms from the writer calling `store.write`; stale calls left out) and its stale reads. */
export interface FeedFigures {
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  /** Listener calls whose fresh read did not yet show the commit that woke them. */
  stale_reads: number;
}

/** Figures of section 5b: another process's commit to a change feed's listener. */
export interface FeedResult {
  samples: number;
  /** The watching feeds' mode at the end (`watching` unless the platform refused the watch). */
  mode: string;
  safety_poll_ms: number;
  poll_ms: number;
  /** Watch, confirmed with the reader-visible id (the proposed wiring). */
  watch: FeedFigures;
  /** Watch, confirmed with the meta page's id (`Store.lastTxnId()` as it is). */
  watch_meta: FeedFigures;
  /** Poll only, every `poll_ms`, with `Store.lastTxnId()` (the feed before the watch). */
  poll: FeedFigures;
  /** The writer's `store.write` (one put, fsync'd), call to return, p50 ms: the commit itself. */
  commit_p50_ms: number;
  /** From `store.write` returning in the writer to the reader-visible watching feed's listener, p50 ms (about zero). */
  watch_after_return_p50_ms: number;
  /** watch p50 / poll p50, same commits. */
  ratio_p50: number;
  /** watch p50 / commit p50 (1.0: heard as the commit ends). */
  ratio_vs_commit: number;
}


/** The meta page's last transaction id (`mdb_env_info`): what `Store.lastTxnId()` returned before it read the reader table (store.ts `readerVisibleTxnId`). */
function metaPageTxnId(store: Store): number {
  return (store.env.getStats() as { lastTxnId: number }).lastTxnId;
}

/** The writer of 5b: opens the store with the built store module; for each `commit` line commits n once and prints `<hrtime ns before store.write> <after it> <n>`. */
const FEED_WRITER = `
import readline from "node:readline";
const { openStore } = await import(process.env.BENCH_STORE_MODULE);
const store = openStore(process.env.BENCH_STORE_DIR);
let n = 0;
process.stdout.write("ready\\n");
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line !== "commit") break;
  n++;
  const t0 = process.hrtime.bigint();
  store.write(() => store.meta.putSync("bench_feed", n));
  const t1 = process.hrtime.bigint();
  process.stdout.write(t0 + " " + t1 + " " + n + "\\n");
}
await store.close();
`;

/** One listening feed of 5b: resolves with the time of the listener call for the awaited commit, NaN when that call's read was stale. */
class Probe {
  readonly latency: number[] = [];
  stale = 0;
  private expect = 0;
  private heard: ((t: number) => void) | null = null;

  constructor(
    readonly feed: ChangeFeed,
    private readonly store: Store,
  ) {
    feed.subscribe(() => {
      const t = nowMs();
      if (this.heard === null) return;
      this.store.env.resetReadTxn();
      const seen = (this.store.meta.get("bench_feed") as number | undefined) ?? 0;
      // A stale read: a subscriber re-reading now finds nothing new, and the feed, its id used up, does not call again.
      if (seen < this.expect) this.stale++;
      this.heard(seen < this.expect ? NaN : t);
      this.heard = null;
    });
  }

  /** Wait for the listener call after commit `n` (NaN: its read did not show `n`). */
  next(n: number): Promise<number> {
    this.expect = n;
    return new Promise((resolve) => (this.heard = resolve));
  }

  figures(): FeedFigures {
    const heard = this.latency.filter((x) => !Number.isNaN(x));
    return {
      p50_ms: quantile(heard, 0.5),
      p95_ms: quantile(heard, 0.95),
      max_ms: Math.max(...heard),
      stale_reads: this.stale,
    };
  }
}

/** Section 5b: see the module comment. `samples` commits, each at a random phase of the poll. */
export async function benchChangeFeed(samples = 40): Promise<FeedResult> {
  const dir = tempDir("signalbox-bench-feed-");
  const store = openStore(dir.dir);
  const child = spawn(process.execPath, ["--input-type=module", "-e", FEED_WRITER], {
    cwd: PACKAGE,
    env: {
      ...process.env,
      BENCH_STORE_DIR: dir.dir,
      BENCH_STORE_MODULE: pathToFileURL(path.join(PACKAGE, "dist/src/store/lmdb/store.js")).href,
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error("bench feed writer exited");
    return r.value as string;
  };
  const errors: unknown[] = [];
  const onError = (err: unknown) => errors.push(err);
  const watchFile = path.join(dir.dir, STORE_FILE);
  const feeds = {
    watch: new ChangeFeed(() => store.lastTxnId(), CHANGE_POLL_MS, onError, { watchFile }),
    watchMeta: new ChangeFeed(() => metaPageTxnId(store), CHANGE_POLL_MS, onError, { watchFile }),
    poll: new ChangeFeed(() => metaPageTxnId(store), CHANGE_POLL_MS, onError),
  };
  try {
    if ((await nextLine()) !== "ready") throw new Error("bench feed writer did not start");
    const probes = { watch: new Probe(feeds.watch, store), watchMeta: new Probe(feeds.watchMeta, store), poll: new Probe(feeds.poll, store) };
    const all = Object.values(probes);
    const commit: number[] = [];
    const afterReturn: number[] = [];
    for (let i = 1; i <= samples; i++) {
      const heard = all.map((p) => p.next(i));
      child.stdin.write("commit\n");
      // Nanoseconds near 1e13-1e15 keep sub-microsecond precision as doubles.
      const [startNs, endNs, n] = (await nextLine()).split(" ").map(Number) as [number, number, number];
      if (n !== i) throw new Error(`bench feed writer committed ${n}, expected ${i}`);
      const called = startNs / 1e6;
      commit.push(endNs / 1e6 - called);
      const times = await Promise.all(heard);
      all.forEach((p, k) => p.latency.push((times[k] as number) - called));
      afterReturn.push((times[0] as number) - endNs / 1e6);
      // Start the next commit at a random phase of the polls.
      await new Promise((r) => setTimeout(r, Math.random() * CHANGE_POLL_MS));
    }
    if (errors.length > 0) process.stderr.write(`bench: change feed reported ${errors.map(String).join("; ")}\n`);
    const watch = probes.watch.figures();
    const poll = probes.poll.figures();
    const cp50 = quantile(commit, 0.5);
    return {
      samples,
      mode: feeds.watch.mode,
      safety_poll_ms: CHANGE_SAFETY_POLL_MS,
      poll_ms: CHANGE_POLL_MS,
      watch,
      watch_meta: probes.watchMeta.figures(),
      poll,
      commit_p50_ms: cp50,
      watch_after_return_p50_ms: quantile(afterReturn, 0.5),
      ratio_p50: watch.p50_ms / poll.p50_ms,
      ratio_vs_commit: watch.p50_ms / cp50,
    };
  } finally {
    for (const f of Object.values(feeds)) f.close();
    const exited = new Promise((r) => child.once("exit", r));
    child.stdin.end();
    await exited;
    await store.close();
    dir.cleanup();
  }
}
