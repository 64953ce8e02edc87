import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createContext, type Context, type ContextOptions } from "../../src/runtime/context.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { createServer } from "../../src/server.js";
import { tempDir } from "./store.js";
import { TOOLSET_NAMES } from "../../tools/toolsets.js";

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

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema | JsonSchema[];
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
};

/**
 * Undeclared fields in `value` under `schema`: structuredContent must be built
 * exactly to the outputSchema, not merely pass the SDK's lenient check.
 */
export function undeclaredFields(value: unknown, schema: JsonSchema | undefined, at = "$"): string[] {
  if (!schema || value === null || typeof value !== "object") return [];
  // A schema that constrains nothing (e.g. the values of z.record(z.string(), z.unknown())) admits any value.
  if (Object.keys(schema).every((k) => k === "description")) return [];
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    const results = variants.map((v) => undeclaredFields(value, v, at));
    const best = results.reduce((a, b) => (b.length < a.length ? b : a), results[0] ?? []);
    return best;
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => {
      const itemSchema = schema.prefixItems?.[i] ?? (Array.isArray(schema.items) ? schema.items[i] : schema.items);
      return undeclaredFields(item, itemSchema, `${at}[${i}]`);
    });
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const declared = schema.properties?.[k];
    if (declared) out.push(...undeclaredFields(v, declared, `${at}.${k}`));
    else if (typeof schema.additionalProperties === "object") out.push(...undeclaredFields(v, schema.additionalProperties, `${at}.${k}`));
    else out.push(`${at}.${k}`);
  }
  return out;
}

export async function connect(opts: ContextOptions = {}): Promise<Harness> {
  const rootDir = tempDir("signalbox-root-");
  const storeDir = tempDir("signalbox-store-");
  const ctx = createContext({ root: rootDir.dir, storeDir: storeDir.dir, logger: silentLogger, sweepMs: 0, ...opts });
  const { server } = createServer(ctx, { toolsets: TOOLSET_NAMES });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "signalbox-test", version: "0.0.0" });
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  // The served listing carries each tool's exact output schema: listing it makes the SDK client
  // validate every structuredContent against it (ajv), and undeclared fields are refused here too.
  const outputSchemas = new Map((await client.listTools()).tools.map((t) => [t.name, t.outputSchema as JsonSchema | undefined]));
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
    if (!r.isError) {
      const extra = undeclaredFields(r.structuredContent, outputSchemas.get(name));
      if (extra.length > 0) throw new Error(`${name}: structuredContent has fields its outputSchema does not declare: ${extra.join(", ")}`);
    }
    return r;
  };
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
