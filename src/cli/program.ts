/**
 * The commander program behind `signalbox` (src/cli.ts): every command and
 * option. Heavy modules (the server, the store, the views) are loaded by the
 * action that needs them.
 */
import { Command } from "commander";
import { registerHookCommands } from "./hook.js";
import { registerPeopleCommands } from "./people.js";
import { VERSION } from "../runtime/version.js";

const program = new Command()
  .name("signalbox")
  .description("MCP coordination server for parallel coding agents")
  .version(VERSION)
  .option("--root <dir>", "project root (default: SIGNALBOX_ROOT, else the nearest folder with .git, else cwd)");

program
  .command("serve", { isDefault: true })
  .description("serve MCP over stdio (the default), or over Streamable HTTP with --http")
  .option(
    "--http <host:port>",
    "serve MCP over Streamable HTTP at http://HOST:PORT/mcp instead of stdio (HOST:PORT, :PORT or PORT; host defaults to 127.0.0.1; needs http.tokens in signalbox.config.json)",
  )
  .option(
    "--toolsets <list>",
    "toolsets listed from the start, comma-separated: core, planning, orchestration, quality, waves, incidents, git, or all (default: SIGNALBOX_TOOLSETS, else tools.toolsets of the config, else core)",
  )
  .option("--no-dashboard", "with --http: do not serve the read-only web dashboard at /")
  .action(async (opts: { http?: string; toolsets?: string; dashboard: boolean }) => {
    const root = program.opts<{ root?: string }>().root;
    // Loaded here, not at the top: the hooks must start fast, without the SDK and every tool.
    if (opts.http === undefined) {
      const { serveStdio } = await import("../runtime/stdio.js");
      return serveStdio({ ...(root !== undefined ? { root } : {}), ...(opts.toolsets !== undefined ? { toolsets: opts.toolsets } : {}) });
    }
    const { serveHttp } = await import("../runtime/http.js");
    const { close } = await serveHttp({
      ...(root !== undefined ? { root } : {}),
      listen: opts.http,
      dashboard: opts.dashboard,
      ...(opts.toolsets !== undefined ? { toolsets: opts.toolsets } : {}),
    });
    const stop = () => void close().finally(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });

program
  .command("dashboard")
  .description("serve the read-only web dashboard of the store on loopback and print a one-time link to it (like Jupyter)")
  .option("--http <host:port>", "loopback address to listen on (HOST:PORT, :PORT or PORT; default 127.0.0.1 and a free port)")
  .action(async (opts: { http?: string }) => {
    const { runDashboard } = await import("../dashboard/run.js");
    const root = program.opts<{ root?: string }>().root;
    const { link, close } = await runDashboard({ ...(root !== undefined ? { root } : {}), ...(opts.http !== undefined ? { listen: opts.http } : {}) });
    console.log(link.href);
    process.stderr.write("signalbox dashboard: open the link above (it works once, for 5 minutes; run the command again for a new one). Ctrl-C stops.\n");
    const stop = () => void close().finally(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });

program
  .command("demo")
  .description("drive the built server over stdio through the bundled real inputs (examples/)")
  .option("--pause", "at the end of each section wait for Enter, so the dashboard can be looked at")
  .action(async (opts: { pause?: boolean }) => {
    const { runDemo } = await import("./demo.js");
    await runDemo({ pause: opts.pause === true });
  });

program
  .command("check")
  .description("check the integrity of the store (default: the root's .signalbox/, or SIGNALBOX_DB)")
  .option("--store <dir>", "store folder to check")
  .action(async (opts: { store?: string }) => {
    const { resolveRoot, resolveStoreDir } = await import("../runtime/root.js");
    const { runCheck } = await import("./check.js");
    const root = program.opts<{ root?: string }>().root;
    const dir = opts.store ?? resolveStoreDir(resolveRoot(root !== undefined ? { root } : {}));
    process.exitCode = await runCheck(dir);
  });

program
  .command("init")
  .description("write signalbox.config.json inferred from the repository (layout, migrations, lockfiles, contracts, files that change together), each rule with its reason")
  .option("--force", "replace an existing signalbox.config.json")
  .option("--dry-run", "print the rules without writing")
  .action(async (opts: { force?: boolean; dryRun?: boolean }) => {
    const { resolveRoot } = await import("../runtime/root.js");
    const { runInit } = await import("./init.js");
    const root = program.opts<{ root?: string }>().root;
    process.exitCode = await runInit({ root: resolveRoot(root !== undefined ? { root } : {}), force: opts.force === true, dryRun: opts.dryRun === true });
  });

const rootOption = () => program.opts<{ root?: string }>().root;
registerPeopleCommands(program, rootOption);
registerHookCommands(program, rootOption);

/** Parse `argv` (process.argv form) and run the command. */
export function runProgram(argv: string[]): void {
  program.parseAsync(argv).catch((err: unknown) => {
    process.stderr.write(`signalbox: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
