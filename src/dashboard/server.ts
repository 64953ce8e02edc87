/**
 * `signalbox dashboard`: the dashboard alone, on loopback, for one-time links
 * only (no bearer tokens needed or taken). The same Host and Origin checks
 * as `/mcp` (runtime/http.ts `allowedHosts`, `originAllowed`) come before
 * every path; a path that is not the dashboard's is 404.
 *
 * The store shown can change while the server runs (`use`): `npm run demo`
 * plays several stores one after the other and the open page follows (its
 * event stream ends and reconnects to the new store; the session lives on).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type net from "node:net";
import { InvalidArgumentError } from "../errors.js";
import type { Config } from "../runtime/config.js";
import { allowedHosts, allowedOrigins, originAllowed, parseListen } from "../runtime/http.js";
import type { Logger } from "../runtime/logger.js";
import type { AssetStore } from "./assets.js";
import { StateFeed, type StateFeedOptions } from "./feed.js";
import { sendText } from "./headers.js";
import { DashboardRoutes } from "./routes.js";
import type { DashboardContext } from "./state.js";

/** Options of {@link startDashboardServer}. */
export interface DashboardServerOptions {
  /** `HOST:PORT`, `:PORT` or `PORT` on a loopback host (default `127.0.0.1:0`: a free port). */
  listen?: string;
  /** For `http.allowed_hosts` and `http.allowed_origins`. */
  config: Config;
  logger: Logger;
  /** The store to show (null: none yet; see {@link DashboardServer.use}). */
  ctx: DashboardContext | null;
  /** The page's files (default: the package's `dist/web`). */
  assets?: AssetStore;
  /** Timings of the live feed. */
  feed?: StateFeedOptions;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** `http://HOST:PORT/` with the real port. */
  readonly url: URL;
  /** A fresh one-time link (`<url>?token=...`): single use, valid 5 min. */
  link(): URL;
  /** Show another store from now on (null: none); open pages reconnect to it. */
  use(ctx: DashboardContext | null): void;
  /** Stop listening and end every stream and connection. Contexts stay open (the caller's). */
  close(): Promise<void>;
}

/**
 * Listen on a loopback address and serve the dashboard of `opts.ctx`.
 * @throws InvalidArgumentError naming `--http` for a malformed or non-loopback address (serve a network with
 *         `signalbox serve --http`, which takes bearer tokens), or when the port cannot be listened on.
 */
export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const addr = parseListen(opts.listen ?? "127.0.0.1:0");
  if (!addr.loopback) {
    throw new InvalidArgumentError(
      "--http",
      `signalbox dashboard serves loopback only (127.0.0.1, ::1, localhost), not ${addr.host}; to reach it from other machines use signalbox serve --http with bearer tokens, which serves the dashboard at /`,
    );
  }
  const log = opts.logger;
  let feed = opts.ctx === null ? null : new StateFeed(opts.ctx, opts.feed);
  const routes = new DashboardRoutes({ logger: log, source: () => feed, ...(opts.assets ? { assets: opts.assets } : {}) });
  let hosts = new Set<string>();
  const origins = allowedOrigins(opts.config);
  let closing = false;

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (closing) return sendText(res, 503, "Service Unavailable: the dashboard is shutting down");
    const host = req.headers.host?.toLowerCase();
    if (host === undefined || !hosts.has(host)) {
      log.log("warn", "dashboard request refused: Host not allowed", { host: req.headers.host ?? null, remote: req.socket.remoteAddress });
      return sendText(res, 403, `Forbidden: Host ${JSON.stringify(req.headers.host ?? "")} is not allowed (see http.allowed_hosts)`);
    }
    if (!originAllowed(req.headers.origin, hosts, origins)) {
      log.log("warn", "dashboard request refused: Origin not allowed", { origin: req.headers.origin ?? null, remote: req.socket.remoteAddress });
      return sendText(res, 403, `Forbidden: Origin ${JSON.stringify(req.headers.origin)} is not allowed (see http.allowed_origins)`);
    }
    if (!(await routes.handle(req, res))) sendText(res, 404, "Not Found: the dashboard is served at /");
  };

  const server = http.createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log.log("error", "dashboard request failed", { error: (err as Error).message });
      sendText(res, 500, "Internal Server Error");
    });
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(new InvalidArgumentError("--http", `cannot listen on ${addr.host}:${addr.port}: ${err.code ?? err.message}`));
    server.once("error", failed);
    server.listen(addr.port, addr.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  server.on("error", (err) => log.log("error", "dashboard server error", { error: err.message }));
  const port = (server.address() as net.AddressInfo).port;
  hosts = allowedHosts(addr, port, opts.config.http.allowed_hosts);
  const url = new URL(`http://${addr.host.includes(":") ? `[${addr.host}]` : addr.host}:${port}/`);

  return {
    url,
    link: () => routes.link(url),
    use(ctx) {
      feed?.close();
      feed = ctx === null ? null : new StateFeed(ctx, opts.feed);
    },
    async close() {
      if (closing) return;
      closing = true;
      feed?.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await stopped;
    },
  };
}
