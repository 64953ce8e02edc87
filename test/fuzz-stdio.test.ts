/**
 * Bad input against the BUILT server over stdio (RELIABILITY.md, "Bad input
 * and misuse"): the generators of test/helpers/arbitraries.ts, fewer calls per
 * tool than test/fuzz.test.ts, through a real SDK Client spawning
 * `node dist/src/cli.js`. Asserts that stdout stays pure JSON-RPC (the
 * client's stdio reader reports any line that is not a JSON-RPC message
 * through `onerror`: there must be none), that the process never exits, and
 * that every invalid call is refused naming its field. Then raw malformed
 * lines go straight to a child's stdin (garbage, truncated JSON, non-object
 * arguments, a 5 MB argument) and the server must answer errors or ignore
 * them and keep serving.
 *
 * Needs `npx tsc -p tsconfig.json` first (dist/). Env: SIGNALBOX_FUZZ_SEED,
 * SIGNALBOX_FUZZ_STDIO_RUNS (calls per tool, default 100).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callWithin, internalErrorMark, invalidArgs, listFullToolSchemas, namesField, resultText, showPath, validArgs } from "./helpers/arbitraries.js";
import { tempDir } from "./helpers/store.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const RUNS = Number(process.env.SIGNALBOX_FUZZ_STDIO_RUNS ?? 100);
const SEED = process.env.SIGNALBOX_FUZZ_SEED !== undefined ? Number(process.env.SIGNALBOX_FUZZ_SEED) : undefined;
/** A call with no answer after this long counts as a hang. */
const CALL_TIMEOUT_MS = 15_000;
/** Most stderr kept for failure messages. */
const STDERR_TAIL = 4_000;

const TOOLS = await listFullToolSchemas();

