import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { statusBoard } from "../src/control/registry/agents.js";
import { jsonContents } from "./common.js";

/** `signalbox://agents`: the status board. */
export function registerAgentsResource(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "agents",
    "signalbox://agents",
    {
      title: "Agents",
      description:
        "Status board: each agent's role, feature, status, progress, availability (heartbeat) and pauses; audit coverage per phase; " +
        "features of unavailable agents ready for reallocation. First 200 agents, `omitted` counts the rest.",
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, statusBoard(ctx)),
  );
}
