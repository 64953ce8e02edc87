/**
 * `npm run demo`: the main job on real input, driven exactly as an MCP client
 * would drive it: the SDK's Client over stdio, spawning the built server.
 *
 * Inputs (copied into `examples/` so a clone needs nothing else):
 * - `protocol-example.json`: the parallel-execution protocol's worked example;
 * - `fastapi-template-history.json` + `fastapi-template.signalbox.json`: 1,491
 *   real changes of a full-stack repository and its domain map.
 */
import fs from "node:fs";
import readline from "node:readline";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import Table from "cli-table3";
import { DemoDashboard, type StoreWatcher } from "../dashboard/demo.js";
import { stderrLogger } from "../runtime/logger.js";
import { runControlDemo } from "./demo-control.js";
import { runWaveDemo } from "./demo-wave.js";
import { runWorktreeDemo } from "./demo-worktrees.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PACKAGE = path.resolve(HERE, "../../..");
const EXAMPLES = path.join(PACKAGE, "examples");
const CLI = path.join(PACKAGE, "dist/src/cli.js");

interface Feature {
  id: string;
  writes?: string[];
  [k: string]: unknown;
}
interface Pair {
  a: string;
  b: string;
  verdict: string;
  order: string;
  reasons: { type: string; keys: string[]; key_count: number }[];
}
interface ParallelReport {
  verdict: string;
  summary: Record<string, number> & { by_reason: Record<string, number> };
  pairs: Pair[];
  groups: string[][];
  checkpoint: { shared_files: { key: string; writer_count: number; mitigation: string }[]; text: string };
}
interface Plan {
  plan_id: string;
  waves: { wave_number: number; features: string[]; integration_point: boolean }[];
  conflicts_total: number;
  critical_path: { features: string[]; length: number };
}
interface Acquired {
  granted: boolean;
  reason: string | null;
  message: string;
  locks: { key: string; lock_id: string; fencing_token: number }[];
  holders: { key: string; agent_id: string; mode: string }[];
  waited_ms: number;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), "utf8")) as T;
}

/** A signalbox server process on `root` with its own store, and a client connected to it. */
async function startServer(root: string): Promise<{ client: Client; call: <T>(name: string, args: object) => Promise<T> }> {
  const client = new Client({ name: "signalbox-demo", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "--root", root, "--toolsets", "all"],
    env: { ...process.env, SIGNALBOX_DB: path.join(root, ".signalbox") } as Record<string, string>,
    stderr: "inherit",
  });
  await client.connect(transport);
  const call = async <T>(name: string, args: object): Promise<T> => {
    const r = await client.callTool({ name, arguments: args as Record<string, unknown> }, undefined, { timeout: 120_000 });
    if (r.isError) throw new Error(`${name}: ${(r.content as { text: string }[])[0]?.text}`);
    return r.structuredContent as T;
  };
  return { client, call };
}

function heading(text: string): void {
  console.log(`\n=== ${text} ===`);
}

function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, wordWrap: true });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

function mark(ok: boolean): string {
  return ok ? "ok " : "MISMATCH";
}

async function protocolExample(work: string, watch: StoreWatcher): Promise<boolean> {
  heading("1. The protocol's worked example (examples/protocol-example.json, read as the protocol does: examples/protocol-example.signalbox.json)");
  const input = readJson<{ features: Feature[]; expected: { waves: string[][]; pairs: Record<string, string> } }>(
    "protocol-example.json",
  );
  const root = path.join(work, "protocol");
  fs.mkdirSync(root, { recursive: true });
  fs.copyFileSync(path.join(EXAMPLES, "protocol-example.signalbox.json"), path.join(root, "signalbox.config.json"));
  const defaultsOk = await protocolWithoutConfig(work, input.features);
  const { client, call } = await startServer(root);
  await watch.follow(root, path.join(root, ".signalbox"));
  try {
    const report = await call<ParallelReport>("check_parallel", { tasks: input.features });
    const plan = await call<Plan>("plan_waves", { features: input.features, name: "protocol example" });
    const rows = report.pairs.map((p) => [
      `${p.a} | ${p.b}`,
      p.verdict,
      p.order,
      p.reasons.map((r) => `${r.type}${r.keys.length ? ` (${r.keys.join(", ")})` : ""}`).join("; "),
    ]);
    console.log(table(["pair", "verdict", "order", "reasons"], rows));
    const waves = plan.waves.map((w) => w.features);
    const wavesOk = JSON.stringify(waves) === JSON.stringify(input.expected.waves);
    console.log(`waves: ${waves.map((w, i) => `${i + 1}: [${w.join(", ")}]`).join("  ")}   ${mark(wavesOk)}`);
    const p23 = report.pairs.find((p) => p.a === "P2_user_profile" && p.b === "P3_posts");
    const p12 = report.pairs.find((p) => p.a === "P1_user_auth" && p.b === "P2_user_profile");
    const p23Ok = p23?.verdict === "PARALLEL" && p23.reasons.some((r) => r.type === "resource_contention");
    const p12Ok =
      p12?.verdict === "SERIALIZE" &&
      p12.order === "a_first" &&
      ["dependency", "write_read", "schema"].every((t) => p12.reasons.some((r) => r.type === t));
    console.log(`P2|P3 expected "${input.expected.pairs["P2_user_profile|P3_posts"]}"   ${mark(p23Ok)}`);
    console.log(`P1|P2 expected "${input.expected.pairs["P1_user_auth|P2_user_profile"]}"   ${mark(p12Ok)}`);
    console.log(`\n${report.checkpoint.text}`);
    return defaultsOk && wavesOk && p23Ok && p12Ok;
  } finally {
    await client.close();
  }
}

