/**
 * The torture harness (RELIABILITY.md, "The fault-injection harness"): N driver
 * processes, each with its own signalbox server on ONE shared store, play
 * agents on hot keys while faults are injected; afterwards the merged history
 * and the store are checked.
 *
 * `runTorture(options)` is usable from tests and from `torture/cli.ts`.
 */
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../src/runtime/config.js";
import { checkStore } from "../src/store/lmdb/check.js";
import { openStore } from "../src/store/lmdb/store.js";
import { LockTable } from "../src/locks/table.js";
import { lmdbTxn } from "../src/store/lmdb/engine.js";
import { checkTortureHistory } from "./checker.js";
import {
  ensureFaketime,
  mountTmpfs,
  startDiskFills,
  startKills,
  startStalls,
  unmountTmpfs,
  type DiskWindow,
  type FaultLoop,
} from "./faults.js";
import { monoNow, type HistoryEvent } from "./history.js";
import { STORE_FAILURE_MARK } from "./server.js";
import type { DriverConfig, DriverMessage, DriverStats, HarnessMessage } from "./protocol.js";
import { makeRng } from "./random.js";
import type { Fault, TortureOptions, TortureReport } from "./report.js";
import { runDeadlockScenarios, type DeadlockResult } from "./scenarios.js";

export { FAULTS, renderReport, violationTotal, type Fault, type TortureOptions, type TortureReport } from "./report.js";

/** The build folder: this file runs from dist/torture/ when built, from torture/ under vitest. */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.basename(path.dirname(HERE)) === "dist" ? path.dirname(HERE) : path.join(path.dirname(HERE), "dist");
const CLI = path.join(DIST, "src", "cli.js");
const DRIVER = path.join(DIST, "torture", "driver.js");

/** Workload lease range, ms (RELIABILITY.md, "The fault-injection harness": 150-800). */
const LEASE_MS: [number, number] = [150, 800];
const MAX_WAIT_MS = 1500;
/** A call unanswered this long past its wait_ms while its server lives is hung, ms. */
const CALL_SLACK_MS = 10_000;
/** A driver silent this long (not stopped by us) is hung, ms. */
const DRIVER_SILENT_MS = 15_000;
/** Time allowed after the end for drivers to finish their round and ship their history, ms. */
const FINISH_MS = 30_000;
const DISK_SIZE_MB = 64;
const DISK_RESERVE_MB = 8;
const CLOCK_OFFSET = "+10s";
const CLOCK_SHIFT_MS = 10_000;

/** Defaults of `npm run torture`. */
export const DEFAULT_OPTIONS: TortureOptions = {
  processes: 8,
  seconds: 60,
  faults: ["kill", "stall", "clock", "disk"],
  agentsPerProcess: 3,
  seed: 1,
  keep: false,
  deadlocks: true,
};

interface DriverState {
  name: string;
  child: ChildProcess;
  serverPid: number | null;
  lastHeard: number;
  stopped: boolean;
  done: { stats: DriverStats; events: HistoryEvent[]; errors: string[] } | null;
  exited: Promise<void>;
  stderr: string;
  hung: boolean;
}

/** Does this signalbox build know `limits.disk_reserve_mb`? (Refused or silently dropped when it does not.) */
function diskReserveSupported(): boolean {
  try {
    const limits = parseConfig({ limits: { disk_reserve_mb: DISK_RESERVE_MB } }).limits as Record<string, unknown>;
    return limits.disk_reserve_mb === DISK_RESERVE_MB;
  } catch {
    return false;
  }
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] as number);
}

/**
 * Run the torture: deadlock scenarios, the faulted workload, deadlock
 * scenarios again, then the checks. `log` receives progress lines (the CLI
 * prints them; tests may ignore them).
 * @throws Error only if the temp folders cannot be created; every finding is in the report.
 */
