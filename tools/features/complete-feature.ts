import type { ToolHost } from "../host.js";
import { z } from "zod";
import type { Context } from "../../src/runtime/context.js";
import { completeFeature, getFeature } from "../../src/control/features.js";
import { GitError } from "../../src/git/cli.js";
import { branchFacts, checkDeclaration, describeDifferences, keyMapper, type BranchFacts } from "../../src/git/feature-changes.js";
import { agentId, featureId, keyString, result } from "../common.js";
import { resolveCommitArg } from "../git-location.js";
import { registerTool } from "../register.js";

/** Most files and commits listed in the answer; `*_total` counts them all. */
const LIST_CAP = 200;

/** Keys of the locks a lifecycle step released (first 100). */
export const releasedKeys = z.array(z.string());

/** `complete_feature`: §4.2 "After completing": completed, schema changes committed, locks released, dependents signalled. */
export function registerCompleteFeature(server: ToolHost, ctx: Context): void {
  const { limits } = ctx.config;
  const migration = z.union([
    keyString,
    z.object({ path: keyString, revision: z.string().min(1).max(200).optional(), down_revision: z.string().min(1).max(200).optional() }),
  ]);
  registerTool(server, ctx, 
    "complete_feature",
    {
      title: "Complete feature",
      description:
        "Call when your feature is done and committed. Releases your locks on it, records files, commits and migrations for integration " +
        "(default: from git; declared ones checked, see warnings); returns unblocks: features now ready. " +
        "Refused (error) while you are paused or a required gate is not passed.",
      inputSchema: {
        feature_id: featureId,
        agent_id: agentId,
        schema_changes: z
          .array(z.object({ table: z.string().min(1).max(200), operation: z.string().min(1).max(50).optional() }))
          .max(200)
          .optional()
          .describe("Default: the plan's tables"),
        outputs: z.array(z.string().min(1).max(1024)).max(200).optional().describe("Artifacts produced"),
        files_changed: z.array(keyString).max(limits.keys_per_task).optional().describe("Default: from git"),
        commits: z.array(z.string().min(1).max(200)).max(1000).optional().describe("Default: from git"),
        migrations: z.array(migration).max(1000).optional().describe("New migration files"),
      },
      outputSchema: {
        plan_id: z.string().nullable(),
        schema_changes: z.array(z.object({ table: z.string(), operation: z.string() })),
        released: releasedKeys,
        released_total: z.number(),
        unblocks: z.array(z.string()),
        unblocks_total: z.number(),
        source: z.enum(["git", "declared"]).describe("Where files_changed and commits came from"),
        branch: z.string().nullable(),
        files_changed: z.array(z.string()),
        files_changed_total: z.number(),
        commits: z.array(z.string()),
        uncommitted: z.array(z.string()).describe("Uncommitted edits in the branch's worktree"),
        differences: z
          .object({
            files_only_declared: z.array(z.string()),
            files_only_in_git: z.array(z.string()),
            commits_only_declared: z.array(z.string()),
            commits_only_in_git: z.array(z.string()),
          })
          .nullable()
          .describe("Declaration vs git; null when nothing was declared or no branch"),
        warnings: z.array(z.string()),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async (args) => {
      const migrations = (args.migrations ?? []).map((m, i) => {
        const m2 = typeof m === "string" ? { path: m } : m;
        return { path: ctx.keys.normalize(m2.path, `migrations[${i}].path`), revision: m2.revision ?? null, down_revision: m2.down_revision ?? null };
      });
      const declaredFiles = args.files_changed ? ctx.keys.normalizeAll(args.files_changed, "files_changed") : undefined;
      const branch = ctx.git.isGit ? (getFeature(ctx, args.feature_id)?.branch ?? null) : null;
      const warnings: string[] = [];
      let facts: BranchFacts | null = null;
      if (branch) {
        try {
          facts = await branchFacts(ctx.git, branch, keyMapper(ctx.git, (abs) => ctx.keys.normalize(abs, "files_changed")));
        } catch (err) {
          if (!(err instanceof GitError)) throw err;
          warnings.push(`branch ${branch} could not be read from git (${err.message}); what you declared is recorded unchecked`);
        }
      }
      let declaredCommits: string[] | undefined;
      if (facts && args.commits) declaredCommits = await Promise.all(args.commits.map((c) => resolveCommitArg(ctx, c).catch(() => c)));
      let differences = null;
      if (facts) {
        if (declaredFiles || declaredCommits) {
          differences = checkDeclaration(facts, declaredFiles, declaredCommits);
          warnings.push(...describeDifferences(differences, facts.branch));
        }
        if (facts.uncommitted.length > 0) {
          warnings.push(
            `${facts.uncommitted.length} uncommitted change(s) in ${facts.worktree ?? "the branch's worktree"} are not in the branch's commits and will not merge: ` +
              `${facts.uncommitted.slice(0, 10).join(", ")}${facts.uncommitted.length > 10 ? " and more" : ""}; commit them`,
          );
        }
      }
      const files_changed = declaredFiles ?? facts?.files;
      const commits = declaredCommits ?? args.commits ?? facts?.commits;
      const r = completeFeature(ctx, ctx.locks, { ...args, files_changed, commits, migrations });
      const data = {
        plan_id: r.plan_id,
        schema_changes: r.schema_changes.map((c) => ({ table: c.table, operation: c.operation })),
        released: r.released.map((l) => l.key),
        released_total: r.released_total,
        unblocks: r.unblocks,
        unblocks_total: r.unblocks_total,
        source: facts && !declaredFiles ? ("git" as const) : ("declared" as const),
        branch,
        files_changed: (files_changed ?? []).slice(0, LIST_CAP),
        files_changed_total: files_changed?.length ?? 0,
        commits: (commits ?? []).slice(0, LIST_CAP),
        uncommitted: (facts?.uncommitted ?? []).slice(0, LIST_CAP),
        differences,
        warnings,
      };
      const text =
        `${r.feature_id} completed; released ${r.released_total} lock(s)` +
        (r.unblocks_total > 0 ? `; unblocks ${r.unblocks.slice(0, 20).join(", ")}${r.unblocks_total > 20 ? ` and ${r.unblocks_total - 20} more` : ""}` : "") +
        (r.notified.length > 0 ? `; told ${r.notified.slice(0, 10).join(", ")}` : "") +
        (branch ? `; ${data.files_changed_total} file(s) and ${data.commits.length} commit(s) ${data.source === "git" ? "from" : "checked against"} branch ${branch}` : "") +
        (warnings.length > 0 ? `\nWARNING: ${warnings.join("\nWARNING: ")}` : "");
      return result(data, text);
    },
  );
}
