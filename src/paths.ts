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
import fs from "node:fs";
import path from "node:path";

/** Longest key accepted, in UTF-8 bytes (LMDB keys are limited to ~1978 bytes). */
export const MAX_KEY_BYTES = 1024;
/** Longest single path component, in UTF-8 bytes (the common filesystem limit). */
export const MAX_COMPONENT_BYTES = 255;

/** The kind of a resource key. */
export type KeyKind = "file" | "dir" | "table" | "resource";

/** Error raised for a key that cannot be normalised; `field` names the offending argument. */
export class KeyError extends Error {
  /** Stable code of a malformed key (src/errors.ts). */
  readonly code = "invalid_argument";
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

/** A raw key split into a named key or a path (see {@link parseKey}). */
type ParsedKey =
  | { kind: "named"; key: string }
  | {
      kind: "path";
      /** NFC, trimmed, backslashes turned into `/`: what the lexical rules look at. */
      nfc: string;
      /** Trimmed, backslashes turned into `/`, NOT NFC: the bytes the OS would open. */
      text: string;
      /** The caller asked for a directory key (`dir/`, `dir/.`, `.`). */
      isDir: boolean;
    };

/**
 * First step shared by {@link normalizeKey} and {@link KeyResolver}: refuse
 * non-strings, NUL bytes and empty (or whitespace-only) keys; return
 * `table:`/`resource:` names (NFC, trimmed) whole.
 */
function parseKey(raw: string, field: string): ParsedKey {
  if (typeof raw !== "string") throw new KeyError(field, "expected a string");
  if (raw.includes("\0")) throw new KeyError(field, "contains a NUL byte");
  const nfcFull = raw.normalize("NFC").trim();
  if (nfcFull === "") throw new KeyError(field, "is empty; expected a file, `dir/`, `table:name` or `resource:name`");

  for (const prefix of NAMED_PREFIXES) {
    if (nfcFull.startsWith(prefix)) {
      const name = nfcFull.slice(prefix.length).trim();
      if (name === "") throw new KeyError(field, `\`${prefix}\` needs a name, e.g. \`${prefix}profiles\``);
      return { kind: "named", key: checkLength(`${prefix}${name}`, field) };
    }
  }
  const nfc = nfcFull.replace(/\\/g, "/");
  const isDir = nfc.endsWith("/") || nfc.endsWith("/.") || nfc === ".";
  return { kind: "path", nfc, text: raw.trim().replace(/\\/g, "/"), isDir };
}

/**
 * The lexical rules for a path relative to the root: `./` and duplicate
 * slashes removed, `..` resolved by name and refused when it leaves the root,
 * the root itself refused, component and key lengths checked.
 * `raw` is only quoted in messages.
 */
function lexicalRelative(raw: string, rel: string, isDir: boolean, field: string): string {
  let norm = path.posix.normalize(rel);
  if (norm === ".." || norm.startsWith("../")) {
    throw new KeyError(field, `\`${raw}\` leaves the project root`);
  }
  norm = norm.replace(/\/+$/, "");
  if (norm === "" || norm === ".") {
    throw new KeyError(field, `\`${raw}\` names the project root itself; lock a folder (\`src/\`) or a file under it`);
  }
  return checkComponents(isDir ? `${norm}/` : norm, field);
}

function checkComponents(key: string, field: string): string {
  for (const part of key.split("/")) {
    if (Buffer.byteLength(part) > MAX_COMPONENT_BYTES) {
      throw new KeyError(field, `a path component is longer than ${MAX_COMPONENT_BYTES} bytes`);
    }
  }
  return checkLength(key, field);
}

/**
 * Normalise one raw key to its canonical form, lexically (no filesystem
 * access): what planning (check_parallel, plan_waves) uses. Locks use
 * {@link KeyResolver}, which also follows symlinks and folds case.
 *
 * @param raw    what the caller sent (path, `dir/`, `table:x`, `resource:x`)
 * @param root   absolute project root; absolute paths must lie inside it
 * @param field  the argument name used in error messages (e.g. `paths[2]`)
 * @throws KeyError for empty keys, NUL bytes, paths leaving the root, the root
 *         itself, over-long keys or components.
 */
export function normalizeKey(raw: string, root: string, field = "path"): string {
  const parsed = parseKey(raw, field);
  if (parsed.kind === "named") return parsed.key;
  let p = parsed.nfc;
  if (path.posix.isAbsolute(p)) {
    const rootPosix = root.replace(/\\/g, "/").replace(/\/+$/, "");
    const rel = path.posix.relative(rootPosix, path.posix.normalize(p));
    if (rel === ".." || rel.startsWith("../") || path.posix.isAbsolute(rel)) {
      throw new KeyError(field, `\`${raw}\` is outside the project root ${root}`);
    }
    p = rel;
  }
  return lexicalRelative(raw, p, parsed.isDir, field);
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

/**
 * Where the name locked for each file with several names by hard link is
 * kept, so that every name of it is one key: the first name seen, for as long
 * as it still names that file. Kept in the store so every process agrees
 * (src/store/lmdb/link-names.ts); the hooks only read it.
 */
export interface LinkNames {
  /**
   * The key of the file with identity `id` (`<dev>:<ino>`, from `lstat`)
   * reached by the name `key`: the recorded name when `stillNames(recorded)`
   * says it is still a name of that file, else `key` (recorded now, unless
   * this registry only reads).
   */
  keyFor(id: string, key: string, stillNames: (recorded: string) => boolean): string;
}

/** Most symlinks followed while resolving one key (Linux's own limit); more is ELOOP. */
export const MAX_SYMLINK_HOPS = 40;

/**
 * Options for {@link KeyResolver}. `caseSensitive`: `true` keeps `Foo.ts` and
 * `foo.ts` two keys, `false` folds them into one, `"auto"` (the default)
 * probes the root's filesystem once, in the constructor.
 */
export interface KeyResolverOptions {
  caseSensitive?: boolean | "auto";
  /**
   * Real paths of the repository's other worktrees (asked only when an
   * absolute path lies outside the root). Every worktree of a repository
   * holds the same tree, so `<other worktree>/app/a.py` is the key
   * `app/a.py`, as in this one.
   */
  worktrees?: () => readonly string[];
  /** Names of hard-linked files (see {@link LinkNames}); without it each name is its own key. */
  links?: LinkNames;
}

/** What one `lstat` (+ `readlink`) said about an absolute path; memoised per call. */
type Entry = "missing" | "dir" | "file" | { link: string };

/**
 * A location being resolved: absolute path components (no leading ""), of
 * which the first `real` are known to exist and hold no symlink; the rest
 * (below a missing component) are kept by name.
 */
interface Walk {
  comps: string[];
  real: number;
}

/** State shared by the steps of one normalize/normalizeAll call. */
interface CallState {
  raw: string;
  field: string;
  hops: number;
  memo: Map<string, Entry>;
}

/**
 * Filesystem-aware resource keys for locks (DESIGN.md "Resource key";
 * RELIABILITY.md "Bad input and misuse": keys that cannot escape the root or
 * alias each other). A key names what the OS would open, relative to the real
 * project root, so two spellings of one file are one key and no spelling
 * reaches outside the root.
 *
 * Rules, in order:
 * 1. Everything {@link normalizeKey} refuses is refused (NUL byte, empty or
 *    whitespace-only, `..` leaving the root by name, the root itself, a
 *    component over {@link MAX_COMPONENT_BYTES} or a key over
 *    {@link MAX_KEY_BYTES} UTF-8 bytes); `table:`/`resource:` names come back
 *    as the lexical normaliser gives them (never case-folded). An absolute
 *    path is accepted under either spelling of the root, `root` or
 *    `realRoot`; any other absolute path is resolved on the filesystem and
 *    accepted only if it lands inside `realRoot`.
 * 2. Symlinks: the key's components are looked up one by one from `realRoot`
 *    (`lstat`, with the caller's bytes, before NFC, as the OS would). A
 *    symlink is replaced by its `readlink` target, resolved relative to its
 *    directory, recursively (dangling links too); `..` after a symlink goes to
 *    the parent of its target, as in the kernel. More than
 *    {@link MAX_SYMLINK_HOPS} links is refused (ELOOP). A link whose target
 *    lies outside `realRoot` is refused even if a later `..` would come back.
 *    `..` is never allowed above `realRoot`. Components that do not exist (or
 *    cannot be looked up: ENOENT, ENOTDIR, EACCES) are kept by name. The key
 *    is the resolved location relative to `realRoot`, NFC: `lib/a.ts` with
 *    `lib -> src/lib` is `src/lib/a.ts`. A directory key keeps its `/`.
 * 3. Hard links: an existing file with more than one link is the key its
 *    {@link LinkNames} registry keeps for it (the first of its names seen
 *    while that name still leads to it), so `a.ts` and a hard link `b.ts` to
 *    the same inode are one key; without a registry each name is a key.
 * 4. Case: when {@link caseInsensitive}, the key is folded as
 *    `key.normalize("NFC").toLowerCase().normalize("NFC")` (Unicode default
 *    lower-casing, locale-independent), so `Foo.ts` and `foo.ts` are one key.
 * 5. Cost: one `lstat` per existing component (plus `readlink` per symlink),
 *    memoised by absolute path within one call; no state survives a call.
 *
 * A key is a snapshot: a symlink changed after a lock was granted is not seen.
 * POSIX paths only (`/` separators; backslashes are treated as `/`).
 */
export class KeyResolver {
  /** The absolute project root as given (`path.resolve`d, not realpath'd). */
  readonly root: string;
  /** `fs.realpathSync.native(root)`: the root keys are relative to. */
  readonly realRoot: string;
  /** Whether keys are case-folded (rule 3). */
  readonly caseInsensitive: boolean;
  private readonly rootComps: readonly string[];
  private readonly realRootComps: readonly string[];
  private readonly worktrees: () => readonly string[];
  private readonly links: LinkNames | undefined;

  /**
   * @param root     the project root (an existing directory)
   * @param options  see {@link KeyResolverOptions}
   * @throws Error `root: ...` when the root cannot be resolved.
   */
  constructor(root: string, options: KeyResolverOptions = {}) {
    this.root = path.resolve(root);
    try {
      this.realRoot = fs.realpathSync.native(this.root);
    } catch (err) {
      throw new Error(`root: expected an existing directory, ${this.root} cannot be resolved (${(err as Error).message})`);
    }
    const mode = options.caseSensitive ?? "auto";
    this.caseInsensitive = mode === "auto" ? probeCaseInsensitive(this.realRoot) : !mode;
    this.rootComps = splitAbs(this.root);
    this.realRootComps = splitAbs(this.realRoot);
    this.worktrees = options.worktrees ?? (() => []);
    this.links = options.links;
  }

  /**
   * Canonical key for one raw key (rules in the class docstring).
   * @param raw    a path, `dir/`, `table:x` or `resource:x`
   * @param field  the argument name used in error messages (`paths[2]`)
   * @throws KeyError `<field>: ...` for every refusal, quoting the raw key and,
   *         for a symlink, where it leads.
   */
  normalize(raw: string, field: string): string {
    return this.resolve(raw, { raw, field, hops: 0, memo: new Map() });
  }

  /**
   * {@link normalize} each key (errors name `field[i]`), dropping duplicates,
   * first-seen order. Filesystem lookups are shared across the list.
   * @throws KeyError for the first bad entry.
   */
  normalizeAll(raw: readonly string[], field: string): string[] {
    const memo = new Map<string, Entry>();
    const seen = new Set<string>();
    const out: string[] = [];
    raw.forEach((r, i) => {
      const f = `${field}[${i}]`;
      const key = this.resolve(r, { raw: r, field: f, hops: 0, memo });
      if (!seen.has(key)) {
        seen.add(key);
        out.push(key);
      }
    });
    return out;
  }

  private resolve(raw: string, st: CallState): string {
    const parsed = parseKey(raw, st.field);
    if (parsed.kind === "named") return parsed.key;
    const walk = path.posix.isAbsolute(parsed.text)
      ? this.walkAbsolute(parsed.text, parsed.isDir, st)
      : this.walkRelative(parsed.text, parsed.nfc, parsed.isDir, st);
    const rel = walk.comps.slice(this.realRootComps.length).join("/").normalize("NFC");
    if (rel === "") {
      throw new KeyError(st.field, `\`${raw}\` resolves to the project root itself; lock a folder (\`src/\`) or a file under it`);
    }
    // What exists decides: an existing folder named without its slash is the folder key, a slash after an existing file names the file.
    const last = walk.real === walk.comps.length ? st.memo.get(`/${walk.comps.join("/")}`) : undefined;
    const isDir = last === "dir" ? true : last === "file" ? false : parsed.isDir;
    let key = isDir ? `${rel}/` : rel;
    if (this.caseInsensitive) key = key.toLowerCase().normalize("NFC");
    key = checkComponents(key, st.field);
    return last === "file" && this.links ? this.linkedKey(key, this.links) : key;
  }

  /** Rule 3: the one key of a file with several hard links. */
  private linkedKey(key: string, links: LinkNames): string {
    const id = this.fileId(key, true);
    return id === null ? key : links.keyFor(id, key, (recorded) => this.fileId(recorded, false) === id);
  }

  /**
   * `<dev>:<ino>` of the regular file named by `key` under `realRoot`, or
   * null when it is not one (or, with `linkedOnly`, has a single link).
   */
  private fileId(key: string, linkedOnly: boolean): string | null {
    try {
      const s = fs.lstatSync(path.join(this.realRoot, key), { bigint: true, throwIfNoEntry: false });
      if (!s?.isFile() || (linkedOnly && s.nlink < 2n)) return null;
      return `${s.dev}:${s.ino}`;
    } catch {
      return null;
    }
  }

  /** A relative key: lexical rules first, then the walk from `realRoot`, never above it. */
  private walkRelative(text: string, nfc: string, isDir: boolean, st: CallState): Walk {
    lexicalRelative(st.raw, nfc, isDir, st.field);
    return this.walkFromRoot(text.split("/"), st);
  }

  /**
   * An absolute key: under `root` or `realRoot` by its leading components
   * (and not climbing out by `..`), the rest is walked like a relative key;
   * under either after lexical `..` removal,
   * the lexical remainder is walked; otherwise the whole path is resolved and
   * must land inside `realRoot`.
   */
  private walkAbsolute(text: string, isDir: boolean, st: CallState): Walk {
    const comps = text.split("/").filter((c) => c !== "" && c !== ".");
    const inWorktree = this.inOtherWorktree(comps, isDir, st);
    if (inWorktree) return inWorktree;
    for (const base of [this.rootComps, this.realRootComps]) {
      const rest = comps.slice(base.length);
      const lexicalRest = path.posix.normalize(rest.join("/"));
      if (this.startsWith(comps, base) && lexicalRest !== ".." && !lexicalRest.startsWith("../")) {
        lexicalRelative(st.raw, rest.join("/").normalize("NFC"), isDir, st.field);
        return this.walkFromRoot(rest, st);
      }
    }
    const lexical = path.posix.normalize(text);
    for (const base of [this.root, this.realRoot]) {
      const rel = path.posix.relative(base, lexical);
      if (rel !== "" && rel !== ".." && !rel.startsWith("../") && !path.posix.isAbsolute(rel)) {
        lexicalRelative(st.raw, rel.normalize("NFC"), isDir, st.field);
        return this.walkFromRoot(rel.split("/"), st);
      }
    }
    const walk: Walk = { comps: [], real: 0 };
    this.step(walk, comps, false, st);
    if (!this.startsWith(walk.comps, this.realRootComps)) {
      throw new KeyError(st.field, `\`${st.raw}\` is outside the project root ${this.root}`);
    }
    return walk;
  }

  /**
   * An absolute path inside another worktree of the repository: its part
   * below that worktree is walked from this root (same tree, same key). The
   * deepest worktree holding the path owns it, so a worktree nested inside
   * this root (`.worktrees/a/`) is not mistaken for a folder of it, and this
   * root nested inside another worktree keeps its own paths. Null when the
   * path lies in no other worktree (or this root owns it).
   */
  private inOtherWorktree(comps: readonly string[], isDir: boolean, st: CallState): Walk | null {
    const own = Math.max(
      this.startsWith(comps, this.rootComps) ? this.rootComps.length : -1,
      this.startsWith(comps, this.realRootComps) ? this.realRootComps.length : -1,
    );
    // Under this root, only a folder holding a `.git` entry can be another
    // worktree's top: without one, git need not be asked (one lstat per folder).
    if (own >= 0 && !this.holdsGitEntryBelow(comps, own)) return null;
    let best: string[] | null = null;
    for (const wt of this.worktrees()) {
      const base = splitAbs(wt);
      if (base.length <= own || !this.startsWith(comps, base)) continue;
      if (best === null || base.length > best.length) best = base;
    }
    if (best === null) return null;
    const rest = comps.slice(best.length);
    lexicalRelative(st.raw, rest.join("/").normalize("NFC"), isDir, st.field);
    return this.walkFromRoot(rest, st);
  }

  private walkFromRoot(rest: string[], st: CallState): Walk {
    const walk: Walk = { comps: [...this.realRootComps], real: this.realRootComps.length };
    this.step(walk, rest, true, st);
    return walk;
  }

  /**
   * Apply path components to a location. `guarded`: the walk of the key
   * itself, where `..` may not go above `realRoot` and every symlink must
   * resolve inside it; unguarded walks resolve a link's target, which may pass
   * outside on its way.
   */
  private step(walk: Walk, parts: readonly string[], guarded: boolean, st: CallState): void {
    const floor = this.realRootComps.length;
    for (const part of parts) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (guarded && walk.comps.length <= floor) {
          throw new KeyError(st.field, `\`${st.raw}\` leaves the project root`);
        }
        walk.comps.pop();
        walk.real = Math.min(walk.real, walk.comps.length);
        continue;
      }
      if (walk.real < walk.comps.length) {
        walk.comps.push(part); // below a missing component: kept by name
        continue;
      }
      walk.comps.push(part);
      const entry = this.lookup(walk.comps, st.memo);
      if (entry === "missing") continue;
      if (entry === "dir" || entry === "file") {
        walk.real = walk.comps.length;
        continue;
      }
      st.hops += 1;
      if (st.hops > MAX_SYMLINK_HOPS) {
        throw new KeyError(
          st.field,
          `\`${st.raw}\` goes through more than ${MAX_SYMLINK_HOPS} symlinks (a symlink loop, ELOOP) at /${walk.comps.join("/")}`,
        );
      }
      walk.comps.pop();
      const target: Walk = path.posix.isAbsolute(entry.link)
        ? { comps: [], real: 0 }
        : { comps: [...walk.comps], real: walk.comps.length };
      this.step(target, entry.link.split("/"), false, st);
      if (guarded && !this.startsWith(target.comps, this.realRootComps)) {
        throw new KeyError(
          st.field,
          `\`${st.raw}\` resolves through a symlink to /${target.comps.join("/")}, outside the project root ${this.realRoot}`,
        );
      }
      walk.comps = target.comps;
      walk.real = target.real;
    }
  }

