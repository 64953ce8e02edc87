/**
 * Section 5: the Claude Code PreToolUse hook as Claude Code runs it: one
 * process per tool call (`node dist/src/cli.js hook claude-pre-tool-use`,
 * hook JSON on stdin, spawn until the process has exited and closed its
 * output), against a store holding ~1,000 live locks, for an allowed Edit (a
 * file the caller has write-locked), a denied Edit (a file under another
 * agent's folder lock) and a Read (answered before the store is opened).
 * Floor: `node -e ""` spawn to exit, interleaved with the hook runs in the
 * same loop. Attribution: node loading the hook's two dependencies
 * (commander, lmdb) and nothing else.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { LockManager } from "../src/locks/manager.js";
import { systemClock } from "../src/store/clock.js";
import { openStore } from "../src/store/lmdb/store.js";
import { CLI, PACKAGE, quantile, tempDir } from "./lib.js";
import { lmdbAccess } from "../src/store/lmdb/engine.js";

/** p50 / p95 of one kind of run, ms. */
export interface Spread {
  p50_ms: number;
  p95_ms: number;
}

export interface HookBenchResult {
  runs: number;
  live_locks: number;
  allowed_edit: Spread;
  denied_edit: Spread;
  read: Spread;
  /** `node -e ""` spawn to exit, same loop. */
  node_floor: Spread;
  /** p50 of each against the floor's p50. */
  ratio_allowed: number;
  ratio_denied: number;
  ratio_read: number;
  /** `node -e 'require("commander"); require("lmdb")'` spawn to exit, p50. */
  node_load_deps_ms: number;
}

interface Outcome {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Spawn node with `args` in `cwd`, write `input` to its stdin; resolve when it has exited and closed its pipes. */
function run(args: string[], cwd: string, env: NodeJS.ProcessEnv, input: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code, stdout, stderr }));
    child.stdin.end(input);
  });
}

function hookJson(root: string, tool: string, file: string): string {
  return JSON.stringify({
    session_id: "bench-session",
    transcript_path: path.join(root, "transcript.jsonl"),
    cwd: root,
    hook_event_name: "PreToolUse",
    tool_name: tool,
    tool_input: tool === "Read" ? { file_path: file } : { file_path: file, old_string: "a", new_string: "b" },
    tool_use_id: "toolu_bench",
  });
}

/** Fill the store at `<root>/.signalbox` with `agents` x `perAgent` live write locks plus the two the runs look at. */
async function seed(root: string, agents: number, perAgent: number): Promise<number> {
  const store = openStore(path.join(root, ".signalbox"));
  const locks = new LockManager(lmdbAccess(store, systemClock()), {
    default_lease_ms: 3_600_000,
    max_lease_ms: 3_600_000,
    default_wait_ms: 0,
    max_wait_ms: 0,
  });
  let n = 0;
  try {
    for (let a = 0; a < agents; a++) {
      const keys = Array.from({ length: perAgent }, (_, i) => `pkg${a}/mod${i % 10}/file${i}.ts`);
      const r = await locks.acquire({ agent_id: `agent-${a}`, keys, mode: a % 3 === 0 ? "read" : "write" });
      if (!r.granted) throw new Error(`bench seed: not granted: ${r.message}`);
      n += keys.length;
    }
    for (const [agent, key] of [
      ["bob", "src/api/"],
      ["alice", "src/mine.ts"],
    ] as const) {
      const r = await locks.acquire({ agent_id: agent, keys: [key], mode: "write" });
      if (!r.granted) throw new Error(`bench seed: not granted: ${r.message}`);
      n += 1;
    }
  } finally {
    await store.close();
  }
  return n;
}

function spread(xs: readonly number[]): Spread {
  return { p50_ms: quantile(xs, 0.5), p95_ms: quantile(xs, 0.95) };
}

/**
 * Run the section: `runs` rounds of floor, allowed Edit, denied Edit, Read
 * (interleaved, after one warm-up round). Throws if a hook run answers
 * wrongly (a figure for a broken path would be worthless).
 */
