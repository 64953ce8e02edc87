/**
 * `signalbox hook install`: put the pre-commit check where git runs it for
 * every worktree of the repository, and say how to add the Claude Code
 * PreToolUse hook.
 *
 * Where git runs hooks from is git's answer, not ours:
 * `git rev-parse --path-format=absolute --git-path hooks` names the folder a
 * commit in that worktree runs hooks from. Without `core.hooksPath` it is
 * `<common git dir>/hooks`, one folder for the main worktree and every
 * linked one. An absolute `core.hooksPath` (or `~/...`, which git expands)
 * is one folder for every worktree too. A relative `core.hooksPath` is
 * resolved by git in the top folder of the worktree where the commit runs
 * (git-config(1) `core.hooksPath`; githooks(5): hooks run from the top of
 * the working tree), so every worktree has its own folder and no single
 * file can serve them all: the hook goes into this worktree's folder and
 * the answer lists the worktrees that do not run it. The same check (each
 * worktree of `git worktree list` asked for its hooks folder) also catches
 * a `core.hooksPath` set in one worktree's own config.
 *
 * The installed hook is a POSIX sh script with a marker line
 * ({@link HOOK_MARKER}). It runs the CLI this command was started from, with
 * this node binary, by absolute path (no PATH lookup, no npx), in the
 * committer's environment (`SIGNALBOX_AGENT_ID`, `SIGNALBOX_DB`,
 * `SIGNALBOX_ROOT` pass through). An existing pre-commit hook that is not
 * signalbox's is kept under {@link CHAINED_NAME} (or `<that>.2`, `.3`, ...
 * when the name is taken: nothing is overwritten) and runs first, with the
 * same arguments, stdin and environment; its failure refuses the commit.
 * Installing again changes nothing; a signalbox hook that runs another node
 * or CLI is rewritten in place, keeping its chained hook.
 */
import fs from "node:fs";
import path from "node:path";
import { GitError, runGit } from "../git/cli.js";
import { listWorktrees } from "../git/repo.js";
import { EDIT_TOOLS } from "./input.js";

/** The line that marks a pre-commit hook as signalbox's own (an installed hook starts with it, after `#!/bin/sh`). */
export const HOOK_MARKER = "# signalbox pre-commit hook";
/** The name an existing pre-commit hook is kept under (then `.2`, `.3`, ... when taken); signalbox's hook runs it first. */
export const CHAINED_NAME = "pre-commit.signalbox-chained";

/** Options of {@link installPreCommitHook}. */
export interface InstallOptions {
  /** A folder inside a worktree (or the git directory) of the repository. */
  cwd: string;
  /** Absolute path of the node binary the hook runs (`process.execPath`). */
  node: string;
  /** Absolute path of signalbox's CLI script (`dist/src/cli.js` of this package). */
  cli: string;
  /** Work out and report what would be done; change nothing. */
  dryRun?: boolean;
}

/** `core.hooksPath` as configured, when it is. */
export interface HooksPathSetting {
  /** The value as written in the config. */
  value: string;
  /** The config it comes from, as `git config --show-scope` names it: `local`, `worktree`, `global`, `system`, `command`. */
  scope: string;
  /** Relative (not absolute, not `~/...`): git resolves it in each worktree's top folder. */
  relative: boolean;
}

/** A worktree whose commits run hooks from another folder than the one installed into. */
export interface UncoveredWorktree {
  /** The worktree's top folder. */
  worktree: string;
  /** The hooks folder its commits run (git's answer in that worktree). */
  hooks: string;
}

