/**
 * The git part of `npm run demo`: parallel agents in git worktrees of one
 * real repository. The demo builds the repository from the bundled fastapi
 * template history (every path of its 1,491 real commits, replayed with
 * `git fast-import`, demo-repo.ts), holds back two real later changes that
 * write a common file, and gives each to an agent in its own worktree and
 * branch, each agent served by its own server process started in its
 * worktree (no SIGNALBOX_DB: both find the store in the common git
 * directory). It shows a write lock refused across worktrees, the radar
 * predicting the conflict (with its file) before either branch merges,
 * complete_feature reading the branches from git, and the wave merge and the
 * integration report confirming it from git. Every step is checked; no
 * working tree, index or branch is changed by signalbox (checked too).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gitEnv } from "../git/cli.js";
import type { StoreWatcher } from "../dashboard/demo.js";
import { Proc, Steps, verdict } from "./demo-control.js";
import { buildHistoryRepo, fileBody, type HistoryCommit, type HistoryFile } from "./demo-repo.js";

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../examples");

/** How many of the history's latest commits the two changes are picked from (the rest is the repository's past). */
const RECENT = 40;

interface Radar {
  pairs: { a: { branch: string }; b: { branch: string }; status: string; conflicts: { path: string; kind: string }[] }[];
  conflicting_pairs: number;
}
interface Completed {
  source: string;
  files_changed: string[];
  commits: string[];
}
interface Integrated {
  status: string;
  reasons: string[];
  undeclared_writes: { feature_id: string; file: string }[];
  merge: { ref: string; status: string; first_conflict: { feature_id: string; branch: string; files: string[] } | null } | null;
  report_uri: string;
}

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    env: gitEnv({ GIT_AUTHOR_NAME: "demo agent", GIT_AUTHOR_EMAIL: "agent@signalbox.invalid", GIT_COMMITTER_NAME: "demo agent", GIT_COMMITTER_EMAIL: "agent@signalbox.invalid" }),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** Two recent changes (at most 6 files each) that write a common file; the common file is not release notes. */
function pickOverlap(recent: readonly HistoryCommit[]): [HistoryCommit, HistoryCommit, string] {
  for (let i = 0; i < recent.length; i++) {
    for (let j = i + 1; j < recent.length; j++) {
      const a = recent[i] as HistoryCommit;
      const b = recent[j] as HistoryCommit;
      if (a.writes.length > 6 || b.writes.length > 6) continue;
      const common = a.writes.find((w) => b.writes.includes(w) && w !== "release-notes.md");
      if (common) return [a, b, common];
    }
  }
  throw new Error("the history holds no two recent overlapping changes");
}

/** An agent's work in its worktree: write the change's files and commit them with git, as the agent would. */
function commitChange(worktree: string, change: HistoryCommit): void {
  for (const file of change.writes) {
    const abs = path.join(worktree, file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, fileBody(file, change));
  }
  git(worktree, ["add", "-A"]);
  git(worktree, ["commit", "-q", "-m", change.subject]);
}

/** `git status` of every worktree and every branch head: equal before and after means signalbox changed nothing. */
function snapshot(dirs: readonly string[]): string {
  return dirs.map((d) => `${git(d, ["status", "--porcelain=v1", "--untracked-files=all"])}|${git(d, ["for-each-ref", "refs/heads"])}`).join("\n");
}

