#!/usr/bin/env node
/**
 * The `signalbox` command. With no subcommand (or `serve`) it is the MCP
 * server on stdio (`serve --http HOST:PORT`: over Streamable HTTP); `demo` runs the main job on the bundled real inputs;
 * `check` checks a store's integrity; `status`, `waves`, `decisions` and
 * `locks` show the store to a person (cli/people.ts); `hook` holds the Claude
 * Code PreToolUse and git pre-commit checks (cli/hook.ts).
 */
import { parseArgs } from "node:util";

/**
 * `signalbox [--root DIR] hook claude-pre-tool-use [--agent-id ID]` runs before
 * every edit an agent makes, so it skips commander and the rest of the CLI
 * (bench section 6). Anything else, or any other option, goes through the
 * full program (cli/program.ts).
 */
function claudeHookArgs(argv: string[]): { root?: string; agentId?: string } | null {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { root: { type: "string" }, "agent-id": { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 2 || positionals[0] !== "hook" || positionals[1] !== "claude-pre-tool-use") return null;
    return { ...(values.root !== undefined ? { root: values.root } : {}), ...(values["agent-id"] !== undefined ? { agentId: values["agent-id"] } : {}) };
  } catch {
    return null;
  }
}

/**
 * `signalbox [--root DIR] [serve] [--toolsets LIST]`, the MCP server on stdio
 * as clients start it: answered without commander, and `initialize` is
 * answered while the server loads (stdio-early.ts; bench section 4). `--http`,
 * `--help` or anything else goes through the full program.
 */
function stdioServeArgs(argv: string[]): { root?: string; toolsets?: string } | null {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { root: { type: "string" }, toolsets: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== "serve")) return null;
    return { ...(values.root !== undefined ? { root: values.root } : {}), ...(values.toolsets !== undefined ? { toolsets: values.toolsets } : {}) };
  } catch {
    return null;
  }
}

const hookArgs = claudeHookArgs(process.argv.slice(2));
const serveArgs = hookArgs ? null : stdioServeArgs(process.argv.slice(2));
if (hookArgs) {
  const { runClaudeHookCommand } = await import("./cli/hook.js");
  await runClaudeHookCommand(hookArgs);
} else if (serveArgs) {
  const { answerInitializeEarly } = await import("./runtime/stdio-early.js");
  const early = answerInitializeEarly(process.stdin, process.stdout);
  try {
    const { serveStdio } = await import("./runtime/stdio.js");
    await serveStdio({ ...serveArgs, early });
  } catch (err) {
    process.stderr.write(`signalbox: ${(err as Error).message}\n`);
    process.exit(1);
  }
} else {
  const { runProgram } = await import("./cli/program.js");
  runProgram(process.argv);
}
