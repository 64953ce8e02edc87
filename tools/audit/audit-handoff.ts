import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { createAuditHandoff, testPhase } from "../../src/control/audit.js";
import { cap } from "../../src/control/registry/page.js";
import type { AuditHandoffRecord } from "../../src/control/registry/records.js";
import { agentId, featureId, result } from "../common.js";
import { registerTool } from "../register.js";

/** Concern priorities of the handoff ("[PRIORITY]"). */
const PRIORITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW"] as const;

/** The handoff in the protocol's "S3* Audit Handoff Format". */
function formatHandoff(h: AuditHandoffRecord): string {
  const list = (items: string[]) => (items.length > 0 ? items : ["(none)"]);
  return [
    `## Audit Handoff: ${h.feature_id} (${h.handoff_id})`,
    "",
    "### Concerns Identified",
    ...(h.concerns.length > 0
      ? h.concerns.map((c, i) => `${i + 1}. **[${c.priority}]** ${c.concern}${c.location ? ` - ${c.location}` : ""}`)
      : ["(none)"]),
    "",
    "### Areas Needing Extra Coverage",
    ...list(h.extra_coverage.map((e) => `- ${e.area}: ${e.reason}`)),
    "",
    "### Test Strategy Impact",
    ...list(h.test_strategy.map((t) => `- ${t}`)),
    "",
    "### Recommended Focus",
    ...list(h.focus.map((f) => `- ${f}`)),
  ].join("\n");
}

/** `audit_handoff`: S3* findings to the TEST phase (coordination-skill.md, "S3* Audit Handoff Format"). */
export function registerAuditHandoff(server: ToolHost, ctx: Context): void {
  const { limits, control } = ctx.config;
  const text = z.string().min(1).max(limits.string_bytes);
  const line = z.string().min(1).max(2000);
  registerTool(server, ctx, 
    "audit_handoff",
    {
      title: "Audit handoff",
      description:
        "Call when your audit of a feature is done, to hand it to testing: your concerns, areas needing more coverage, test strategy " +
        "impact and scenarios to focus on go to the feature's test engineers (or every test engineer while none is on it; one " +
        "dispatched later gets it too) and the orchestrator. Its TEST phase starts only when a test engineer acknowledges the message. " +
        "Returns handoff_id, delivered_to and test_phase.",
      inputSchema: {
        agent_id: agentId,
        feature_id: featureId,
        concerns: z
          .array(
            z.object({
              priority: z.enum(PRIORITIES),
              concern: text,
              location: z.string().min(1).max(1024).optional(),
            }),
          )
          .max(100)
          .describe("Concerns found"),
        extra_coverage: z
          .array(z.object({ area: line, reason: text }))
          .max(100)
          .describe("Areas needing more tests"),
        test_strategy: z.array(text).max(50).describe("Test strategy impact"),
        focus: z.array(text).max(50).describe("Scenarios to prioritise"),
      },
      outputSchema: {
        handoff_id: z.string(),
        feature_id: z.string(),
        delivered_to: z.array(z.string()),
        delivered_omitted: z.number(),
        test_phase: z.enum(["no_handoff", "awaiting_acknowledgement", "started"]),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const rec = createAuditHandoff(ctx, args);
      const phase = testPhase(ctx, rec.feature_id);
      const to = cap(rec.delivered_to, control.page_size);
      const data = {
        handoff_id: rec.handoff_id,
        feature_id: rec.feature_id,
        delivered_to: to.items,
        delivered_omitted: to.omitted,
        test_phase: phase.status,
      };
      return result(data, `${formatHandoff(rec)}\n\ndelivered to ${rec.delivered_to.join(", ")}; test phase: ${phase.status}`);
    },
  );
}
