import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { READ_ONLY, result } from "./common.js";

/** `server_info`: which root and store this server coordinates; the cheapest round trip. */
export function registerServerInfo(server: McpServer, ctx: Context, version: string): void {
  server.registerTool(
    "server_info",
    {
      title: "Server info",
      description:
        "Says which project root and store this signalbox server coordinates, its version and process id. Use it to check that every agent talks to the same store.",
      inputSchema: {},
      outputSchema: {
        version: z.string().describe("signalbox version"),
        root: z.string().describe("Absolute project root; keys are relative to it"),
        store: z.string().describe("Store folder"),
        pid: z.number().int().describe("Server process id"),
      },
      annotations: READ_ONLY,
    },
    async () => {
      const data = { version, root: ctx.root, store: ctx.store.dir, pid: process.pid };
      return result(data, `signalbox ${version} on ${ctx.root} (store ${ctx.store.dir}, pid ${process.pid})`);
    },
  );
}
