import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../src/runtime/context.js";
import { registerAuditHandoffPrompt } from "./audit-handoff.js";
import { registerPreParallelCheck } from "./pre-parallel-check.js";

/** Prompts for orchestrators and auditors: pre_parallel_check (S2) and audit_handoff (S3*). */
export function registerPrompts(server: McpServer, ctx: Context): void {
  registerPreParallelCheck(server, ctx);
  registerAuditHandoffPrompt(server, ctx);
}
