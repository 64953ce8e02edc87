/**
 * The people commands (README, "For people at a terminal": `status`,
 * `status --watch`, `waves`, `decisions`, `locks`) run through commander
 * in-process, as `signalbox` runs them, with stdout, stderr and the exit code
 * captured: a store that does not exist is never created, bad arguments exit 2
 * naming the option, the watcher redraws only on change and stops on Ctrl-C.
 */
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSince, registerPeopleCommands, type PeopleIo } from "../src/cli/people.js";
import { displayWidth } from "../src/cli/views/text.js";
import { reportStatus } from "../src/control/status.js";
import { silentLogger } from "../src/runtime/logger.js";
import { parseConfig } from "../src/runtime/config.js";
import { createContext, type Context } from "../src/runtime/context.js";
import type { TaskSpec } from "../src/analysis/tasks.js";
import { connect, type Harness } from "./helpers/client.js";
import { tempDir } from "./helpers/store.js";
import { until } from "./helpers/wait.js";

const protocol = (
  JSON.parse(fs.readFileSync(new URL("../examples/protocol-example.json", import.meta.url), "utf8")) as { features: TaskSpec[] }
).features;

/** What one command run wrote and how it ended. */
interface Run {
  out: string;
  err: string;
  code: number | undefined;
  /** Ctrl-C for a running `--watch`. */
  interrupt: () => void;
  done: Promise<void>;
}

/** Start `signalbox <args>` on a fresh commander program with `--root root` and the given environment. */
function start(args: string[], opts: { root?: string; env?: NodeJS.ProcessEnv; tty?: boolean; color?: boolean } = {}): Run {
  const run = { out: "", err: "", code: undefined as number | undefined, interrupt: () => {}, done: Promise.resolve() };
  let onInt: (() => void) | null = null;
  const io: PeopleIo = {
    out: (t) => void (run.out += t),
    err: (t) => void (run.err += t),
    exit: (c) => void (run.code = c),
    color: opts.color ?? false,
    isTTY: opts.tty ?? false,
    columns: 80,
    env: opts.env ?? {},
    onInterrupt(handler) {
      onInt = handler;
      return () => void (onInt = null);
    },
  };
  run.interrupt = () => onInt?.();
  const program = new Command()
    .name("signalbox")
    .option("--root <dir>")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerPeopleCommands(program, () => program.opts<{ root?: string }>().root, io);
  const argv = ["node", "signalbox", ...(opts.root !== undefined ? ["--root", opts.root] : []), ...args];
  run.done = program.parseAsync(argv).then(() => undefined);
  return run;
}

async function cli(args: string[], opts: Parameters<typeof start>[1] = {}): Promise<Run> {
  const r = start(args, opts);
  await r.done;
  return r;
}

let h: Harness;
/** Environment that points the commands at the harness's store. */
let env: NodeJS.ProcessEnv;
let planId: string;

beforeAll(async () => {
  // The protocol's own reading of its example (well-known migrations off): P2 and P3 share wave 2.
  h = await connect({ config: parseConfig({ defaults: { migrations: false } }) });
  env = { SIGNALBOX_DB: h.ctx.store.dir };
  planId = (await h.ok<{ plan_id: string }>("plan_waves", { features: protocol, name: "protocol example" })).plan_id;
  await h.ok("record_decision", { decided_by: "orchestrator-1", type: "convention", context: "two styles", decision: "camelCase verbs" });
  await h.ok("acquire_lock", { agent_id: "auditor-1", paths: ["middleware.ts"], mode: "read", lease_ms: 600_000 });
});

afterAll(async () => {
  await h?.close();
});

describe("without a store", () => {
  it("says so, exits 1 and creates nothing", async () => {
    const root = tempDir("signalbox-nostore-");
    try {
      for (const cmd of [["status"], ["waves"], ["decisions"], ["locks"]]) {
        const r = await cli(cmd, { root: root.dir });
        expect(r.code, cmd.join(" ")).toBe(1);
        expect(r.err).toContain(`no signalbox store in ${path.join(fs.realpathSync(root.dir), ".signalbox")}`);
        expect(r.out).toBe("");
      }
      expect(fs.readdirSync(root.dir)).toEqual([]);
    } finally {
      root.cleanup();
    }
  });
});

