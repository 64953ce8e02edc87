/**
 * Section 5: how soon a subscriber hears of another process's commit
 * (README, "Live notifications": within one second). Two server processes
 * on one store: A's client subscribes to `signalbox://locks`, B's client
 * takes and releases a lock; the latency runs from B's answer to A's
 * `notifications/resources/updated`. The floor is B's own acquire_lock round
 * trip in the same run; the change feed's poll interval bounds the rest.
 */
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { CHANGE_POLL_MS } from "../src/runtime/changes.js";
import { nowMs, quantile, startServer, tempDir } from "./lib.js";

export interface NotifyResult {
  samples: number;
  poll_ms: number;
  latency_p50_ms: number;
  latency_p95_ms: number;
  latency_max_ms: number;
  acquire_p50_ms: number;
  ratio_p50: number;
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
    const acquire: number[] = [];
    for (let i = 0; i < samples; i++) {
      const op = i % 2 === 0 ? "acquire_lock" : "release_lock";
      const args = op === "acquire_lock" ? { agent_id: "b", paths: [`n${i}.ts`], mode: "write" } : { agent_id: "b", all: true };
      const notified = new Promise<number>((resolve) => (heard = () => resolve(nowMs())));
      const t0 = nowMs();
      await b.call(op, args);
      const answered = nowMs();
      if (op === "acquire_lock") acquire.push(answered - t0);
      latency.push((await notified) - answered);
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
    };
  } finally {
    await a.close();
    await b.close();
    root.cleanup();
    store.cleanup();
  }
}
