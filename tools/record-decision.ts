import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { recordDecisionResolving } from "../src/control/escalations.js";
import { DECISION_TYPES } from "../src/decisions.js";
import { agentId, result } from "./common.js";
import { registerTool, vouchOf } from "./register.js";

/** `record_decision`: append to the decision log. */
export function registerRecordDecision(server: ToolHost, ctx: Context): void {
  const max = ctx.config.limits.string_bytes;
  registerTool(server, ctx, 
    "record_decision",
    {
      title: "Record decision",
      description:
        "Append to the shared decision log; refs naming an escalation (esc-N) resolve it.",
      inputSchema: {
        type: z.enum(DECISION_TYPES).describe("Kind"),
        decided_by: agentId.describe("Who decided"),
        context: z.string().min(1).max(max).describe("The situation"),
        decision: z.string().min(1).max(max).describe("What was decided"),
        rationale: z.string().max(max).optional().describe("Why"),
        refs: z.array(z.string().min(1).max(1024)).max(100).optional().describe("Files, ids or URLs"),
      },
      outputSchema: {
        seq: z.number().describe("Log sequence number"),
        recorded_at: z.string(),
        resolved_escalations: z.array(z.string()),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const { entry, resolved } = recordDecisionResolving(ctx, {
        type: args.type,
        decided_by: args.decided_by,
        context: args.context,
        decision: args.decision,
        rationale: args.rationale ?? null,
        refs: args.refs ?? [],
      }, vouchOf(extra));
      const ids = resolved.map((e) => e.escalation_id);
      const text = `decision #${entry.seq} recorded${ids.length ? `; resolved ${ids.join(", ")}` : ""}`;
      return result({ seq: entry.seq, recorded_at: entry.recorded_at, resolved_escalations: ids }, text);
    },
  );
}
