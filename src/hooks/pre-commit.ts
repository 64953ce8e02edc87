/**
 * `signalbox hook pre-commit` (README, "git pre-commit"): a git pre-commit
 * check that refuses a commit touching a file another agent has locked: the
 * staged paths of `git diff --cached --name-only -z --no-renames` (added,
 * modified and deleted; a rename counts as its old and its new path), each
 * mapped to its lock key exactly as the server maps paths, each judged by the
 * rule of src/hooks/policy.ts. `hooks.require_lock` does not apply: committing
 * needs no lock of one's own, only no one else's.
 *
 * Exit 0 and silent when the commit may go ahead (also without a store);
 * exit 1 with each refused file, its holder, mode and expiry on stderr.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import type { HookOutcome } from "./claude.js";
import { openFileCheck } from "./file-check.js";
import type { LiveLock } from "../store/lmdb/lock-reader.js";
import { describeLock, judgeWrite } from "./policy.js";
import { AGENT_ID_ENV, type HookOptions } from "./settings.js";

/** A staged file other agents hold locks on. */
export interface CommitConflict {
  /** The path as git lists it, relative to the repository's top level. */
  file: string;
  /** Its lock key. */
  key: string;
  others: LiveLock[];
}

/**
 * Check the commit staged in the repository at `cwd` (default the process's
 * working directory, where git runs its hooks). The signalbox root is
 * `opts.root`, else `SIGNALBOX_ROOT`, else found from `cwd`.
 * @throws Error `git: ...` when git fails (not a repository, git missing),
 *         `root: ...`, `invalid .../signalbox.config.json: ...`,
 *         `store: ...`, or StoreDamagedError `store <file> is damaged: ...`
 *         (src/store/lmdb/validate.ts); the caller prints it and exits 1 (the
 *         commit is refused).
 */
export async function runPreCommit(opts: HookOptions & { cwd?: string } = {}): Promise<HookOutcome> {
  const cwd = opts.cwd ?? process.cwd();
  const check = await openFileCheck({ ...opts, cwd });
  if (check === null) return { exitCode: 0, stdout: "", stderr: "" }; // no store yet: nobody holds anything
  const conflicts: CommitConflict[] = [];
  try {
    const { top, files } = stagedFiles(cwd);
    for (const file of files) {
      const key = check.keyOf(path.join(top, file));
      if (key === null) continue; // outside the signalbox root: nobody can lock it
      const j = judgeWrite(check.locksCovering(key), check.agent, false);
      if (!j.allowed && j.why === "held_by_others") conflicts.push({ file, key, others: j.others });
    }
  } finally {
    await check.close();
  }
  if (conflicts.length === 0) return { exitCode: 0, stdout: "", stderr: "" };
  return { exitCode: 1, stdout: "", stderr: refusal(conflicts, check.agent) };
}

/** The repository's top level and the staged paths (relative to it), from git. */
function stagedFiles(cwd: string): { top: string; files: string[] } {
  const git = (args: string[]): string => {
    try {
      return execFileSync("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      const detail = (e.stderr ?? "").trim() || e.message;
      throw new Error(`git: \`git ${args.join(" ")}\` failed in ${cwd}: ${detail}`);
    }
  };
  const top = git(["rev-parse", "--show-toplevel"]).trim();
  const files = git(["diff", "--cached", "--name-only", "-z", "--no-renames"])
    .split("\0")
    .filter((f) => f !== "");
  return { top, files };
}

/** The stderr of a refused commit: one line per file and holder, then what to do. */
function refusal(conflicts: readonly CommitConflict[], agent: string | null): string {
  const who = agent === null ? `no ${AGENT_ID_ENV} set, so every lock counts as another agent's` : `committing as agent "${agent}"`;
  const lines = [`signalbox: commit refused (${who}): ${conflicts.length} staged file(s) locked by other agents:`];
  for (const c of conflicts) {
    for (const l of c.others) lines.push(`  ${c.file}: ${describeLock(l, c.key)}`);
  }
  lines.push("Wait until these locks are released or their leases end, or unstage the files (git restore --staged <file>).");
  if (agent === null) lines.push(`If a lock is yours, set ${AGENT_ID_ENV}=<your agent_id> (or pass --agent-id) and commit again.`);
  return `${lines.join("\n")}\n`;
}