async function play(repo: string, wts: [string, string], changes: [HistoryCommit, HistoryCommit], common: string, s: Steps, watch?: StoreWatcher): Promise<void> {
  const [a, b] = changes;
  const branches = [`feature/${a.id}`, `feature/${b.id}`];
  const env = (root: string) => {
    const e: Record<string, string> = { ...(process.env as Record<string, string>), SIGNALBOX_ROOT: root };
    delete e.SIGNALBOX_DB;
    return e;
  };
  const pa = new Proc("wt-a");
  const pb = new Proc("wt-b");
  try {
    await pa.start(env(wts[0]));
    await pb.start(env(wts[1]));
    await watch?.follow(wts[0], path.join(repo, ".git", "signalbox"));
    await pa.ok("dispatch_agents", { agents: [{ agent_id: "orch", role: "orchestrator" }, { agent_id: "coder-a", role: "coder" }, { agent_id: "coder-b", role: "coder" }] });
    // The plan as the agents declared it: each forgot the file the other also writes.
    const declared = (c: HistoryCommit) => c.writes.filter((w) => w !== common);
    const plan = await pa.ok<{ plan_id: string; waves: { features: string[] }[] }>("plan_waves", {
      features: [
        { id: a.id, writes: declared(a) },
        { id: b.id, writes: declared(b) },
      ],
      name: "two overlapping changes",
    });
    s.line(pa, "orch", "plan_waves", `${a.id}, ${b.id} (declared writes)`, `${plan.waves.length} wave(s): [${plan.waves[0]?.features.join(", ")}]`, plan.waves.length === 1, "one wave: the declarations do not overlap");
    const startA = await pa.ok<{ branch: string | null }>("start_feature", { agent_id: "coder-a", feature_id: a.id });
    const startB = await pb.ok<{ branch: string | null }>("start_feature", { agent_id: "coder-b", feature_id: b.id });
    s.line(pa, "coder-a", "start_feature", a.id, `branch ${startA.branch}`, startA.branch === branches[0], `the branch of worktree A, ${branches[0]}`);
    s.line(pb, "coder-b", "start_feature", b.id, `branch ${startB.branch}`, startB.branch === branches[1], `the branch of worktree B, ${branches[1]}`);

    const lockA = await pa.ok<{ granted: boolean }>("acquire_lock", { agent_id: "coder-a", paths: [common], mode: "write", feature_id: a.id });
    s.line(pa, "coder-a", "acquire_lock", `${common} (write)`, lockA.granted ? "granted" : "refused", lockA.granted, "granted");
    const lockB = await pb.ok<{ granted: boolean; holders: { agent_id: string }[] }>("acquire_lock", {
      agent_id: "coder-b",
      paths: [path.join(wts[1], common)],
      mode: "write",
      feature_id: b.id,
    });
    s.line(
      pb,
      "coder-b",
      "acquire_lock",
      `${path.join(path.basename(wts[1]), common)} (write, absolute path in the other worktree)`,
      lockB.granted ? "GRANTED" : `refused: held by ${lockB.holders.map((h) => h.agent_id).join(", ")}`,
      !lockB.granted,
      "refused across worktrees: one repository, one store, one key",
    );
    await pa.ok("release_lock", { agent_id: "coder-a", all: true });

    const before = snapshot([repo, ...wts]);
    commitChange(wts[0], a);
    commitChange(wts[1], b);
    const after = snapshot([repo, ...wts]);
    const radar = await pa.ok<Radar>("predict_conflicts", { agent_id: "orch" });
    const pair = radar.pairs[0];
    s.line(
      pa,
      "orch",
      "predict_conflicts",
      "",
      pair ? `${pair.a.branch} x ${pair.b.branch}: ${pair.status} ${pair.conflicts.map((c) => `${c.path} [${c.kind}]`).join(", ")}` : "no pair",
      pair?.status === "conflict" && pair.conflicts.some((c) => c.path === common),
      `a conflict in ${common}, before either branch merges`,
    );
    const inbox = await pb.ok<{ items: { kind: string; summary: string }[] }>("get_inbox", { agent_id: "coder-b" });
    const told = inbox.items.find((m) => m.kind === "merge_conflict");
    s.line(pb, "coder-b", "get_inbox", "", told ? told.summary : "nothing", told !== undefined, "one merge_conflict message");

    const doneA = await pa.ok<Completed>("complete_feature", { agent_id: "coder-a", feature_id: a.id });
    const doneB = await pb.ok<Completed>("complete_feature", { agent_id: "coder-b", feature_id: b.id });
    s.line(pa, "coder-a", "complete_feature", a.id, `${doneA.source}: ${doneA.files_changed.length} file(s), ${doneA.commits.length} commit(s)`, doneA.source === "git" && doneA.files_changed.includes(common), "files and commits read from the branch");
    s.line(pb, "coder-b", "complete_feature", b.id, `${doneB.source}: ${doneB.files_changed.length} file(s), ${doneB.commits.length} commit(s)`, doneB.source === "git" && doneB.files_changed.includes(common), "files and commits read from the branch");

    const rep = await pa.ok<Integrated>("integrate_wave", { agent_id: "orch", plan_id: plan.plan_id, wave_number: 1 });
    const fc = rep.merge?.first_conflict;
    s.line(
      pa,
      "orch",
      "integrate_wave",
      `${plan.plan_id} wave 1`,
      `${rep.status}; merge ${rep.merge?.status ?? "none"}${fc ? `: ${fc.branch} (${fc.feature_id}) conflicts in ${fc.files.join(", ")}` : ""}`,
      rep.status === "failed" && fc?.files.includes(common) === true,
      `failed: the wave merge conflicts in ${common}`,
    );
    const undeclared = rep.undeclared_writes.filter((u) => u.file === common).map((u) => u.feature_id);
    s.line(
      pa,
      "orch",
      "  report (from git)",
      "",
      `undeclared writes of ${common}: ${undeclared.join(", ") || "none"}`,
      undeclared.length === 1 && undeclared[0] === b.id,
      `${b.id} wrote it without declaring or locking it (${a.id} had write-locked it)`,
    );
    const untouched = snapshot([repo, ...wts]) === after && before !== after;
    s.line(pa, "", "git status + branch heads of all worktrees", "", untouched ? "unchanged by signalbox" : "CHANGED", untouched, "signalbox never changes a working tree, index or branch");
  } finally {
    await watch?.release();
    await Promise.allSettled([pa.client.close(), pb.client.close()]);
  }
}

