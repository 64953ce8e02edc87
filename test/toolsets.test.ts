/**
 * Toolsets (tools/toolsets.ts, tools/host.ts): a client first sees the core
 * tools only; `--toolsets`, `SIGNALBOX_TOOLSETS` and the config's
 * `tools.toolsets` list more from the start, and `enable_toolsets` adds them
 * at run time with `notifications/tools/list_changed`. Real clients: in
 * memory, and over stdio against the built server.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { createContext, type Context } from "../src/runtime/context.js";
import { silentLogger } from "../src/runtime/logger.js";
import { createHttpServer } from "../src/runtime/http.js";
import { createServer } from "../src/server.js";
import { parseToolsets, resolveToolsets, TOOLSET_NAMES, TOOLSET_OF } from "../tools/toolsets.js";
import { tempDir } from "./helpers/store.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const CORE = Object.entries(TOOLSET_OF)
  .filter(([, t]) => t === "core")
  .map(([n]) => n)
  .sort();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** An in-memory client on a fresh server; `notified` counts tools/list_changed notifications. */
async function inMemory(configRaw: Record<string, unknown> = {}): Promise<{ client: Client; ctx: Context; notified: () => number }> {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  const ctx = createContext({ root: root.dir, storeDir: store.dir, config: parseConfig(configRaw), logger: silentLogger, sweepMs: 0 });
  const { server } = createServer(ctx);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "toolsets", version: "0" });
  let n = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    n++;
  });
  await Promise.all([server.connect(b), client.connect(a)]);
  cleanups.push(async () => {
    await client.close();
    await ctx.close();
    root.cleanup();
    store.cleanup();
  });
  return { client, ctx, notified: () => n };
}

const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();

describe("the default listing", () => {
  it("is the core toolset, and a tool outside it cannot be called until its toolset is enabled", async () => {
    const { client, notified } = await inMemory();
    expect(await names(client)).toEqual(CORE);
    const before = (await client.callTool({ name: "dispatch_agents", arguments: { agents: [{ agent_id: "a", role: "coder" }] } })) as CallToolResult;
    expect(before.isError).toBe(true);
    expect(JSON.stringify(before.content)).toMatch(/dispatch_agents.*disabled/);

    const r = (await client.callTool({ name: "enable_toolsets", arguments: { toolsets: ["orchestration"] } })) as CallToolResult;
    const enabled = r.structuredContent as { enabled: string[]; added: string[] };
    expect(enabled.enabled).toEqual(["core", "orchestration"]);
    expect([...enabled.added].sort()).toEqual(
      Object.entries(TOOLSET_OF)
        .filter(([, t]) => t === "orchestration")
        .map(([n]) => n)
        .sort(),
    );
    await expect.poll(notified).toBeGreaterThan(0);
    expect(await names(client)).toContain("dispatch_agents");
    const after = (await client.callTool({ name: "dispatch_agents", arguments: { agents: [{ agent_id: "a", role: "coder" }] } })) as CallToolResult;
    expect(after.isError).toBeFalsy();
    // Enabling again changes nothing.
    const again = (await client.callTool({ name: "enable_toolsets", arguments: { toolsets: ["orchestration"] } })) as CallToolResult;
    expect((again.structuredContent as { added: string[] }).added).toEqual([]);
    const all = (await client.callTool({ name: "enable_toolsets", arguments: { toolsets: ["all"] } })) as CallToolResult;
    expect((all.structuredContent as { enabled: string[] }).enabled).toEqual(TOOLSET_NAMES);
    expect(await names(client)).toEqual(Object.keys(TOOLSET_OF).sort());
  });

  it("follows the config's tools.toolsets", async () => {
    const { client } = await inMemory({ tools: { toolsets: ["git", "planning"] } });
    expect(await names(client)).toEqual([...CORE, "check_parallel", "plan_waves", "predict_conflicts"].sort());
  });
});

describe("choosing toolsets", () => {
  it("parses lists and all, always keeps core, and names where a bad name came from", () => {
    expect(parseToolsets("planning, git", "--toolsets")).toEqual(["core", "planning", "git"]);
    expect(parseToolsets(["all"], "tools.toolsets")).toEqual(TOOLSET_NAMES);
    expect(parseToolsets("", "--toolsets")).toEqual(["core"]);
    expect(() => parseToolsets("planing", "--toolsets")).toThrow('--toolsets: unknown toolset "planing"; toolsets: core, planning, orchestration, quality, waves, incidents, git or all');
    expect(resolveToolsets({ flag: "waves", env: { SIGNALBOX_TOOLSETS: "git" }, config: ["quality"] })).toEqual(["core", "waves"]);
    expect(resolveToolsets({ env: { SIGNALBOX_TOOLSETS: "git" }, config: ["quality"] })).toEqual(["core", "git"]);
    expect(resolveToolsets({ env: {}, config: ["quality"] })).toEqual(["core", "quality"]);
    expect(() => resolveToolsets({ env: { SIGNALBOX_TOOLSETS: "nope" }, config: [] })).toThrow(/^SIGNALBOX_TOOLSETS: unknown toolset "nope"/);
  });

  it("the built server over stdio: core by default, --toolsets for more; a bad name stops it with one line", async () => {
    const store = tempDir("signalbox-store-");
    const root = tempDir("signalbox-root-");
    cleanups.push(() => {
      store.cleanup();
      root.cleanup();
    });
    const env: Record<string, string> = { ...(process.env as Record<string, string>), SIGNALBOX_ROOT: root.dir, SIGNALBOX_DB: store.dir };
    delete env.SIGNALBOX_TOOLSETS;
    const listed = async (args: string[]) => {
      const client = new Client({ name: "stdio-toolsets", version: "0" });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, ...args], env, stderr: "pipe" }));
      try {
        return await names(client);
      } finally {
        await client.close();
      }
    };
    expect(await listed([])).toEqual(CORE);
    expect(await listed(["--toolsets", "incidents"])).toEqual([...CORE, "close_incident", "report_emergency"].sort());
    const bad = spawnSync(process.execPath, [CLI, "--toolsets", "everything"], { env, input: "", encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain('--toolsets: unknown toolset "everything"');
  });
});

describe("over HTTP", () => {
  it("each session has its own toolsets: one session's enable_toolsets changes only its own listing", async () => {
    const root = tempDir("signalbox-root-");
    const store = tempDir("signalbox-store-");
    const token = "toolsets-token-0123456789";
    const config = parseConfig({ http: { tokens: [{ name: "t", token, agents: ["*"] }] } });
    const ctx = createContext({ root: root.dir, storeDir: store.dir, config, logger: silentLogger, sweepMs: 0 });
    const http = await createHttpServer(ctx, { listen: "127.0.0.1:0" });
    const session = async () => {
      const c = new Client({ name: "session", version: "0" });
      await c.connect(new StreamableHTTPClientTransport(http.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      return c;
    };
    const a = await session();
    const b = await session();
    cleanups.push(async () => {
      await a.close();
      await b.close();
      await http.close();
      await ctx.close();
      root.cleanup();
      store.cleanup();
    });
    await a.callTool({ name: "enable_toolsets", arguments: { toolsets: ["waves"] } });
    expect(await names(a)).toContain("integrate_wave");
    expect(await names(b)).toEqual(CORE);
  });
});