/**
 * The same features in a project without a config: the well-known migration
 * rules (src/analysis/well-known.ts) make P1 and P3, which add migrations, integration
 * points (parallelism-framework.md Level 3), so P3 gets a wave of its own.
 * The protocol's §1.2 reads a migration as an ordinary file; its example
 * config turns the rule off to play the protocol as written.
 */
async function protocolWithoutConfig(work: string, features: Feature[]): Promise<boolean> {
  const root = path.join(work, "protocol-defaults");
  fs.mkdirSync(root, { recursive: true });
  const { client, call } = await startServer(root);
  try {
    const plan = await call<Plan>("plan_waves", { features, name: "protocol example, no config" });
    const waves = plan.waves.map((w) => w.features);
    const ok = JSON.stringify(waves) === JSON.stringify([["P1_user_auth"], ["P2_user_profile"], ["P3_posts"]]);
    console.log(
      `without a config: waves ${waves.map((w, i) => `${i + 1}: [${w.join(", ")}]`).join("  ")} ` +
        `(P3 adds a migration: an integration point of the serialized migrations domain)   ${mark(ok)}`,
    );
    console.log("with the protocol's reading (well-known migration rules off):");
    return ok;
  } finally {
    await client.close();
  }
}

async function fastapiHistory(work: string, watch: StoreWatcher): Promise<void> {
  const history = readJson<{ tasks: Feature[] }>("fastapi-template-history.json");
  const latest = history.tasks.slice(-300).map((t) => ({ id: t.id, writes: t.writes ?? [] }));
  heading(
    `2. Real history: the latest ${latest.length} of ${history.tasks.length} changes of full-stack-fastapi-template, with its domain map`,
  );
  const root = path.join(work, "fastapi");
  fs.mkdirSync(root, { recursive: true });
  fs.copyFileSync(path.join(EXAMPLES, "fastapi-template.signalbox.json"), path.join(root, "signalbox.config.json"));
  const { client, call } = await startServer(root);
  await watch.follow(root, path.join(root, ".signalbox"));
  try {
    let t0 = performance.now();
    const report = await call<ParallelReport>("check_parallel", { tasks: latest, max_pairs: 50 });
    const checkMs = performance.now() - t0;
    const s = report.summary;
    console.log(
      `check_parallel: ${report.verdict} in ${checkMs.toFixed(0)} ms (round trip): ${s.pairs_total} pairs, ` +
        `${s.parallel_pairs} parallel (${s.warning_pairs} with warnings), ${s.serialize_pairs} serialize, ${s.converge_pairs} converge`,
    );
    const reasons = Object.entries(s.by_reason)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1]);
    console.log(table(["conflict reason", "pairs"], reasons));
    console.log("hottest files (the most conflicting pairs):");
    console.log(
      table(
        ["file", "changes writing it", "mitigation"],
        report.checkpoint.shared_files.slice(0, 10).map((f) => [f.key, f.writer_count, f.mitigation.slice(0, 60)]),
      ),
    );

    t0 = performance.now();
    const plan = await call<Plan>("plan_waves", { features: latest, name: "fastapi latest 300", max_parallel: 8 });
    const planMs = performance.now() - t0;
    const sizes = plan.waves.map((w) => w.features.length);
    const integration = plan.waves.filter((w) => w.integration_point).length;
    console.log(
      `plan_waves (${plan.plan_id}, max_parallel 8) in ${planMs.toFixed(0)} ms: ${plan.waves.length} waves ` +
        `(${integration} integration-point waves), ${plan.conflicts_total} serialized conflicts, ` +
        `average ${(latest.length / plan.waves.length).toFixed(1)} changes per wave, largest ${Math.max(...sizes)}`,
    );
    console.log(
      table(
        ["wave", "changes"],
        plan.waves.slice(0, 8).map((w) => [`${w.wave_number}${w.integration_point ? " (integration)" : ""}`, w.features.join(" ")]),
      ),
    );
    if (plan.waves.length > 8) console.log(`... ${plan.waves.length - 8} more waves (signalbox://waves/${plan.plan_id})`);

    await twoAgents(call, latest);
  } finally {
    await client.close();
  }
}

