import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { handoffsOfFeature } from "../src/control/audit.js";
import { allFeatures, getFeature } from "../src/control/features.js";
import type { SignalRecord } from "../src/control/registry/records.js";
import { listSignals } from "../src/control/signals.js";
import { userText } from "./common.js";

/** Most of a feature's signals scanned for the draft (newest first). */
const SIGNAL_SCAN = 1000;

/** The handoff priority a signal suggests: RED or algedonic CRITICAL, YELLOW MEDIUM, GREEN LOW. */
function priorityOf(s: SignalRecord): string {
  if (s.algedonic || s.level === "RED") return "CRITICAL";
  return s.level === "YELLOW" ? "MEDIUM" : "LOW";
}

/**
 * Prompt `audit_handoff`: a draft of the S3* Audit Handoff for one feature
 * (coordination-skill.md, "S3* Audit Handoff Format"), its concerns
 * pre-filled from the audit signals raised on the feature, and what to do
 * with it: complete it, send it with the `audit_handoff` tool, and wait for
 * a test engineer to acknowledge before the TEST phase proceeds.
 * @throws Error naming `feature_id` when the feature is unknown.
 */
export function registerAuditHandoffPrompt(server: McpServer, ctx: Context): void {
  server.registerPrompt(
    "audit_handoff",
    {
      title: "S3* audit handoff",
      description: "Draft the S3* Audit Handoff for a feature from its audit signals, to send with the audit_handoff tool.",
      argsSchema: {
        feature_id: completable(z.string().describe("Feature to hand to the TEST phase"), (value) =>
          allFeatures(ctx)
            .map((f) => f.feature_id)
            .filter((id) => id.startsWith(value ?? ""))
            .slice(0, 100),
        ),
      },
    },
    (args) => {
      const feature = getFeature(ctx, args.feature_id);
      if (!feature) throw new Error(`feature_id: no feature "${args.feature_id}" (features exist once start_feature was called)`);
      const signals = listSignals(ctx, { limit: SIGNAL_SCAN }).signals.filter((s) => s.feature_id === feature.feature_id);
      const concerns = signals
        .filter((s) => s.level !== "GREEN")
        .map((s, i) => {
          const where = s.files.length > 0 ? ` - ${s.files.join(", ")}` : "";
          const state = s.status === "resolved" ? ` (signal ${s.signal_id}, resolved: ${s.resolution})` : ` (signal ${s.signal_id}, ${s.status})`;
          return `${i + 1}. **[${priorityOf(s)}]** ${s.concern ?? s.summary}${where}${state}`;
        });
      const earlier = handoffsOfFeature(ctx, feature.feature_id);
      const text = [
        `Complete this audit handoff for feature ${feature.feature_id} (status ${feature.status}, agent ${feature.agent_id}), then send it`,
        "with the audit_handoff tool (concerns, extra_coverage, test_strategy, focus). The test engineer MUST acknowledge it before",
        "the TEST phase proceeds.",
        ...(earlier.length > 0 ? [`Earlier handoffs of this feature: ${earlier.map((h) => h.handoff_id).join(", ")}.`] : []),
        "",
        `## Audit Handoff: ${feature.feature_id}`,
        "",
        "### Concerns Identified",
        ...(concerns.length > 0 ? concerns : ["1. **[PRIORITY]** {concern} - {location}"]),
        "",
        "### Areas Needing Extra Coverage",
        "- {area}: {reason}",
        "",
        "### Test Strategy Impact",
        "- {how concerns should influence test approach}",
        "",
        "### Recommended Focus",
        "- {specific test scenarios to prioritize}",
      ].join("\n");
      return { description: `Audit handoff draft for ${feature.feature_id}: ${concerns.length} concern(s) from signals`, messages: [userText(text)] };
    },
  );
}