/** What {@link installPreCommitHook} did, or would do on a dry run. */
export interface InstallResult {
  /** The pre-commit hook file (absolute). */
  hook: string;
  /**
   * `installed`: the file is new (an existing foreign hook was chained);
   * `updated`: a signalbox hook running another node, CLI or chained name,
   * or not executable, rewritten; `unchanged`: already installed.
   */
  action: "installed" | "updated" | "unchanged";
  /** The existing hook the installed one runs first (absolute), or null. */
  chained: string | null;
  /** `chained` was moved aside by this run (false: it was already chained, or nothing is). */
  chainedNow: boolean;
  /** `chained` is executable, so it runs (git skipped a non-executable hook before, and so does signalbox's). */
  chainedRuns: boolean;
  /** `core.hooksPath` when set; null: the common hooks folder. */
  hooksPath: HooksPathSetting | null;
  /** Worktrees that existed at install time and run another hooks folder (empty: every worktree runs this hook). */
  uncovered: UncoveredWorktree[];
  /**
   * With a relative `core.hooksPath`: the absolute folder it names in the
   * main worktree (which outlives linked ones); setting `core.hooksPath` to
   * it makes every worktree run one hook. Null otherwise.
   */
  sharedFolder: string | null;
  /** The node binary and CLI script the hook runs. */
  node: string;
  cli: string;
  /** The CLI lies in npx's cache, which npm may clear (the hook then refuses every commit until reinstalled). */
  cliInNpxCache: boolean;
  dryRun: boolean;
}

/** A string as one single-quoted POSIX shell word. */
function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The hook script: run the chained hook `chainedName` (a file beside the
 * hook) first if it is executable, stopping with its exit code when it
 * fails; then `exec <node> <cli> hook pre-commit`. A node binary that has
 * gone falls back to `node` on PATH; a CLI that has gone refuses the commit
 * with a line saying how to reinstall or bypass.
 */
export function hookScript(node: string, cli: string, chainedName: string = CHAINED_NAME): string {
  return [
    "#!/bin/sh",
    `${HOOK_MARKER}: refuses a commit of files other agents have locked.`,
    "# Written by `signalbox hook install`; run it again to update this file.",
    `node=${shellWord(node)}`,
    `cli=${shellWord(cli)}`,
    `chained="$(dirname "$0")"/${shellWord(chainedName)}`,
    'if [ -x "$chained" ]; then',
    '  "$chained" "$@" || exit $?',
    "fi",
    '[ -x "$node" ] || node=node',
    'if [ ! -f "$cli" ]; then',
    '  echo "signalbox: $cli is gone: run \\`signalbox hook install\\` again (or commit with --no-verify)" >&2',
    "  exit 1",
    "fi",
    'exec "$node" "$cli" hook pre-commit',
    "",
  ].join("\n");
}

/**
 * Install the pre-commit hook for the repository of `opts.cwd` (see the
 * module docstring); on a dry run, only work out what would be done.
 * @throws Error `<folder> is not a folder` / `<folder> is not inside a git
 *         repository: ...`; GitError when git fails otherwise (git missing,
 *         older than 2.31 for `--path-format`); a filesystem error when the
 *         hooks folder cannot be written.
 */
export async function installPreCommitHook(opts: InstallOptions): Promise<InstallResult> {
  const cwd = path.resolve(opts.cwd);
  const dir = await hooksFolderOf(cwd, true);
  const hooksPath = await readHooksPath(cwd);
  const { main, uncovered } = await surveyWorktrees(cwd, dir);
  const dryRun = opts.dryRun ?? false;
  const plan = planInstall(dir, opts.node, opts.cli);
  if (!dryRun) applyPlan(dir, plan);
  const chained = plan.chainedName === null ? null : path.join(dir, plan.chainedName);
  return {
    hook: path.join(dir, "pre-commit"),
    action: plan.action,
    chained,
    chainedNow: plan.moveExisting,
    chainedRuns: chained !== null && (plan.moveExisting ? plan.existingRuns : isExecutable(chained)),
    hooksPath,
    uncovered,
    sharedFolder: hooksPath?.relative === true ? path.resolve(main ?? path.dirname(dir), hooksPath.value) : null,
    node: opts.node,
    cli: opts.cli,
    cliInNpxCache: opts.cli.split(/[\\/]/).includes("_npx"),
    dryRun,
  };
}

