/**
 * The stored shapes of the lock table (locks/table.ts): a grant and a
 * queued request. Times: `*_mono` monotonic ms of boot `boot` (store/clock.ts);
 * `*_at` ISO-8601.
 */

/** A lock grant, live or ended. Times: `*_mono` monotonic ms of boot `boot`; `*_at` ISO. */
export interface LockRecord {
  lock_id: string;
  key: string;
  mode: "read" | "write";
  agent_id: string;
  feature_id: string | null;
  fencing_token: number;
  boot: string;
  acquired_mono: number;
  expires_mono: number;
  acquired_at: string;
  state: "held" | "released" | "expired" | "broken";
  ended_mono: number | null;
  ended_at: string | null;
}

/** A request waiting in the FIFO queues of its keys while its `wait_ms` runs. */
export interface WaiterRecord {
  seq: number;
  agent_id: string;
  feature_id: string | null;
  mode: "read" | "write";
  keys: string[];
  pid: number;
  boot: string;
  enqueued_mono: number;
  deadline_mono: number;
  enqueued_at: string;
}
