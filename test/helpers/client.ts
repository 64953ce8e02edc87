import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createContext, type Context, type ContextOptions } from "../../src/context.js";
import { silentLogger } from "../../src/logger.js";
import { createServer } from "../../src/server.js";
import { tempDir } from "./store.js";

/** A real SDK Client connected in memory to a real server over a fresh store. */
export interface Harness {
  client: Client;
  ctx: Context;
  root: string;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  /** Call a tool and return its structuredContent, failing on isError. */
  ok<T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T>;
  /** Call a tool that must fail; returns the error text. */
  fails(name: string, args: Record<string, unknown>): Promise<string>;
  readJson<T = unknown>(uri: string): Promise<T>;
  close(): Promise<void>;
}

export async function connect(opts: ContextOptions = {}): Promise<Harness> {
  const rootDir = tempDir("signalbox-root-");
  const storeDir = tempDir("signalbox-store-");
  const ctx = createContext({ root: rootDir.dir, storeDir: storeDir.dir, logger: silentLogger, sweepMs: 0, ...opts });
  const { server } = createServer(ctx);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "signalbox-test", version: "0.0.0" });
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    ctx,
    root: ctx.root,
    call,
    async ok<T>(name: string, args: Record<string, unknown>) {
      const r = await call(name, args);
      if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
      return r.structuredContent as T;
    },
    async fails(name: string, args: Record<string, unknown>) {
      const r = await call(name, args);
      if (!r.isError) throw new Error(`${name} should have failed: ${JSON.stringify(r.structuredContent)}`);
      return (r.content as { text: string }[]).map((c) => c.text).join("\n");
    },
    async readJson<T>(uri: string) {
      const r = await client.readResource({ uri });
      const first = r.contents[0] as { text: string };
      return JSON.parse(first.text) as T;
    },
    async close() {
      await client.close();
      await server.close();
      await ctx.close();
      rootDir.cleanup();
      storeDir.cleanup();
    },
  };
}
