/**
 * A real git repository with the file layout and history of the bundled
 * fastapi template history (examples/fastapi-template-history.json: each
 * real commit's id, date, subject and the paths it wrote), for the demo and
 * the radar benchmark. The history is replayed with `git fast-import` (one
 * git process for 1,491 commits); each written file gets a small text body
 * naming the commit that last wrote it, so two replayed commits that write
 * the same file conflict the way edits of one region do.
 *
 * Only the paths are real: the history carries no file contents.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { gitEnv } from "../git/cli.js";

/** One commit of the history file. */
export interface HistoryCommit {
  id: string;
  date: string;
  subject: string;
  writes: string[];
}

/** The history file's shape. */
export interface HistoryFile {
  source: string;
  tasks: HistoryCommit[];
}

const AUTHOR = "signalbox demo <demo@signalbox.invalid>";

/** `git <args>` in `cwd` with `input` on stdin; stdout trimmed. */
function git(cwd: string, args: string[], input?: string): string {
  return execFileSync("git", args, {
    cwd,
    env: gitEnv({ GIT_AUTHOR_NAME: "signalbox demo", GIT_AUTHOR_EMAIL: "demo@signalbox.invalid", GIT_COMMITTER_NAME: "signalbox demo", GIT_COMMITTER_EMAIL: "demo@signalbox.invalid" }),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["pipe", "pipe", "pipe"],
    ...(input !== undefined ? { input } : {}),
  }).trim();
}

/** The body a replayed commit gives a file it writes. */
export function fileBody(path: string, commit: HistoryCommit): string {
  return `# ${path}\nlast written by ${commit.id}: ${commit.subject}\n`;
}

/** A path quoted for fast-import (C-style; JSON's escapes are a subset of it). */
function quote(path: string): string {
  return JSON.stringify(path);
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

/**
 * Tracks the tree's files and folders so a path that would turn a file into
 * a folder (or back) is skipped: fast-import refuses those, and the history
 * holds a few across its renames.
 */
class TreeShape {
  private readonly files = new Set<string>();
  private readonly dirs = new Set<string>();

  accepts(path: string): boolean {
    if (this.dirs.has(path)) return false;
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) if (this.files.has(parts.slice(0, i).join("/"))) return false;
    return true;
  }

  add(path: string): void {
    this.files.add(path);
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) this.dirs.add(parts.slice(0, i).join("/"));
  }
}

function commitBlock(ref: string, commit: HistoryCommit, from: string | null, shape: TreeShape): string {
  const when = Math.floor(Date.parse(commit.date) / 1000) || 0;
  const lines = [`commit ${ref}`, `author ${AUTHOR} ${when} +0000`, `committer ${AUTHOR} ${when} +0000`, data(`${commit.subject}\n\nreplayed from ${commit.id}`).trimEnd()];
  if (from) lines.push(`from ${from}`);
  for (const path of commit.writes) {
    if (!shape.accepts(path)) continue;
    shape.add(path);
    lines.push(`M 100644 inline ${quote(path)}`, data(fileBody(path, commit)).trimEnd());
  }
  return `${lines.join("\n")}\n\n`;
}

/**
 * Create `dir` as a repository whose `main` branch replays `commits` in order
 * (one `git fast-import`), and check it out. Returns the head commit.
 * @throws Error when git fails (git's stderr in the message).
 */
export function buildHistoryRepo(dir: string, commits: readonly HistoryCommit[]): string {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, ["init", "-q", "-b", "main"]);
  const shape = new TreeShape();
  let stream = "";
  // Without `from`, each commit follows the branch's previous one in the stream.
  for (const c of commits) stream += commitBlock("refs/heads/main", c, null, shape);
  git(dir, ["fast-import", "--quiet", "--done"], `${stream}done\n`);
  git(dir, ["checkout", "-q", "-f", "main"]);
  return git(dir, ["rev-parse", "main"]);
}

/**
 * Replay `commit` as one new commit on `branch`, created from `base`, inside
 * git's object store (`git fast-import`; no worktree is touched). Returns the
 * branch head.
 */
export function replayOnBranch(dir: string, branch: string, base: string, commit: HistoryCommit): string {
  const shape = new TreeShape();
  for (const path of git(dir, ["ls-tree", "-r", "--name-only", base]).split("\n")) if (path) shape.add(path);
  git(dir, ["fast-import", "--quiet", "--done"], `${commitBlock(`refs/heads/${branch}`, commit, base, shape)}done\n`);
  return git(dir, ["rev-parse", `refs/heads/${branch}`]);
}
