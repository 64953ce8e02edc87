/**
 * Section 2: acquire_lock round trips over stdio through the SDK client,
 * interleaved with the floor, the read-only `server_info` tool on the same
 * server. Each acquire is followed by an untimed release.
 */
import { openStore, type Store } from "../src/store/lmdb/store.js";
import { median, quantile, rssMiB, startServer, tempDir, type ServerHandle } from "./lib.js";

export interface StdioResult {
  calls: number;
  acquire_p50_ms: number;
  acquire_p99_ms: number;
  acquire_mean_ms: number;
  server_info_p50_ms: number;
  server_info_p99_ms: number;
  server_info_mean_ms: number;
  release_p50_ms: number;
  /** Attribution: one bare get+put write transaction (same ENV_OPTIONS, same file system) timed in this process, interleaved. */
  bare_txn_p50_ms: number;
  bare_txn_p99_ms: number;
  /** acquire p50 ÷ (server_info p50 + bare txn p50): what is left after one durable commit is accounted for. */
  ratio_p50_vs_info_plus_txn: number;
  /** acquire p50 ÷ server_info p50 (goal <= 1.5). */
  ratio_p50: number;
  ratio_p99: number;
  /** Server RSS after all the calls, MiB. */
  rss_after_calls_mib: number;
}

interface Acquired {
  granted: boolean;
  message: string;
  locks: { lock_id: string }[];
}

interface Samples {
  info: number[];
  acq: number[];
  rel: number[];
  txn: number[];
}

function bareTxn(floor: Store, out: Samples): void {
  const t0 = performance.now();
  floor.env.transactionSync(() => {
    const v = (floor.meta.get("bench_counter") as number | undefined) ?? 0;
    floor.meta.putSync("bench_counter", v + 1);
  });
  out.txn.push(performance.now() - t0);
}

async function onePair(s: ServerHandle, floor: Store, i: number, infoFirst: boolean, out: Samples): Promise<void> {
  const agent = `agent-${i % 4}`;
  const key = `src/bench/file${i % 64}.ts`;
  const info = async () => {
    const t0 = performance.now();
    await s.call("server_info", {});
    out.info.push(performance.now() - t0);
  };
  const acq = async () => {
    const t0 = performance.now();
    const r = await s.call<Acquired>("acquire_lock", { agent_id: agent, paths: [key], mode: "write" });
    out.acq.push(performance.now() - t0);
    if (!r.granted) throw new Error(`acquire_lock ${key} refused: ${r.message}`);
    const t1 = performance.now();
    await s.call("release_lock", { agent_id: agent, lock_ids: r.locks.map((l) => l.lock_id) });
    out.rel.push(performance.now() - t1);
  };
  if (infoFirst) {
    await info();
    await acq();
  } else {
    await acq();
    await info();
  }
  bareTxn(floor, out);
}

export async function benchStdio(calls = 1000, warm = 50): Promise<StdioResult> {
  const root = tempDir("signalbox-bench-root-");
  const store = tempDir("signalbox-bench-store-");
  const floorDir = tempDir("signalbox-bench-floor-");
  const floor = openStore(floorDir.dir);
  let s: ServerHandle | undefined;
  try {
    s = await startServer(root.dir, store.dir);
    const sink: Samples = { info: [], acq: [], rel: [], txn: [] };
    for (let i = 0; i < warm; i++) await onePair(s, floor, i, i % 2 === 0, sink);
    const out: Samples = { info: [], acq: [], rel: [], txn: [] };
    for (let i = 0; i < calls; i++) await onePair(s, floor, i, i % 2 === 0, out);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const a50 = median(out.acq);
    const a99 = quantile(out.acq, 0.99);
    const i50 = median(out.info);
    const i99 = quantile(out.info, 0.99);
    return {
      calls,
      acquire_p50_ms: a50,
      acquire_p99_ms: a99,
      acquire_mean_ms: mean(out.acq),
      server_info_p50_ms: i50,
      server_info_p99_ms: i99,
      server_info_mean_ms: mean(out.info),
      release_p50_ms: median(out.rel),
      bare_txn_p50_ms: median(out.txn),
      bare_txn_p99_ms: quantile(out.txn, 0.99),
      ratio_p50_vs_info_plus_txn: a50 / (i50 + median(out.txn)),
      ratio_p50: a50 / i50,
      ratio_p99: a99 / i99,
      rss_after_calls_mib: rssMiB(s.pid),
    };
  } catch (err) {
    if (s) process.stderr.write(`server stderr:\n${s.stderrTail()}\n`);
    throw err;
  } finally {
    await s?.close();
    await floor.close();
    floorDir.cleanup();
    root.cleanup();
    store.cleanup();
  }
}