export async function benchHook(runs = 40): Promise<HookBenchResult> {
  const rootDir = tempDir("signalbox-bench-hook-");
  try {
    const root = fs.realpathSync(rootDir.dir);
    fs.mkdirSync(path.join(root, ".git")); // a project root, as resolveRoot finds it from the hook's cwd
    const live = await seed(root, 10, 100);
    const env: NodeJS.ProcessEnv = { ...process.env, SIGNALBOX_AGENT_ID: "alice" };
    delete env.SIGNALBOX_ROOT;
    delete env.SIGNALBOX_DB;
    const hookArgs = [CLI, "hook", "claude-pre-tool-use"];
    const kinds = {
      floor: { args: ["-e", ""], input: "", expect: (o: Outcome) => o.code === 0 },
      allowed: {
        args: hookArgs,
        input: hookJson(root, "Edit", path.join(root, "src/mine.ts")),
        expect: (o: Outcome) => o.code === 0 && o.stdout === "" && o.stderr === "",
      },
      denied: {
        args: hookArgs,
        input: hookJson(root, "Edit", path.join(root, "src/api/users.ts")),
        expect: (o: Outcome) => o.code === 0 && o.stdout.includes('"permissionDecision":"deny"'),
      },
      read: {
        args: hookArgs,
        input: hookJson(root, "Read", path.join(root, "src/api/users.ts")),
        expect: (o: Outcome) => o.code === 0 && o.stdout === "" && o.stderr === "",
      },
    };
    const times: Record<keyof typeof kinds, number[]> = { floor: [], allowed: [], denied: [], read: [] };
    for (let r = -1; r < runs; r++) {
      for (const [name, k] of Object.entries(kinds) as [keyof typeof kinds, (typeof kinds)["floor"]][]) {
        const o = await run(k.args, root, env, k.input);
        if (!k.expect(o)) {
          throw new Error(`bench hook: the ${name} run answered wrongly (exit ${o.code}): ${o.stdout}${o.stderr}`);
        }
        if (r >= 0) times[name].push(o.ms);
      }
    }
    const deps: number[] = [];
    for (let r = 0; r < Math.min(runs, 15); r++) {
      deps.push((await run(["-e", 'require("commander"); require("lmdb")'], PACKAGE, env, "")).ms);
    }
    const floor = spread(times.floor);
    const allowed = spread(times.allowed);
    const denied = spread(times.denied);
    const read = spread(times.read);
    return {
      runs,
      live_locks: live,
      allowed_edit: allowed,
      denied_edit: denied,
      read,
      node_floor: floor,
      ratio_allowed: allowed.p50_ms / floor.p50_ms,
      ratio_denied: denied.p50_ms / floor.p50_ms,
      ratio_read: read.p50_ms / floor.p50_ms,
      node_load_deps_ms: quantile(deps, 0.5),
    };
  } finally {
    rootDir.cleanup();
  }
}

/**
 * Rows for the table of bench/index.ts (columns: #, figure, measured, floor
 * (same run), floor, ratio, goal). Goal: an allowed edit answers in under
 * 100 ms at p50.
 */
export function hookRows(h: HookBenchResult, fmt: (x: number, digits?: number) => string): string[][] {
  const ms = (s: Spread) => `${fmt(s.p50_ms, 0)} / ${fmt(s.p95_ms, 0)} ms`;
  const floor = ms(h.node_floor);
  return [
    [
      "6",
      `hook claude-pre-tool-use, allowed Edit, p50 / p95 (${h.runs} runs, ${fmt(h.live_locks, 0)} live locks)`,
      ms(h.allowed_edit),
      'node -e "" spawn to exit, interleaved',
      floor,
      fmt(h.ratio_allowed),
      `${h.allowed_edit.p50_ms < 100 ? "met" : "MISSED"} (p50 < 100 ms)`,
    ],
    ["6", "hook claude-pre-tool-use, denied Edit (folder lock), p50 / p95", ms(h.denied_edit), "same floor", floor, fmt(h.ratio_denied), "(info)"],
    ["6", "hook claude-pre-tool-use, Read (exits before the store), p50 / p95", ms(h.read), "same floor", floor, fmt(h.ratio_read), "(info)"],
  ];
}
