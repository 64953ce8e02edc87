import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../../src/context.js";

/** S3* audit: emit_audit_signal, resolve_audit_signal, audit_handoff and signalbox://audit. */
export function registerAuditTools(server: McpServer, ctx: Context): void {
  void server;
  void ctx;
}
