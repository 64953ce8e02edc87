import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { listDecisions } from "../src/log/decisions.js";
import { jsonContents } from "./common.js";

/** `signalbox://decisions`: the decision log, newest first (latest 200 entries and the total). */
export function registerDecisionResource(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "decisions",
    "signalbox://decisions",
    {
      title: "Decision log",
      description: "The append-only decision log, newest first: the latest 200 entries and the total count.",
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, await listDecisions(ctx.db, { limit: 200 })),
  );
}
