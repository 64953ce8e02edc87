import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { planSpecOf, savePlan } from "../src/analysis/plans.js";
import { normalizeTasks } from "../src/analysis/task-input.js";
import { planWavesSliced } from "../src/analysis/waves.js";
import { KEY_SYNTAX, result } from "./common.js";
import { taskSchema } from "./task-schema.js";
import { registerTool } from "./register.js";

/** Most waves listed in a result; the stored plan has them all. */
const MAX_WAVES_LISTED = 200;

/**
 * `plan_waves`: dependency graph to execution waves, stored as a plan.
 *
 * `conflicts` lists at most 500 pairs (`conflicts_total` counts all); the answer
 * lists at most 200 waves (`waves_omitted`; the stored plan has them all); a wave
 * lists at most 100 prerequisite waves, the latest, and then carries
 * `prerequisites_omitted`. The planner gives the event loop back every few ms, so
 * the server answers other calls meanwhile. Refused, naming the limit, when the
 * pair work passes `limits.pair_visits_per_check`.
 */
export function registerPlanWaves(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "plan_waves",
    {
      title: "Plan waves",
      description:
        "Call before dispatching a set of features: orders them into waves by blocked_by. Conflicting features never share a wave, " +
        "an integration point (a tagged feature) gets a wave of its own, and max_parallel caps a wave. Stores the plan and returns plan_id " +
        "(for start_feature, gates and integrate_wave), the waves with their features and prerequisite waves, the conflicts it serialized " +
        "and the critical path; every wave at signalbox://waves/{plan_id}. A dependency cycle or unknown blocked_by id is an error naming it. " +
        KEY_SYNTAX,
      inputSchema: {
        features: z.array(taskSchema(ctx.config)).min(1).max(ctx.config.limits.tasks_per_check).describe("Features to plan"),
        name: z.string().min(1).max(200).optional().describe("Plan name"),
        max_parallel: z.number().int().positive().max(10_000).optional().describe("Most features in one wave"),
      },
      outputSchema: {
        plan_id: z.string(),
        name: z.string().nullable(),
        created_at: z.string(),
        waves: z.array(
          z.object({
            wave_number: z.number(),
            features: z.array(z.string()),
            prerequisites: z.array(z.number()),
            prerequisites_omitted: z.number().optional().describe("Earlier prerequisite waves left out (the latest 100 are listed)"),
            can_parallelize: z.boolean(),
            integration_point: z.boolean(),
          }),
        ),
        // Nested reason types and order are the strings of REASON_TYPES (src/analysis/tasks.ts) and PairOrder.
        conflicts: z
          .array(z.object({ a: z.string(), b: z.string(), reasons: z.array(z.string()), order: z.string(), placed: z.string() }))
          .describe("Pairs serialized"),
        conflicts_total: z.number(),
        critical_path: z.object({ features: z.array(z.string()), length: z.number() }),
        feature_count: z.number(),
        dependency_count: z.number(),
        waves_omitted: z.number().describe("Waves left out; all at signalbox://waves/{plan_id}"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const body = await planWavesSliced(args.features, {
        root: ctx.root,
        domains: ctx.domains,
        maxPairVisits: ctx.config.limits.pair_visits_per_check,
        ...(args.max_parallel !== undefined ? { maxParallel: args.max_parallel } : {}),
        ...(args.name !== undefined ? { name: args.name } : {}),
      });
      // The planner accepted the features, so normalising them again cannot throw; the specs
      // (as the planner saw them) are stored with the plan for start_feature's prerequisite check.
      const spec = planSpecOf(normalizeTasks(args.features, { root: ctx.root, domains: ctx.domains, field: "features", noun: "feature" }));
      const plan = await savePlan(ctx.db, ctx.clock, body, spec);
      const data = {
        plan_id: plan.plan_id,
        name: plan.name ?? null,
        created_at: plan.created_at,
        waves: plan.waves.slice(0, MAX_WAVES_LISTED),
        conflicts: plan.conflicts,
        conflicts_total: plan.conflicts_total,
        critical_path: plan.critical_path,
        feature_count: plan.feature_count,
        dependency_count: plan.dependency_count,
        waves_omitted: Math.max(0, plan.waves.length - MAX_WAVES_LISTED),
      };
      const shown = plan.waves
        .slice(0, 20)
        .map((w) => `wave ${w.wave_number}${w.integration_point ? " (integration)" : ""}: ${w.features.join(", ")}`);
      const more = plan.waves.length > 20 ? [`... ${plan.waves.length - 20} more waves`] : [];
      const text = [
        `${plan.plan_id}: ${plan.waves.length} waves for ${plan.feature_count} features, ${plan.conflicts_total} serialized conflicts, critical path ${plan.critical_path.features.length} features`,
        ...shown,
        ...more,
      ].join("\n");
      return result(data, text);
    },
  );
}
