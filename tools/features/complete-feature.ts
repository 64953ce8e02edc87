import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../../src/context.js";
import { completeFeature } from "../../src/control/features.js";
import { agentId, featureId, keyString, result } from "../common.js";
import { registerTool } from "../register.js";

/** Keys of the locks a lifecycle step released (first 100). */
export const releasedKeys = z.array(z.string());

/** `complete_feature`: §4.2 "After completing": completed, schema changes committed, locks released, dependents signalled. */
export function registerCompleteFeature(server: McpServer, ctx: Context): void {
  const { limits } = ctx.config;
  const migration = z.union([
    keyString,
    z.object({ path: keyString, revision: z.string().min(1).max(200).optional(), down_revision: z.string().min(1).max(200).optional() }),
  ]);
  registerTool(server, ctx, 
    "complete_feature",
    {
      title: "Complete feature",
      description:
        "Complete your feature: releases its locks, records schema changes, returns dependents now ready.",
      inputSchema: {
        feature_id: featureId,
        agent_id: agentId,
        schema_changes: z
          .array(z.object({ table: z.string().min(1).max(200), operation: z.string().min(1).max(50).optional() }))
          .max(200)
          .optional()
          .describe("Default: the plan's tables"),
        outputs: z.array(z.string().min(1).max(1024)).max(200).optional().describe("Artifacts produced"),
        files_changed: z.array(keyString).max(limits.keys_per_task).optional().describe("Files you changed"),
        commits: z.array(z.string().min(1).max(200)).max(1000).optional().describe("Commit ids"),
        migrations: z.array(migration).max(1000).optional().describe("New migration files"),
      },
      outputSchema: {
        plan_id: z.string().nullable(),
        schema_changes: z.array(z.object({ table: z.string(), operation: z.string() })),
        released: releasedKeys,
        released_total: z.number(),
        unblocks: z.array(z.string()),
        unblocks_total: z.number(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const migrations = (args.migrations ?? []).map((m, i) => {
        const m2 = typeof m === "string" ? { path: m } : m;
        return { path: ctx.keys.normalize(m2.path, `migrations[${i}].path`), revision: m2.revision ?? null, down_revision: m2.down_revision ?? null };
      });
      const r = completeFeature(ctx, ctx.locks, {
        ...args,
        files_changed: args.files_changed ? ctx.keys.normalizeAll(args.files_changed, "files_changed") : undefined,
        migrations,
      });
      const data = {
        plan_id: r.plan_id,
        schema_changes: r.schema_changes.map((c) => ({ table: c.table, operation: c.operation })),
        released: r.released.map((l) => l.key),
        released_total: r.released_total,
        unblocks: r.unblocks,
        unblocks_total: r.unblocks_total,
      };
      const text =
        `${r.feature_id} completed; released ${r.released_total} lock(s)` +
        (r.unblocks_total > 0 ? `; unblocks ${r.unblocks.slice(0, 20).join(", ")}${r.unblocks_total > 20 ? ` and ${r.unblocks_total - 20} more` : ""}` : "") +
        (r.notified.length > 0 ? `; told ${r.notified.slice(0, 10).join(", ")}` : "");
      return result(data, text);
    },
  );
}
