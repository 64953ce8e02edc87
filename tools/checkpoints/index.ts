import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerReachCheckpoint } from "./reach-checkpoint.js";
import { registerRequestCheckpoint } from "./request-checkpoint.js";
import { registerResumeCheckpoint } from "./resume-checkpoint.js";

/** Level 3 checkpoints: request_checkpoint, reach_checkpoint, resume_checkpoint. */
export function registerCheckpointTools(server: ToolHost, ctx: Context): void {
  registerRequestCheckpoint(server, ctx);
  registerReachCheckpoint(server, ctx);
  registerResumeCheckpoint(server, ctx);
}
