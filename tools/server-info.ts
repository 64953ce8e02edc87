import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { READ_ONLY, result } from "./common.js";
import { registerTool } from "./register.js";

/** `server_info`: which root and store this server coordinates; the cheapest round trip. */
export function registerServerInfo(server: McpServer, ctx: Context, version: string): void {
  registerTool(server, ctx, 
    "server_info",
    {
      title: "Server info",
      description:
        "Root, store, version and pid of this server: check that all agents share one store.",
      inputSchema: {},
      outputSchema: {
        version: z.string(),
        root: z.string().describe("Keys are relative to it"),
        store: z.string(),
        pid: z.number(),
      },
      annotations: READ_ONLY,
    },
    async () => {
      const data = { version, root: ctx.root, store: ctx.store.dir, pid: process.pid };
      return result(data, `signalbox ${version} on ${ctx.root} (store ${ctx.store.dir}, pid ${process.pid})`);
    },
  );
}
