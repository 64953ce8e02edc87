import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../../src/context.js";

/** Feature lifecycle: start_feature, complete_feature, fail_feature and signalbox://state. */
export function registerFeatureTools(server: McpServer, ctx: Context): void {
  void server;
  void ctx;
}
