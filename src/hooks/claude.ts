/**
 * `signalbox hook claude-pre-tool-use` (README, "Claude Code"): the Claude Code
 * PreToolUse hook that refuses an edit of a file another agent has locked (or,
 * with `hooks.require_lock`, one the caller has not write-locked; rule in
 * src/hooks/policy.ts).
 *
 * Answers, in the hook's documented form:
 * - refuse: exit 0 with `{"hookSpecificOutput":{"hookEventName":"PreToolUse",
 *   "permissionDecision":"deny","permissionDecisionReason":...}}` on stdout;
 * - anything else: exit 0 and NO output (printing "allow" would skip the
 *   user's permission prompt); this includes files outside the project root
 *   (not ours to judge) and projects without a store (no locks);
 * - malformed input, an invalid config or an unreadable store: exit 1 with one
 *   line on stderr (Claude Code reports a non-blocking error and goes on).
 *   A damaged store (StoreDamagedError from src/store/lmdb/validate.ts: data file
 *   cut short, bad meta pages, emptied or rolled back per its side record,
 *   an undecodable lock record) is an unreadable store: exit 1 and the line
 *   `signalbox hook claude-pre-tool-use: store <file> is damaged: ...`, never
 *   a crash by signal and never a silent allow.
 *
 * Speed: only src/hooks/input.ts is loaded before the input has been read,
 * so tools other than Edit/Write/MultiEdit/NotebookEdit exit at once; LMDB
 * is loaded only when the project has a store and the file a lock key.
 */
import path from "node:path";
import { parsePreToolUse } from "./input.js";
import type { HookOptions } from "./settings.js";

/** What a hook process prints and exits with. */
export interface HookOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const ALLOW: HookOutcome = { exitCode: 0, stdout: "", stderr: "" };

/**
 * Answer one PreToolUse hook call whose stdin was `stdin`. The root is
 * `opts.root`, else `SIGNALBOX_ROOT`, else found from the input's `cwd`.
 * @throws Error for failures other than bad input, config or store (none
 *         expected); the caller prints it and exits 1.
 */
export async function runClaudePreToolUse(stdin: string, opts: HookOptions = {}): Promise<HookOutcome> {
  let target: string;
  let cwd: string;
  try {
    const input = parsePreToolUse(stdin);
    if (input.target === null) return ALLOW;
    cwd = input.cwd ?? process.cwd();
    target = path.resolve(cwd, input.target);
  } catch (err) {
    return fail(err);
  }
  const [{ openFileCheck }, { denyReason, judgeWrite }] = await Promise.all([import("./file-check.js"), import("./policy.js")]);
  try {
    const check = await openFileCheck({ ...opts, cwd });
    if (check === null) return ALLOW; // no store yet: nobody holds anything
    try {
      const key = check.keyOf(target);
      if (key === null) return ALLOW; // outside the root: not ours to judge
      const judgement = judgeWrite(check.locksCovering(key), check.agent, check.settings.require_lock);
      if (judgement.allowed) return ALLOW;
      const output = {
        hookSpecificOutput: {
          hookEventName: "PreToolUse",
          permissionDecision: "deny",
          permissionDecisionReason: denyReason(key, judgement, check.agent),
        },
      };
      return { exitCode: 0, stdout: `${JSON.stringify(output)}\n`, stderr: "" };
    } finally {
      await check.close();
    }
  } catch (err) {
    return fail(err);
  }
}

/** Exit 1 with the error's message on one line of stderr. */
function fail(err: unknown): HookOutcome {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ");
  return { exitCode: 1, stdout: "", stderr: `signalbox hook claude-pre-tool-use: ${message}\n` };
}