describe("fuzz: every tool's arguments against the built server over stdio", () => {
  const root = tempDir("signalbox-fuzz-root-");
  const store = tempDir("signalbox-fuzz-store-");
  const env = { ...process.env, SIGNALBOX_ROOT: root.dir, SIGNALBOX_DB: store.dir } as Record<string, string>;
  const client = new Client({ name: "signalbox-fuzz-stdio", version: "0.0.0" });
  const transportErrors: string[] = [];
  let exited = false;
  let stderr = "";

  beforeAll(async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: "pipe" });
    // Drained so a chatty server never blocks on a full stderr pipe; the tail goes into failure messages.
    transport.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString("utf8")).slice(-STDERR_TAIL)));
    client.onerror = (e) => transportErrors.push(e.message);
    client.onclose = () => (exited = true);
    await client.connect(transport);
    // Caches the listed output schemas: the client then checks every structuredContent against them.
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort(), "dist/ is stale: run npx tsc -p tsconfig.json").toEqual(TOOLS.map((t) => t.name).sort());
  });

  afterAll(async () => {
    await client.close();
    root.cleanup();
    store.cleanup();
  });

  for (const tool of TOOLS) {
    it(`${tool.name}: ${RUNS} generated calls keep stdout pure JSON-RPC and the process up`, { timeout: 300_000 }, async () => {
      const valid = validArgs(tool.inputSchema).map((args) => ({ valid: true as const, args }));
      const invalid = invalidArgs(tool.inputSchema)?.map((m) => ({ valid: false as const, ...m }));
      await fc.assert(
        fc.asyncProperty(invalid ? fc.oneof(valid, invalid) : valid, async (c) => {
          const r = await callWithin(client, tool.name, c.args, CALL_TIMEOUT_MS);
          const text = resultText(r.content);
          const mark = r.isError ? internalErrorMark(text) : undefined;
          if (mark) throw new Error(`internal error (${mark}): ${text.slice(0, 500)}`);
          if (!c.valid) {
            if (!r.isError) throw new Error(`invalid call (${c.kind} at ${showPath(c.path)}) accepted: ${JSON.stringify(r.structuredContent).slice(0, 300)}`);
            if (!namesField(text, c.path)) throw new Error(`error does not name ${showPath(c.path)} (${c.kind}): ${text.slice(0, 500)}`);
          }
          if (transportErrors.length > 0) throw new Error(`stdout carried something other than JSON-RPC: ${transportErrors.join("; ")}`);
          if (exited) throw new Error(`server exited; stderr: ${stderr}`);
        }),
        { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
      const info = await callWithin(client, "server_info", {}, CALL_TIMEOUT_MS);
      expect(info.isError, resultText(info.content)).toBeFalsy();
      expect(transportErrors).toEqual([]);
      expect(exited, stderr).toBe(false);
    });
  }

  it("answers or ignores raw malformed JSON-RPC lines and keeps serving", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [CLI], { env, stdio: ["pipe", "pipe", "pipe"] });
    child.stderr.resume();
    const lines: string[] = [];
    let partial = "";
    const answered = new Map<number, Record<string, unknown>>();
    child.stdout.on("data", (d: Buffer) => {
      const parts = (partial + d.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (line.trim() === "") continue;
        lines.push(line);
        try {
          const msg = JSON.parse(line) as { id?: unknown };
          if (typeof msg.id === "number") answered.set(msg.id, msg as Record<string, unknown>);
        } catch {
          // Counted below: every line must parse.
        }
      }
    });
    const write = (line: string) => child.stdin.write(`${line}\n`);
    const send = (msg: unknown) => write(JSON.stringify(msg));
    const call = (id: number, args: unknown, name = "acquire_lock") => send({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
    const until = async (id: number) => {
      const start = performance.now();
      while (!answered.has(id) && performance.now() - start < CALL_TIMEOUT_MS && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      return answered.get(id);
    };
    try {
      send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } } });
      send({ jsonrpc: "2.0", method: "notifications/initialized" });
      expect(await until(1)).toHaveProperty("result");

      write("this is not json");
      write('{"jsonrpc":"2.0","id":10,"method":"tools/li');
      write("{}");
      write('{"foo": 1}');
      write("[1, 2, 3]");
      write('"just a string"');
      write("\u0000\u0001\u0002");
      call(11, ["agent_id", "a"]);
      call(12, "agent_id=a");
      call(13, 42);
      call(14, { agent_id: "a".repeat(5 * 1024 * 1024), paths: ["src/a.ts"], mode: "write" });
      call(15, { agent_id: "a", paths: [`src/${"b".repeat(5 * 1024 * 1024)}.ts`], mode: "write" });
      send({ jsonrpc: "2.0", id: 16, method: "no/such_method", params: {} });
      send({ jsonrpc: "2.0", id: 17, method: "tools/call", params: { name: "no_such_tool", arguments: {} } });
      send({ jsonrpc: "2.0", id: 18, method: "tools/call", params: "not an object" });
      call(99, {}, "server_info");

      const last = (await until(99)) as { result?: CallToolResult } | undefined;
      expect(child.exitCode, "the server exited").toBeNull();
      expect(last?.result?.isError, JSON.stringify(last)).toBeFalsy();
      for (const line of lines) expect((JSON.parse(line) as { jsonrpc?: string }).jsonrpc, line.slice(0, 200)).toBe("2.0");
      // Requests with an id get an answer: a JSON-RPC error, or a tool error naming the field.
      for (const id of [11, 12, 13, 14, 15, 16, 17]) {
        const msg = answered.get(id) as { error?: unknown; result?: CallToolResult } | undefined;
        expect(msg, `request ${id} unanswered`).toBeDefined();
        expect(msg!.error !== undefined || msg!.result?.isError === true, `request ${id}: ${JSON.stringify(msg).slice(0, 300)}`).toBe(true);
      }
      const text = (id: number) => resultText((answered.get(id) as { result?: CallToolResult }).result?.content);
      expect(text(14)).toMatch(/agent_id/);
      expect(text(15)).toMatch(/paths/);
      // params that are not an object make the line no JSON-RPC request at all: the SDK drops it unanswered,
      // like the garbage lines (the truncated request 10 included); an answer, if any, must be an error.
      expect(answered.has(10)).toBe(false);
      if (answered.has(18)) expect(answered.get(18)).toHaveProperty("error");
    } finally {
      child.kill();
    }
  });

  // The SDK's stdio reader holds at most 10 MiB of one unfinished line (STDIO_DEFAULT_MAX_BUFFER_SIZE); past
  // that its transport closes, and src/runtime/stdio.ts exits on close. One oversized request must not end the server.
  it("keeps serving after a single request line over 10 MiB", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [CLI], { env, stdio: ["pipe", "pipe", "pipe"] });
    child.stderr.resume();
    child.stdin.on("error", () => undefined); // EPIPE once the server is gone: the assertion below says so.
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const send = (msg: unknown) => child.stdin.write(`${JSON.stringify(msg)}\n`);
    try {
      send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } } });
      send({ jsonrpc: "2.0", method: "notifications/initialized" });
      send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "acquire_lock", arguments: { agent_id: "a".repeat(11 * 1024 * 1024), paths: ["src/a.ts"], mode: "write" } } });
      send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "server_info", arguments: {} } });
      const start = performance.now();
      while (!/"id":3[,}]/.test(out) && child.exitCode === null && performance.now() - start < CALL_TIMEOUT_MS) await new Promise((r) => setTimeout(r, 20));
      expect(child.exitCode, "the server exited after an 11 MiB line").toBeNull();
      expect(out).toMatch(/"id":3[,}]/);
    } finally {
      child.kill();
    }
  });
});
