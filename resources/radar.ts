import type { ResourceCatalog } from "./catalog.js";
import type { Context } from "../src/runtime/context.js";
import { radarView } from "../src/control/radar.js";
import { jsonContents } from "./common.js";

/**
 * `signalbox://radar`: the predicted-conflict matrix between active feature
 * branches (src/control/radar.ts), made current on read when a branch head
 * moved; the radar's poll records a new matrix when heads move, which
 * subscribers see as `resources/updated`.
 */
export function registerRadarResource(resources: ResourceCatalog, ctx: Context): void {
  resources.fixedResource(
    "radar",
    "signalbox://radar",
    {
      title: "Conflict radar",
      description:
        "Predicted merge conflicts between every pair of active feature branches (real three-way merges by git, no worktree touched): " +
        "per pair the status, conflicting files with their kind, and files both sides changed. Recomputed when a branch head moves.",
      mimeType: "application/json",
    },
    async (uri) => {
      if (!ctx.git.isGit) return jsonContents(uri.href, { available: false, reason: `${ctx.root} is not inside a git repository` });
      const refreshed = await ctx.radar.refresh();
      const matrix = refreshed?.matrix;
      if (!matrix) return jsonContents(uri.href, { available: false, reason: "no radar yet" });
      return jsonContents(uri.href, { available: true, ...radarView(matrix), branches: matrix.branches });
    },
  );
}
