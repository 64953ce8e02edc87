import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { reachCheckpoint } from "../../src/control/checkpoints.js";
import { agentId, result } from "../common.js";
import { checkpointData, checkpointLine, checkpointName, checkpointShape } from "./request-checkpoint.js";
import { registerTool } from "../register.js";

/** `reach_checkpoint`: an agent has stopped at a safe point. */
export function registerReachCheckpoint(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "reach_checkpoint",
    {
      title: "Reach checkpoint",
      description:
        "Call when asked to reach a checkpoint, once at a safe point. Then write nothing until resume_checkpoint.",
      inputSchema: { agent_id: agentId, name: checkpointName },
      outputSchema: checkpointShape,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const { checkpoint: c } = reachCheckpoint(ctx, args.agent_id, args.name);
      return result(checkpointData(c), checkpointLine(c));
    },
  );
}
