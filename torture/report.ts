/**
 * The torture report: a JSON-able summary of a run, its violation counts
 * (every one must be 0 for a pass), and its rendering as terminal tables.
 */
import Table from "cli-table3";
import type { DeadlockResult } from "./scenarios.js";

/** Plain tables (no ANSI colours): the report is also read from logs. */
const TABLE_STYLE = { head: [], border: [] };

/** Faults the harness can inject. */
export const FAULTS = ["kill", "stall", "clock", "disk"] as const;
export type Fault = (typeof FAULTS)[number];

/** Options of one run. */
export interface TortureOptions {
  /** Driver processes (each with its own server), default 8. */
  processes: number;
  /** Length of the faulted workload, seconds (default 60). */
  seconds: number;
  faults: Fault[];
  agentsPerProcess: number;
  seed: number;
  /** Keep the temp folders (root and store) for inspection. */
  keep: boolean;
  /** Run the deadlock scenarios at the start and the end (default true). */
  deadlocks: boolean;
}

/** How a fault that needs the machine's help went. */
export interface FaultStatus {
  enabled: boolean;
  /** "applied", "skipped" (with the reason in `message`) or "off". */
  status: "applied" | "skipped" | "off";
  message: string;
}

/** The figures and verdict of a run (RELIABILITY.md, "The fault-injection harness"). */
export interface TortureReport {
  options: TortureOptions;
  /** Wall time of the start, ISO (display only). */
  started_at: string;
  duration_ms: number;
  processes: number;
  agents: number;
  work: {
    requests: number;
    grant_requests: number;
    /** Granted keys (one lock each). */
    grants: number;
    refusals: Record<string, number>;
    lost_calls: number;
    releases: number;
    renewals: number;
    verifies: number;
    decisions_acknowledged: number;
    /** Lowest average grants per second over all processes (every survivor keeps working). */
    min_grants_per_s: number;
    fifo_pairs_checked: number;
    stale_checks: number;
  };
  faults: {
    kill: FaultStatus & { kills: number; respawns: number };
    stall: FaultStatus & { stalls: number; stalls_seen_by_drivers: number; max_gap_ms: number };
    clock: FaultStatus & { measured_shift_ms: number | null; baseline_shift_ms: number | null };
    disk: FaultStatus & { windows: number; refused_writes: number; resumed: number; reserve_supported: boolean };
  };
  deadlocks: DeadlockResult[];
  /** Store reopenings after an LMDB failure (`meta.store_recoveries`). */
  recoveries: number;
  /** Calls answered "store: LMDB failed" (the server then reopened its store, unless killed first). */
  store_failures: number;
  /** The first few of those answers. */
  store_failure_examples: string[];
  store: { held: number; ended: number; decisions: number; fencing_token: number; problems: string[] };
  /** Every count must be 0. */
  violations: {
    double_grants: number;
    duplicate_tokens: number;
    non_rising_tokens: number;
    fifo_violations: number;
    lost_decisions: number;
    missing_grants: number;
    hung: number;
    stale_check_violations: number;
    store_problems: number;
    unexpected_errors: number;
    deadlock_failures: number;
    disk_not_resumed: number;
    recorder_errors: number;
    drivers_failed: number;
  };
  /** A few examples per violated rule, and driver notes. */
  examples: string[];
}

/** Sum of all violation counts: 0 is a pass. */
export function violationTotal(r: TortureReport): number {
  return Object.values(r.violations).reduce((a, b) => a + b, 0);
}

/** The report as terminal tables. */
export function renderReport(r: TortureReport): string {
  const out: string[] = [];
  const o = r.options;
  out.push(
    `signalbox torture: ${r.processes} processes x ${o.agentsPerProcess} agents, ${(r.duration_ms / 1000).toFixed(1)} s, ` +
      `faults ${o.faults.length ? o.faults.join(",") : "none"}, seed ${o.seed}`,
  );
  const work = new Table({ head: ["work", "count"], style: TABLE_STYLE });
  const w = r.work;
  work.push(
    ["acquire requests", w.requests],
    ["granted requests (keys)", `${w.grant_requests} (${w.grants})`],
    ["refusals", Object.entries(w.refusals).map(([k, v]) => `${k} ${v}`).join(", ") || "0"],
    ["calls lost with a killed server", w.lost_calls],
    ["releases / renewals / verifies", `${w.releases} / ${w.renewals} / ${w.verifies}`],
    ["decisions acknowledged", w.decisions_acknowledged],
    ["min grants/s per process", w.min_grants_per_s.toFixed(1)],
    ["FIFO pairs checked", w.fifo_pairs_checked],
    ["stale checks (ops after lease end)", w.stale_checks],
    ["LMDB failures answered / store reopenings", `${r.store_failures} / ${r.recoveries}`],
  );
  out.push(work.toString());
  const f = r.faults;
  const faults = new Table({ head: ["fault", "status", "figures"], style: TABLE_STYLE });
  faults.push(
    ["kill", f.kill.status, `${f.kill.kills} kills, ${f.kill.respawns} respawns`],
    ["stall", f.stall.status, `${f.stall.stalls} SIGSTOPs, ${f.stall.stalls_seen_by_drivers} seen by drivers, max gap ${f.stall.max_gap_ms} ms`],
    [
      "clock",
      f.clock.status,
      `${f.clock.message}${f.clock.measured_shift_ms !== null ? `; measured shift ${f.clock.measured_shift_ms} ms (others ${f.clock.baseline_shift_ms} ms)` : ""}`,
    ],
    [
      "disk",
      f.disk.status,
      `${f.disk.message}${f.disk.enabled ? `; ${f.disk.windows} full windows, ${f.disk.refused_writes} refused writes, resumed ${f.disk.resumed}` : ""}`,
    ],
  );
  out.push(faults.toString());
  if (r.deadlocks.length) {
    const dl = new Table({ head: ["deadlock", "ok", "client ms", "server waited_ms", "cycle / problem"], style: TABLE_STYLE });
    for (const d of r.deadlocks) {
      dl.push([`${d.phase} ${d.agents} agents`, d.ok ? "yes" : "NO", d.latency_ms ?? "-", d.waited_ms ?? "-", d.problem ?? (d.cycle ?? []).join(" -> ")]);
    }
    out.push(dl.toString());
  }
  const v = new Table({ head: ["check", "violations"], style: TABLE_STYLE });
  for (const [k, n] of Object.entries(r.violations)) v.push([k.replace(/_/g, " "), n === 0 ? "0" : `${n}  <-- FAIL`]);
  out.push(v.toString());
  if (r.store_failure_examples.length) {
    out.push(`LMDB failures the servers answered and recovered from:\n  ${r.store_failure_examples.join("\n  ")}`);
  }
  if (r.examples.length) out.push(`examples:\n  ${r.examples.slice(0, 40).join("\n  ")}`);
  out.push(violationTotal(r) === 0 ? "PASS: no violation" : `FAIL: ${violationTotal(r)} violation(s)`);
  return out.join("\n");
}
