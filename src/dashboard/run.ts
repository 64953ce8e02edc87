/**
 * The process behind `signalbox dashboard`: open the root's store read-only
 * in spirit (no radar polling, no housekeeping timer: the dashboard writes
 * nothing), serve the dashboard on loopback, and hand back a one-time link
 * for the command to print.
 */
import { createContext } from "../runtime/context.js";
import { loadConfig } from "../runtime/config.js";
import type { Logger } from "../runtime/logger.js";
import { resolveRoot } from "../runtime/root.js";
import { startDashboardServer } from "./server.js";

/** Options of {@link runDashboard}. */
export interface RunDashboardOptions {
  /** Project root (default as for the server: SIGNALBOX_ROOT, nearest `.git`, cwd). */
  root?: string;
  /** Loopback `HOST:PORT` (default `127.0.0.1:0`: a free port). */
  listen?: string;
  logger?: Logger;
  /** Store folder (default as for the server: SIGNALBOX_DB, else the repository's common git directory). */
  storeDir?: string;
}

/**
 * Open the store, serve the dashboard, return a one-time link (single use,
 * 5 min) and `close()`, which stops the server and closes the store.
 * @throws Error when the root, config or store cannot be opened; InvalidArgumentError naming `--http` for a bad address.
 */
export async function runDashboard(opts: RunDashboardOptions = {}): Promise<{ url: URL; link: URL; close(): Promise<void> }> {
  const root = resolveRoot(opts.root !== undefined ? { root: opts.root } : {});
  const config = loadConfig(root);
  const ctx = createContext({
    root,
    config,
    radarPollMs: 0,
    sweepMs: 0,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.storeDir !== undefined ? { storeDir: opts.storeDir } : {}),
  });
  try {
    const server = await startDashboardServer({ listen: opts.listen ?? "127.0.0.1:0", config, logger: ctx.logger, ctx });
    let closed: Promise<void> | null = null;
    return { url: server.url, link: server.link(), close: () => (closed ??= server.close().finally(() => ctx.close())) };
  } catch (err) {
    await ctx.close();
    throw err;
  }
}
