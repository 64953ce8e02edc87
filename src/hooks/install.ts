/**
 * `signalbox hook install`: put the pre-commit check where git runs it for
 * every worktree of the repository, and print the Claude Code settings for
 * the PreToolUse hook.
 *
 * Where git looks for hooks (githooks(5), git-config(1) `core.hooksPath`):
 * - without `core.hooksPath`: `$GIT_COMMON_DIR/hooks`, one folder shared by
 *   the main worktree and every linked worktree;
 * - with an absolute `core.hooksPath`: that folder, for every worktree;
 * - with a relative `core.hooksPath`: that path below the top of the
 *   worktree where the commit runs, so each worktree has its own folder (a
 *   tracked folder such as `.githooks/` is shared only once committed). The
 *   hook is installed in this worktree's folder and the answer says so.
 *
 * An existing pre-commit hook that is not signalbox's is kept: it is renamed
 * to `pre-commit.signalbox-chained` and the installed hook runs it first (with
 * the same arguments), refusing the commit when it fails. Installing twice
 * changes nothing; a hook of an older install pointing at another CLI is
 * rewritten in place.
 */
import fs from "node:fs";
import path from "node:path";
import { GitError, runGit } from "../git/cli.js";

/** The line that marks a pre-commit hook as signalbox's own. */
export const HOOK_MARKER = "# signalbox pre-commit hook";
/** The name an existing pre-commit hook is kept under, run first by signalbox's. */
export const CHAINED_NAME = "pre-commit.signalbox-chained";

/** Options of {@link installPreCommitHook}. */
export interface InstallOptions {
  /** Where the command runs (a folder inside a worktree). */
  cwd: string;
  /** Absolute path of the node binary the hook runs. */
  node: string;
  /** Absolute path of signalbox's CLI script (`dist/src/cli.js`). */
  cli: string;
  /** Report what would be done, change nothing. */
  dryRun?: boolean;
}

/** What {@link installPreCommitHook} did (or would do, on a dry run). */
export interface InstallResult {
  /** The hook file. */
  hook: string;
  /** `installed`: new; `updated`: an older signalbox hook rewritten; `unchanged`: already installed. */
  action: "installed" | "updated" | "unchanged";
  /** The existing hook now run first, when one was chained (by this or an earlier install). */
  chained: string | null;
  /** `common`: one folder for every worktree; `hooks_path`: an absolute core.hooksPath; `worktree`: a relative core.hooksPath (this worktree only). */
  scope: "common" | "hooks_path" | "worktree";
  dryRun: boolean;
}

/** A string as one single-quoted POSIX shell word. */
function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The hook script: run the chained hook first, then signalbox's check with the given node and CLI. */
export function hookScript(node: string, cli: string): string {
  return [
    "#!/bin/sh",
    `${HOOK_MARKER} (installed by \`signalbox hook install\`; refuses a commit of files other agents have locked)`,
    'hookdir=$(dirname "$0")',
    `if [ -x "$hookdir/${CHAINED_NAME}" ]; then`,
    `  "$hookdir/${CHAINED_NAME}" "$@" || exit $?`,
    "fi",
    `exec ${shellWord(node)} ${shellWord(cli)} hook pre-commit`,
    "",
  ].join("\n");
}

/** The hooks folder git uses for commits made in `cwd`, and which kind it is. */
async function hooksFolder(cwd: string): Promise<{ dir: string; scope: InstallResult["scope"] }> {
  let top: string;
  try {
    top = (await runGit(cwd, ["rev-parse", "--show-toplevel"])).stdout.trim();
  } catch (err) {
    if (err instanceof GitError && err.code === "not_a_repository") throw new Error(`${path.resolve(cwd)} is not inside a git work tree; run it in the repository`);
    throw err;
  }
  const configured = await runGit(cwd, ["config", "--get", "core.hooksPath"], { okCodes: [0, 1] });
  const hooksPath = configured.exitCode === 0 ? configured.stdout.trim() : "";
  if (hooksPath !== "") {
    const expanded = hooksPath.startsWith("~/") ? path.join(process.env.HOME ?? "~", hooksPath.slice(2)) : hooksPath;
    return path.isAbsolute(expanded) ? { dir: expanded, scope: "hooks_path" } : { dir: path.join(top, expanded), scope: "worktree" };
  }
  const common = (await runGit(cwd, ["rev-parse", "--git-common-dir"])).stdout.trim();
  return { dir: path.join(path.resolve(cwd, common), "hooks"), scope: "common" };
}

