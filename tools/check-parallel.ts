import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { checkParallel } from "../src/parallel.js";
import { READ_ONLY, result } from "./common.js";
import { pairSchema, reasonType, taskSchema, verdict } from "./task-schema.js";

/** `check_parallel`: may these tasks run side by side? Levels 1-3 of the parallelism framework. */
export function registerCheckParallel(server: McpServer, ctx: Context): void {
  server.registerTool(
    "check_parallel",
    {
      title: "Check parallel",
      description:
        "Before dispatching agents, check which tasks may run side by side: domains (Level 1), file/data/schema/dependency conflicts (Level 2), integration points (Level 3), shared-resource warnings. " +
        "Returns the overall verdict, each non-parallel pair with its order and reasons, groups that may run together in order, and the S2 pre-parallel checkpoint.",
      inputSchema: {
        tasks: z.array(taskSchema(ctx.config)).min(1).max(ctx.config.limits.tasks_per_check).describe("Tasks to check pairwise"),
        max_pairs: z.number().int().positive().max(100_000).optional().describe("Most pairs to list (default 500); summary counts all"),
      },
      outputSchema: {
        verdict: verdict.describe("CONVERGE if any integration point, else SERIALIZE if any pair conflicts, else PARALLEL"),
        summary: z.object({
          tasks: z.number().int(),
          pairs_total: z.number().int(),
          parallel_pairs: z.number().int(),
          serialize_pairs: z.number().int(),
          converge_pairs: z.number().int(),
          warning_pairs: z.number().int(),
          by_reason: z.record(reasonType, z.number().int()).describe("Pairs having each reason"),
        }),
        tasks: z
          .array(
            z.object({
              id: z.string(),
              domains: z.array(z.string()),
              integration_tags: z.array(z.string()),
              integration_point: z.boolean(),
            }),
          )
          .describe("Per task: domains and integration tags"),
        pairs: z.array(pairSchema).describe("Non-parallel pairs, then parallel pairs with warnings"),
        pairs_truncated: z.number().int().describe("Pairs left out by max_pairs"),
        groups: z.array(z.array(z.string())).describe("Groups that may run together, in execution order"),
        checkpoint: z
          .object({
            shared_files: z.array(
              z.object({
                key: z.string(),
                writers: z.array(z.string()).describe("Writing tasks (at most 20 listed)"),
                readers: z.array(z.string()).describe("Reading tasks (at most 20 listed)"),
                writer_count: z.number().int(),
                reader_count: z.number().int(),
                mitigation: z.string(),
              }),
            ),
            anticipated_conflicts: z.array(z.object({ tasks: z.tuple([z.string(), z.string()]), sequencing: z.string() })),
            text: z.string(),
          })
          .describe("S2 pre-parallel checkpoint"),
      },
      annotations: READ_ONLY,
    },
    async (args) => {
      const report = checkParallel(args.tasks, {
        root: ctx.root,
        domains: ctx.domains,
        ...(args.max_pairs !== undefined ? { maxPairs: args.max_pairs } : {}),
      });
      const s = report.summary;
      const text =
        `${report.verdict}: ${s.tasks} tasks, ${s.pairs_total} pairs: ${s.parallel_pairs} parallel ` +
        `(${s.warning_pairs} with warnings), ${s.serialize_pairs} serialize, ${s.converge_pairs} converge; ` +
        `${report.groups.length} group(s)\n${report.checkpoint.text}`;
      return result({ ...report }, text);
    },
  );
}
