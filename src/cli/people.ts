/**
 * Terminal views for people (README, "For people at a terminal"): the
 * `status` (and `status --watch`), `waves`, `decisions` and `locks`
 * commands. This module opens the store, gathers the data and writes to
 * stdout; the text itself comes from the pure views in src/cli/views/.
 *
 * Rules:
 * - a view never creates a store: without `<store>/signalbox.mdb` it says
 *   `no signalbox store in <dir>` and exits 1;
 * - a bad argument (unknown plan id, bad `--since`, `--format`, `--limit`,
 *   `--interval`, `--root`) is an error naming the option and what was
 *   expected, exit code 2;
 * - `status --watch` polls `store.lastTxnId()` every `--interval` ms and
 *   reads the store again only when it moved or when a lease, a waiter's
 *   deadline or an agent's heartbeat limit runs out (views.nextChangeMs);
 *   it redraws only when the text changed (ages tick), clearing the screen
 *   with ANSI only on a TTY; Ctrl-C stops it.
 *
 * This module only parses arguments: the store, the core and the views are
 * loaded (people-data.ts) when a command runs, so that the other commands of
 * the CLI, the hooks above all, start without them.
 */
import type { Command } from "commander";
import type { Context } from "../runtime/context.js";

export { processIo, UsageError, type PeopleIo } from "./people-io.js";
import { processIo, UsageError, type PeopleIo } from "./people-io.js";

/** Output formats a command accepts. */
type Format = "table" | "mermaid" | "json";

