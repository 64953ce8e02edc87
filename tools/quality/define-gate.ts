import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { defineGate } from "../../src/control/gates.js";
import { GATE_TRIGGERS, ROLES } from "../../src/control/registry/records.js";
import { agentId, result } from "../common.js";
import { registerTool, vouchOf } from "../register.js";

/** A gate name (the key of its record). */
export const gateName = z.string().min(1).max(200).describe("Gate name");

/** `define_gate`: a quality gate (execution-template.md, "Quality Gates": trigger, criteria, responsible agent). */
export function registerDefineGate(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx,
    "define_gate",
    {
      title: "Define gate",
      description: "Orchestrator only: define what must pass before work moves on; logged as a gate decision. Trigger feature_complete holds back " +
        "complete_feature; wave_integration holds back integrate_wave for the wave; before_merge holds it back for each feature of the wave. " +
        "Results come from responsible_role (or an orchestrator); requires_review also needs an approved review. Redefining raises " +
        "revision and older results stop counting (stale_results); the same definition again changes nothing (changed: false).",
      inputSchema: {
        agent_id: agentId,
        name: gateName,
        trigger: z.enum(GATE_TRIGGERS).describe("What it guards"),
        criteria: z.string().min(1).max(ctx.config.limits.string_bytes).describe("What must be validated"),
        responsible_role: z.enum(ROLES).describe("Role that validates"),
        required: z.boolean().optional().describe("Default true"),
        requires_review: z.boolean().optional().describe("Needs approved review; default false"),
      },
      outputSchema: {
        gate: z.string(),
        revision: z.number().describe("Older results stop counting"),
        changed: z.boolean().describe("false: same definition"),
        required: z.boolean(),
        requires_review: z.boolean(),
        stale_results: z.number().describe("Results no longer counting"),
        decision_seq: z.number().nullable(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async (args, extra) => {
      const r = defineGate(ctx, args, vouchOf(extra));
      const g = r.gate;
      const data = {
        gate: g.name,
        revision: g.revision,
        changed: r.changed,
        required: g.required,
        requires_review: g.requires_review,
        stale_results: r.stale_results,
        decision_seq: r.decision_seq,
      };
      const what = `gate "${g.name}" (${g.trigger}, ${g.required ? "required" : "optional"}${g.requires_review ? ", needs an approved review" : ""}; validated by ${g.responsible_role})`;
      const text = !r.changed
        ? `${what} unchanged at revision ${g.revision}`
        : `${what} ${g.revision > 1 ? `redefined: revision ${g.revision}; ${r.stale_results} earlier result(s) no longer count` : "defined"}; decision #${r.decision_seq ?? "?"}`;
      return result(data, text);
    },
  );
}
