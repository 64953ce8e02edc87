#!/usr/bin/env node
/**
 * `npm run torture -- [--processes N] [--seconds S] [--faults kill,stall,clock,disk|none] ...`
 *
 * Runs the fault-injection torture (RELIABILITY.md, "The fault-injection
 * harness"), prints the report as tables, writes it as JSON with
 * `--json <file>`, and exits 1 on any violation. Without root, the disk fault
 * re-executes this command under `unshare -rm` (a user + mount namespace) so it
 * can mount its tmpfs.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { DEFAULT_OPTIONS, FAULTS, renderReport, runTorture, violationTotal, type Fault } from "./harness.js";

const REEXEC_MARK = "SIGNALBOX_TORTURE_UNSHARED";

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name}: expected a positive integer, got ${v}`);
    return n;
  };
}

function faultList(v: string): Fault[] {
  if (v === "none" || v === "") return [];
  const list = v.split(",").map((s) => s.trim());
  for (const f of list) {
    if (!(FAULTS as readonly string[]).includes(f)) throw new InvalidArgumentError(`faults: expected none or a list of ${FAULTS.join(",")}, got ${f}`);
  }
  return list as Fault[];
}

const program = new Command()
  .name("signalbox-torture")
  .description("fault-injection torture of signalbox: histories checked after faults")
  .option("--processes <n>", "driver processes, each with its own server", positiveInt("processes"), DEFAULT_OPTIONS.processes)
  .option("--seconds <s>", "length of the faulted workload", positiveInt("seconds"), DEFAULT_OPTIONS.seconds)
  .option("--faults <list>", `comma list of ${FAULTS.join(",")} or none`, faultList, DEFAULT_OPTIONS.faults)
  .option("--agents-per-process <n>", "agents per driver", positiveInt("agents-per-process"), DEFAULT_OPTIONS.agentsPerProcess)
  .option("--seed <n>", "random seed", positiveInt("seed"), DEFAULT_OPTIONS.seed)
  .option("--no-deadlocks", "skip the deadlock scenarios")
  .option("--keep", "keep the temp root and store", false)
  .option("--json <file>", "write the report as JSON");

program.parse(process.argv);
const o = program.opts<{
  processes: number;
  seconds: number;
  faults: Fault[];
  agentsPerProcess: number;
  seed: number;
  deadlocks: boolean;
  keep: boolean;
  json?: string;
}>();

if (o.faults.includes("disk") && process.getuid?.() !== 0 && !process.env[REEXEC_MARK]) {
  const probe = spawnSync("unshare", ["-rm", "true"]);
  if (probe.status === 0) {
    console.log("disk fault: re-running under `unshare -rm` to mount a tmpfs");
    const r = spawnSync("unshare", ["-rm", process.execPath, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, [REEXEC_MARK]: "1" },
    });
    process.exit(r.status ?? 1);
  }
}

const report = await runTorture(
  {
    processes: o.processes,
    seconds: o.seconds,
    faults: o.faults,
    agentsPerProcess: o.agentsPerProcess,
    seed: o.seed,
    keep: o.keep,
    deadlocks: o.deadlocks,
  },
  (msg) => console.log(msg),
);
console.log(renderReport(report));
if (o.json) fs.writeFileSync(o.json, JSON.stringify(report, null, 2));
process.exit(violationTotal(report) === 0 ? 0 : 1);
