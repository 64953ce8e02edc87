import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { checkParallel } from "../src/analysis/parallel.js";
import { taskSchema } from "../tools/task-schema.js";
import { userText } from "./common.js";

/**
 * Parse the prompt's `tasks` argument (prompt arguments are strings): a JSON
 * array of tasks in `check_parallel`'s shape.
 * @throws Error naming `tasks` (not JSON, not an array) or the bad field (`tasks[1].writes[0]: ...`).
 */
function parseTasks(ctx: Context, text: string) {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`tasks: expected a JSON array of tasks as check_parallel takes them, got text that is not JSON (${(err as Error).message})`);
  }
  const parsed = z.array(taskSchema(ctx.config)).min(1).max(ctx.config.limits.tasks_per_check).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.reduce<string>((s, p) => (typeof p === "number" ? `${s}[${p}]` : `${s}.${String(p)}`), "tasks");
    throw new Error(`${at}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Prompt `pre_parallel_check`: from a list of tasks, the checkpoint an
 * orchestrator emits before invoking parallel agents (coordination-skill.md,
 * "S2: Parallel Execution Coordination" > "Pre-Parallel Checkpoint"),
 * computed by check_parallel, with the groups to run in order and what each
 * agent must do. Errors name the argument: `tasks[i].field: ...`.
 */
export function registerPreParallelCheck(server: McpServer, ctx: Context): void {
  server.registerPrompt(
    "pre_parallel_check",
    {
      title: "S2 pre-parallel check",
      description: "The S2 Pre-Parallel Check to emit before invoking parallel agents, computed from the tasks by check_parallel.",
      argsSchema: {
        tasks: z
          .string()
          .describe('JSON array of tasks as check_parallel takes them, e.g. [{"id":"api","writes":["src/api/"]},{"id":"ui","writes":["src/ui/"]}]'),
      },
    },
    (args) => {
      const report = checkParallel(parseTasks(ctx, args.tasks), { root: ctx.root, domains: ctx.domains });
      const groups = report.groups.map((g, i) => `${i + 1}. ${g.join(", ")}`);
      const text = [
        "Before invoking parallel agents, emit this checkpoint (coordination-skill.md, S2 Pre-Parallel Checkpoint):",
        "",
        report.checkpoint.text,
        "",
        `Verdict: ${report.verdict} (${report.summary.tasks} tasks; ${report.summary.serialize_pairs} pairs serialize, ${report.summary.converge_pairs} converge).`,
        "Run the groups in this order; the tasks of one group may run side by side:",
        ...groups,
        "",
        "Then dispatch_agents for the first group. Each agent: acquire_lock (mode write) before writing a file and release_lock after;",
        "report_status as its heartbeat; get_inbox for handoffs and signals. Record arbitrations with record_decision.",
      ].join("\n");
      return { description: `S2 pre-parallel check: ${report.verdict}`, messages: [userText(text)] };
    },
  );
}
