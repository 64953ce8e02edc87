import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { cap } from "../src/control/registry/page.js";
import { jsonContents } from "./common.js";

/** Most locks and waiters listed; the resource counts the rest. */
const LIST_CAP = 500;

/** `signalbox://locks`: live locks and waiters. Never shows a lock_id (it is the holder's secret). */
export function registerLockResource(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "locks",
    "signalbox://locks",
    {
      title: "Locks",
      description:
        "Current locks (key, mode, holder, feature, fencing token, expiry) and queued waiters: the first 500 of each, `*_omitted` counts the rest.",
      mimeType: "application/json",
    },
    async (uri) => {
      const { locks, waiters } = ctx.locks.list();
      const l = cap(locks, LIST_CAP);
      const w = cap(waiters, LIST_CAP);
      return jsonContents(uri.href, { locks: l.items, locks_omitted: l.omitted, waiters: w.items, waiters_omitted: w.omitted });
    },
  );
}
