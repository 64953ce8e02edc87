import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { coordinationState } from "../src/control/features.js";
import { jsonContents } from "./common.js";

/** `signalbox://state`: the coordination state of parallel-execution-protocol §4.1. */
export function registerStateResource(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "state",
    "signalbox://state",
    {
      title: "Coordination state",
      description:
        "Per plan (newest 10): current wave and completed, active, failed, blocked (with because) and ready features (50 each, counts for all); " +
        "committed schema changes; shared resources in use; open checkpoints with who is missing; count of open pausing signals.",
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, coordinationState(ctx)),
  );
}