  /** Whether a folder strictly between the root (`own` components) and the path's last component holds a `.git` entry. */
  private holdsGitEntryBelow(comps: readonly string[], own: number): boolean {
    for (let i = own + 1; i < comps.length; i++) {
      if (fs.existsSync(`/${comps.slice(0, i).join("/")}/.git`)) return true;
    }
    return false;
  }

  /** `lstat` (+ `readlink`) one absolute path, memoised for the call. */
  private lookup(comps: readonly string[], memo: Map<string, Entry>): Entry {
    const abs = `/${comps.join("/")}`;
    let entry = memo.get(abs);
    if (entry !== undefined) return entry;
    try {
      const stat = fs.lstatSync(abs, { throwIfNoEntry: false });
      entry = stat === undefined ? "missing" : stat.isSymbolicLink() ? { link: fs.readlinkSync(abs) } : stat.isDirectory() ? "dir" : "file";
    } catch {
      entry = "missing"; // ENOTDIR, EACCES...: the OS could not open it either; kept by name
    }
    memo.set(abs, entry);
    return entry;
  }

  /** Whether `comps` starts with `base` (case-folded on a case-insensitive root). */
  private startsWith(comps: readonly string[], base: readonly string[]): boolean {
    if (comps.length < base.length) return false;
    for (let i = 0; i < base.length; i++) {
      const a = comps[i] as string;
      const b = base[i] as string;
      if (a !== b && !(this.caseInsensitive && fold(a) === fold(b))) return false;
    }
    return true;
  }
}

