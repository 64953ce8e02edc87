/**
 * One signalbox server process driven by an SDK Client over stdio, and the
 * classification of a tool call's outcome under faults: answered, refused by
 * the disk reserve, lost with the server, or hung.
 */
import fs from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ErrorCode, McpError, type Progress } from "@modelcontextprotocol/sdk/types.js";

/** Where a server runs and how its wall clock is shifted. */
export interface ServerSpec {
  cli: string;
  root: string;
  db: string;
  /** libfaketime offset such as "+10s" (CLOCK_MONOTONIC left alone); null for the real clock. */
  faketime: string | null;
  /** Path of libfaketime.so.1 when `faketime` is set. */
  faketimeLib?: string | null;
}

/** A running server and its client. `alive` turns false when the transport closes. */
export interface LiveServer {
  client: Client;
  transport: StdioClientTransport;
  pid: number;
  alive: boolean;
  /** Resolves when the transport closed (the process exited). */
  closed: Promise<void>;
  /** Last few KB of the server's stderr. */
  stderr(): string;
}

/** How one call ended. */
export type CallOutcome<T> =
  | { kind: "ok"; data: T }
  /** The tool answered isError: the disk reserve refused the write ("disk_reserve_mb" in the text). */
  | { kind: "disk"; text: string }
  /** LMDB failed inside the server ("store: LMDB failed"): the server reopens its store before the next write. */
  | { kind: "store"; text: string }
  /** Any other error answer. */
  | { kind: "error"; text: string }
  /** The server went away with the call in flight: unknown outcome. */
  | { kind: "lost" }
  /** No answer within the timeout while the server was alive. */
  | { kind: "hung" };

/** Text a disk-reserve refusal carries (the lead's `limits.disk_reserve_mb`). */
export const DISK_ERROR_MARK = "disk_reserve_mb";
/** Text of an LMDB failure the server answers with, then recovers from by reopening (src/store/lmdb/store.ts). */
export const STORE_FAILURE_MARK = "store: LMDB failed";

/** Is process `pid` alive? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Known install places of libfaketime (Debian/Ubuntu multiarch and others). */
const FAKETIME_LIBS = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/faketime/libfaketime.so.1",
  "/usr/local/lib/faketime/libfaketime.so.1",
];

/** Path of libfaketime.so.1, or null if it is not installed. */
export function findFaketimeLib(): string | null {
  return FAKETIME_LIBS.find((p) => fs.existsSync(p)) ?? null;
}

/**
 * Start a server and connect a client, and count it as started once it has
 * answered a `tools/list` too: the stdio entry point answers `initialize`
 * while the server is still loading (src/runtime/stdio-early.ts), and the kill fault
 * targets started servers, so a server is killed at work, not mid-load
 * (a kill mid-load is still possible: the driver retries the start).
 * The clock fault preloads libfaketime into the server itself (what the
 * `faketime` wrapper does), so the pid we kill is the server's own.
 * @throws Error if the process cannot start or dies before it answers.
 */
export async function startServer(spec: ServerSpec, clientName: string, timeoutMs = 20_000): Promise<LiveServer> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), SIGNALBOX_ROOT: spec.root, SIGNALBOX_DB: spec.db };
  if (spec.faketime !== null) {
    if (!spec.faketimeLib) throw new Error("faketime: libfaketime.so.1 not found");
    env.LD_PRELOAD = spec.faketimeLib;
    env.FAKETIME = spec.faketime;
    env.FAKETIME_DONT_FAKE_MONOTONIC = "1";
  }
  // The drivers record decisions: record_decision is in the orchestration toolset.
  const transport = new StdioClientTransport({ command: process.execPath, args: [spec.cli, "--toolsets", "orchestration"], env, stderr: "pipe" });
  let err = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-4000);
  });
  const client = new Client({ name: clientName, version: "0.0.0" });
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const live: LiveServer = { client, transport, pid: -1, alive: true, closed, stderr: () => err };
  client.onclose = () => {
    live.alive = false;
    markClosed();
  };
  try {
    await client.connect(transport, { timeout: timeoutMs });
    await client.listTools(undefined, { timeout: timeoutMs });
  } catch (e) {
    live.alive = false;
    await client.close().catch(() => {});
    throw new Error(`server start: ${(e as Error).message}; stderr: ${err.slice(-500)}`);
  }
  live.pid = transport.pid ?? -1;
  return live;
}

/** Kill a server outright (SIGKILL); already gone is fine. */
export function killServer(live: LiveServer): void {
  if (live.pid <= 0) return;
  try {
    process.kill(live.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Stop a server: close the client (ends its stdin), then make sure it is gone. */
export async function stopServer(live: LiveServer): Promise<void> {
  await live.client.close().catch(() => {});
  killServer(live);
}

function errorText(content: unknown): string {
  return (Array.isArray(content) ? content : [])
    .map((c: { text?: string }) => c.text ?? "")
    .join(" ");
}

/**
 * Call a tool and classify the outcome. `timeoutMs` is the SDK request
 * timeout; `onprogress` receives `notifications/progress` for this request.
 * A timeout while the server process is still alive is "hung"; the caller
 * decides what to do with the server.
 */
export async function callTool<T>(
  live: LiveServer,
  name: string,
  args: Record<string, unknown>,
  timeoutMs: number,
  onprogress?: (p: Progress) => void,
): Promise<CallOutcome<T>> {
  try {
    const res = await live.client.callTool({ name, arguments: args }, undefined, {
      timeout: timeoutMs,
      ...(onprogress ? { onprogress } : {}),
    });
    if (res.isError) {
      const text = errorText(res.content);
      if (text.includes(DISK_ERROR_MARK)) return { kind: "disk", text };
      if (text.includes(STORE_FAILURE_MARK)) return { kind: "store", text: `${name}: ${text}` };
      return { kind: "error", text: `${name}: ${text}` };
    }
    if (!res.structuredContent) return { kind: "error", text: `${name}: no structuredContent` };
    return { kind: "ok", data: res.structuredContent as T };
  } catch (e) {
    if (e instanceof McpError && e.code === ErrorCode.RequestTimeout && live.alive && pidAlive(live.pid)) return { kind: "hung" };
    if (!live.alive || (e instanceof McpError && e.code === ErrorCode.ConnectionClosed)) return { kind: "lost" };
    const msg = (e as Error).message;
    if (/not connected|EPIPE|closed/i.test(msg)) return { kind: "lost" };
    if (msg.includes(DISK_ERROR_MARK)) return { kind: "disk", text: msg };
    return { kind: "error", text: `${name}: ${msg}` };
  }
}
