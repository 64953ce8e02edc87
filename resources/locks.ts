import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../src/context.js";
import { jsonContents } from "./common.js";

/** `signalbox://locks`: live locks and waiters. Never shows a lock_id (it is the holder's secret). */
export function registerLockResource(server: McpServer, ctx: Context): void {
  server.registerResource(
    "locks",
    "signalbox://locks",
    {
      title: "Locks",
      description: "Current locks (key, mode, holder, feature, fencing token, expiry) and queued waiters.",
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, ctx.locks.list()),
  );
}
