import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { reportStatus } from "../../src/control/status.js";
import { agentId, isoTime, result } from "../common.js";
import { branchName, callerLocation, givenLocation } from "../git-location.js";
import { registerTool } from "../register.js";
import { InvalidArgumentError } from "../../src/errors.js";

const text = (max: number) => z.string().min(1).max(max);

/** `report_status`: the status broadcast and heartbeat; answers what the agent must know now. */
export function registerReportStatus(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "report_status",
    {
      title: "Report status",
      description:
        "Your heartbeat: call at start, on each change of state and regularly while working. " +
        "Returns paused (true: stop writing; paused_by says why), unread messages, a checkpoint to reach, one instruction to follow.",
      inputSchema: {
        agent_id: agentId,
        status: z.enum(["working", "blocked", "completed", "error", "paused"]).describe("Your state"),
        current_task: text(500).optional().describe("What you are doing"),
        progress_percentage: z.number().min(0).max(100).optional().describe("0-100"),
        estimated_completion: isoTime.optional(),
        blocking_issues: z.array(text(500)).max(50).optional().describe("What blocks you"),
        outputs_ready: z.array(text(500)).max(200).optional().describe("Deliverables done"),
        worktree: z.string().min(1).max(4096).optional().describe("Default: detected"),
        branch: branchName.optional().describe("Default: detected"),
      },
      outputSchema: {
        agent_id: z.string(),
        status: z.string(),
        paused: z.boolean().describe("Stop writing"),
        paused_by: z.array(
          z.object({
            signal_id: z.string(),
            level: z.string(),
            summary: z.string(),
            emitted_by: z.string(),
            feature_id: z.string().nullable(),
          }),
        ),
        unread: z.number().describe("Unread inbox messages"),
        checkpoint: z
          .object({ name: z.string(), reason: z.string(), requested_by: z.string(), reached: z.boolean() })
          .nullable(),
        instruction: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      if (args.estimated_completion !== undefined && Number.isNaN(Date.parse(args.estimated_completion))) {
        throw new InvalidArgumentError("estimated_completion", `expected an ISO-8601 time, got "${args.estimated_completion}"`);
      }
      const { worktree, branch, ...report } = args;
      const location = worktree !== undefined || branch !== undefined ? await givenLocation(ctx, worktree, branch) : await callerLocation(ctx);
      const r = reportStatus(ctx, { ...report, location });
      return result({ ...r }, `${r.paused ? "PAUSED" : "ok"}: ${r.instruction}`);
    },
  );
}