/**
 * The absolute hooks folder git runs for a commit in `cwd`:
 * `git rev-parse --path-format=absolute --git-path hooks`, which applies
 * `core.hooksPath` (relative ones against this worktree's top folder, `~`
 * expanded) and otherwise names the common git directory's `hooks`.
 * @throws Error naming the folder, with `explain`, when it is not a folder
 *         or not inside a git repository; GitError otherwise.
 */
async function hooksFolderOf(cwd: string, explain: boolean): Promise<string> {
  if (explain && !fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${cwd} is not a folder`);
  try {
    return (await runGit(cwd, ["rev-parse", "--path-format=absolute", "--git-path", "hooks"])).stdout.trim();
  } catch (err) {
    if (explain && err instanceof GitError && err.code === "not_a_repository") {
      throw new Error(`${cwd} is not inside a git repository: run signalbox hook install in the repository (any of its worktrees)`);
    }
    throw err;
  }
}

/** `core.hooksPath` as seen from `cwd` (`git config --show-scope --get`), or null when unset. */
async function readHooksPath(cwd: string): Promise<HooksPathSetting | null> {
  const out = await runGit(cwd, ["config", "--show-scope", "--get", "core.hooksPath"], { okCodes: [0, 1] });
  if (out.exitCode !== 0) return null;
  const line = out.stdout.replace(/\n$/, "");
  const tab = line.indexOf("\t");
  const value = line.slice(tab + 1);
  if (value === "") return null; // an empty value: git uses the default folder
  return { value, scope: line.slice(0, tab), relative: !path.isAbsolute(value) && !value.startsWith("~") };
}

/** The repository's worktrees as they bear on one hooks folder. */
interface WorktreeSurvey {
  /** The main worktree's top folder; null when the repository is bare. */
  main: string | null;
  /** Worktrees whose commits run hooks from another folder. */
  uncovered: UncoveredWorktree[];
}

/**
 * Ask git (`git worktree list --porcelain -z`, the main worktree first) for
 * every worktree, and each one for its hooks folder; those whose folder is
 * not `dir` are uncovered. A worktree whose folder is gone, or that git
 * cannot work in (its link to the repository broken), is skipped: no
 * commit runs there.
 */
async function surveyWorktrees(cwd: string, dir: string): Promise<WorktreeSurvey> {
  const entries = (await listWorktrees(cwd)).map((w) => ({ folder: w.path, bare: w.bare }));
  const uncovered: UncoveredWorktree[] = [];
  for (const { folder: worktree, bare } of entries) {
    if (bare || !fs.existsSync(worktree)) continue;
    const hooks = await hooksFolderOf(worktree, false).catch((err: unknown) => {
      if (err instanceof GitError) return null;
      throw err;
    });
    if (hooks !== null && !samePath(hooks, dir)) uncovered.push({ worktree, hooks });
  }
  const first = entries[0];
  return { main: first !== undefined && !first.bare ? first.folder : null, uncovered };
}

/** Whether two absolute paths name the same folder (real paths compared where they exist). */
function samePath(a: string, b: string): boolean {
  const real = (p: string): string => (fs.existsSync(p) ? fs.realpathSync(p) : path.resolve(p));
  return real(a) === real(b);
}

/** What to do in a hooks folder. */
interface Plan {
  action: InstallResult["action"];
  /** The script to write, or null when the hook is already current. */
  script: string | null;
  /** The chained hook's file name beside the hook, or null. */
  chainedName: string | null;
  /** Move the existing (foreign) pre-commit to `chainedName` first. */
  moveExisting: boolean;
  /** The existing foreign hook is executable (git ran it). */
  existingRuns: boolean;
}

/**
 * Decide what installing in hooks folder `dir` takes, from what is there
 * now: nothing when signalbox's hook is there, current and executable.
 */
function planInstall(dir: string, node: string, cli: string): Plan {
  const hook = path.join(dir, "pre-commit");
  const existing = readHook(hook);
  if (existing === null) {
    const chainedName = fs.existsSync(path.join(dir, CHAINED_NAME)) ? CHAINED_NAME : null;
    return { action: "installed", script: hookScript(node, cli), chainedName, moveExisting: false, existingRuns: false };
  }
  if (existing.text !== null && isSignalboxHook(existing.text)) {
    const name = chainedNameIn(existing.text);
    const script = hookScript(node, cli, name);
    const chainedName = fs.existsSync(path.join(dir, name)) ? name : null;
    if (script === existing.text && isExecutable(hook)) return { action: "unchanged", script: null, chainedName, moveExisting: false, existingRuns: false };
    return { action: "updated", script, chainedName, moveExisting: false, existingRuns: false };
  }
  const chainedName = freeChainedName(dir);
  return { action: "installed", script: hookScript(node, cli, chainedName), chainedName, moveExisting: true, existingRuns: isExecutable(hook) };
}

/** Carry out `plan` in `dir`: move the foreign hook aside (mode and all), then write the script. */
function applyPlan(dir: string, plan: Plan): void {
  if (plan.script === null) return;
  fs.mkdirSync(dir, { recursive: true });
  if (plan.moveExisting && plan.chainedName !== null) fs.renameSync(path.join(dir, "pre-commit"), path.join(dir, plan.chainedName));
  writeExecutable(path.join(dir, "pre-commit"), plan.script);
}

/**
 * What is at hook path `file`: null when nothing is; else its text, or
 * `text: null` when the entry cannot be read as a file (a dangling symlink,
 * a folder): a foreign hook, to be moved aside as it is.
 */
function readHook(file: string): { text: string | null } | null {
  try {
    fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    return { text: fs.readFileSync(file, "utf8") };
  } catch {
    return { text: null };
  }
}

/** A script is signalbox's when one of its first lines is the marker line. */
function isSignalboxHook(text: string): boolean {
  return text.split("\n", 4).some((line) => line.startsWith(HOOK_MARKER));
}

/** The chained hook name a signalbox hook script runs (the default for scripts that name none). */
function chainedNameIn(script: string): string {
  const m = /pre-commit\.signalbox-chained(?:\.\d+)?/.exec(script);
  return m === null ? CHAINED_NAME : m[0];
}

/** The first of {@link CHAINED_NAME}, `<it>.2`, `<it>.3`, ... with nothing of that name in `dir`. */
function freeChainedName(dir: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? CHAINED_NAME : `${CHAINED_NAME}.${n}`;
    if (readHook(path.join(dir, name)) === null) return name;
  }
}

/** Whether `file` exists and is executable by this process (what `[ -x file ]` tests). */
function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Write `text` to `file` atomically (a temporary file beside it, renamed over it), mode 0755. */
function writeExecutable(file: string, text: string): void {
  const tmp = `${file}.signalbox-${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, file);
}

/**
 * The `.claude/settings.json` block that runs `signalbox hook
 * claude-pre-tool-use` before every file-writing tool ({@link EDIT_TOOLS}),
 * as the README's hooks section shows it (two-space JSON).
 */
export function claudeSettingsSnippet(): string {
  const settings = {
    hooks: {
      PreToolUse: [
        {
          matcher: Object.keys(EDIT_TOOLS).join("|"),
          hooks: [{ type: "command", command: "npx --no-install signalbox hook claude-pre-tool-use" }],
        },
      ],
    },
  };
  return JSON.stringify(settings, null, 2);
}

/** The line saying why the pre-commit hook matters even with the Claude Code hook in place. */
export const BACKSTOP_NOTE =
  "Note: Claude Code's PreToolUse hooks have been reported not to fire for subagents in some versions " +
  "(anthropics/claude-code #21460, #78970); the pre-commit hook is the backstop that always runs.";

/**
 * What `signalbox hook install` prints: what was done (or would be, on a dry
 * run) and where, which worktrees it covers, the chained hook, then the
 * Claude Code settings and {@link BACKSTOP_NOTE}. Ends with a newline.
 */
export function renderInstall(r: InstallResult): string {
  return [headline(r), ...describeCoverage(r), ...describeHook(r), "", ...describeClaude(), "", BACKSTOP_NOTE, ""].join("\n");
}

/** The first line: what was done to which file. */
function headline(r: InstallResult): string {
  const verbs = r.dryRun
    ? { installed: "would install", updated: "would update", unchanged: "already installed" }
    : { installed: "installed", updated: "updated", unchanged: "already installed" };
  return `signalbox: ${r.dryRun ? "dry run, nothing changed: " : ""}pre-commit hook ${verbs[r.action]}: ${r.hook}`;
}

/** The lines about what the hook runs and its chained hook. */
function describeHook(r: InstallResult): string[] {
  const lines: string[] = [];
  if (r.action !== "unchanged") lines.push(`  it runs: ${r.node} ${r.cli} hook pre-commit (SIGNALBOX_AGENT_ID and SIGNALBOX_DB from the committer's environment)`);
  if (r.chained !== null) lines.push(`  chained: ${describeChained(r)}`);
  if (r.cliInNpxCache) {
    lines.push(
      "  warning: this signalbox runs from npx's cache, which npm may clear (the hook then refuses commits until reinstalled);",
      "  install it in the project (npm install -D signalbox-mcp) and run `npx --no-install signalbox hook install` again",
    );
  }
  return lines;
}

/** What happens to the chained hook. */
function describeChained(r: InstallResult): string {
  const would = r.dryRun && r.chainedNow;
  const where = r.chainedNow ? `your existing pre-commit hook ${would ? "would move" : "moved"} to ${r.chained}` : `${r.chained} (an earlier pre-commit hook)`;
  if (!r.chainedRuns) return `${where}; it is not executable, so it ${would ? "would not run" : "does not run"} (git did not run it either)`;
  return `${where}; it ${would ? "would run" : "runs"} first, and its failure refuses the commit`;
}

/** The lines saying which worktrees run the hook. */
function describeCoverage(r: InstallResult): string[] {
  const hp = r.hooksPath;
  const lines: string[] = [];
  const all = r.uncovered.length === 0 ? ", which every worktree runs" : "";
  if (hp === null) lines.push(`  where: the repository's common hooks folder${all}`);
  else if (!hp.relative) lines.push(`  where: core.hooksPath (${hp.value}, ${hp.scope} config)${all}`);
  else {
    lines.push(
      `  where: core.hooksPath is relative (${hp.value}, ${hp.scope} config): git resolves it in the worktree where each commit runs,`,
      "  so every worktree has its own hooks folder and no one file can serve them all. Installed for this worktree only.",
      `  To cover every worktree, point git at one folder: git config core.hooksPath ${shellWord(r.sharedFolder ?? path.dirname(r.hook))}`,
      "  and run signalbox hook install again (or run it in each worktree, including ones added later)",
    );
  }
  if (hp !== null && (hp.scope === "global" || hp.scope === "system")) {
    lines.push(`  note: core.hooksPath comes from the ${hp.scope} git config, so every repository using it runs this hook`);
  }
  if (r.uncovered.length > 0) {
    lines.push(`  not covered: ${r.uncovered.length} worktree(s) run another hooks folder:`);
    for (const u of r.uncovered) lines.push(`    ${u.worktree} (runs ${u.hooks})`);
  }
  return lines;
}

/** The lines with the Claude Code settings. */
function describeClaude(): string[] {
  return ["Claude Code: add this to .claude/settings.json to check every edit before it is made:", claudeSettingsSnippet()];
}
