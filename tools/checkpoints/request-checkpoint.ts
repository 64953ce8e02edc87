import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { CHECKPOINT_NAME_MAX, requestCheckpoint, type CheckpointView } from "../../src/control/checkpoints.js";
import { agentId, featureId, result } from "../common.js";
import { registerTool } from "../register.js";

/** A checkpoint name as tools take it (the core refuses NUL). */
export const checkpointName = z.string().min(1).max(CHECKPOINT_NAME_MAX).describe("Checkpoint name");

/** What every checkpoint tool returns: a compact CheckpointView (src/control/checkpoints.ts). */
export const checkpointShape = {
  name: z.string(),
  status: z.enum(["open", "resumed"]),
  expected: z.number().describe("Agents that must arrive"),
  arrived: z.array(z.string()),
  missing: z.array(z.string()),
  omitted: z.number().describe("Ids left out of both lists"),
  all_arrived: z.boolean(),
};

/** The compact tool answer of a checkpoint view, built exactly to {@link checkpointShape}. */
export function checkpointData(c: CheckpointView) {
  return {
    name: c.name,
    status: c.status,
    expected: c.expected,
    arrived: c.arrived,
    missing: c.missing,
    omitted: c.omitted,
    all_arrived: c.all_arrived,
  };
}

/** One line describing a checkpoint view. */
export function checkpointLine(c: CheckpointView): string {
  const missing = c.missing.length > 0 ? `; missing: ${c.missing.join(", ")}${c.omitted ? ` (+${c.omitted})` : ""}` : "";
  return `checkpoint "${c.name}" ${c.status}: ${c.arrived.length}/${c.expected} arrived${missing}`;
}

/** `request_checkpoint`: Level 3 integration point; every active stream pauses at a safe point. */
export function registerRequestCheckpoint(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "request_checkpoint",
    {
      title: "Request checkpoint",
      description:
        "Call before integration work that needs the others to stand still: asks every active agent to stop at a safe point and " +
        "reach_checkpoint. While it is open, write locks outside the integration work are refused (reason checkpoint); that work is " +
        "fixed now: you, the integrators and the agents on feature_id. Returns expected (count), arrived, missing and all_arrived. " +
        "An error if one of that name is open. End it with resume_checkpoint.",
      inputSchema: {
        agent_id: agentId,
        name: checkpointName,
        reason: z.string().min(1).max(2000).describe("Why"),
        feature_id: featureId.optional().describe("Integration feature; its agents keep writing"),
        integrators: z.array(agentId).max(ctx.config.limits.keys_per_request).optional().describe("Other agents who keep writing"),
      },
      outputSchema: checkpointShape,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const { checkpoint: c } = requestCheckpoint(ctx, args);
      return result(checkpointData(c), `${checkpointLine(c)}; told ${c.expected} agent(s)`);
    },
  );
}
