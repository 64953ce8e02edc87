/**
 * The CI-sized torture run (RELIABILITY.md, "The fault-injection harness"): 4
 * driver processes, each with its own server on one store, under the kill fault
 * (a server SIGKILLed every 50-100 ms), plus the deadlock scenarios at the
 * start and the end. Every checker count must be 0, and real work must have
 * happened under real kills. Needs the build (`pretest` runs tsc): it spawns
 * dist/torture/driver.js.
 */
import { describe, expect, it } from "vitest";
import { runTorture, violationTotal } from "../torture/harness.js";

describe("torture (CI size)", () => {
  it("4 processes under kill -9 for 40 s: no violation, work done, kills survived", { timeout: 180_000 }, async () => {
    const report = await runTorture({ processes: 4, seconds: 40, faults: ["kill"], agentsPerProcess: 3, seed: 4, keep: false, deadlocks: true });
    const figures = JSON.stringify({ work: report.work, kill: report.faults.kill, examples: report.examples.slice(0, 20) });
    expect(report.violations, figures).toEqual({
      double_grants: 0,
      duplicate_tokens: 0,
      non_rising_tokens: 0,
      fifo_violations: 0,
      lost_decisions: 0,
      missing_grants: 0,
      hung: 0,
      stale_check_violations: 0,
      store_problems: 0,
      unexpected_errors: 0,
      deadlock_failures: 0,
      disk_not_resumed: 0,
      recorder_errors: 0,
      drivers_failed: 0,
    });
    expect(violationTotal(report)).toBe(0);
    expect(report.work.grant_requests, figures).toBeGreaterThan(100);
    expect(report.faults.kill.kills, figures).toBeGreaterThan(0);
    expect(report.faults.kill.respawns, figures).toBeGreaterThan(0);
    expect(report.work.lost_calls, figures).toBeGreaterThan(0);
    expect(report.work.min_grants_per_s, `a process stopped working: ${figures}`).toBeGreaterThan(0);
    expect(report.deadlocks.map((d) => `${d.phase} ${d.agents}`)).toEqual(["start 2", "start 3", "end 2", "end 3"]);
    expect(report.deadlocks.every((d) => d.cycle !== null && d.cycle.length === d.agents + 1), figures).toBe(true);
  });
});
