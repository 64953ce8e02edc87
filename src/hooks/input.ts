/**
 * The JSON a Claude Code `PreToolUse` command hook receives on stdin (README,
 * "Hooks: enforcement where agents forget"): `session_id`, `transcript_path`,
 * `cwd`, `hook_event_name` ("PreToolUse"), `tool_name`, `tool_input`,
 * `tool_use_id`. Only the fields the lock check needs are read and validated;
 * the rest are ignored. No imports beyond Node: this module is on the path of
 * every hook call, including the ones that exit at once.
 */

/** The tools that write a file, and the `tool_input` field naming it (an absolute path). */
export const EDIT_TOOLS: Readonly<Record<string, "file_path" | "notebook_path">> = {
  Edit: "file_path",
  Write: "file_path",
  MultiEdit: "file_path",
  NotebookEdit: "notebook_path",
};

/** The validated part of a PreToolUse hook input. */
export interface PreToolUseInput {
  tool_name: string;
  /** The session's working directory, if Claude Code sent one (it always does). */
  cwd: string | undefined;
  /** For an edit tool ({@link EDIT_TOOLS}): the path it writes, as sent; otherwise null. */
  target: string | null;
}

/**
 * Parse and validate the hook's stdin.
 *
 * A tool other than the {@link EDIT_TOOLS} is returned with `target: null`
 * and its `tool_input` is not looked at.
 *
 * @throws Error whose message starts with the field that was wrong: `stdin`
 *         (not JSON, or not an object), `hook_event_name` (present and not
 *         "PreToolUse"), `tool_name`, `cwd`, `tool_input`,
 *         `tool_input.file_path` or `tool_input.notebook_path`.
 */
export function parsePreToolUse(text: string): PreToolUseInput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const detail = text.trim() === "" ? "stdin was empty" : (err as Error).message;
    throw new Error(`stdin: expected the PreToolUse hook's JSON object (${detail})`);
  }
  if (!isObject(raw)) throw new Error(`stdin: expected a JSON object, got ${describe(raw)}`);
  if (raw.hook_event_name !== undefined && raw.hook_event_name !== "PreToolUse") {
    throw new Error(`hook_event_name: expected "PreToolUse", got ${describe(raw.hook_event_name)}; configure this command as a PreToolUse hook`);
  }
  if (typeof raw.tool_name !== "string" || raw.tool_name === "") {
    throw new Error(`tool_name: expected a non-empty string, got ${describe(raw.tool_name)}`);
  }
  if (raw.cwd !== undefined && typeof raw.cwd !== "string") {
    throw new Error(`cwd: expected a string, got ${describe(raw.cwd)}`);
  }
  const field = Object.hasOwn(EDIT_TOOLS, raw.tool_name) ? EDIT_TOOLS[raw.tool_name] : undefined;
  if (field === undefined) {
    return { tool_name: raw.tool_name, cwd: raw.cwd, target: null };
  }
  const input = raw.tool_input;
  if (!isObject(input)) throw new Error(`tool_input: expected an object for ${raw.tool_name}, got ${describe(input)}`);
  const target = input[field];
  if (typeof target !== "string" || target === "") {
    throw new Error(`tool_input.${field}: expected a non-empty string for ${raw.tool_name}, got ${describe(target)}`);
  }
  return { tool_name: raw.tool_name, cwd: raw.cwd, target };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function describe(x: unknown): string {
  if (x === undefined) return "nothing";
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
  return typeof x === "object" ? "an object" : `${typeof x} ${String(x)}`;
}
