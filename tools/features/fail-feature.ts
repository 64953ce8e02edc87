import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { failFeature } from "../../src/control/features.js";
import { agentId, featureId, result } from "../common.js";
import { releasedKeys } from "./complete-feature.js";
import { registerTool, vouchOf } from "../register.js";

/** `fail_feature`: abandon an active feature; its dependents are blocked until it is started again. */
export function registerFailFeature(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "fail_feature",
    {
      title: "Fail feature",
      description:
        "Abandon your feature: marks it failed, releases its locks, returns the dependents it blocks; it may be started again.",
      inputSchema: {
        feature_id: featureId,
        agent_id: agentId,
        reason: z.string().min(1).max(2000).describe("Why it failed"),
      },
      outputSchema: {
        holder: z.string(),
        plan_id: z.string().nullable(),
        released: releasedKeys,
        released_total: z.number(),
        resolved_signals: z.array(z.string()),
        still_open_signals: z.array(z.string()).describe("Algedonic, left open"),
        blocks: z.array(z.string()),
        blocks_total: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      const r = failFeature(ctx, ctx.locks, args, vouchOf(extra));
      const data = {
        holder: r.holder,
        plan_id: r.plan_id,
        released: r.released.map((l) => l.key),
        released_total: r.released_total,
        resolved_signals: r.resolved_signals,
        still_open_signals: r.still_open_signals,
        blocks: r.blocks,
        blocks_total: r.blocks_total,
      };
      const text =
        `${r.feature_id} failed (${args.reason}); released ${r.released_total} lock(s)` +
        (r.blocks_total > 0
          ? `; blocks ${r.blocks.slice(0, 20).join(", ")}${r.blocks_total > 20 ? ` and ${r.blocks_total - 20} more` : ""} until it is restarted`
          : "; blocks nothing") +
        (r.still_open_signals.length > 0 ? `; algedonic ${r.still_open_signals.join(", ")} stays open` : "");
      return result(data, text);
    },
  );
}
