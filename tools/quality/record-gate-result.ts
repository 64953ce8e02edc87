import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { describeBlocker, recordGateResult } from "../../src/control/gates.js";
import { agentId, featureId, result } from "../common.js";
import { resolveCommitArg } from "../git-location.js";
import { registerTool, vouchOf } from "../register.js";
import { gateName } from "./define-gate.js";

/** `record_gate_result`: the responsible role's pass/fail for a feature or a wave (execution-template.md, "Pass/Fail Actions"). */
export function registerRecordGateResult(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx,
    "record_gate_result",
    {
      title: "Record gate result",
      description:
        "Call after validating a gate; only its responsible_role or an orchestrator. Feature gates: feature_id (counts for its current " +
        "attempt). wave_integration gates: plan_id and wave_number, and the commit you tested: for a merged wave only its merged commit " +
        "(from integrate_wave) counts, another is refused. Returns the gate's status for the target now: passed, failed, missing, or " +
        "review_missing (an approved review is needed too). A failure is sent to the feature's agent (a wave's: the orchestrator).",
      inputSchema: {
        agent_id: agentId,
        gate: gateName,
        feature_id: featureId.optional().describe("Feature gates: the feature"),
        plan_id: z.string().min(1).max(100).optional().describe("Wave gates: the plan"),
        wave_number: z.number().int().min(1).max(100_000).optional().describe("Wave gates: the wave"),
        commit: z.string().min(1).max(200).optional().describe("Wave gates: merged commit"),
        passed: z.boolean().describe("Did it pass?"),
        evidence: z.string().min(1).max(ctx.config.limits.string_bytes).describe("What shows it"),
      },
      outputSchema: {
        result_seq: z.number(),
        gate_revision: z.number(),
        feature_attempt: z.number().nullable(),
        status: z.enum(["passed", "failed", "missing", "review_missing"]).describe("The gate for the target now"),
        counts_as_passed: z.boolean(),
        notified: z.array(z.string()),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const commit = args.commit !== undefined ? await resolveCommitArg(ctx, args.commit) : undefined;
      const r = recordGateResult(ctx, { ...args, commit }, vouchOf(extra));
      const data = {
        result_seq: r.result.seq,
        gate_revision: r.result.gate_revision,
        feature_attempt: r.result.feature_attempt,
        status: r.status.status,
        counts_as_passed: r.status.status === "passed",
        notified: r.notified,
      };
      const text =
        (r.status.status === "passed" ? `gate "${r.status.gate}" passed` : describeBlocker(r.status)) +
        (r.notified.length > 0 ? `; told ${r.notified.join(", ")}` : "");
      return result(data, text);
    },
  );
}
