/**
 * The `initialize` answer the stdio entry point sends before the server is
 * loaded (src/runtime/stdio-early.ts, src/runtime/handshake.ts) is the SDK's answer, byte
 * for byte in what it says: checked against the SDK's own values in process,
 * and through the built server with a real client and with raw JSON-RPC.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LATEST_PROTOCOL_VERSION as SDK_LATEST, SUPPORTED_PROTOCOL_VERSIONS as SDK_SUPPORTED } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { INSTRUCTIONS, initializeResult, LATEST_PROTOCOL_VERSION, SERVER_CAPABILITIES, SERVER_INFO, SUPPORTED_PROTOCOL_VERSIONS } from "../src/runtime/handshake.js";
import { initializeRequestOf } from "../src/runtime/stdio-early.js";
import { connect, type Harness } from "./helpers/client.js";
import { tempDir } from "./helpers/store.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function folders(): { root: string; store: string } {
  const root = tempDir("signalbox-hs-root-");
  const store = tempDir("signalbox-hs-store-");
  cleanups.push(root.cleanup, store.cleanup);
  return { root: root.dir, store: store.dir };
}

/** The built server as a raw process: write lines, read answer lines. */
function rawServer(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; next: () => Promise<Record<string, unknown>>; stderr: () => string } {
  const child = spawn(process.execPath, [CLI], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  cleanups.push(() => void child.kill());
  let buf = "";
  let err = "";
  const waiting: ((line: string) => void)[] = [];
  const lines: string[] = [];
  child.stdout.on("data", (d: Buffer) => {
    buf += d.toString("utf8");
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
  const next = () =>
    new Promise<Record<string, unknown>>((resolve) => {
      const line = lines.shift();
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, unknown>);
      else waiting.push((l) => resolve(JSON.parse(l) as Record<string, unknown>));
    });
  return { child, next, stderr: () => err };
}

const initialize = (id: number | string, protocolVersion: string) =>
  `${JSON.stringify({ jsonrpc: "2.0", id, method: "initialize", params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "1" } } })}\n`;

describe("the initialize answer", () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it("uses the SDK's protocol versions and negotiates as the SDK does", () => {
    expect(SUPPORTED_PROTOCOL_VERSIONS).toEqual(SDK_SUPPORTED);
    expect(LATEST_PROTOCOL_VERSION).toBe(SDK_LATEST);
    expect(initializeResult("2024-11-05").protocolVersion).toBe("2024-11-05");
    expect(initializeResult("1999-01-01").protocolVersion).toBe(SDK_LATEST);
  });

  it("is what the SDK server reports to a client in process: capabilities, server info, instructions", async () => {
    h = await connect();
    expect(h.client.getServerCapabilities()).toEqual(SERVER_CAPABILITIES);
    expect(h.client.getServerVersion()).toEqual(SERVER_INFO);
    expect(h.client.getInstructions()).toBe(INSTRUCTIONS);
  });

  it("recognises only a well-formed initialize request", () => {
    const line = initialize(7, "2025-06-18").trim();
    expect(initializeRequestOf(line)).toEqual({ id: 7, protocolVersion: "2025-06-18" });
    expect(initializeRequestOf(line.replace('"initialize"', '"ping"'))).toBeNull();
    expect(initializeRequestOf(`[${line}]`)).toBeNull();
    expect(initializeRequestOf(line.replace('"id":7', '"id":1.5'))).toBeNull();
    expect(initializeRequestOf(line.replace('"protocolVersion":"2025-06-18"', '"protocolVersion":7'))).toBeNull();
    expect(initializeRequestOf(line.replace('"clientInfo":{"name":"raw","version":"1"}', '"clientInfo":{}'))).toBeNull();
    expect(initializeRequestOf("{not json")).toBeNull();
  });
});

describe("the built server on stdio", () => {
  it("answers initialize early, then serves the session the SDK set up from the same request", async () => {
    const { root, store } = folders();
    const client = new Client({ name: "handshake-test", version: "0.0.0" });
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI], env: { ...process.env, SIGNALBOX_ROOT: root, SIGNALBOX_DB: store } as Record<string, string>, stderr: "pipe" });
    let stderr = "";
    transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    await client.connect(transport);
    cleanups.push(() => client.close());
    expect(client.getServerCapabilities()).toEqual(SERVER_CAPABILITIES);
    expect(client.getInstructions()).toBe(INSTRUCTIONS);
    const tools = await client.listTools();
    expect(tools.tools.length).toBeGreaterThan(0);
    const info = await client.callTool({ name: "server_info", arguments: {} });
    expect(info.isError).toBeFalsy();
    // The client's capabilities reached the SDK (it saw the request): logging at the level this client sets works.
    await client.setLoggingLevel("debug");
    expect(stderr).not.toMatch(/different answer/);
  });

  it("answers one initialize exactly once, with the negotiated version, and queues what follows until the server is up", async () => {
    const { root, store } = folders();
    const s = rawServer({ SIGNALBOX_ROOT: root, SIGNALBOX_DB: store });
    s.child.stdin.write(
      initialize("a-1", "2024-11-05") +
        `${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n` +
        `${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" })}\n`,
    );
    const first = await s.next();
    expect(first).toEqual({ jsonrpc: "2.0", id: "a-1", result: initializeResult("2024-11-05") });
    const second = await s.next();
    expect(second.id).toBe(2);
    expect((second.result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
    s.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" })}\n`);
    expect(await s.next()).toEqual({ jsonrpc: "2.0", id: 3, result: {} });
    expect(s.stderr()).not.toMatch(/different answer/);
  });

  it("leaves a first line that is not an initialize request to the SDK, and an unknown version gets the latest", async () => {
    const { root, store } = folders();
    const s = rawServer({ SIGNALBOX_ROOT: root, SIGNALBOX_DB: store });
    s.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })}\n`);
    expect(await s.next()).toEqual({ jsonrpc: "2.0", id: 1, result: {} });
    s.child.stdin.write(initialize(2, "1999-01-01"));
    const answer = await s.next();
    expect(answer).toEqual({ jsonrpc: "2.0", id: 2, result: initializeResult("1999-01-01") });
    expect((answer.result as { protocolVersion: string }).protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
  });

  it("with an invalid config, answers initialize, then exits 1 naming the field on stderr", async () => {
    const { root, store } = folders();
    fs.writeFileSync(path.join(root, "signalbox.config.json"), JSON.stringify({ locks: { default_lease_ms: "long" } }));
    const s = rawServer({ SIGNALBOX_ROOT: root, SIGNALBOX_DB: store });
    const exited = new Promise<number | null>((resolve) => s.child.on("exit", resolve));
    s.child.stdin.write(initialize(1, "2025-06-18"));
    expect(await exited).toBe(1);
    expect(s.stderr()).toMatch(/^signalbox: invalid .*signalbox\.config\.json: locks\.default_lease_ms: /m);
  });
});
