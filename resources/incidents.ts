import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { incidentsView } from "../src/control/incidents.js";
import { jsonContents } from "./common.js";

/** Most incidents listed per list (open, closed) of `signalbox://incidents`. */
export const INCIDENTS_LISTED = 100;

/** `signalbox://incidents`: emergencies, open ones first (control/incidents.ts `incidentsView`). */
export function registerIncidentsResource(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "incidents",
    "signalbox://incidents",
    {
      title: "Incidents",
      description:
        `Emergencies: open incidents oldest first, then closed ones (with recovery and post-incident review) newest first, ` +
        `up to ${INCIDENTS_LISTED} each, with open_total and closed_total.`,
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, incidentsView(ctx, INCIDENTS_LISTED)),
  );
}