/** Run the git-worktree part; true when every step matched. */
export async function runWorktreeDemo(watch?: StoreWatcher): Promise<boolean> {
  const history = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "fastapi-template-history.json"), "utf8")) as HistoryFile;
  const past = history.tasks.slice(0, history.tasks.length - RECENT);
  const [a, b, common] = pickOverlap(history.tasks.slice(-RECENT));
  console.log(`\n=== 6. Parallel agents in git worktrees: ${past.length} real commits replayed, two later changes (${a.id}, ${b.id}) both write ${common} ===`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-demo-git-"));
  const s = new Steps();
  try {
    const repo = path.join(work, "repo");
    buildHistoryRepo(repo, past);
    const wtA = path.join(work, "wt-a");
    const wtB = path.join(work, "wt-b");
    git(repo, ["worktree", "add", "-q", "-b", `feature/${a.id}`, wtA, "main"]);
    git(repo, ["worktree", "add", "-q", "-b", `feature/${b.id}`, wtB, "main"]);
    console.log(`repository ${repo} (${git(repo, ["rev-list", "--count", "main"])} commits, ${git(repo, ["ls-files"]).split("\n").length} files), worktrees wt-a and wt-b`);
    await play(repo, [fs.realpathSync(wtA), fs.realpathSync(wtB)], [a, b], common, s, watch);
    const store = path.join(repo, ".git", "signalbox");
    s.line(new Proc("git"), "", "the store", "", fs.existsSync(store) ? ".git/signalbox/ (shared by both worktrees)" : "missing", fs.existsSync(store), "in the common git directory");
  } catch (err) {
    s.mismatches.push(`the flow stopped: ${(err as Error).message}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return verdict(s, "Worktree flow DOES NOT match", "Worktree flow: one store for the repository, git's answers over self-reports, conflicts predicted before the merge.");
}
