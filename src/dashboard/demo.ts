/**
 * The dashboard of `npm run demo`: one loopback server in the demo's own
 * process whose page follows the store each section plays on. A section
 * calls `follow(root, storeDir)` once its servers have opened the store and
 * `release()` before it removes it; the open page reconnects to each new
 * store by itself. The dashboard opens its own read-side Context per store
 * (no radar polling, no housekeeping timer) and listens to the store only
 * while a page is open, so an unwatched demo runs as fast as before.
 */
import { parseConfig } from "../runtime/config.js";
import { createContext, type Context } from "../runtime/context.js";
import type { Logger } from "../runtime/logger.js";
import { startDashboardServer, type DashboardServer } from "./server.js";

/** What a demo section tells the dashboard: the store it opened, and that it is about to remove it. */
export interface StoreWatcher {
  /** Show the store at `storeDir` (project root `root`) from now on. */
  follow(root: string, storeDir: string): Promise<void>;
  /** Stop showing the current store (before it is removed). */
  release(): Promise<void>;
}

/** A dashboard server that follows the demo from store to store. */
export class DemoDashboard implements StoreWatcher {
  private ctx: Context | null = null;

  private constructor(
    private readonly server: DashboardServer,
    private readonly logger: Logger,
    private readonly pause: (() => Promise<void>) | null,
  ) {}

  /**
   * Listen on 127.0.0.1 (a free port), showing no store yet.
   * @param pause when given, called at the end of every section while its
   *        store is still shown (`signalbox demo --pause` waits for Enter there)
   */
  static async start(logger: Logger, pause?: () => Promise<void>): Promise<DemoDashboard> {
    const server = await startDashboardServer({ ctx: null, config: parseConfig({}), logger });
    return new DemoDashboard(server, logger, pause ?? null);
  }

  /** A fresh one-time link (single use, 5 min). */
  link(): URL {
    return this.server.link();
  }

  async follow(root: string, storeDir: string): Promise<void> {
    await this.release();
    try {
      this.ctx = createContext({ root, storeDir, radarPollMs: 0, sweepMs: 0, logger: this.logger });
      this.server.use(this.ctx);
    } catch (err) {
      // The dashboard is a bystander: a store it cannot open must not stop the demo.
      this.logger.log("warn", "demo dashboard cannot open the store", { store: storeDir, error: (err as Error).message });
    }
  }

  async release(): Promise<void> {
    if (this.ctx && this.pause) await this.pause();
    this.server.use(null);
    const ctx = this.ctx;
    this.ctx = null;
    await ctx?.close();
  }

  /** Stop the server and close the store shown, if any. */
  async close(): Promise<void> {
    await this.release();
    await this.server.close();
  }
}