describe("bad arguments exit 2 and name the option", () => {
  const cases: [string[], RegExp][] = [
    [["waves", "--format", "svg"], /--format: expected table or mermaid or json, got "svg"/],
    [["decisions", "--format", "mermaid"], /--format: expected table or json, got "mermaid"/],
    [["locks", "--format", "yaml"], /--format: expected table or json/],
    [["decisions", "--since", "yesterday"], /--since: expected an ISO time .* or a duration like 90s/],
    [["decisions", "--since", "2026-13-45"], /--since: expected/],
    [["decisions", "--limit", "0"], /--limit: expected an integer from 1 to/],
    [["status", "--interval", "fast"], /--interval: expected an integer from 100 to/],
    [["waves", "plan_nope"], /plan_id: no plan "plan_nope" in .* \(newest: plan_/],
  ];
  for (const [args, message] of cases) {
    it(args.join(" "), async () => {
      const r = await cli(args, { env });
      expect(r.err).toMatch(message);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
    });
  }

  it("--root that is not a directory", async () => {
    const r = await cli(["status"], { root: "/nonexistent/signalbox-root", env: {} });
    expect(r.err).toMatch(/--root: .*nonexistent\/signalbox-root is not a directory/);
    expect(r.code).toBe(2);
  });

  it("a bad format is reported before the store is looked for", async () => {
    const root = tempDir("signalbox-nostore-");
    try {
      const r = await cli(["locks", "--format", "xml"], { root: root.dir });
      expect(r.code).toBe(2);
    } finally {
      root.cleanup();
    }
  });
});

describe("on a real store", () => {
  it("status prints the board within 80 columns and without colour codes when colour is off", async () => {
    const r = await cli(["status"], { env });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^LOCKS {2}1 held · 0 waiting$/m);
    expect(r.out).toContain("protocol example");
    expect(r.out).not.toContain("\u001b");
    expect(r.out.split("\n").filter((l) => displayWidth(l) > 80)).toEqual([]);
  });

  it("waves: the newest plan as a table, as Mermaid and as JSON", async () => {
    const table = await cli(["waves"], { env });
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^2 +P2_user_profile {2}P3_posts +1 +0\/2$/m);
    const mermaid = await cli(["waves", planId, "--format", "mermaid"], { env });
    expect(mermaid.out).toMatch(/^flowchart TB$/m);
    expect(mermaid.out).toMatch(/^ {2}subgraph wave2\["Wave 2 · 2 in parallel"\]$/m);
    const json = await cli(["waves", "--format", "json"], { env });
    const plan = JSON.parse(json.out) as { plan_id: string; waves: unknown[]; dependencies: { feature_id: string; blocked_by: string[] }[] };
    expect(plan.plan_id).toBe(planId);
    expect(plan.waves).toHaveLength(2);
    expect(plan.dependencies).toContainEqual({ feature_id: "P2_user_profile", blocked_by: ["P1_user_auth"] });
  });

  it("waves on a store without plans says so: on stdout for a table, as an error for mermaid", async () => {
    const root = tempDir("signalbox-empty-");
    const store = tempDir("signalbox-empty-store-");
    try {
      const ctx = createContext({ root: root.dir, storeDir: store.dir, logger: silentLogger, sweepMs: 0 });
      await ctx.close();
      const e = { SIGNALBOX_DB: store.dir };
      const table = await cli(["waves"], { root: root.dir, env: e });
      expect(table.code).toBe(0);
      expect(table.out).toMatch(/^no wave plans stored in .* yet: agents store them with the plan_waves tool$/m);
      const mermaid = await cli(["waves", "--format", "mermaid"], { root: root.dir, env: e });
      expect(mermaid.code).toBe(1);
      expect(mermaid.out).toBe("");
      expect(mermaid.err).toContain("no wave plans stored");
    } finally {
      root.cleanup();
      store.cleanup();
    }
  });

  it("decisions: --since and --limit filter, --format json", async () => {
    const all = JSON.parse((await cli(["decisions", "--format", "json"], { env })).out) as { decisions: { decision: string }[]; total: number };
    expect(all.decisions.map((d) => d.decision)).toContain("camelCase verbs");
    const recent = await cli(["decisions", "--since", "1h"], { env });
    expect(recent.out).toContain("camelCase verbs");
    expect(recent.out).toMatch(/^DECISIONS {2}\d+ shown · \d+ in the log · since \d{4}-/m);
    const future = JSON.parse((await cli(["decisions", "--since", "2999-01-01", "--format", "json"], { env })).out) as { decisions: unknown[] };
    expect(future.decisions).toEqual([]);
    const one = JSON.parse((await cli(["decisions", "--limit", "1", "--format", "json"], { env })).out) as { decisions: unknown[] };
    expect(one.decisions).toHaveLength(1);
  });

  it("locks: table and JSON", async () => {
    const table = await cli(["locks"], { env });
    expect(table.out).toMatch(/^middleware\.ts +read +auditor-1 /m);
    const json = JSON.parse((await cli(["locks", "--format", "json"], { env })).out) as { locks: { key: string }[]; waiters: unknown[] };
    expect(json.locks.map((l) => l.key)).toEqual(["middleware.ts"]);
    expect(json.waiters).toEqual([]);
  });
});

