import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { closeIncident } from "../../src/control/incidents.js";
import { agentId, result } from "../common.js";
import { registerTool, vouchOf } from "../register.js";

/**
 * `close_incident`: recovery and post-incident review (execution-template.md,
 * "Emergency Response" 4-5), by an agent registered with role orchestrator
 * only; the review goes to the decision log (`post_incident_review`, refs the
 * incident) and the reporter is told. Answer: the incident, when it closed,
 * the decision seq and who was notified.
 */
export function registerCloseIncident(server: ToolHost, ctx: Context): void {
  const text = z.string().min(1).max(ctx.config.limits.string_bytes);
  registerTool(server, ctx,
    "close_incident",
    {
      title: "Close incident",
      description: "Orchestrator only: close an open incident once work is restored, with how it was recovered and a post-incident review " +
        "(what happened, why, what changes), logged as a post_incident_review decision. Returns closed_at, decision_seq and who was told. " +
        "An error if the incident is unknown or already closed.",
      inputSchema: {
        agent_id: agentId,
        incident_id: z.string().min(1).max(40).describe("e.g. inc-3"),
        recovery: text.describe("How it was restored"),
        review: text.describe("Post-incident review"),
      },
      outputSchema: {
        incident_id: z.string(),
        closed_at: z.string(),
        decision_seq: z.number(),
        notified: z.array(z.string()),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const r = closeIncident(ctx, args, vouchOf(extra));
      const inc = r.incident;
      ctx.events.emit({
        kind: "incident_closed",
        level: "notice",
        agent_id: args.agent_id,
        summary: `${inc.incident_id} ${inc.type} closed by ${args.agent_id}: ${inc.recovery ?? ""}`,
        data: { incident_id: inc.incident_id, type: inc.type, decision_seq: r.decision_seq },
      });
      const data = { incident_id: inc.incident_id, closed_at: inc.closed_at ?? "", decision_seq: r.decision_seq, notified: r.notified };
      const told = r.notified.length > 0 ? r.notified.join(", ") : "nobody";
      return result(data, `${inc.incident_id} closed; review logged as decision #${r.decision_seq}; told ${told}`);
    },
  );
}
