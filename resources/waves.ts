import { ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { integrationReport, planIntegrations, waveIntegration } from "../src/control/integration.js";
import { getPlan, listPlans, planCount } from "../src/analysis/plans.js";
import { jsonContents } from "./common.js";
import { InvalidArgumentError, InvalidStateError, NotFoundError } from "../src/errors.js";
import { integrations } from "../src/store/schema.js";

/**
 * `signalbox://waves` (plans newest first), `signalbox://waves/{plan_id}` (one
 * plan, with the integration status of its waves) and
 * `signalbox://waves/{plan_id}/integration/{wave_number}` (a wave's latest
 * integration report, written by integrate_wave), with list and completion.
 */
export function registerWaveResources(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "waves",
    "signalbox://waves",
    {
      title: "Wave plans",
      description: "Stored wave plans, newest first (id, name, time, wave and feature counts): the latest 100, `total` counts all.",
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, { plans: listPlans(ctx.txn.latest()), total: planCount(ctx.txn.latest()) }),
  );

  resources.templateResource(
    "wave-plan",
    new ResourceTemplate("signalbox://waves/{plan_id}", {
      list: async () => ({
        resources: listPlans(ctx.txn.latest()).map((p) => ({
          uri: `signalbox://waves/${p.plan_id}`,
          name: p.name ? `${p.name} (${p.plan_id})` : p.plan_id,
          mimeType: "application/json",
          description: `${p.wave_count} waves, ${p.feature_count} features, ${p.created_at}`,
        })),
      }),
      complete: {
        plan_id: async (value) =>
          listPlans(ctx.txn.latest(), 1000)
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
      const plan = getPlan(ctx.txn.latest(), id);
      if (!plan) throw new NotFoundError("plan_id", `plan_id: no plan "${id}"; list them at signalbox://waves`);
      const integrations = planIntegrations(ctx, id).map((w) => ({ wave_number: w.wave_number, status: w.status, attempt: w.attempt, at: w.at }));
      return jsonContents(uri.href, { ...plan, integrations });
    },
  );

  resources.templateResource(
    "wave-integration",
    new ResourceTemplate("signalbox://waves/{plan_id}/integration/{wave_number}", {
      list: async () => {
        const out = [];
        for (const w of ctx.txn.latest().values(integrations.wave)) {
          out.push({
            uri: `signalbox://waves/${encodeURIComponent(w.plan_id)}/integration/${w.wave_number}`,
            name: `${w.plan_id} wave ${w.wave_number}`,
            mimeType: "application/json",
            description: `${w.status} (attempt ${w.attempt}, ${w.at})`,
          });
          if (out.length === 1000) break;
        }
        return { resources: out };
      },
      complete: {
        plan_id: async (value) =>
          listPlans(ctx.txn.latest(), 1000)
            .map((p) => p.plan_id)
            .filter((id) => id.startsWith(value)),
      },
    }),
    {
      title: "Wave integration report",
      description:
        "A wave's latest integration report: undeclared writes (CRITICAL), overlapping changes, migration collisions with renumbering, gates, reviews; `wave_status` may be rolled_back.",
      mimeType: "application/json",
    },
    async (uri, vars) => {
      const id = decodeURIComponent(String(vars.plan_id));
      const raw = String(vars.wave_number);
      if (!/^\d{1,6}$/.test(raw)) throw new InvalidArgumentError("wave_number", `expected a positive integer, got "${raw}"`);
      const n = Number(raw);
      // A plan id holding NUL names no plan (it cannot be part of a key).
      if (id.includes("\0") || getPlan(ctx.txn.latest(), id) === undefined) throw new NotFoundError("plan_id", `plan_id: no plan "${id}"; list them at signalbox://waves`);
      const wave = waveIntegration(ctx, id, n);
      const report = integrationReport(ctx, id, n);
      if (!wave || !report) throw new InvalidStateError("wave_number", `wave_number: wave ${n} of plan "${id}" has not been integrated; integrate_wave once its features are completed`);
      return jsonContents(uri.href, { ...report, wave_status: wave.status, wave_reasons: wave.reasons });
    },
  );
}
