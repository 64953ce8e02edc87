/**
 * Section 7: the conflict radar on a repository the size of the bundled
 * fastapi template history (1,483 real commits replayed with their paths,
 * about 1,200 files), with 8 active feature branches, each replaying one of
 * the history's last 8 real commits (several of them write the same files):
 * 28 pairs, each a real `git merge-tree --write-tree`. The floor is the
 * cheapest git process per pair (`git rev-parse --verify`), run the same way
 * (28 processes, 2 at a time), in the same run.
 */
import fs from "node:fs";
import path from "node:path";
import { buildHistoryRepo, replayOnBranch, type HistoryFile } from "../src/cli/demo-repo.js";
import { runGit } from "../src/git/cli.js";
import { scanRadar, type WatchedFeature } from "../src/git/radar-scan.js";
import { discoverRepo } from "../src/git/repo.js";
import { Workspace } from "../src/git/workspace.js";
import { EXAMPLES, median, tempDir, timeAsync } from "./lib.js";

/** Figures of section 7 (ms unless named otherwise). */
export interface RadarBench {
  commits: number;
  files: number;
  branches: number;
  pairs: number;
  conflicting_pairs: number;
  build_ms: number;
  scan_ms: number;
  scan_runs_ms: number[];
  floor_ms: number;
  ratio: number;
  goal_ms: number;
}

const BRANCHES = 8;

async function floorRun(cwd: string, refs: string[]): Promise<number> {
  const pairs = refs.flatMap((a, i) => refs.slice(i + 1).map((b) => [a, b] as const));
  const t = await timeAsync(async () => {
    let next = 0;
    const worker = async () => {
      while (next < pairs.length) {
        const [, b] = pairs[next++] as readonly [string, string];
        await runGit(cwd, ["rev-parse", "--verify", "--quiet", b]);
      }
    };
    await Promise.all([worker(), worker()]);
  });
  return t.ms;
}

/** Build the repository, then time three radar scans against three floor runs, interleaved. */
export async function benchRadar(): Promise<RadarBench> {
  const history = JSON.parse(fs.readFileSync(path.join(EXAMPLES, "fastapi-template-history.json"), "utf8")) as HistoryFile;
  const tmp = tempDir("signalbox-bench-radar-");
  try {
    const dir = path.join(tmp.dir, "repo");
    const base = history.tasks.slice(0, history.tasks.length - BRANCHES);
    const t0 = performance.now();
    const head = buildHistoryRepo(dir, base);
    const features: WatchedFeature[] = history.tasks.slice(-BRANCHES).map((c, i) => {
      const branch = `feature/${i + 1}-${c.id}`;
      replayOnBranch(dir, branch, head, c);
      return { feature_id: `F${i + 1}`, agent_id: `coder-${i + 1}`, branch };
    });
    const build_ms = performance.now() - t0;
    const ws = new Workspace(dir, discoverRepo(dir), "main");
    const files = (await runGit(dir, ["ls-files"])).stdout.split("\n").filter(Boolean).length;
    const scans: number[] = [];
    const floors: number[] = [];
    let conflicting = 0;
    let pairs = 0;
    for (let i = 0; i < 3; i++) {
      floors.push(await floorRun(dir, features.map((f) => f.branch)));
      const s = await timeAsync(() => scanRadar(ws, features, { now: new Date().toISOString() }));
      scans.push(s.ms);
      pairs = s.value.pairs.length;
      conflicting = s.value.pairs.filter((p) => p.status === "conflict").length;
    }
    const scan_ms = median(scans);
    const floor_ms = median(floors);
    return {
      commits: base.length + BRANCHES,
      files,
      branches: BRANCHES,
      pairs,
      conflicting_pairs: conflicting,
      build_ms,
      scan_ms,
      scan_runs_ms: scans,
      floor_ms,
      ratio: scan_ms / floor_ms,
      goal_ms: 2000,
    };
  } finally {
    tmp.cleanup();
  }
}
