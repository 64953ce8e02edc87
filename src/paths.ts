/**
 * Resource keys: what a lock or a conflict is about.
 *
 * A key is one of
 * - a file path relative to the project root (`app/actions/auth.ts`),
 * - a directory ending in `/` (`app/actions/`), covering every key below it,
 * - a table (`table:profiles`),
 * - a named shared resource (`resource:supabase_auth`).
 *
 * Rules (DESIGN.md, "Domain model / Resource key"): POSIX separators, `./` and
 * duplicate slashes removed, Unicode NFC, absolute paths inside the root made
 * relative; a path that leaves the root, holds a NUL byte or is empty is refused.
 */
import path from "node:path";

/** Longest key accepted, in UTF-8 bytes (LMDB keys are limited to ~1978 bytes). */
export const MAX_KEY_BYTES = 1024;
/** Longest single path component, in UTF-8 bytes (the common filesystem limit). */
export const MAX_COMPONENT_BYTES = 255;

/** The kind of a resource key. */
export type KeyKind = "file" | "dir" | "table" | "resource";

/** Error raised for a key that cannot be normalised; `field` names the offending argument. */
export class KeyError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "KeyError";
  }
}

const NAMED_PREFIXES = ["table:", "resource:"] as const;

/** The kind of an already normalised key. */
export function keyKind(key: string): KeyKind {
  if (key.startsWith("table:")) return "table";
  if (key.startsWith("resource:")) return "resource";
  return key.endsWith("/") ? "dir" : "file";
}

/**
 * Normalise one raw key to its canonical form.
 *
 * @param raw    what the caller sent (path, `dir/`, `table:x`, `resource:x`)
 * @param root   absolute project root; absolute paths must lie inside it
 * @param field  the argument name used in error messages (e.g. `paths[2]`)
 * @throws KeyError for empty keys, NUL bytes, paths leaving the root, the root
 *         itself, over-long keys or components.
 */
export function normalizeKey(raw: string, root: string, field = "path"): string {
  if (typeof raw !== "string") throw new KeyError(field, "expected a string");
  if (raw.includes("\0")) throw new KeyError(field, "contains a NUL byte");
  const text = raw.normalize("NFC").trim();
  if (text === "") throw new KeyError(field, "is empty; expected a file, `dir/`, `table:name` or `resource:name`");

  for (const prefix of NAMED_PREFIXES) {
    if (text.startsWith(prefix)) {
      const name = text.slice(prefix.length).trim();
      if (name === "") throw new KeyError(field, `\`${prefix}\` needs a name, e.g. \`${prefix}profiles\``);
      return checkLength(`${prefix}${name}`, field);
    }
  }

  let p = text.replace(/\\/g, "/");
  const isDir = p.endsWith("/") || p.endsWith("/.") || p === ".";
  if (path.posix.isAbsolute(p)) {
    const rootPosix = root.replace(/\\/g, "/").replace(/\/+$/, "");
    const rel = path.posix.relative(rootPosix, path.posix.normalize(p));
    if (rel.startsWith("..") || path.posix.isAbsolute(rel)) {
      throw new KeyError(field, `\`${raw}\` is outside the project root ${root}`);
    }
    p = rel;
  }
  let norm = path.posix.normalize(p);
  if (norm === ".." || norm.startsWith("../")) {
    throw new KeyError(field, `\`${raw}\` leaves the project root`);
  }
  norm = norm.replace(/\/+$/, "");
  if (norm === "" || norm === ".") {
    throw new KeyError(field, `\`${raw}\` names the project root itself; lock a folder (\`src/\`) or a file under it`);
  }
  for (const part of norm.split("/")) {
    if (Buffer.byteLength(part) > MAX_COMPONENT_BYTES) {
      throw new KeyError(field, `a path component is longer than ${MAX_COMPONENT_BYTES} bytes`);
    }
  }
  return checkLength(isDir ? `${norm}/` : norm, field);
}

function checkLength(key: string, field: string): string {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new KeyError(field, `is longer than ${MAX_KEY_BYTES} bytes`);
  }
  return key;
}

/**
 * Normalise a list of keys, removing duplicates while keeping first-seen order.
 * @throws KeyError naming `field[i]` for the first bad entry.
 */
export function normalizeKeys(raw: readonly string[], root: string, field = "paths"): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  raw.forEach((r, i) => {
    const key = normalizeKey(r, root, `${field}[${i}]`);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(key);
    }
  });
  return out;
}

/** Whether two normalised keys overlap: equal, or one is a directory covering the other. */
export function keysOverlap(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.endsWith("/") && b.startsWith(a) && !isNamed(b)) return true;
  if (b.endsWith("/") && a.startsWith(b) && !isNamed(a)) return true;
  return false;
}

function isNamed(key: string): boolean {
  return key.startsWith("table:") || key.startsWith("resource:");
}

/**
 * The directory keys that cover a key, nearest last: `a/b/c.ts` -> [`a/`, `a/b/`].
 * A directory key's own key is not included. Tables and resources have none.
 */
export function ancestorDirs(key: string): string[] {
  if (isNamed(key)) return [];
  const parts = key.split("/");
  // For `a/b/` split gives ["a","b",""]; for `a/b/c.ts` ["a","b","c.ts"]: drop the last element.
  parts.pop();
  if (key.endsWith("/")) parts.pop();
  const out: string[] = [];
  let acc = "";
  for (const part of parts) {
    acc += `${part}/`;
    out.push(acc);
  }
  return out;
}

/** The smallest string greater than every string with this prefix (for LMDB range ends). */
export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
