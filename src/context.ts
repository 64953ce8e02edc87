/**
 * The context object created once per process and passed down to every tool
 * and resource: no module-level mutable state (DESIGN.md, "Layout").
 */
import { Admission } from "./admission.js";
import { ChangeFeed } from "./changes.js";
import { loadConfig, type Config } from "./config.js";
import { DomainMap } from "./domains.js";
import { EventBus } from "./events.js";
import { settleAllCoverage } from "./control/agents.js";
import type { ControlEnv } from "./control/env.js";
import { pruneHolderHistories } from "./control/detectors.js";
import { controlLockHooks } from "./control/hooks.js";
import { LockManager } from "./locks.js";
import { KeyResolver } from "./paths.js";
import { stderrLogger, type Logger } from "./logger.js";
import { resolveRoot, resolveStoreDir } from "./root.js";
import { systemClock, type Clock } from "./store/clock.js";
import { openStore, type Store } from "./store/index.js";

/** Everything a handler needs. */
export interface Context {
  /** Absolute project root; keys are relative to it. */
  readonly root: string;
  readonly config: Config;
  readonly store: Store;
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
}

/**
 * Open the store and build the context.
 * @throws Error if the root is not a directory, the config is invalid or the store cannot be opened.
 */
export function createContext(opts: ContextOptions = {}): Context {
  const root = resolveRoot(opts.root !== undefined ? { root: opts.root } : {});
  const config = opts.config ?? loadConfig(root);
  const store = openStore(opts.storeDir ?? resolveStoreDir(root), { limits: config.limits });
  const clock = opts.clock ?? systemClock();
  const logger = opts.logger ?? stderrLogger();
  const lockSettings = {
    ...config.locks,
    locks_per_agent: config.limits.locks_per_agent,
    queue_depth_per_key: config.limits.queue_depth_per_key,
  };
  const locks = new LockManager(store, clock, lockSettings, controlLockHooks({ store, clock, config }));
  const env: ControlEnv = { store, clock, config };
  locks.sweep();
  const sweepMs = opts.sweepMs ?? 60_000;
  const timer = sweepMs > 0 ? setInterval(() => safeSweep(env, locks, logger), sweepMs) : null;
  timer?.unref();
  let closed = false;
  const changes = new ChangeFeed(() => store.lastTxnId(), opts.changePollMs, (err) =>
    logger.log("warn", "change feed failed", { error: (err as Error).message }),
  );
  return {
    root,
    config,
    store,
    clock,
    logger,
    domains: new DomainMap(config),
    locks,
    keys: new KeyResolver(root, { caseSensitive: config.paths.case_sensitive }),
    admission: new Admission(config.limits.requests_in_flight_per_agent),
    changes,
    events: new EventBus(),
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      changes.close();
      await store.close();
    },
  };
}

/** Housekeeping: expire lapsed locks, judge audit coverage whose grace window ended, prune oscillation histories. */
function safeSweep(env: ControlEnv, locks: LockManager, logger: Logger): void {
  try {
    locks.sweep();
    env.store.write(
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