/**
 * Install the pre-commit hook for the repository of `opts.cwd` (see the module docstring).
 * @throws Error `<cwd> is not inside a git work tree` outside a repository; Error `hook: ...`
 *         when a foreign hook would have to be chained but `pre-commit.signalbox-chained`
 *         already holds a different file.
 */
export async function installPreCommitHook(opts: InstallOptions): Promise<InstallResult> {
  const { dir, scope } = await hooksFolder(opts.cwd);
  const hook = path.join(dir, "pre-commit");
  const chainedPath = path.join(dir, CHAINED_NAME);
  const script = hookScript(opts.node, opts.cli);
  const dryRun = opts.dryRun ?? false;
  const existing = fs.existsSync(hook) ? fs.readFileSync(hook, "utf8") : null;
  const chainedExists = fs.existsSync(chainedPath);
  const base = { hook, scope, dryRun };
  if (existing !== null && existing.includes(HOOK_MARKER)) {
    const chained = chainedExists ? chainedPath : null;
    if (existing === script) return { ...base, action: "unchanged", chained };
    if (!dryRun) writeExecutable(hook, script);
    return { ...base, action: "updated", chained };
  }
  if (existing !== null) {
    if (chainedExists && fs.readFileSync(chainedPath, "utf8") !== existing) {
      throw new Error(`hook: ${hook} is not signalbox's and ${chainedPath} already holds another hook; merge them by hand, then run signalbox hook install again`);
    }
    if (!dryRun) {
      fs.renameSync(hook, chainedPath);
      fs.chmodSync(chainedPath, fs.statSync(chainedPath).mode | 0o111);
      writeExecutable(hook, script);
    }
    return { ...base, action: "installed", chained: chainedPath };
  }
  if (!dryRun) {
    fs.mkdirSync(dir, { recursive: true });
    writeExecutable(hook, script);
  }
  return { ...base, action: "installed", chained: chainedExists ? chainedPath : null };
}

/** Write `text` to `file` atomically (a temporary file renamed over it), executable. */
function writeExecutable(file: string, text: string): void {
  const tmp = `${file}.signalbox-${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o755 });
  fs.renameSync(tmp, file);
}

/** The `.claude/settings.json` block that runs the PreToolUse hook before every edit. */
export function claudeSettingsSnippet(): string {
  const settings = {
    hooks: {
      PreToolUse: [
        {
          matcher: "Edit|Write|MultiEdit|NotebookEdit",
          hooks: [{ type: "command", command: "npx --no-install signalbox hook claude-pre-tool-use" }],
        },
      ],
    },
  };
  return JSON.stringify(settings, null, 2);
}

/** What `signalbox hook install` prints: what was done, where, and the Claude Code settings. */
export function renderInstall(r: InstallResult): string {
  const verb = r.dryRun ? { installed: "would install", updated: "would update", unchanged: "already installed" }[r.action] : { installed: "installed", updated: "updated", unchanged: "already installed" }[r.action];
  const where = {
    common: "the repository's common hooks folder: it runs for every worktree",
    hooks_path: "core.hooksPath: it runs for every worktree",
    worktree: "core.hooksPath is relative, so each worktree runs the hooks of its own folder: commit this hook or run signalbox hook install in every worktree",
  }[r.scope];
  const lines = [`signalbox: pre-commit hook ${verb}: ${r.hook} (${where})`];
  if (r.chained) lines.push(`signalbox: your existing hook runs first: ${r.chained}`);
  lines.push(
    "",
    "Claude Code: add this to .claude/settings.json to check every edit before it is made:",
    claudeSettingsSnippet(),
    "",
    "PreToolUse hooks have been reported not to fire for subagents in some Claude Code versions (anthropics/claude-code #21460, #78970);",
    "the pre-commit hook is the backstop that always runs.",
  );
  return `${lines.join("\n")}\n`;
}
