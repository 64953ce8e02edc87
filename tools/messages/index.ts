import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../../src/context.js";

/** Discoveries and conventions: cross_agent_handoff, get_inbox, acknowledge, set_convention, check_conventions, signalbox://conventions. */
export function registerMessageTools(server: McpServer, ctx: Context): void {
  void server;
  void ctx;
}
