import { ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/context.js";
import { getPlan, listPlans, planCount } from "../src/plans.js";
import { jsonContents } from "./common.js";

/** `signalbox://waves` (plans newest first) and `signalbox://waves/{plan_id}` (one plan) with list and completion. */
export function registerWaveResources(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "waves",
    "signalbox://waves",
    {
      title: "Wave plans",
      description: "Stored wave plans, newest first (id, name, time, wave and feature counts): the latest 100, `total` counts all.",
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, { plans: listPlans(ctx.store), total: planCount(ctx.store) }),
  );

  resources.templateResource(
    "wave-plan",
    new ResourceTemplate("signalbox://waves/{plan_id}", {
      list: async () => ({
        resources: listPlans(ctx.store).map((p) => ({
          uri: `signalbox://waves/${p.plan_id}`,
          name: p.name ? `${p.name} (${p.plan_id})` : p.plan_id,
          mimeType: "application/json",
          description: `${p.wave_count} waves, ${p.feature_count} features, ${p.created_at}`,
        })),
      }),
      complete: {
        plan_id: async (value) =>
          listPlans(ctx.store, 1000)
            .map((p) => p.plan_id)
            .filter((id) => id.startsWith(value)),
      },
    }),
    {
      title: "Wave plan",
      description: "One stored wave plan: waves, serialized conflicts, critical path.",
      mimeType: "application/json",
    },
    async (uri, vars) => {
      const id = String(vars.plan_id);
      const plan = getPlan(ctx.store, id);
      if (!plan) throw new Error(`plan_id: no plan "${id}"; list them at signalbox://waves`);
      return jsonContents(uri.href, plan);
    },
  );
}
