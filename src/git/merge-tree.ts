/**
 * Predicted merges: a real three-way merge of two commits computed by git in
 * its object store with `git merge-tree --write-tree` (git >= 2.38). It
 * writes tree and blob objects only: no working tree, index, HEAD or ref is
 * touched. Exit code 0 is a clean merge, 1 a merge with conflicts.
 *
 * Output with `-z --name-only` (git-merge-tree(1), "OUTPUT"): the merged
 * tree id, NUL; the conflicted paths, each NUL-terminated; an empty field;
 * then informational messages, each `<count> NUL <path>... NUL <type> NUL
 * <message> NUL`. The conflict kind is read from the message's own
 * `CONFLICT (<kind>)` prefix (the `<type>` field says `contents` for an
 * add/add conflict, the message says `add/add`).
 */
import os from "node:os";
import { GitError, runGit, splitNul } from "./cli.js";
import { resolveCommit } from "./repo.js";

/** The oldest git whose `merge-tree` has `--write-tree`. */
export const MIN_MERGE_TREE_VERSION = "2.38.0";

/** A git version. */
export interface GitVersion {
  major: number;
  minor: number;
  patch: number;
  /** What `git --version` printed. */
  text: string;
}

/** Parse `git version 2.39.5` (and vendor suffixes such as `(Apple Git-143)`). @throws GitError `git_failed` for anything else. */
export function parseGitVersion(text: string): GitVersion {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) throw new GitError("git_failed", `git: cannot read the version from "${text.trim()}"`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), text: text.trim() };
}

/**
 * The installed git's version (`git --version`, run in the temp folder: it
 * needs no repository, and the process's own folder may be gone). Not cached:
 * one short process.
 * @throws GitError `git_missing`; `git_failed` for an unreadable version.
 */
export async function gitVersion(): Promise<GitVersion> {
  return parseGitVersion((await runGit(os.tmpdir(), ["--version"])).stdout);
}

/**
 * Refuse a git older than {@link MIN_MERGE_TREE_VERSION} (pure: the version is given).
 * @throws GitError `git_too_old` naming the installed version and the version needed.
 */
export function assertMergeTreeSupported(version: GitVersion): void {
  if (version.major > 2 || (version.major === 2 && version.minor >= 38)) return;
  throw new GitError(
    "git_too_old",
    `git: predicting merges needs \`git merge-tree --write-tree\`, which git ${MIN_MERGE_TREE_VERSION} introduced; this machine has ${version.major}.${version.minor}.${version.patch} (${version.text}): upgrade git`,
  );
}

/** {@link assertMergeTreeSupported} for the installed git (runs `git --version`). @throws GitError `git_too_old`, `git_missing`. */
export async function requireMergeTree(): Promise<void> {
  assertMergeTreeSupported(await gitVersion());
}

/** Kinds of merge conflict, from git's `CONFLICT (<kind>)` messages. */
export type ConflictKind = "content" | "add/add" | "modify/delete" | "rename" | "other";

/** One conflicting path. */
export interface MergeConflict {
  path: string;
  kind: ConflictKind;
  /** git's own message about it. */
  message: string;
}

/** The predicted merge of two commits. */
export interface MergePrediction {
  /** The two sides as given. */
  a: string;
  b: string;
  a_commit: string;
  b_commit: string;
  /** Their merge base; null for unrelated histories. */
  merge_base: string | null;
  status: "clean" | "conflict";
  /** The merged tree (with conflict markers where the merge conflicts). */
  tree: string | null;
  /** One entry per conflicting path, sorted by path. */
  conflicts: MergeConflict[];
  /** Paths changed on both sides since the merge base that merged without conflict: a semantic-risk warning. */
  both_changed: string[];
}

/**
 * Map the label of git's `CONFLICT (<label>)` message to a {@link ConflictKind}:
 * `content`/`contents` (binary files included: git reports them as
 * `content`) -> content; `add/add` -> add/add; any label involving a deletion
 * (`modify/delete`, `rename/delete`) -> modify/delete; any other label
 * involving a rename (`rename/rename`, `rename/add`, `rename involved in
 * collision`, `implicit dir rename`, ...) -> rename; everything else
 * (`file/directory`, `distinct modes`, `submodule`, `directory rename
 * split`, ...) -> other.
 */
export function conflictKind(label: string): ConflictKind {
  const l = label.toLowerCase();
  if (l === "content" || l === "contents") return "content";
  if (l === "add/add") return "add/add";
  if (l.includes("delete")) return "modify/delete";
  if (l.includes("rename")) return "rename";
  return "other";
}

/** The parts of `git merge-tree --write-tree -z --name-only` output. */
export interface MergeTreeOutput {
  tree: string | null;
  conflicted: string[];
  messages: { paths: string[]; type: string; message: string }[];
}

/** Parse `git merge-tree --write-tree -z --name-only` output (see the module docstring). */
export function parseMergeTree(stdout: string): MergeTreeOutput {
  const fields = stdout.split("\0");
  const tree = fields[0]?.trim() || null;
  const conflicted: string[] = [];
  let i = 1;
  for (; i < fields.length && fields[i] !== ""; i++) conflicted.push(fields[i] as string);
  i++; // the empty field ending the conflicted paths
  const messages: MergeTreeOutput["messages"] = [];
  while (i < fields.length) {
    const count = Number(fields[i]);
    if (!Number.isInteger(count) || count < 0 || fields[i] === "") break;
    const paths = fields.slice(i + 1, i + 1 + count);
    const type = fields[i + 1 + count] ?? "";
    const message = (fields[i + 2 + count] ?? "").trim();
    messages.push({ paths, type, message });
    i += count + 3;
  }
  return { tree, conflicted: [...new Set(conflicted)], messages };
}