describe("status --watch", () => {
  it("draws once, redraws after a write to the store, and stops on Ctrl-C", async () => {
    // A store of its own: no agents or locks, so no age ticks and nothing lapses by itself.
    const root = tempDir("signalbox-watch-");
    const store = tempDir("signalbox-watch-store-");
    let ctx: Context | undefined;
    try {
      ctx = createContext({ root: root.dir, storeDir: store.dir, logger: silentLogger, sweepMs: 0 });
      const run = start(["status", "--watch", "--interval", "100"], { root: root.dir, env: { SIGNALBOX_DB: store.dir } });
      const frames = () => run.out.split("signalbox status").length - 1;
      await until("the first frame", () => frames() === 1, 10_000);
      // Several intervals pass without a write: polling lastTxnId() finds nothing new, no redraw.
      const txn = ctx.store.lastTxnId();
      await new Promise((r) => setTimeout(r, 600));
      expect(ctx.store.lastTxnId()).toBe(txn);
      expect(frames()).toBe(1);
      // A write from another connection: the next poll sees it and redraws.
      reportStatus(ctx, { agent_id: "coder-7", status: "working", current_task: "watching" });
      await until("a frame showing coder-7", () => run.out.includes("coder-7"), 10_000);
      run.interrupt();
      await run.done;
      expect(run.code).toBe(0);
      expect(run.out).toContain("Ctrl-C to stop");
      // Not a TTY: no screen clearing, no colour.
      expect(run.out).not.toContain("\u001b");
    } finally {
      await ctx?.close();
      root.cleanup();
      store.cleanup();
    }
  });

  it("clears the screen with ANSI on a TTY", async () => {
    const run = start(["status", "--watch", "--interval", "100"], { env, tty: true });
    await until("the first frame", () => run.out.length > 0, 10_000);
    run.interrupt();
    await run.done;
    expect(run.out.startsWith("\u001b[H\u001b[2J")).toBe(true);
    expect(run.code).toBe(0);
  });
});

describe("parseSince", () => {
  const now = Date.UTC(2026, 0, 2, 12);
  it("reads durations and ISO times", () => {
    expect(parseSince("2h", now)).toBe(now - 7_200_000);
    expect(parseSince("1h30m", now)).toBe(now - 5_400_000);
    expect(parseSince("90s", now)).toBe(now - 90_000);
    expect(parseSince("1d", now)).toBe(now - 86_400_000);
    expect(parseSince("2026-01-01", now)).toBe(Date.UTC(2026, 0, 1));
    expect(parseSince("2026-01-01T10:00:00Z", now)).toBe(Date.UTC(2026, 0, 1, 10));
    for (const bad of ["", "2", "h", "2x", "1h 30m", "-2h", "2026-1-1"]) expect(() => parseSince(bad, now), bad).toThrow(/^--since: expected/);
  });
});
