/** A built signalbox server in its own process, driven by a real SDK Client over stdio. */
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

const CLI = fileURLToPath(new URL("../../dist/src/cli.js", import.meta.url));

/** One server process and its client. */
export class ServerProcess {
  readonly client = new Client({ name: "worked-example", version: "0.0.0" });
  constructor(readonly name: string) {}
  async start(env: Record<string, string>): Promise<void> {
    await this.client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI], env, stderr: "pipe" }));
  }
  async call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    return (await this.client.callTool({ name, arguments: args })) as CallToolResult;
  }
  async ok<T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T> {
    const r = await this.call(name, args);
    if (r.isError) throw new Error(`${this.name} ${name}: ${JSON.stringify(r.content)}`);
    return r.structuredContent as T;
  }
  async fails(name: string, args: Record<string, unknown>): Promise<string> {
    const r = await this.call(name, args);
    if (!r.isError) throw new Error(`${this.name} ${name} should fail: ${JSON.stringify(r.structuredContent)}`);
    return (r.content as { text: string }[]).map((c) => c.text).join("\n");
  }
  async read<T>(uri: string): Promise<T> {
    const r = await this.client.readResource({ uri });
    return JSON.parse((r.contents[0] as { text: string }).text) as T;
  }
}