async function twoAgents(call: <T>(name: string, args: object) => Promise<T>, tasks: Feature[]): Promise<void> {
  // Two changes that wrote a common file, each small enough to lock whole.
  let pick: [Feature, Feature, string] | undefined;
  for (let i = 0; i < tasks.length && !pick; i++) {
    for (let j = i + 1; j < tasks.length && !pick; j++) {
      const a = tasks[i]!;
      const b = tasks[j]!;
      if ((a.writes?.length ?? 0) > 6 || (b.writes?.length ?? 0) > 6) continue;
      const common = a.writes!.find((w) => b.writes!.includes(w) && !w.endsWith(".md"));
      if (common) pick = [a, b, common];
    }
  }
  if (!pick) throw new Error("no two overlapping changes found");
  const [a, b, common] = pick;
  heading(`3. Two agents lock the files of two overlapping changes (${a.id} and ${b.id} both write ${common})`);
  const first = await call<Acquired>("acquire_lock", {
    agent_id: "agent-1",
    paths: a.writes,
    mode: "write",
    feature_id: a.id,
  });
  console.log(`agent-1 acquire ${a.writes!.length} files of ${a.id}: ${first.granted ? "GRANTED" : "refused"}`);
  const refused = await call<Acquired>("acquire_lock", { agent_id: "agent-2", paths: b.writes, mode: "write", feature_id: b.id });
  console.log(`agent-2 acquire ${b.writes!.length} files of ${b.id}: ${refused.granted ? "GRANTED (!)" : `refused: ${refused.reason}`}`);
  for (const h of refused.holders) console.log(`   held: ${h.key} by ${h.agent_id} (${h.mode})`);
  const waiting = call<Acquired>("acquire_lock", {
    agent_id: "agent-2",
    paths: b.writes,
    mode: "write",
    feature_id: b.id,
    wait_ms: 5000,
  });
  await new Promise((r) => setTimeout(r, 300));
  const old = first.locks.find((l) => l.key === common)!;
  await call("release_lock", { agent_id: "agent-1", lock_ids: first.locks.map((l) => l.lock_id) });
  console.log("agent-1 releases its locks");
  const second = await waiting;
  const next = second.locks.find((l) => l.key === common)!;
  console.log(
    `agent-2 (queued with wait_ms 5000): ${second.granted ? "GRANTED" : "refused"} after ${second.waited_ms} ms; ` +
      `fencing token on ${common}: ${old.fencing_token} -> ${next.fencing_token}`,
  );
  const stale = await call<{ valid: boolean; status: string }>("verify_lock", {
    lock_id: old.lock_id,
    fencing_token: old.fencing_token,
  });
  console.log(`verify_lock on agent-1's old grant: valid=${stale.valid} (${stale.status})`);
  const decision = await call<{ seq: number }>("record_decision", {
    type: "conflict_resolution",
    decided_by: "orchestrator",
    context: `${a.id} and ${b.id} both write ${common}`,
    decision: `serialize: ${a.id} first, then ${b.id}`,
    refs: [common, a.id, b.id],
  });
  console.log(`decision #${decision.seq} recorded in the log (signalbox://decisions)`);
  await call("release_lock", { agent_id: "agent-2", all: true });
}

/**
 * Run the demo; exits non-zero if the worked example or the control-layer
 * flow does not match the protocol. While it plays, the read-only dashboard
 * (src/dashboard/) serves the store of the section playing on loopback; its
 * one-time link is printed first.
 */
export async function runDemo(opts: { pause?: boolean } = {}): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`build first: ${CLI} is missing (npm run build)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-demo-"));
  const lines = opts.pause ? stdinLines() : null;
  const pause = lines
    ? async () => {
        console.log("-- paused: the dashboard shows this section's store; press Enter to go on --");
        await lines.next();
      }
    : undefined;
  const dashboard = await DemoDashboard.start(stderrLogger(), pause);
  console.log(`Dashboard, live while the demo plays (one-time link, 5 min): ${dashboard.link().href}`);
  try {
    const ok = await protocolExample(work, dashboard);
    await fastapiHistory(work, dashboard);
    await dashboard.release();
    console.log(`\n${ok ? "Worked example matches the protocol's expected results." : "Worked example DOES NOT match."}`);
    const controlOk = await runControlDemo(dashboard);
    const waveOk = await runWaveDemo(dashboard);
    const gitOk = await runWorktreeDemo(dashboard);
    if (!ok || !controlOk || !waveOk || !gitOk) process.exitCode = 1;
  } finally {
    lines?.close();
    await dashboard.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Lines typed on stdin, one `next()` at a time; once stdin ends every `next()` resolves at once. */
function stdinLines(): { next(): Promise<void>; close(): void } {
  const rl = readline.createInterface({ input: process.stdin });
  const typed: string[] = [];
  const waiting: (() => void)[] = [];
  let ended = false;
  rl.on("line", (line) => {
    const w = waiting.shift();
    if (w) w();
    else typed.push(line);
  });
  rl.on("close", () => {
    ended = true;
    for (const w of waiting.splice(0)) w();
  });
  return {
    next: () =>
      new Promise<void>((resolve) => {
        if (typed.shift() !== undefined || ended) resolve();
        else waiting.push(resolve);
      }),
    close: () => rl.close(),
  };
}
