/**
 * `signalbox hook <name>` (README, "Hooks: enforcement where agents forget"):
 * - `claude-pre-tool-use`: a Claude Code PreToolUse hook (src/hooks/claude.ts);
 * - `pre-commit`: a git pre-commit check (src/hooks/pre-commit.ts);
 * - `install`: put the pre-commit check where git runs it for every worktree
 *   and print the Claude Code settings (src/hooks/install.ts).
 *
 * This module is imported by src/cli.ts on every start, so it imports
 * nothing at load time; each action loads its hook when it runs. A hook
 * process must answer in a few tens of milliseconds (bench/hook.ts).
 */
import type { Command } from "commander";

interface HookFlags {
  agentId?: string;
}

/**
 * Add the `hook` command and its subcommands to `program`. `rootOption`
 * returns the program's `--root` (read when an action runs, after parsing).
 */
export function registerHookCommands(program: Command, rootOption: () => string | undefined): void {
  const hook = program
    .command("hook")
    .description("enforce locks from outside the agents: a Claude Code PreToolUse hook and a git pre-commit check");

  const common = (opts: HookFlags) => {
    const root = rootOption();
    return { ...(root !== undefined ? { root } : {}), ...(opts.agentId !== undefined ? { agentId: opts.agentId } : {}) };
  };

  hook
    .command("claude-pre-tool-use")
    .description(
      "Claude Code PreToolUse hook (matcher Edit|Write|MultiEdit|NotebookEdit): reads the hook JSON on stdin, " +
        "denies an edit of a file another agent has locked (or, with hooks.require_lock, one you have not write-locked); silent otherwise",
    )
    .option("--agent-id <id>", "the calling agent's id (default: SIGNALBOX_AGENT_ID; unknown: every lock is another agent's)")
    .action((opts: HookFlags) => runClaudeHookCommand(common(opts)));

  hook
    .command("pre-commit")
    .description(
      "git pre-commit check: refuses (exit 1) a commit whose staged files another agent has locked; " +
        "install it with `signalbox hook install`",
    )
    .option("--agent-id <id>", "the committing agent's id (default: SIGNALBOX_AGENT_ID; unknown: every lock is another agent's)")
    .action(async (opts: HookFlags) => {
      const { runPreCommit } = await import("../hooks/pre-commit.js");
      emit(await runPreCommit(common(opts)));
    });

  hook
    .command("install")
    .description(
      "install the pre-commit check where git runs it for every worktree (the common hooks folder, or core.hooksPath), " +
        "chaining an existing hook; print the Claude Code settings for the PreToolUse hook",
    )
    .option("--dry-run", "say what would be done, change nothing")
    .action(async (opts: { dryRun?: boolean }) => {
      const { installPreCommitHook, renderInstall } = await import("../hooks/install.js");
      const { fileURLToPath } = await import("node:url");
      const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
      try {
        const r = await installPreCommitHook({ cwd: rootOption() ?? process.cwd(), node: process.execPath, cli, dryRun: opts.dryRun ?? false });
        process.stdout.write(renderInstall(r));
      } catch (err) {
        process.stderr.write(`signalbox hook install: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

/**
 * Run the Claude Code PreToolUse hook on this process's stdin and answer on
 * stdout/stderr with its exit code (src/hooks/claude.ts). Also called by
 * src/cli.ts directly, without commander, to start fast.
 */
export async function runClaudeHookCommand(opts: { root?: string; agentId?: string }): Promise<void> {
  const stdin = await readStdin();
  const { runClaudePreToolUse } = await import("../hooks/claude.js");
  emit(await runClaudePreToolUse(stdin, opts));
}

function emit(outcome: { exitCode: number; stdout: string; stderr: string }): void {
  if (outcome.stdout) process.stdout.write(outcome.stdout);
  if (outcome.stderr) process.stderr.write(outcome.stderr);
  process.exitCode = outcome.exitCode;
}

/** All of stdin as UTF-8. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
