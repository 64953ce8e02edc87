import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers/store.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));

describe("the built server over stdio", () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  const env = { ...process.env, SIGNALBOX_ROOT: root.dir, SIGNALBOX_DB: store.dir } as Record<string, string>;
  let client: Client;

  beforeAll(async () => {
    client = new Client({ name: "stdio-test", version: "0.0.0" });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: "pipe" }));
  });
  afterAll(async () => {
    await client.close();
    root.cleanup();
    store.cleanup();
  });

  it("answers initialize with instructions and serves the tools", async () => {
    expect(client.getServerVersion()?.name).toBe("signalbox");
    expect(client.getInstructions()).toMatch(/acquire_lock/);
    const info = await client.callTool({ name: "server_info", arguments: {} });
    expect(info.structuredContent).toMatchObject({ store: store.dir });
  });

  it("grants and releases a lock through the real process", async () => {
    const g = await client.callTool({ name: "acquire_lock", arguments: { agent_id: "a", paths: ["src/x.ts"], mode: "write" } });
    expect(g.structuredContent).toMatchObject({ granted: true });
    const r = await client.callTool({ name: "release_lock", arguments: { agent_id: "a", all: true } });
    expect(r.structuredContent).toMatchObject({ released: [expect.objectContaining({ key: "src/x.ts" })] });
  });

  it("writes nothing but JSON-RPC to stdout, even for bad input", async () => {
    const child = spawn(process.execPath, [CLI], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const send = (msg: unknown) => child.stdin.write(`${JSON.stringify(msg)}\n`);
    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
    });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "acquire_lock", arguments: { mode: 7 } } });
    send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "acquire_lock", arguments: { agent_id: "a", paths: ["../x"], mode: "read" } } });
    send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "no_such_tool", arguments: {} } });
    send({ jsonrpc: "2.0", id: 5, method: "resources/read", params: { uri: "signalbox://waves/plan_missing" } });
    send("this is not json");
    send({ jsonrpc: "2.0", id: 6, method: "tools/list" });
    const deadline = Date.now() + 15_000;
    // Answers may come in any order (resources/read can finish after tools/list): wait for all six.
    const answered = () => [1, 2, 3, 4, 5, 6].every((id) => new RegExp(`"id":${id}[,}]`).test(out));
    while (!answered() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill();
    const lines = out.split("\n").filter((l) => l.trim() !== "");
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const line of lines) {
      const msg = JSON.parse(line) as { jsonrpc: string };
      expect(msg.jsonrpc).toBe("2.0");
    }
    const byId = new Map(lines.map((l) => JSON.parse(l) as { id?: number; result?: { isError?: boolean; content?: { text: string }[] } }).map((m) => [m.id, m]));
    expect(byId.get(2)!.result!.isError).toBe(true);
    expect(byId.get(2)!.result!.content![0]!.text).toMatch(/agent_id/);
    expect(byId.get(3)!.result!.content![0]!.text).toMatch(/paths\[0\].*leaves the project root/);
  });
});