function fold(s: string): string {
  return s.normalize("NFC").toLowerCase().normalize("NFC");
}

function splitAbs(abs: string): string[] {
  return abs.split("/").filter((c) => c !== "");
}

/** Swap the case of ASCII letters: `Foo.ts` -> `fOO.TS`. */
function flipAsciiCase(name: string): string {
  return name.replace(/[A-Za-z]/g, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
}

/**
 * Whether the filesystem holding `realRoot` ignores case, without creating
 * anything: take the first entry of the root whose name holds an ASCII letter
 * (else the root's own name, looked up in its parent), and check whether the
 * case-flipped name is the same inode. Nothing to probe, or an error: false
 * (case-sensitive).
 */
function probeCaseInsensitive(realRoot: string): boolean {
  let dir = realRoot;
  let name: string | undefined;
  try {
    const handle = fs.opendirSync(realRoot);
    try {
      for (let e = handle.readSync(); e !== null; e = handle.readSync()) {
        if (/[A-Za-z]/.test(e.name)) {
          name = e.name;
          break;
        }
      }
    } finally {
      handle.closeSync();
    }
  } catch {
    // unreadable root: fall through to its own name
  }
  if (name === undefined) {
    const base = path.basename(realRoot);
    if (!/[A-Za-z]/.test(base)) return false;
    dir = path.dirname(realRoot);
    name = base;
  }
  try {
    const a = fs.lstatSync(path.join(dir, name), { bigint: true });
    const b = fs.lstatSync(path.join(dir, flipAsciiCase(name)), { bigint: true, throwIfNoEntry: false });
    return b !== undefined && a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}
