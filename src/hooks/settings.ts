/**
 * What a hook needs to know besides the store: who is calling, and the two
 * settings of `signalbox.config.json` that change its answer
 * (`hooks.require_lock`, `paths.case_sensitive`).
 *
 * The config is read without zod: importing zod costs a hook process about
 * 60 ms (measured for the hook fast path), more than the rest of an allowed
 * edit. Only the two fields are looked at; when either is malformed the full
 * validation of src/runtime/config.ts runs (imported then) so the error is the
 * server's own.
 */
import fs from "node:fs";
import path from "node:path";

/** Environment variable naming the calling agent (the `agent_id` its locks are held under). */
export const AGENT_ID_ENV = "SIGNALBOX_AGENT_ID";

/**
 * The calling agent's id: `--agent-id`, else `$SIGNALBOX_AGENT_ID`, else
 * null (unknown: every holder then counts as another agent). Blank values
 * count as absent.
 */
export function resolveAgentId(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const value of [flag, env[AGENT_ID_ENV]]) {
    const id = value?.trim();
    if (id) return id;
  }
  return null;
}

/** Who is asking and where: the hook command's flags, else the environment. */
export interface HookOptions {
  /** `--root`; else `SIGNALBOX_ROOT`, else found from the working directory (src/runtime/root.ts `resolveRoot`). */
  root?: string;
  /** `--agent-id`; else `SIGNALBOX_AGENT_ID`; else unknown. */
  agentId?: string;
  /** Default `process.env` (SIGNALBOX_ROOT, SIGNALBOX_DB, SIGNALBOX_AGENT_ID). */
  env?: NodeJS.ProcessEnv;
}

/** The config fields a hook obeys (defaults as in src/runtime/config.ts). */
export interface HookSettings {
  /** `hooks.require_lock`: an edit also needs the caller's own write lock (default false). */
  require_lock: boolean;
  /** `paths.case_sensitive`: how lock keys are folded (default "auto"; see KeyResolver). */
  case_sensitive: boolean | "auto";
}

/**
 * Read {@link HookSettings} from `<root>/signalbox.config.json`; the defaults
 * when the file does not exist.
 * @throws Error `invalid <file>: ...` (the message of src/runtime/config.ts
 *         `loadConfig`) when the file is not JSON or either field is malformed.
 */
export async function readHookSettings(root: string): Promise<HookSettings> {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, "signalbox.config.json"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { require_lock: false, case_sensitive: "auto" };
    throw err;
  }
  const quick = quickRead(text);
  if (quick) return quick;
  // Malformed: let the full schema say what is wrong (and use its answer should it accept the file).
  const { loadConfig } = await import("../runtime/config.js");
  const config = loadConfig(root);
  return { require_lock: config.hooks.require_lock, case_sensitive: config.paths.case_sensitive };
}

/** The two fields from the file's text, or null when the text or either field is malformed. */
function quickRead(text: string): HookSettings | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const section = (name: string): Record<string, unknown> | null | undefined => {
    if (!isObject(raw)) return null;
    const s = raw[name];
    if (s === undefined) return undefined;
    return isObject(s) ? s : null;
  };
  const hooks = section("hooks");
  const paths = section("paths");
  if (hooks === null || paths === null) return null;
  const requireLock = hooks?.require_lock ?? false;
  const caseSensitive = paths?.case_sensitive ?? "auto";
  if (typeof requireLock !== "boolean") return null;
  if (typeof caseSensitive !== "boolean" && caseSensitive !== "auto") return null;
  return { require_lock: requireLock, case_sensitive: caseSensitive };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * The store's data file in store folder `storeDir` (see src/runtime/root.ts
 * `resolveStoreDir`); a hook treats a missing file as "no store, no locks"
 * and never creates it.
 */
export function storeFileOf(storeDir: string): string {
  return path.join(storeDir, "signalbox.mdb");
}
