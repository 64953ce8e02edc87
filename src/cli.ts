#!/usr/bin/env node
/**
 * The `signalbox` command. With no subcommand (or `serve`) it is the MCP
 * server on stdio; `demo` runs the main job on the bundled real inputs;
 * `check` checks a store's integrity.
 */
import { Command } from "commander";
import { serveStdio } from "./main.js";
import { VERSION } from "./version.js";

const program = new Command()
  .name("signalbox")
  .description("MCP coordination server for parallel coding agents")
  .version(VERSION)
  .option("--root <dir>", "project root (default: SIGNALBOX_ROOT, else the nearest folder with .git, else cwd)");

program
  .command("serve", { isDefault: true })
  .description("serve MCP over stdio (the default)")
  .action(async () => {
    const root = program.opts<{ root?: string }>().root;
    await serveStdio(root !== undefined ? { root } : {});
  });

program
  .command("demo")
  .description("drive the built server over stdio through the bundled real inputs (examples/)")
  .action(async () => {
    const { runDemo } = await import("./cli/demo.js");
    await runDemo();
  });

program
  .command("check")
  .description("check the integrity of the store (default: the root's .signalbox/, or SIGNALBOX_DB)")
  .option("--store <dir>", "store folder to check")
  .action(async (opts: { store?: string }) => {
    const { resolveRoot, resolveStoreDir } = await import("./root.js");
    const { runCheck } = await import("./cli/check.js");
    const root = program.opts<{ root?: string }>().root;
    const dir = opts.store ?? resolveStoreDir(resolveRoot(root !== undefined ? { root } : {}));
    process.exitCode = await runCheck(dir);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`signalbox: ${(err as Error).message}\n`);
  process.exit(1);
});
