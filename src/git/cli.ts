/**
 * Running git through its own command line: the one place that spawns `git`.
 * signalbox never reimplements git (DESIGN.md, "Git is the source of truth
 * where it knows the answer"); every fact about branches, merge bases and
 * merges comes from a git command run here.
 *
 * The child's environment drops the variables git sets for its hooks
 * (`GIT_DIR`, `GIT_INDEX_FILE`, `GIT_WORK_TREE`, ...): a signalbox command run
 * from a hook must look at the repository of its `cwd`, not inherit the
 * hook's index. Callers that want a temporary index pass it explicitly in
 * `env`.
 */
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";

/** Largest output read from one git command, in bytes. */
export const GIT_MAX_BUFFER = 256 * 1024 * 1024;

/** Stable codes of {@link GitError}. */
export type GitErrorCode =
  /** `git` is not installed or cannot be started. */
  | "git_missing"
  /** The folder is not inside a git repository. */
  | "not_a_repository"
  /** The installed git is older than a command needs. */
  | "git_too_old"
  /** A ref, branch or commit named by the caller does not exist. */
  | "unknown_ref"
  /** git ran and failed. */
  | "git_failed";

/** A git command that failed; `code` says why, the message quotes the command and git's stderr. */
export class GitError extends Error {
  /**
   * @param field the argument the error is about, when a caller's argument named the
   *        ref or the repository (`branch`, `commit`); null for git's own failures.
   */
  constructor(
    readonly code: GitErrorCode,
    message: string,
    readonly exitCode: number | null = null,
    readonly stderr = "",
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "GitError";
  }
}

/** Options of one git run. */
export interface GitRunOptions {
  /** Written to git's stdin. */
  input?: string;
  /** Extra environment variables (e.g. `GIT_INDEX_FILE` for a temporary index). */
  env?: Record<string, string>;
  /** Exit codes that are answers rather than failures (e.g. 1 for `merge-tree` conflicts). Default: only 0. */
  okCodes?: readonly number[];
}

/** What a git run printed and how it exited (one of `okCodes`). */
export interface GitOutput {
  stdout: string;
  exitCode: number;
}

/** Variables git exports to hooks and aliases that would redirect a child git to another repository or index. */
const HOOK_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_COMMON_DIR",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_PREFIX",
  "GIT_NAMESPACE",
];

/**
 * The environment of a git child: the process's own minus
 * {@link HOOK_VARIABLES}, plus `extra`; prompts off, C locale messages, and
 * `GIT_OPTIONAL_LOCKS=0` so that `git status` never refreshes (rewrites) the
 * user's index as a side effect (git(1), "GIT_OPTIONAL_LOCKS").
 */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of HOOK_VARIABLES) delete env[name];
  return { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0", ...extra };
}

function failure(cwd: string, args: readonly string[], err: NodeJS.ErrnoException & { status?: number | null; code?: unknown; stderr?: unknown }): GitError {
  if (err.code === "ENOENT") {
    // spawn reports a missing working folder with the same ENOENT as a missing program.
    if (!fs.existsSync(cwd)) return new GitError("not_a_repository", `git: the folder ${cwd} does not exist`);
    return new GitError("git_missing", "git: the `git` command was not found; install git (2.38 or newer)");
  }
  const stderr = typeof err.stderr === "string" ? err.stderr.trim() : Buffer.isBuffer(err.stderr) ? err.stderr.toString("utf8").trim() : "";
  const exitCode = typeof err.status === "number" ? err.status : typeof err.code === "number" ? err.code : null;
  const code: GitErrorCode = /not a git repository/i.test(stderr) ? "not_a_repository" : "git_failed";
  return new GitError(code, `git: \`git ${args.join(" ")}\` failed in ${cwd}: ${stderr || err.message}`, exitCode, stderr);
}

/**
 * Run `git <args>` in `cwd` and collect its stdout (UTF-8).
 * @throws GitError `git_missing`, `not_a_repository` or `git_failed` (exit code not in `okCodes`).
 */
export function runGit(cwd: string, args: readonly string[], opts: GitRunOptions = {}): Promise<GitOutput> {
  const ok = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args as string[],
      { cwd, env: gitEnv(opts.env), encoding: "utf8", maxBuffer: GIT_MAX_BUFFER },
      (err, stdout, stderr) => {
        if (err === null) return resolve({ stdout, exitCode: 0 });
        const e = err as NodeJS.ErrnoException & { code?: unknown };
        const exitCode = typeof e.code === "number" ? e.code : null;
        if (exitCode !== null && ok.includes(exitCode)) return resolve({ stdout, exitCode });
        reject(failure(cwd, args, Object.assign(e, { stderr })));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/**
 * {@link runGit}, synchronously: for the few facts needed before a server
 * can start (which repository, which worktree). Never call it per request.
 * @throws GitError as {@link runGit}.
 */
export function runGitSync(cwd: string, args: readonly string[], opts: GitRunOptions = {}): GitOutput {
  const ok = opts.okCodes ?? [0];
  try {
    const stdout = execFileSync("git", args as string[], {
      cwd,
      env: gitEnv(opts.env),
      encoding: "utf8",
      maxBuffer: GIT_MAX_BUFFER,
      stdio: ["pipe", "pipe", "pipe"],
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
    return { stdout, exitCode: 0 };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number | null; stdout?: string };
    if (typeof e.status === "number" && ok.includes(e.status)) return { stdout: e.stdout ?? "", exitCode: e.status };
    throw failure(cwd, args, e);
  }
}

/** Split NUL-terminated git output (`-z`) into its fields, dropping the empty tail. */
export function splitNul(text: string): string[] {
  const parts = text.split("\0");
  if (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}
