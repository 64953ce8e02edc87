import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../../src/context.js";
import { registerReachCheckpoint } from "./reach-checkpoint.js";
import { registerRequestCheckpoint } from "./request-checkpoint.js";
import { registerResumeCheckpoint } from "./resume-checkpoint.js";

/** Level 3 checkpoints: request_checkpoint, reach_checkpoint, resume_checkpoint. */
export function registerCheckpointTools(server: McpServer, ctx: Context): void {
  registerRequestCheckpoint(server, ctx);
  registerReachCheckpoint(server, ctx);
  registerResumeCheckpoint(server, ctx);
}
