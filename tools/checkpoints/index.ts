import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../../src/context.js";

/** Level 3 checkpoints and S3 metrics: request_checkpoint, reach_checkpoint, resume_checkpoint, signalbox://metrics. */
export function registerCheckpointTools(server: McpServer, ctx: Context): void {
  void server;
  void ctx;
}
