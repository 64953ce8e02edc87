import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { auditView } from "../src/control/audit.js";
import { jsonContents } from "./common.js";

/** `signalbox://audit`: the S3* audit view. */
export function registerAuditResource(resources: ResourceCatalog, ctx: Context): void {
  const limit = ctx.config.control.page_size;
  resources.fixedResource(
    "audit",
    "signalbox://audit",
    {
      title: "Audit",
      description:
        `S3* audit: open pausing signals (algedonic first), the ${limit} newest signals with the total, the ${limit} newest audit handoffs ` +
        "with their feature's test phase (started once a test engineer acknowledged), and counts per level.",
      mimeType: "application/json",
    },
    async (uri) => jsonContents(uri.href, auditView(ctx, limit)),
  );
}
