import type { Context } from "../src/runtime/context.js";
import { registerActivityResources } from "./activity.js";
import { registerAgentsResource } from "./agents.js";
import { registerAuditResource } from "./audit.js";
import type { ResourceCatalog } from "./catalog.js";
import { registerConventionsResource } from "./conventions.js";
import { registerDecisionResource } from "./decisions.js";
import { registerIncidentsResource } from "./incidents.js";
import { registerLockResource } from "./locks.js";
import { registerMetricsResource } from "./metrics.js";
import { registerRadarResource } from "./radar.js";
import { registerStateResource } from "./state.js";
import { registerWaveResources } from "./waves.js";

/**
 * Every resource: wave plans, the decision log, locks, coordination state,
 * agents, audit, conventions, metrics, incidents, the activity log and the
 * conflict radar
 * (DESIGN.md, "Who calls it"); wave integration reports live with the wave
 * plans (waves.ts).
 */
export function registerResources(resources: ResourceCatalog, ctx: Context): void {
  registerWaveResources(resources, ctx);
  registerDecisionResource(resources, ctx);
  registerLockResource(resources, ctx);
  registerStateResource(resources, ctx);
  registerAgentsResource(resources, ctx);
  registerAuditResource(resources, ctx);
  registerConventionsResource(resources, ctx);
  registerMetricsResource(resources, ctx);
  registerIncidentsResource(resources, ctx);
  registerActivityResources(resources, ctx);
  registerRadarResource(resources, ctx);
}
