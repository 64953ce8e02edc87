import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { metricsReport } from "../src/control/metrics.js";
import { jsonContents } from "./common.js";

/** `signalbox://metrics`: coordination KPIs and bottlenecks (execution-template.md, "Metrics and KPIs", "Bottleneck Detection"). */
export function registerMetricsResource(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "metrics",
    "signalbox://metrics",
    {
      title: "Metrics",
      description:
        "Lock requests (granted, waited, refused by reason, contention rate), lock wait p50/p95 ms, conflicts by type, conflict resolution time, " +
        "features completed, agents by status, and bottlenecks: locks held too long, long queues, unacknowledged messages, overloaded agents (each list capped, `omitted` counts the rest).",
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, metricsReport(ctx, ctx.locks)),
  );
}