export async function runTorture(partial: Partial<TortureOptions> = {}, log: (msg: string) => void = () => {}): Promise<TortureReport> {
  const options: TortureOptions = { ...DEFAULT_OPTIONS, ...partial };
  const faults = new Set<Fault>(options.faults);
  const rng = makeRng(options.seed);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-torture-"));
  const root = path.join(base, "root");
  fs.mkdirSync(root);
  let storeParent = path.join(base, "store");
  const examples: string[] = [];
  const startedAt = new Date().toISOString();
  const t0 = monoNow();

  // Disk: the store on its own small tmpfs.
  const disk = { enabled: faults.has("disk"), status: "off" as "applied" | "skipped" | "off", message: "", windows: 0, refused_writes: 0, resumed: 0, reserve_supported: diskReserveSupported() };
  let mounted: string | null = null;
  if (disk.enabled) {
    const mnt = path.join(base, "tmpfs");
    const why = mountTmpfs(mnt, DISK_SIZE_MB);
    if (why === null) {
      mounted = mnt;
      storeParent = path.join(mnt, "store");
      disk.status = "applied";
      disk.message = `store on a ${DISK_SIZE_MB} MiB tmpfs` + (disk.reserve_supported ? `, disk_reserve_mb ${DISK_RESERVE_MB}` : "; this build has no limits.disk_reserve_mb (no refusal expected)");
    } else {
      disk.status = "skipped";
      disk.message = `disk fault skipped: ${why}`;
    }
  }
  const db = storeParent;
  fs.mkdirSync(db, { recursive: true });
  const config: Record<string, unknown> = {
    locks: { default_lease_ms: 1000, max_lease_ms: 60_000, default_wait_ms: 0, max_wait_ms: 10_000 },
    control: { oscillation_window_ms: 0 },
  };
  if (disk.status === "applied" && disk.reserve_supported) config.limits = { disk_reserve_mb: DISK_RESERVE_MB };
  fs.writeFileSync(path.join(root, "signalbox.config.json"), JSON.stringify(config, null, 2));

  // Clock: one server with a shifted wall clock.
  const clock = { enabled: faults.has("clock"), status: "off" as "applied" | "skipped" | "off", message: "", measured_shift_ms: null as number | null, baseline_shift_ms: null as number | null };
  let faketimeLib: string | null = null;
  if (clock.enabled) {
    const ft = ensureFaketime(log);
    faketimeLib = ft.lib;
    clock.message = ft.message;
    if (!ft.lib) clock.status = "skipped";
  }

  const spec = { cli: CLI, root, db };
  const deadlocks: DeadlockResult[] = [];
  if (options.deadlocks) {
    log("deadlock scenarios (start)");
    deadlocks.push(...(await runDeadlockScenarios(spec, "start")));
  }

  // Drivers.
  log(`starting ${options.processes} drivers x ${options.agentsPerProcess} agents for ${options.seconds} s, faults: ${options.faults.join(",") || "none"}`);
  const until = monoNow() + 3000 + options.seconds * 1000; // 3 s for every server to start
  const drivers: DriverState[] = [];
  for (let i = 0; i < options.processes; i++) {
    const cfg: DriverConfig = {
      name: `p${i}`,
      cli: CLI,
      root,
      db,
      agents: options.agentsPerProcess,
      until,
      seed: options.seed * 7919 + i,
      lease_ms: LEASE_MS,
      max_wait_ms: MAX_WAIT_MS,
      call_slack_ms: CALL_SLACK_MS,
      faketime: i === 0 && clock.enabled && faketimeLib ? CLOCK_OFFSET : null,
      stall_gap_ms: 500,
    };
    const child = fork(DRIVER, [JSON.stringify(cfg)], { stdio: ["ignore", "ignore", "pipe", "ipc"], serialization: "advanced" });
    const st: DriverState = {
      name: cfg.name,
      child,
      serverPid: null,
      lastHeard: monoNow(),
      stopped: false,
      done: null,
      exited: new Promise((resolve) => child.once("exit", () => resolve())),
      stderr: "",
      hung: false,
    };
    child.stderr?.on("data", (c: Buffer) => {
      st.stderr = (st.stderr + c.toString()).slice(-4000);
    });
    child.on("message", (m: DriverMessage) => {
      st.lastHeard = monoNow();
      if (m.type === "server") st.serverPid = m.pid;
      else if (m.type === "done") st.done = { stats: m.stats, events: m.events, errors: m.errors };
    });
    drivers.push(st);
  }
  const alive = (d: DriverState) => d.child.exitCode === null && d.child.signalCode === null && !d.hung;

  // Faults.
  const loops: FaultLoop[] = [];
  let kills = 0;
  let stalls = 0;
  const windows: DiskWindow[] = [];
  if (faults.has("kill")) {
    loops.push(
      startKills(
        rng,
        () => drivers.filter((d) => alive(d)).map((d) => d.serverPid),
        () => kills++,
      ),
    );
  }
  const stallMs = LEASE_MS[1] + 300;
  if (faults.has("stall")) {
    loops.push(
      startStalls(
        rng,
        () => drivers.filter((d) => alive(d) && !d.stopped && monoNow() < until - stallMs).map((d) => d.child.pid as number),
        stallMs,
        (pid, stopped) => {
          const d = drivers.find((x) => x.child.pid === pid);
          if (!d) return;
          d.stopped = stopped;
          d.lastHeard = monoNow();
          if (stopped) stalls++;
        },
      ),
    );
  }
  if (disk.status === "applied") {
    loops.push(
      startDiskFills(
        rng,
        storeParent,
        (DISK_RESERVE_MB - 3) * 1024 * 1024,
        1000,
        (w) => windows.push(w),
        (msg) => examples.push(msg),
      ),
    );
  }

  // Watch for silent drivers until everyone is done.
  let hung = 0;
  const deadline = until + FINISH_MS;
  let stopSent = false;
  while (drivers.some((d) => alive(d) && !d.done)) {
    await new Promise((r) => setTimeout(r, 200));
    const now = monoNow();
    if (now >= until && loops.length) {
      await Promise.all(loops.splice(0).map((l) => l.stop()));
    }
    if (now >= until && !stopSent) {
      stopSent = true;
      for (const d of drivers) if (alive(d)) sendSafely(d.child, { type: "stop" });
    }
    for (const d of drivers) {
      if (!alive(d) || d.done || d.stopped) continue;
      if (now - d.lastHeard > DRIVER_SILENT_MS || now > deadline) {
        hung++;
        d.hung = true;
        examples.push(`hung: driver ${d.name} silent for ${Math.round(now - d.lastHeard)} ms; killed`);
        d.child.kill("SIGKILL");
        if (d.serverPid) {
          try {
            process.kill(d.serverPid, "SIGKILL");
          } catch {
            // gone
          }
        }
      }
    }
  }
  await Promise.all(loops.splice(0).map((l) => l.stop()));
  await Promise.all(drivers.map((d) => d.exited));
  const runEnd = monoNow();

  if (options.deadlocks) {
    log("deadlock scenarios (end)");
    deadlocks.push(...(await runDeadlockScenarios(spec, "end")));
  }

  // Merge and check.
  log("checking the history and the store");
  const events: HistoryEvent[] = [];
  const stats: DriverStats[] = [];
  let driversFailed = 0;
  for (const d of drivers) {
    if (!d.done) {
      if (!d.hung) {
        driversFailed++;
        examples.push(`driver ${d.name} ended without a history: ${d.stderr.slice(-500)}`);
      }
      continue;
    }
    events.push(...d.done.events);
    stats.push(d.done.stats);
    for (const e of d.done.errors.slice(0, 5)) examples.push(e);
  }
  const store = openStore(db);
  let report: TortureReport;
  try {
    const table = new LockTable(() => lmdbTxn(store));
    store.env.resetReadTxn();
    const check = checkTortureHistory(events, {
      lock: (id) => table.getLock(id),
      decisionContext: (seq) => store.decisions.get(seq)?.context,
    });
    const sc = checkStore(store);
    examples.push(...check.examples);
    for (const p of sc.problems.slice(0, 10)) examples.push(`store: ${p}`);

    const sum = (f: (s: DriverStats) => number) => stats.reduce((a, s) => a + f(s), 0);
    const refusals: Record<string, number> = {};
    for (const s of stats) for (const [k, v] of Object.entries(s.refusals)) refusals[k] = (refusals[k] ?? 0) + v;
    const runSeconds = Math.max(1, (Math.min(runEnd, until) - (until - options.seconds * 1000)) / 1000);
    const perProc = stats.map((s) => s.grant_requests / runSeconds);

    // Disk: work resumed after each window (a grant answered after it ended).
    const grantTimes = events.filter((e) => e.type === "grant").map((e) => e.t);
    let resumed = 0;
    let notResumed = 0;
    for (const w of windows) {
      if (grantTimes.some((t) => t > w.end)) resumed++;
      else if (w.end < until - 2000) notResumed++;
    }
    disk.windows = windows.length;
    disk.resumed = resumed;
    disk.refused_writes = sum((s) => s.disk_refusals);

    if (clock.enabled && faketimeLib) {
      const p0 = drivers[0]?.done?.stats.clock_shifts ?? [];
      clock.measured_shift_ms = median(p0);
      clock.baseline_shift_ms = median(stats.slice(1).flatMap((s) => s.clock_shifts));
      const appliedOk = clock.measured_shift_ms !== null && Math.abs(clock.measured_shift_ms - CLOCK_SHIFT_MS) < 2000;
      clock.status = appliedOk ? "applied" : "skipped";
      clock.message = appliedOk
        ? `p0's server ran with its wall clock ${CLOCK_OFFSET} (libfaketime)`
        : `faketime did not shift p0's server wall clock as expected (measured ${clock.measured_shift_ms} ms)`;
    }
    const deadlockFailures = deadlocks.filter((d) => !d.ok).length;
    for (const d of deadlocks.filter((x) => !x.ok)) examples.push(`deadlock ${d.phase} ${d.agents} agents: ${d.problem}`);

    report = {
      options,
      started_at: startedAt,
      duration_ms: Math.round(monoNow() - t0),
      processes: options.processes,
      agents: options.processes * options.agentsPerProcess,
      work: {
        requests: sum((s) => s.requests),
        grant_requests: sum((s) => s.grant_requests),
        grants: check.counts.grants,
        refusals,
        lost_calls: sum((s) => s.lost),
        releases: sum((s) => s.releases),
        renewals: sum((s) => s.renewals),
        verifies: sum((s) => s.verifies),
        decisions_acknowledged: sum((s) => s.decisions),
        min_grants_per_s: perProc.length ? Math.min(...perProc) : 0,
        fifo_pairs_checked: check.counts.fifo_pairs_checked,
        stale_checks: check.counts.stale_checks,
      },
      faults: {
        kill: { enabled: faults.has("kill"), status: faults.has("kill") ? "applied" : "off", message: "", kills, respawns: sum((s) => s.respawns) },
        stall: {
          enabled: faults.has("stall"),
          status: faults.has("stall") ? "applied" : "off",
          message: "",
          stalls,
          stalls_seen_by_drivers: sum((s) => s.stalls_seen),
          max_gap_ms: Math.max(0, ...stats.map((s) => s.max_gap_ms)),
        },
        clock,
        disk,
      },
      deadlocks,
      recoveries: sc.recoveries,
      store_failures: sum((s) => s.store_failures),
      store_failure_examples: examples.filter((n) => n.includes(STORE_FAILURE_MARK)).slice(0, 5),
      store: { held: sc.locks.held, ended: sc.locks.ended, decisions: sc.decisions, fencing_token: sc.fencing_token, problems: sc.problems },
      violations: {
        double_grants: check.counts.double_grants,
        duplicate_tokens: check.counts.duplicate_tokens,
        non_rising_tokens: check.counts.non_rising_tokens,
        fifo_violations: check.counts.fifo_violations,
        lost_decisions: check.counts.lost_decisions,
        missing_grants: check.counts.missing_grants,
        hung: hung + sum((s) => s.hung),
        stale_check_violations: check.counts.stale_violations,
        store_problems: sc.problems.length,
        unexpected_errors: sum((s) => s.unexpected_errors),
        deadlock_failures: deadlockFailures,
        disk_not_resumed: notResumed,
        recorder_errors: check.counts.recorder_errors,
        drivers_failed: driversFailed,
      },
      examples: examples.filter((n) => !n.includes(STORE_FAILURE_MARK)),
    };
  } finally {
    await store.close();
    if (mounted) {
      if (options.keep) fs.cpSync(db, path.join(base, "store"), { recursive: true });
      unmountTmpfs(mounted);
    }
    if (!options.keep) fs.rmSync(base, { recursive: true, force: true });
    else log(`kept ${base} (root ${root}, store ${mounted ? path.join(base, "store") : db})`);
  }
  return report;
}

/**
 * Send one IPC message to a driver without ever throwing: a driver may
 * disconnect (after its `done` message) or die between the liveness check and
 * the send. `child.send` then reports ERR_IPC_CHANNEL_CLOSED as an `error`
 * event, which is uncaught without a listener; with a callback, Node hands the
 * error to the callback instead (node:child_process, `subprocess.send`). A
 * message to a driver that is gone has nobody to act on it, so it is dropped.
 */
function sendSafely(child: ChildProcess, message: HarnessMessage): void {
  if (!child.connected) return;
  try {
    child.send(message, () => {
      // delivered, or the channel closed meanwhile: nothing left to do
    });
  } catch {
    // the channel closed synchronously: the driver is gone
  }
}
