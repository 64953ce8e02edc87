import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { recordDecisionResolving } from "../src/control/escalations.js";
import { DECISION_TYPES } from "../src/log/decisions.js";
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
        "Record a decision others must follow (an interface, a conflict's resolution, a convention clash) in the shared log, " +
        "signalbox://decisions; returns its seq. refs naming an open escalation (esc-N) resolve it and the signals it raised, resuming " +
        "the agents they paused. An oscillation is settled only by an orchestrator, a convention clash by an orchestrator or an architect, " +
        "and never by an agent it is about (refused, naming decided_by).",
      inputSchema: {
        type: z.enum(DECISION_TYPES).describe("Decision type"),
        decided_by: agentId.describe("Who decided"),
        context: z.string().min(1).max(max).describe("The situation"),
        decision: z.string().min(1).max(max).describe("What was decided"),
        rationale: z.string().max(max).optional().describe("Why"),
        refs: z.array(z.string().min(1).max(1024)).max(100).optional().describe("Files, ids (esc-N), URLs"),
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
