import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { nowIso } from "../../src/control/registry/env.js";
import { radarView, type RadarMatrix, type RadarPair } from "../../src/control/radar.js";
import { scanRadar } from "../../src/git/radar-scan.js";
import { watchedFeatures } from "../../src/git/radar-watch.js";
import { agentId, result } from "../common.js";
import { registerTool } from "../register.js";
import { GitError } from "../../src/git/cli.js";

/** One branch of a radar pair. */
const radarBranch = z.object({
  branch: z.string().describe("Branch or ref"),
  feature_id: z.string().nullable(),
  agent_id: z.string().nullable(),
  head: z.string().describe("Commit merged (a snapshot when uncommitted edits count)"),
});

/** One pair of the radar matrix (RadarPair in src/control/radar.ts). */
export const radarPairSchema = z.object({
  a: radarBranch,
  b: radarBranch,
  status: z.enum(["clean", "conflict"]),
  conflicts: z.array(z.object({ path: z.string(), kind: z.string().describe("content, add/add, modify/delete, rename or other") })),
  both_changed: z.array(z.string()).describe("Changed on both sides, merged cleanly: check semantics"),
});

/** The radar matrix as predict_conflicts returns it ({@link radarView}). */
export const radarShape = {
  computed_at: z.string(),
  target: z.string().nullable().describe("Target branch"),
  include_uncommitted: z.boolean(),
  pairs: z.array(radarPairSchema),
  conflicting_pairs: z.number(),
};

/** One line per pair that conflicts or shares changed files. */
export function radarText(m: RadarMatrix): string {
  const lines = m.pairs.map((p) => {
    const name = (b: RadarPair["a"]) => `${b.branch}${b.feature_id ? ` (${b.feature_id})` : ""}`;
    if (p.status === "conflict") return `CONFLICT ${name(p.a)} x ${name(p.b)}: ${p.conflicts.slice(0, 10).map((c) => `${c.path} [${c.kind}]`).join(", ")}`;
    return p.both_changed.length > 0 ? `clean ${name(p.a)} x ${name(p.b)}; both changed ${p.both_changed.slice(0, 10).join(", ")} (check semantics)` : `clean ${name(p.a)} x ${name(p.b)}`;
  });
  const head = `${m.pairs.length} pair(s) of ${m.pairs.length === 0 ? "fewer than two branches" : "branches"}, ${m.pairs.filter((p) => p.status === "conflict").length} conflicting`;
  return [head, ...lines.slice(0, 50)].join("\n");
}

/**
 * `predict_conflicts`: real three-way merges between active feature branches
 * (or given refs) inside git's object store; no working tree, index or branch
 * changes. The default scan (no refs, committed work) is recorded as the
 * radar, which tells agents of a pair that newly conflicts.
 */
export function registerPredictConflicts(server: ToolHost, ctx: Context): void {
  registerTool(
    server,
    ctx,
    "predict_conflicts",
    {
      title: "Predict merge conflicts",
      description: "Call to see whether parallel branches will collide before they merge: a real three-way merge (git merge-tree, git 2.38+) of " +
        "each pair of active feature branches, or of refs, inside git's object store; no worktree, index or branch is touched. Per pair: " +
        "status clean or conflict, the conflicting paths with their kind (content, add/add, modify/delete, rename, other), and " +
        "both_changed: files both sides changed that merged cleanly (check their meaning). The default scan is recorded as the radar. " +
        "An error outside git.",
      inputSchema: {
        agent_id: agentId.optional().describe("Asking agent"),
        refs: z.array(z.string().min(1).max(255)).min(2).max(32).optional().describe("Branches or commits; default: active features'"),
        include_uncommitted: z.boolean().optional().describe("Include worktrees' uncommitted edits"),
      },
      outputSchema: radarShape,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const adhoc = args.refs !== undefined || args.include_uncommitted === true;
      const matrix = adhoc
        ? await scanRadar(ctx.git, watchedFeatures(ctx), {
            ...(args.refs ? { refs: args.refs } : {}),
            includeUncommitted: args.include_uncommitted ?? false,
            now: nowIso(ctx),
          })
        : ((await ctx.radar.refresh())?.matrix ?? null);
      if (matrix === null) throw new GitError("not_a_repository", `git: ${ctx.root} is not inside a git repository; predict_conflicts compares git branches`);
      return result(radarView(matrix), radarText(matrix));
    },
  );
}
