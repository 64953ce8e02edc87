/**
 * Small helpers shared by the benchmark sections: timing, statistics, a
 * seeded PRNG, temp folders and a client for the built server over stdio.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The package folder (bench/ compiles to dist/bench/). */
export const PACKAGE = path.resolve(HERE, "../..");
export const EXAMPLES = path.join(PACKAGE, "examples");
export const CLI = path.join(PACKAGE, "dist/src/cli.js");

/** Monotonic milliseconds. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Time one synchronous call, in ms. */
export function timeSync<T>(fn: () => T): { ms: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** Time one asynchronous call, in ms. */
export async function timeAsync<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

/** The q-quantile (0..1) by linear interpolation between closest ranks. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh folder under the OS temp dir; `cleanup` removes it. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Resident set size of process `pid` in MiB, from /proc (NaN where /proc is absent). */
export function rssMiB(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A built signalbox server spawned over stdio, with a connected client. */
export interface ServerHandle {
  client: Client;
  pid: number;
  /** ms from spawn to `client.connect()` resolving (initialize answered). */
  connectMs: number;
  /** ms from spawn to the first `tools/list` answer (the server loaded). */
  readyMs: number;
  call<T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T>;
  /** The last few KB the server wrote to stderr. */
  stderrTail(): string;
  close(): Promise<void>;
}

/**
 * Spawn `node dist/src/cli.js` with SIGNALBOX_ROOT and SIGNALBOX_DB set and
 * connect the SDK client to it over stdio.
 */
export async function startServer(root: string, storeDir: string): Promise<ServerHandle> {
  const client = new Client({ name: "signalbox-bench", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    // The bench calls tools of every toolset (server_info, check_parallel, predict_conflicts, ...);
    // every tool is registered whatever is listed, so this costs the start nothing but a longer listing.
    args: [CLI, "--toolsets", "all"],
    env: { ...process.env, SIGNALBOX_ROOT: root, SIGNALBOX_DB: storeDir } as Record<string, string>,
    stderr: "pipe",
  });
  let tail = "";
  transport.stderr?.on("data", (d: Buffer) => {
    tail = (tail + d.toString("utf8")).slice(-4096);
  });
  const t0 = process.hrtime.bigint();
  await client.connect(transport);
  const connectMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // What a client does next: list the tools (the whole server must be loaded to answer).
  await client.listTools();
  const readyMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const pid = transport.pid;
  if (pid === null) throw new Error("server child has no pid");
  return {
    client,
    pid,
    connectMs,
    readyMs,
    async call<T>(name: string, args: Record<string, unknown>): Promise<T> {
      const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
      if (r.isError) throw new Error(`${name}: ${(r.content as { text: string }[])[0]?.text ?? "error"}`);
      return r.structuredContent as T;
    },
    stderrTail: () => tail,
    close: () => client.close(),
  };
}

/** Fixed-width number formatting for the table. */
export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US");
  return x.toFixed(digits);
}
