/**
 * Keeping the conflict radar current: poll the branch heads (one `git
 * for-each-ref`, a few milliseconds) and the set of active feature branches;
 * when either moved since the stored matrix was computed, by this process or
 * any other, compute the matrix again and record it (which tells the agents
 * of newly conflicting pairs, once). Several server processes may watch one
 * repository: the stored fingerprint lets all but the first skip the work,
 * and the pair states recorded in one transaction keep messages from being
 * sent twice.
 */
import type { ControlEnv } from "../control/registry/env.js";
import { nowIso } from "../control/registry/env.js";
import { latestRadar, radarFeatures, recordRadar, type RadarMatrix, type RadarUpdate } from "../control/radar.js";
import type { Logger } from "../runtime/logger.js";
import { branchHeads } from "./refs.js";
import { radarFingerprint, scanRadar, type WatchedFeature } from "./radar-scan.js";
import type { Workspace } from "./workspace.js";

/** The active features that have a branch, as the radar watches them. */
export function watchedFeatures(env: ControlEnv): WatchedFeature[] {
  return radarFeatures(env).map((f) => ({ feature_id: f.feature_id, agent_id: f.agent_id, branch: f.branch as string }));
}

/** Whether `matrix` was computed for exactly these features on these branches. */
function sameBranches(matrix: RadarMatrix, features: readonly WatchedFeature[]): boolean {
  const key = (xs: readonly { branch: string; feature_id: string | null }[]) =>
    xs
      .map((x) => `${x.branch}\0${x.feature_id ?? ""}`)
      .sort()
      .join("\n");
  return key(matrix.branches) === key(features);
}

/** What one {@link RadarWatcher.refresh} did. */
export interface RadarRefresh {
  matrix: RadarMatrix;
  /** False when the stored matrix was already current. */
  recomputed: boolean;
  update: RadarUpdate | null;
}

/** Polls branch heads and keeps the stored radar matrix current. */
export class RadarWatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RadarRefresh | null> | null = null;

  constructor(
    private readonly env: ControlEnv,
    private readonly ws: Workspace,
    private readonly logger: Logger,
  ) {}

  /**
   * Make the stored matrix current: recompute it when the branch heads or
   * the watched features changed since it was stored. Runs one at a time;
   * a call waits for the run in flight and then checks again, so its answer
   * reflects every change made before the call. Null outside git.
   * @throws GitError from git (e.g. `git_too_old`).
   */
  refresh(): Promise<RadarRefresh | null> {
    const next = (this.running ?? Promise.resolve(null)).catch(() => null).then(() => this.run());
    this.running = next;
    next
      .finally(() => {
        if (this.running === next) this.running = null;
      })
      .catch(() => undefined);
    return next;
  }

  private async run(): Promise<RadarRefresh | null> {
    const repo = this.ws.repo;
    if (!repo) return null;
    const features = watchedFeatures(this.env);
    const stored = latestRadar(this.env);
    // Fewer than two watched branches make no pair: an idle server asks git nothing.
    if (features.length < 2 && stored && stored.pairs.length === 0 && sameBranches(stored, features)) {
      return { matrix: stored, recomputed: false, update: null };
    }
    const fingerprint = radarFingerprint(this.ws.targetBranch(), await branchHeads(repo.worktree), features);
    if (stored && stored.fingerprint === fingerprint) return { matrix: stored, recomputed: false, update: null };
    const matrix = await scanRadar(this.ws, features, { now: nowIso(this.env) });
    const update = recordRadar(this.env, matrix);
    return { matrix, recomputed: true, update };
  }

  /** Refresh every `intervalMs` until {@link stop} (a failure is logged, the next tick tries again). */
  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0 || !this.ws.isGit) return;
    this.timer = setInterval(() => {
      if (this.running) return; // the run in flight will see what this tick would
      this.refresh().catch((err: unknown) => this.logger.log("warn", "radar refresh failed", { error: (err as Error).message }));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stop polling and wait for a refresh in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