/**
 * One conflict per path, sorted by path: every path git lists as conflicted
 * plus every path a `CONFLICT (...)` message names (a file/directory clash
 * names both the original path and the one git moved aside), each with the
 * kind and text of the first CONFLICT message naming it (kind `other` and an
 * empty message when none does). Informational messages (`Auto-merging x`)
 * are not conflicts.
 */
export function conflictsOf(out: MergeTreeOutput): MergeConflict[] {
  const byPath = new Map<string, MergeConflict>();
  for (const m of out.messages) {
    const label = /^CONFLICT \(([^)]+)\)/.exec(m.message)?.[1];
    if (label === undefined) continue;
    for (const p of m.paths) if (!byPath.has(p)) byPath.set(p, { path: p, kind: conflictKind(label), message: m.message });
  }
  const paths = new Set([...out.conflicted, ...byPath.keys()]);
  return [...paths].sort().map((p) => byPath.get(p) ?? { path: p, kind: "other", message: "" });
}

/** Paths changed between two commits, memoised per (base, head) pair across the merges of one batch. */
type DiffCache = Map<string, Promise<string[]>>;

function changedSince(cwd: string, base: string, head: string, cache: DiffCache): Promise<string[]> {
  const key = `${base} ${head}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = runGit(cwd, ["diff", "--name-only", "--no-renames", "-z", base, head, "--"]).then((r) => splitNul(r.stdout));
    cache.set(key, hit);
  }
  return hit;
}

const FULL_ID = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/**
 * Predict the merge of `a` and `b` (refs or commit ids) by really merging
 * them in git's object store: `git merge-base`, then `git merge-tree
 * --write-tree -z --name-only` (exit 1 = conflicts), then for the clean
 * both-sides paths `git diff --name-only --no-renames -z` of each side since
 * the merge base. Unrelated histories are merged with
 * `--allow-unrelated-histories` (merge_base null, both_changed empty). Only
 * objects are written: no working tree, index, HEAD or ref changes. Does not
 * check the git version: call {@link requireMergeTree} once first for a clear
 * error on git < 2.38. `cache` shares file lists between the merges of one batch.
 * @throws GitError `unknown_ref` when a side names no commit; `not_a_repository`; `git_failed` when git fails.
 */
export async function predictMerge(cwd: string, a: string, b: string, cache: DiffCache = new Map()): Promise<MergePrediction> {
  // A full id is taken as given (callers resolve refs once per batch); one
  // that names no commit makes merge-base fail, and is then checked.
  const rev = (ref: string) => (FULL_ID.test(ref) ? Promise.resolve(ref) : resolveCommit(cwd, ref));
  const [aCommit, bCommit] = await Promise.all([rev(a), rev(b)]);
  let baseOut;
  try {
    baseOut = await runGit(cwd, ["merge-base", aCommit, bCommit], { okCodes: [0, 1] });
  } catch (err) {
    await Promise.all([resolveCommit(cwd, a), resolveCommit(cwd, b)]);
    throw err;
  }
  const merge_base = baseOut.exitCode === 0 ? baseOut.stdout.trim() || null : null;
  const args = ["merge-tree", "--write-tree", "-z", "--name-only", ...(merge_base ? [] : ["--allow-unrelated-histories"]), aCommit, bCommit];
  const run = await runGit(cwd, args, { okCodes: [0, 1] });
  const parsed = parseMergeTree(run.stdout);
  const conflicts = run.exitCode === 1 ? conflictsOf(parsed) : [];
  let both_changed: string[] = [];
  if (merge_base) {
    const [left, right] = await Promise.all([changedSince(cwd, merge_base, aCommit, cache), changedSince(cwd, merge_base, bCommit, cache)]);
    const rightSet = new Set(right);
    const conflicting = new Set(conflicts.map((c) => c.path));
    both_changed = [...new Set(left)].filter((p) => rightSet.has(p) && !conflicting.has(p)).sort();
  }
  return {
    a,
    b,
    a_commit: aCommit,
    b_commit: bCommit,
    merge_base,
    status: run.exitCode === 1 ? "conflict" : "clean",
    tree: parsed.tree,
    conflicts,
    both_changed,
  };
}

/**
 * {@link predictMerge} for each pair, at most `concurrency` (>= 1; anything
 * else counts as 1) at once, answers in input order; the file lists of each
 * side since a merge base are asked of git once per batch.
 * @throws GitError as {@link predictMerge}, for the first pair that fails.
 */
export async function predictMany(cwd: string, pairs: ReadonlyArray<readonly [string, string]>, concurrency = 2): Promise<MergePrediction[]> {
  const out = new Array<MergePrediction>(pairs.length);
  const cache: DiffCache = new Map();
  let next = 0;
  const worker = async () => {
    while (next < pairs.length) {
      const i = next++;
      const [a, b] = pairs[i] as readonly [string, string];
      out[i] = await predictMerge(cwd, a, b, cache);
    }
  };
  const width = Number.isFinite(concurrency) && concurrency >= 1 ? Math.floor(concurrency) : 1;
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, pairs.length)) }, worker));
  return out;
}
