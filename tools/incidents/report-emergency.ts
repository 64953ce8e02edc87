import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { reportEmergency } from "../../src/control/incidents.js";
import { EMERGENCY_TYPES } from "../../src/control/registry/records.js";
import { agentId, result } from "../common.js";
import { registerTool } from "../register.js";

/**
 * `report_emergency`: an emergency (execution-template.md, "Emergency
 * Coordination Protocols"), escalated to every orchestrator inbox with
 * priority algedonic and logged as an `emergency` decision; open until
 * close_incident. Answer: the incident id (`inc-<n>`), the inboxes it was
 * escalated to, and what to do now.
 */
export function registerReportEmergency(server: ToolHost, ctx: Context): void {
  const text = z.string().min(1).max(ctx.config.limits.string_bytes);
  registerTool(server, ctx,
    "report_emergency",
    {
      title: "Report emergency",
      description: "Call when something threatens the work and needs the orchestrator now: an agent failing, a resource down, communication " +
        "breaking down, a quality crisis, an external dependency. Opens incident inc-N at the top of every orchestrator's inbox, logged " +
        "as an emergency decision; you need not be registered. Returns incident_id, escalated_to and an instruction. It stays open " +
        "until an orchestrator calls close_incident.",
      inputSchema: {
        agent_id: agentId,
        type: z.enum(EMERGENCY_TYPES).describe("Emergency type"),
        description: text.describe("What happened"),
        temporary_measures: text.optional().describe("Workaround in place"),
      },
      outputSchema: {
        incident_id: z.string(),
        escalated_to: z.array(z.string()),
        instruction: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const r = reportEmergency(ctx, args);
      const inc = r.incident;
      ctx.events.emit({
        kind: "emergency_reported",
        level: "critical",
        agent_id: args.agent_id,
        summary: `EMERGENCY ${inc.incident_id} ${inc.type} from ${args.agent_id}: ${inc.description}`,
        data: { incident_id: inc.incident_id, type: inc.type, escalated_to: r.escalated_to },
      });
      const data = { incident_id: inc.incident_id, escalated_to: r.escalated_to, instruction: r.instruction };
      return result(data, `${inc.incident_id} (${inc.type}) open, decision #${r.decision_seq}. ${r.instruction}`);
    },
  );
}