/** @throws UsageError `--format: expected ...` unless `value` is one of `allowed`. */
export function parseFormat<T extends Format>(value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--format: expected ${allowed.join(" or ")}, got "${value}"`);
}

/** @throws UsageError naming `option` unless `value` is a decimal integer in `min`..`max`. */
export function parseIntOption(option: string, value: string, min: number, max: number): number {
  const n = /^\d{1,12}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${option}: expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `--since`: an ISO-8601 time (`2026-01-01`, `2026-01-01T10:00:00Z`) or a
 * duration before `nowMs` such as `90s`, `30m`, `2h`, `1d`, `1h30m`, `1w`.
 * Returns epoch ms. @throws UsageError `--since: expected ...`.
 */
export function parseSince(value: string, nowMs: number): number {
  const v = value.trim();
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join("") === v) {
    return nowMs - parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
  }
  if (/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/.test(v)) {
    const t = Date.parse(v.replace(" ", "T"));
    if (Number.isFinite(t)) return t;
  }
  throw new UsageError(
    `--since: expected an ISO time (2026-01-31 or 2026-01-31T09:30:00Z) or a duration like 90s, 30m, 2h, 1d, 1h30m; got "${value}"`,
  );
}


/**
 * Add `status`, `waves`, `decisions` and `locks` to `program`. `rootOption`
 * returns the global `--root` when given (else SIGNALBOX_ROOT, the nearest
 * folder with .git, or the working directory decide; SIGNALBOX_DB moves the
 * store). `io` defaults to the real process ({@link processIo}).
 */
export function registerPeopleCommands(program: Command, rootOption: () => string | undefined, io: PeopleIo = processIo()): void {
  /**
   * Run a command body: it validates its arguments first, then calls `open()`
   * for the store (closed afterwards). Errors go to stderr as
   * `signalbox <name>: <message>`; exit 2 for a UsageError, else 1.
   */
  const run =
    <A extends unknown[]>(name: string, body: (open: () => Context, ...args: A) => Promise<number> | number) =>
    async (...args: A): Promise<void> => {
      let ctx: Context | undefined;
      try {
        const { openForReading } = await import("./people-data.js");
        const open = () => (ctx ??= openForReading(rootOption(), io.env));
        io.exit(await body(open, ...args));
      } catch (err) {
        io.err(`signalbox ${name}: ${(err as Error).message}\n`);
        io.exit(err instanceof UsageError ? 2 : 1);
      } finally {
        await (ctx as Context | undefined)?.close();
      }
    };

  program
    .command("status")
    .description("agents, locks, waiters, open audit signals, unread messages and current waves, in a table")
    .option("-w, --watch", "redraw when the store changes, until Ctrl-C")
    .option("--interval <ms>", "with --watch: how often to look for changes, ms", "1000")
    .action(
      run("status", async (open, opts: { watch?: boolean; interval: string }) => {
        const d = await import("./people-data.js");
        const intervalMs = parseIntOption("--interval", opts.interval, 100, 3_600_000);
        const ctx = open();
        if (!opts.watch) {
          io.out(`${d.renderStatus(d.gatherStatus(ctx), { width: d.widthOf(io), colors: d.colorsFor(io.color) })}\n`);
          return 0;
        }
        const stop = new AbortController();
        const off = io.onInterrupt(() => stop.abort());
        try {
          await d.watchStatus(ctx, io, { intervalMs, width: d.widthOf(io), colors: d.colorsFor(io.color), signal: stop.signal });
        } finally {
          off();
        }
        return 0;
      }),
    );

  program
    .command("waves")
    .argument("[plan_id]", "a stored plan (default: the newest)")
    .description("a stored wave plan as a table, a Mermaid flowchart (for pull requests) or JSON")
    .option("--format <format>", "table, mermaid or json", "table")
    .action(
      run("waves", async (open, planId: string | undefined, opts: { format: string }) => {
        const d = await import("./people-data.js");
        const format = parseFormat(opts.format, ["table", "mermaid", "json"] as const);
        const ctx = open();
        const dir = d.storeDirOf(ctx);
        let plan: ReturnType<typeof d.getPlan>;
        if (planId !== undefined) {
          plan = d.getPlan(ctx.txn.latest(), planId);
          if (!plan) {
            const known = d.listPlans(ctx.txn.latest(), 5).map((p) => p.plan_id);
            const hint = known.length > 0 ? `newest: ${known.join(", ")}` : "none is stored";
            throw new UsageError(`plan_id: no plan "${planId}" in ${dir} (${hint}; list them with: signalbox waves)`);
          }
        } else {
          const newest = d.listPlans(ctx.txn.latest(), 1)[0];
          plan = newest ? d.getPlan(ctx.txn.latest(), newest.plan_id) : undefined;
          if (!plan) {
            const msg = `no wave plans stored in ${dir} yet: agents store them with the plan_waves tool\n`;
            if (format === "table") {
              io.out(msg);
              return 0;
            }
            io.err(`signalbox waves: ${msg}`);
            return 1;
          }
        }
        const progress = d.progressOf(ctx, plan);
        const spec = d.getPlanSpec(ctx.txn.latest(), plan.plan_id);
        if (format === "mermaid") {
          const text = d.renderMermaid(plan, { progress, ...(spec ? { dependencies: spec } : {}) });
          io.out(text);
          const edges = text.split("\n").filter((l) => / (-->|-\.->)/.test(l)).length;
          if (edges > d.MERMAID_MAX_EDGES) {
            io.err(`signalbox waves: note: ${edges} edges; Mermaid renders at most ${d.MERMAID_MAX_EDGES} unless its maxEdges is raised\n`);
          }
        } else if (format === "json") {
          const dependencies = spec ? [...spec].map(([feature_id, s]) => ({ feature_id, blocked_by: s.blocked_by })) : null;
          const started = [...progress].map(([feature_id, p]) => ({ feature_id, ...p }));
          io.out(`${JSON.stringify({ ...plan, dependencies, progress: started }, null, 2)}\n`);
        } else {
          const w = d.widthOf(io);
          const parts = [d.renderWavesTable(plan, { width: w, colors: d.colorsFor(io.color), progress })];
          const total = d.planCount(ctx.txn.latest());
          if (planId === undefined && total > 1) parts.push(d.renderPlanList(d.listPlans(ctx.txn.latest(), 10), { width: w, colors: d.colorsFor(io.color), total }));
          io.out(`${parts.join("\n\n")}\n`);
        }
        return 0;
      }),
    );

  program
    .command("decisions")
    .description("the decision log, newest first")
    .option("--since <when>", "only decisions since an ISO time or a duration ago (90s, 30m, 2h, 1d)")
    .option("--limit <n>", "most decisions shown", "50")
    .option("--format <format>", "table or json", "table")
    .action(
      run("decisions", async (open, opts: { since?: string; limit: string; format: string }) => {
        const d = await import("./people-data.js");
        const format = parseFormat(opts.format, ["table", "json"] as const);
        const limit = parseIntOption("--limit", opts.limit, 1, 100_000);
        const since = opts.since !== undefined ? parseSince(opts.since, Date.now()) : null;
        const ctx = open();
        const { decisions, total } = d.decisionsSince(ctx, limit, since);
        if (format === "json") {
          io.out(`${JSON.stringify({ decisions, total, since: since !== null ? new Date(since).toISOString() : null }, null, 2)}\n`);
        } else {
          const filter = since !== null ? `since ${new Date(since).toISOString()}` : "";
          io.out(`${d.renderDecisions(decisions, { width: d.widthOf(io), colors: d.colorsFor(io.color), total, filter })}\n`);
        }
        return 0;
      }),
    );

  program
    .command("locks")
    .description("live locks (holder, fencing token, lease left) and waiting requests")
    .option("--format <format>", "table or json", "table")
    .action(
      run("locks", async (open, opts: { format: string }) => {
        const d = await import("./people-data.js");
        const format = parseFormat(opts.format, ["table", "json"] as const);
        const ctx = open();
        const list = ctx.locks.list();
        const branches = d.agentBranches(ctx);
        if (format === "json") io.out(`${JSON.stringify({ ...list, locks: list.locks.map((l) => ({ ...l, branch: branches.get(l.agent_id) ?? null })) }, null, 2)}\n`);
        else io.out(`${d.renderLocks(list, ctx.clock.wallMs(), { width: d.widthOf(io), colors: d.colorsFor(io.color), branches })}\n`);
        return 0;
      }),
    );
}
