/**
 * Messages between the torture harness (parent) and its driver processes,
 * over the Node IPC channel. Times are CLOCK_MONOTONIC ms (process.hrtime).
 */
import type { HistoryEvent } from "./history.js";

/** Everything a driver needs, passed as JSON in its argv. */
export interface DriverConfig {
  /** Driver name, e.g. "p3"; agents are `<name>-a<j>`. */
  name: string;
  /** Absolute path of the built server entry (dist/src/cli.js). */
  cli: string;
  root: string;
  db: string;
  agents: number;
  /** Monotonic instant at which agents stop starting new rounds. */
  until: number;
  seed: number;
  /** Lease range of the workload, ms. */
  lease_ms: [number, number];
  /** Longest wait_ms of the workload. */
  max_wait_ms: number;
  /** Extra time a call may take beyond its wait_ms before it counts as hung, ms. */
  call_slack_ms: number;
  /** Run the server under faketime with this offset (e.g. "+10s"); null: no clock fault. */
  faketime: string | null;
  /** Event-loop gap that counts as a stall seen by the driver, ms. */
  stall_gap_ms: number;
}

/** Counters a driver keeps. */
export interface DriverStats {
  requests: number;
  grant_requests: number;
  refusals: Record<string, number>;
  lost: number;
  releases: number;
  renewals: number;
  verifies: number;
  decisions: number;
  /** Server processes started after the first one. */
  respawns: number;
  /** Calls unanswered within their timeout while the server was alive. */
  hung: number;
  /** Tool errors saying the disk reserve refused the write. */
  disk_refusals: number;
  /** Answers saying LMDB failed in the server (it reopens the store; counted against `recoveries`). */
  store_failures: number;
  /** Any other error answer (a finding). */
  unexpected_errors: number;
  /** Event-loop gaps longer than `stall_gap_ms` (SIGSTOP seen from inside). */
  stalls_seen: number;
  max_gap_ms: number;
  /** Clock shift measured on grants: server expires_at - (client Date.now() + lease), ms. */
  clock_shifts: number[];
  /** Grants per whole second since the driver started (index = second). */
  grants_per_second: number[];
}

/** Driver to harness. */
export type DriverMessage =
  | { type: "server"; pid: number; generation: number }
  | { type: "progress"; grants: number; calls: number; t: number }
  | { type: "done"; stats: DriverStats; events: HistoryEvent[]; errors: string[] };

/** Harness to driver: stop now (finish the current round, send the history). */
export type HarnessMessage = { type: "stop" };
