import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { resumeCheckpoint } from "../../src/control/checkpoints.js";
import { agentId, result } from "../common.js";
import { checkpointData, checkpointLine, checkpointName, checkpointShape } from "./request-checkpoint.js";
import { registerTool, vouchOf } from "../register.js";

/** `resume_checkpoint`: the integration is done; every stream resumes. */
export function registerResumeCheckpoint(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "resume_checkpoint",
    {
      title: "Resume checkpoint",
      description:
        "Call when the integration work is done: closes the checkpoint, write locks are granted again and the agents are told to resume. " +
        "Only its requester or an orchestrator. Returns the final view; missing names who never arrived.",
      inputSchema: { agent_id: agentId, name: checkpointName },
      outputSchema: checkpointShape,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const c = resumeCheckpoint(ctx, args.agent_id, args.name, vouchOf(extra));
      return result(checkpointData(c), checkpointLine(c));
    },
  );
}
