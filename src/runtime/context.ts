/**
 * The context object created once per process and passed down to every tool
 * and resource: no module-level mutable state (DESIGN.md, "Layout").
 */
import path from "node:path";
import { Admission } from "./admission.js";
import { ChangeFeed } from "./changes.js";
import { loadConfig, type Config } from "./config.js";
import { DomainMap } from "../analysis/domains.js";
import { EventBus } from "./events.js";
import { settleAllCoverage } from "../control/registry/agents.js";
import type { ControlEnv } from "../control/registry/env.js";
import { pruneHolderHistories } from "../control/detectors.js";
import { controlLockHooks } from "../control/lock-hooks.js";
import { LockManager } from "../locks/manager.js";
import { KeyResolver } from "../paths.js";
import { stderrLogger, type Logger } from "./logger.js";
import { discoverRepo } from "../git/repo.js";
import { RadarWatcher } from "../git/radar-watch.js";
import { Workspace } from "../git/workspace.js";
import { prepareStore, resolveRoot, STORE_FILE } from "./root.js";
import { systemClock, type Clock } from "../store/clock.js";
import { openStore, type Store } from "../store/lmdb/store.js";
import { lmdbAccess } from "../store/lmdb/engine.js";
import type { Db, TxnScope } from "../store/txn.js";
import { storeLinkNames } from "../store/lmdb/link-names.js";

/** Everything a handler needs. */
export interface Context {
  /** Absolute project root (inside git: this server's worktree); keys are relative to it. */
  readonly root: string;
  /** The repository, worktree and branch this server runs in, and the target branch (null facts outside git). */
  readonly git: Workspace;
  readonly config: Config;
  readonly store: Store;
  /** The transactions synchronous domain code runs in (control/registry/env.ts): LMDB's, joined when one is open. */
  readonly txn: TxnScope;
  /** The store port on this process's store (store/port.ts): typed transactions, group commit. */
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly domains: DomainMap;
  readonly locks: LockManager;
  /** Lock keys resolved on the filesystem: symlinks followed, never outside the root, case-folded on a case-insensitive root. */
  readonly keys: KeyResolver;
  /** Calls in flight per agent in this process (limits.requests_in_flight_per_agent). */
  readonly admission: Admission;
  /** Commits by any process on the store, polled while anyone listens (resource subscriptions). */
  readonly changes: ChangeFeed;
  /** Coordination events decided in this process (MCP logging notifications). */
  readonly events: EventBus;
  /** The conflict radar: predicted merge conflicts between active feature branches, kept current by polling branch heads. */
  readonly radar: RadarWatcher;
  /** Stop timers and close the store. */
  close(): Promise<void>;
}

/** Options for {@link createContext}; everything has a default. */
export interface ContextOptions {
  root?: string;
  storeDir?: string;
  config?: Config;
  clock?: Clock;
  logger?: Logger;
  /** Interval of lock-table housekeeping in ms (default 60 s; 0 disables). */
  sweepMs?: number;
  /** Poll interval of the change feed in ms (default CHANGE_POLL_MS). */
  changePollMs?: number;
  /** Poll interval of the conflict radar in ms (default the config's `git.radar_poll_ms`; 0 disables). */
  radarPollMs?: number;
}

/**
 * Open the store and build the context.
 * @throws Error if the root is not a directory, the config is invalid or the store cannot be opened.
 */
export function createContext(opts: ContextOptions = {}): Context {
  const root = resolveRoot(opts.root !== undefined ? { root: opts.root } : {});
  const config = opts.config ?? loadConfig(root);
  const logger = opts.logger ?? stderrLogger();
  const repo = discoverRepo(root);
  const storeDir = opts.storeDir ?? prepareStore(root, process.env, (line) => logger.log("warn", line), repo).dir;
  const store = openStore(storeDir, { limits: config.limits });
  const clock = opts.clock ?? systemClock();
  const git = new Workspace(root, repo, config.git.target_branch);
  const lockSettings = {
    ...config.locks,
    locks_per_agent: config.limits.locks_per_agent,
    queue_depth_per_key: config.limits.queue_depth_per_key,
  };
  // Group commit is off unless SIGNALBOX_GROUP_COMMIT=1: with it on, the kill -9 torture run inside
  // the full test suite recorded grants that were answered but not in the store (docs/store-port.md).
  const access = lmdbAccess(store, clock, { groupCommit: process.env.SIGNALBOX_GROUP_COMMIT === "1" });
  const { engine, txn } = access;
  const env: ControlEnv = { txn, clock, config };
  // Another process's commit reaches subscribers and this process's lock waiters through a watch
  // on the data file, confirmed by the id a fresh read sees (runtime/changes.ts, docs/change-feed.md).
  const changes = new ChangeFeed(
    () => store.lastTxnId(),
    opts.changePollMs,
    (err) => logger.log("warn", "change feed failed", { error: (err as Error).message }),
    { watchFile: path.join(store.dir, STORE_FILE) },
  );
  const locks = new LockManager(access, lockSettings, controlLockHooks(env), changes);
  locks.sweep();
  const sweepMs = opts.sweepMs ?? 60_000;
  const timer = sweepMs > 0 ? setInterval(() => safeSweep(env, locks, logger), sweepMs) : null;
  timer?.unref();
  const radar = new RadarWatcher(env, git, logger);
  radar.start(opts.radarPollMs ?? config.git.radar_poll_ms);
  let closed = false;
  return {
    root,
    git,
    config,
    store,
    txn,
    db: access.db,
    clock,
    logger,
    domains: new DomainMap(config),
    locks,
    keys: new KeyResolver(root, { caseSensitive: config.paths.case_sensitive, worktrees: () => git.otherWorktrees(), links: storeLinkNames(store) }),
    admission: new Admission(config.limits.requests_in_flight_per_agent),
    changes,
    events: new EventBus(),
    radar,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      changes.close();
      await radar.stop();
      await engine.idle();
      await store.close();
    },
  };
}

/** Housekeeping: expire lapsed locks, judge audit coverage whose grace window ended, prune oscillation histories. */
function safeSweep(env: ControlEnv, locks: LockManager, logger: Logger): void {
  try {
    locks.sweep();
    env.txn.write(
      () => {
        settleAllCoverage(env);
        pruneHolderHistories(env, env.clock.monoMs());
      },
      { housekeeping: true },
    );
  } catch (err) {
    logger.log("warn", "housekeeping failed", { error: (err as Error).message });
  }
}
