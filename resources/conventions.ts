import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { allConventions } from "../src/control/conventions.js";
import { listEscalations } from "../src/control/escalations.js";
import { cap } from "../src/control/registry/page.js";
import { jsonContents } from "./common.js";

/** Most conventions the resource lists; `omitted` counts the rest. */
const CONVENTIONS_SHOWN = 500;

/** `signalbox://conventions`: every convention and the open escalations (coordination-skill.md, "Convention Authority"). */
export function registerConventionsResource(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "conventions",
    "signalbox://conventions",
    {
      title: "Conventions",
      description:
        "Established conventions (scope, key, value, who set them, decision) by scope then key, first 500 with `omitted` counting the rest; " +
        "open escalations (convention clashes, oscillations) newest first, `open_escalations` counting all.",
      mimeType: "application/json",
    },
    async (uri) => {
      ctx.txn.latest();
      const all = allConventions(ctx);
      const shown = cap(all, CONVENTIONS_SHOWN);
      const esc = listEscalations(ctx, { openOnly: true });
      return jsonContents(uri.href, {
        conventions: shown.items,
        omitted: shown.omitted,
        total: all.length,
        escalations: esc.escalations,
        open_escalations: esc.open,
      });
    },
  );
}
