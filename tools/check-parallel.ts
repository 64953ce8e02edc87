import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { cap } from "../src/control/registry/page.js";
import { checkParallelSliced } from "../src/analysis/parallel.js";
import { predictedConflicts } from "../src/git/radar-scan.js";
import { watchedFeatures } from "../src/git/radar-watch.js";
import { KEY_SYNTAX, READ_ONLY, result } from "./common.js";
import { pairSchema, taskSchema, verdict } from "./task-schema.js";
import { registerTool } from "./register.js";

/** Most tasks and groups listed in a result. */
const LIST_CAP = 500;

/**
 * `check_parallel`: may these tasks run side by side? Levels 1-3 of the parallelism framework.
 *
 * Counts (`summary`) are exact for any input; `pairs` lists at most `max_pairs`
 * (`pairs_truncated` counts the rest), `tasks` and `groups` at most 500 each
 * (`tasks_omitted`, `groups_omitted`). The computation gives the event loop back
 * every few ms, so the server answers other calls meanwhile. Refused, naming the
 * limit, when the pair work passes `limits.pair_visits_per_check`.
 */
export function registerCheckParallel(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "check_parallel",
    {
      title: "Check parallel",
      description:
        "Call before running tasks at the same time: may they run in parallel? Read-only. Returns the verdict: PARALLEL, SERIALIZE, or CONVERGE " +
        "(a pair involves an integration point: a tagged task); each non-parallel pair with its order and reasons (same_file, write_write, " +
        "write_read, data_flow, schema, dependency, serialized_domain, merge_conflict between active feature branches); shared-resource warnings; " +
        "groups to run in order; and a pre-parallel checkpoint (shared files, anticipated conflicts). Totals are exact; pairs past max_pairs " +
        "are counted in pairs_truncated. " +
        KEY_SYNTAX,
      inputSchema: {
        tasks: z.array(taskSchema(ctx.config)).min(1).max(ctx.config.limits.tasks_per_check).describe("Tasks to check"),
        max_pairs: z.number().int().positive().max(100_000).optional().describe("Pairs to list, default 500"),
      },
      outputSchema: {
        verdict,
        summary: z.object({
          tasks: z.number(),
          pairs_total: z.number(),
          parallel_pairs: z.number(),
          serialize_pairs: z.number(),
          converge_pairs: z.number(),
          warning_pairs: z.number(),
          by_reason: z.record(z.string(), z.number()),
        }),
        tasks: z.array(
          z.object({ id: z.string(), domains: z.array(z.string()), integration_tags: z.array(z.string()), integration_point: z.boolean() }),
        ),
        pairs: z.array(pairSchema).describe("Non-parallel first, then warnings"),
        pairs_truncated: z.number().describe("Pairs left out of the list by max_pairs (the summary counts them all)"),
        groups: z.array(z.array(z.string())).describe("Run in order; each group together"),
        groups_omitted: z.number(),
        tasks_omitted: z.number(),
        checkpoint: z.object({
          shared_files: z.array(
            z.object({
              key: z.string(),
              writers: z.array(z.string()),
              readers: z.array(z.string()),
              writer_count: z.number(),
              reader_count: z.number(),
              mitigation: z.string(),
            }),
          ),
          anticipated_conflicts: z.array(z.object({ tasks: z.array(z.string()), sequencing: z.string() })),
          text: z.string(),
        }),
      },
      annotations: READ_ONLY,
    },
    async (args) => {
      // Tasks that are active features with branches: git predicts whether their branches merge.
      const ids = new Set(args.tasks.map((t) => t.id));
      const branched = ctx.git.isGit ? watchedFeatures(ctx).filter((f) => ids.has(f.feature_id)) : [];
      const mergeConflicts = branched.length >= 2 ? await predictedConflicts(ctx.git, branched) : [];
      const report = await checkParallelSliced(args.tasks, {
        root: ctx.root,
        domains: ctx.domains,
        mergeConflicts,
        maxPairVisits: ctx.config.limits.pair_visits_per_check,
        ...(args.max_pairs !== undefined ? { maxPairs: args.max_pairs } : {}),
      });
      const s = report.summary;
      const text =
        `${report.verdict}: ${s.tasks} tasks, ${s.pairs_total} pairs: ${s.parallel_pairs} parallel ` +
        `(${s.warning_pairs} with warnings), ${s.serialize_pairs} serialize, ${s.converge_pairs} converge; ` +
        `${report.groups.length} group(s)\n${report.checkpoint.text}`;
      // Lists are capped (DESIGN.md "Lessons": compact responses); the counts say what was left out.
      const tasks = cap(report.tasks, LIST_CAP);
      const groups = cap(report.groups, LIST_CAP);
      const data = { ...report, tasks: tasks.items, tasks_omitted: tasks.omitted, groups: groups.items, groups_omitted: groups.omitted };
      return result(data, text);
    },
  );
}
