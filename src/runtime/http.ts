/**
 * `signalbox serve --http HOST:PORT` (README, "Over HTTP: agents on several
 * machines"): the same tools and resources over MCP Streamable HTTP from one
 * process, at `/mcp`.
 *
 * - One Context (one store open) per process; each MCP session gets its own
 *   McpServer (`createServer`) and its own stateful
 *   `StreamableHTTPServerTransport` (session id: `randomUUID`).
 * - Every request passes, in this order: Host check (DNS-rebinding
 *   protection, 403), Origin check (403), path (`/mcp` only, 404), bearer
 *   token (401 with `WWW-Authenticate: Bearer`), session (404 when unknown or
 *   opened under another token). The token's grant travels to the tool
 *   handlers as `extra.authInfo` (src/runtime/auth.ts `GRANT_KEY`), where
 *   tools/register.ts refuses an `agent_id` the token does not cover.
 * - Bodies over `maxBodyBytes` are refused 413 by the SDK transport itself
 *   (`maxRequestBodySize`); the transport's own DNS-rebinding options are
 *   deprecated in SDK 1.32 ("use external middleware"), so the Host/Origin
 *   checks live here.
 * - Sessions idle (no request in flight) for `idleMs` are closed; DELETE
 *   ends a session; `close()` ends them all.
 * - With `dashboard` (on for `serve --http`), every other path goes to the
 *   read-only web dashboard (src/dashboard/routes.ts) after the same Host and
 *   Origin checks: a page and its JSON/SSE feed for holders of a bearer token
 *   or of a dashboard session; a path it does not serve is still 404.
 *
 * Nothing is written to stdout.
 */
import { resolveToolsets, type Toolset } from "../../tools/toolsets.js";
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { GRANT_KEY, matchToken, resolveTokens, sameDigest, tokenDigest, type ResolvedToken, type TokenGrant } from "./auth.js";
import { loadConfig, type Config } from "./config.js";
import { createContext, type Context } from "./context.js";
import type { Logger } from "./logger.js";
import { resolveRoot } from "./root.js";
import { createServer } from "../server.js";
import { DashboardRoutes } from "../dashboard/routes.js";
import { StateFeed } from "../dashboard/feed.js";

/** The only path MCP is served at. */
export const MCP_PATH = "/mcp";
/** Default upper bound on a request body, in bytes (4 MiB); larger bodies get 413. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Default idle time after which a session is closed, in ms (30 min). */
export const DEFAULT_IDLE_MS = 30 * 60_000;

// ---------------------------------------------------------------------------
// The listen address

/** A parsed `--http` value. */
export interface ListenAddress {
  /** Host as given, without brackets (`127.0.0.1`, `::1`, `0.0.0.0`, `buildbox`); `127.0.0.1` when omitted. */
  readonly host: string;
  /** TCP port, 0..65535 (0: any free port). */
  readonly port: number;
  /** Whether the host is a loopback address or `localhost`. */
  readonly loopback: boolean;
  /** Whether the host is the wildcard address (`0.0.0.0` or `::`): every interface. */
  readonly wildcard: boolean;
}

const LISTEN_FORMS = "HOST:PORT, :PORT or PORT (e.g. 127.0.0.1:8765, [::1]:8765, :8765)";
const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/i;

/**
 * Parse a `--http` value: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT`
 * (host defaults to 127.0.0.1).
 * @throws Error starting with `--http:` naming the expected forms.
 */
export function parseListen(value: string): ListenAddress {
  const bad = (why: string) => new Error(`--http: expected ${LISTEN_FORMS}, got ${JSON.stringify(value)} (${why})`);
  const m = /^(?:(?:\[([^\]]*)\]|([^:[\]]*)):)?(\d+)$/.exec(value.trim());
  if (!m) throw bad("not of that form");
  const host = (m[1] ?? m[2] ?? "") || "127.0.0.1";
  const port = Number(m[3]);
  if (!Number.isSafeInteger(port) || port > 65535) throw bad("the port must be 0..65535");
  if (m[1] !== undefined && net.isIPv6(host) === false) throw bad("brackets hold an IPv6 address");
  if (m[1] === undefined && net.isIP(host) === 0 && !HOSTNAME.test(host)) throw bad("the host is neither an IP address nor a host name");
  const lower = host.toLowerCase();
  const loopback = lower === "localhost" || lower === "::1" || (net.isIPv4(host) && host.startsWith("127."));
  const wildcard = host === "0.0.0.0" || host === "::";
  return { host, port, loopback, wildcard };
}

/** `host:port` as it appears in a Host header or URL (IPv6 in brackets), lower-case. */
function authority(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`.toLowerCase();
}

/**
 * The Host header values accepted (DNS-rebinding protection), lower-case:
 * the listening host:port; on loopback also localhost / 127.0.0.1 / [::1]
 * with the port; on the wildcard address every local interface address with
 * the port (an IP literal cannot be rebound); on port 80 each also without
 * the port; plus `http.allowed_hosts`,
 * where an entry without a port matches that host bare (behind a proxy) or
 * with the listening port.
 */
export function allowedHosts(addr: ListenAddress, port: number, extra: readonly string[]): Set<string> {
  const hosts = new Set([authority(addr.host, port)]);
  const local = addr.loopback ? ["localhost", "127.0.0.1", "::1"] : [];
  if (addr.wildcard) {
    local.push("localhost");
    for (const ifaces of Object.values(os.networkInterfaces())) {
      for (const i of ifaces ?? []) if (!i.address.includes("%")) local.push(i.address);
    }
  }
  for (const h of local) hosts.add(authority(h, port));
  // On port 80 clients leave the port out of the Host header.
  if (port === 80) for (const h of [...hosts]) hosts.add(h.replace(/:80$/, ""));
  for (const entry of extra) {
    const e = entry.trim().toLowerCase();
    hosts.add(e);
    if (!/^(?:\[[^\]]*\]|[^:]+):\d+$/.test(e)) hosts.add(`${e}:${port}`);
  }
  return hosts;
}

/** The configured `http.allowed_origins`, normalised for {@link originAllowed} (lower-case, no trailing slash). */
export function allowedOrigins(config: Config): Set<string> {
  return new Set(config.http.allowed_origins.map((o) => o.trim().toLowerCase().replace(/\/+$/, "")));
}

/**
 * Whether an `Origin` header is acceptable (DNS-rebinding and cross-site
 * protection): absent (not a browser, or a same-origin GET), listed in
 * `origins` ({@link allowedOrigins}), or `http(s)://` to a host in `hosts`
 * ({@link allowedHosts}).
 */
export function originAllowed(origin: string | undefined, hosts: ReadonlySet<string>, origins: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  const o = origin.trim().toLowerCase();
  if (origins.has(o)) return true;
  try {
    const u = new URL(o);
    if (u.protocol !== "http:" && u.protocol !== "https:") return false;
    // An origin leaves its scheme's default port out; the listening address may be on it.
    return hosts.has(u.host) || hosts.has(`${u.host}:${u.protocol === "https:" ? 443 : 80}`);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Settings checked before anything starts

/**
 * Check what `serve --http` needs before opening the store: the listen
 * address parses and at least one bearer token is configured and resolves.
 * Authentication is always on (README, "Configuration" under "Over HTTP"):
 * with no token, serving is refused, on loopback as on a network.
 * @throws Error naming `--http`, `http.tokens` or `http.tokens[i].token_env`.
 */
export function checkHttpSettings(config: Config, listen: string): { addr: ListenAddress; tokens: ResolvedToken[] } {
  const addr = parseListen(listen);
  const tokens = resolveTokens(config.http.tokens);
  if (tokens.length === 0) {
    const where = addr.loopback
      ? "authentication is always on, even on loopback"
      : `serving without authentication on a network address (${addr.host}) is refused`;
    throw new Error(
      `http.tokens: no bearer token configured; ${where}. Add one to signalbox.config.json, e.g. ` +
        `"http": { "tokens": [{ "name": "laptop", "token_env": "SIGNALBOX_TOKEN", "agents": ["*"] }] }`,
    );
  }
  return { addr, tokens };
}

// ---------------------------------------------------------------------------
// Answers

/** Answer with a JSON-RPC error body (the SDK transport's shape) and `status`. */
function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = -32000): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(body);
}

/**
 * The grant of the request's bearer token, or the refusal to send (RFC 6750:
 * no credentials -> a bare `Bearer` challenge; bad credentials ->
 * `error="invalid_token"`).
 */
function authenticate(req: IncomingMessage, tokens: readonly ResolvedToken[]): { grant: TokenGrant; token: string } | { challenge: string; message: string } {
  const header = req.headers.authorization;
  if (header === undefined) {
    return { challenge: 'Bearer realm="signalbox"', message: "Unauthorized: an Authorization: Bearer <token> header is required" };
  }
  const m = /^Bearer +(\S+) *$/i.exec(header);
  const grant = m?.[1] !== undefined ? matchToken(tokens, m[1]) : null;
  if (m?.[1] === undefined || grant === null) {
    const why = m ? "the bearer token is not valid" : "expected Authorization: Bearer <token>";
    return { challenge: `Bearer realm="signalbox", error="invalid_token", error_description="${why}"`, message: `Unauthorized: ${why}` };
  }
  return { grant, token: m[1] };
}

// ---------------------------------------------------------------------------
// The server

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  /** `HOST:PORT`, `:PORT` or `PORT` (see {@link parseListen}); port 0 picks a free port. */
  listen: string;
  /** A session with no request in flight for this long is closed, in ms (default 30 min). */
  idleMs?: number;
  /** Larger request bodies are refused 413, in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** Monotonic clock in ms for idle times (default `performance.now`; tests inject one). */
  now?: () => number;
  /** Toolsets each new session starts with (default: the config's `tools.toolsets`); `enable_toolsets` adds per session. */
  toolsets?: readonly Toolset[];
  /** Also serve the read-only web dashboard at `/` (src/dashboard/) to holders of a bearer token (default false: `/mcp` only). */
  dashboard?: boolean;
}

/** A running HTTP server (see {@link createHttpServer}). */
export interface HttpServer {
  /** `http://HOST:PORT/mcp` with the real port. */
  readonly url: URL;
  /** The open MCP sessions, now. */
  sessions(): SessionInfo[];
  /** Close the sessions idle for longer than `idleMs` now; returns how many were closed (also runs on a timer). */
  sweepIdle(): Promise<number>;
  /** A fresh one-time dashboard link (`http://HOST:PORT/?token=...`, single use, 5 min), or null when the dashboard is off. */
  dashboardLink(): URL | null;
  /** Stop listening, end every session and connection. The context stays open (the caller's). */
  close(): Promise<void>;
}

/** What {@link HttpServer.sessions} tells about one session. */
export interface SessionInfo {
  /** The `Mcp-Session-Id`. */
  readonly id: string;
  /** Label of the token that opened it (config `http.tokens[].name`). */
  readonly tokenName: string;
  /** Requests in flight, an open GET (SSE) stream included. */
  readonly inFlight: number;
  /** Time since its last call (any request but a GET stream) ended, in ms (0 while a call is in flight). */
  readonly idleMs: number;
}

/** One MCP session: its transport, its server, the token that opened it. */
interface Session {
  readonly transport: StreamableHTTPServerTransport;
  readonly close: () => Promise<void>;
  /** Label of the token that opened the session. */
  readonly tokenName: string;
  /** SHA-256 of the token that opened it: requests presenting any other token do not find the session. */
  readonly tokenDigest: Buffer;
  /** Requests in flight, an open GET (SSE) stream included. */
  inFlight: number;
  /** Requests in flight other than GET streams: only these keep a session from idling. */
  callsInFlight: number;
  /** When its last request other than a GET stream ended (or it opened). */
  lastSeen: number;
}

/**
 * Serve `ctx` over Streamable HTTP at `http://HOST:PORT/mcp`. Resolves
 * once listening. Every session shares `ctx` (one store); `close()` leaves
 * `ctx` open.
 * @throws Error naming `--http` (malformed address, cannot listen), `http.tokens` (none configured) or `http.tokens[i].token_env` (unset).
 */
export async function createHttpServer(ctx: Context, opts: HttpServerOptions): Promise<HttpServer> {
  const { addr, tokens } = checkHttpSettings(ctx.config, opts.listen);
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = opts.now ?? (() => performance.now());
  const log = ctx.logger;
  const sessions = new Map<string, Session>();
  let hosts = new Set<string>();
  const origins = allowedOrigins(ctx.config);
  let closing = false;
  // The read-only dashboard at `/` (src/dashboard/), for the same bearer tokens; off unless asked for.
  const feed = opts.dashboard ? new StateFeed(ctx) : null;
  const dashboard = feed ? new DashboardRoutes({ tokens, logger: log, source: () => feed }) : null;

  const openSession = async (tokenName: string, digest: Buffer): Promise<Session> => {
    const mcp = createServer(ctx, opts.toolsets ? { toolsets: opts.toolsets } : {});
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      maxRequestBodySize: maxBodyBytes,
      onsessioninitialized: (id) => {
        sessions.set(id, session);
        log.log("info", "http session opened", { session: id.slice(0, 8), token: tokenName, sessions: sessions.size });
      },
    });
    const session: Session = { transport, close: mcp.close, tokenName, tokenDigest: digest, inFlight: 0, callsInFlight: 0, lastSeen: now() };
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id !== undefined && sessions.delete(id)) log.log("info", "http session closed", { session: id.slice(0, 8), token: tokenName });
    };
    transport.onerror = (err) => log.log("debug", "http transport refused a request", { error: err.message });
    await mcp.server.connect(transport);
    return session;
  };

  const handle = async (session: Session, req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse): Promise<void> => {
    // An open GET stream alone does not keep a session alive: a session idles from its last call.
    const call = req.method !== "GET";
    session.inFlight += 1;
    if (call) session.callsInFlight += 1;
    res.once("close", () => {
      session.inFlight -= 1;
      if (!call) return;
      session.callsInFlight -= 1;
      session.lastSeen = now();
      // The connection went away before the answer: nobody will receive it. End the session, which aborts its
      // calls in flight (the SDK's Protocol aborts every handler on close), so a queued acquire_lock leaves the
      // queue now instead of being granted to nobody for its whole lease.
      if (!res.writableFinished && !closing) {
        log.log("info", "http connection dropped with a call in flight: session closed", { session: session.transport.sessionId?.slice(0, 8) ?? null });
        void session.close().catch(() => undefined);
      }
    });
    await session.transport.handleRequest(req, res);
  };

  /** Why a new session of the token with digest `digest` may not open now (the caps of config `http`), or null. */
  const overCap = (digest: Buffer, tokenName: string): string | null => {
    const { max_sessions, max_sessions_per_token } = ctx.config.http;
    const own = [...sessions.values()].filter((s) => sameDigest(s.tokenDigest, digest)).length;
    if (own >= max_sessions_per_token) {
      return `Too Many Requests: token "${tokenName}" has ${own} sessions open (http.max_sessions_per_token = ${max_sessions_per_token}); end one (DELETE /mcp) or wait for idle ones to close`;
    }
    if (sessions.size >= max_sessions) return `Too Many Requests: ${sessions.size} sessions open (http.max_sessions = ${max_sessions}); try again later`;
    return null;
  };

  const onRequest = async (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse): Promise<void> => {
    if (closing) return refuse(res, 503, "Service Unavailable: the server is shutting down");
    const host = req.headers.host?.toLowerCase();
    if (host === undefined || !hosts.has(host)) {
      log.log("warn", "http request refused: Host not allowed", { host: req.headers.host ?? null, remote: req.socket.remoteAddress });
      return refuse(res, 403, `Forbidden: Host ${JSON.stringify(req.headers.host ?? "")} is not allowed (see http.allowed_hosts)`);
    }
    const origin = req.headers.origin;
    if (!originAllowed(origin, hosts, origins)) {
      log.log("warn", "http request refused: Origin not allowed", { origin: origin ?? null, remote: req.socket.remoteAddress });
      return refuse(res, 403, `Forbidden: Origin ${JSON.stringify(origin)} is not allowed (see http.allowed_origins)`);
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path !== MCP_PATH) {
      if (dashboard !== null && (await dashboard.handle(req, res))) return;
      return refuse(res, 404, `Not Found: MCP is served at ${MCP_PATH}`);
    }
    const auth = authenticate(req, tokens);
    if ("challenge" in auth) {
      log.log("warn", "http request refused: bad or missing bearer token", { remote: req.socket.remoteAddress });
      return refuse(res, 401, auth.message, { "WWW-Authenticate": auth.challenge });
    }
    req.auth = { token: auth.token, clientId: auth.grant.name, scopes: [], extra: { [GRANT_KEY]: auth.grant } };

    const id = req.headers["mcp-session-id"];
    if (typeof id === "string") {
      const session = sessions.get(id);
      // A session opened under another token is not found: a session id is no credential.
      if (session === undefined || !sameDigest(session.tokenDigest, tokenDigest(auth.token))) return refuse(res, 404, "Session not found", {}, -32001);
      return handle(session, req, res);
    }
    if (req.method !== "POST") {
      if (req.method === "GET" || req.method === "DELETE") return refuse(res, 400, "Bad Request: Mcp-Session-Id header is required");
      return refuse(res, 405, "Method not allowed.", { Allow: "GET, POST, DELETE" });
    }
    // No session yet: a fresh transport answers; it keeps a session only if this was an initialize request.
    const digest = tokenDigest(auth.token);
    if (overCap(digest, auth.grant.name) !== null) await sweepIdle();
    const full = overCap(digest, auth.grant.name);
    if (full !== null) {
      log.log("warn", "http session refused: cap reached", { token: auth.grant.name, sessions: sessions.size });
      return refuse(res, 429, full, { "Retry-After": String(Math.ceil(Math.min(idleMs, 60_000) / 1000)) });
    }
    const session = await openSession(auth.grant.name, digest);
    try {
      await handle(session, req, res);
    } finally {
      if (session.transport.sessionId === undefined) await session.close();
    }
  };

  const server = http.createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log.log("error", "http request failed", { error: (err as Error).message });
      refuse(res, 500, "Internal Server Error");
    });
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(new Error(`--http: cannot listen on ${authority(addr.host, addr.port)}: ${err.code ?? err.message}`));
    server.once("error", failed);
    server.listen(addr.port, addr.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  server.on("error", (err) => log.log("error", "http server error", { error: err.message }));
  // `Expect: 100-continue` with a declared body over the limit: no "100 Continue", the 413 comes first.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (!(Number(req.headers["content-length"]) > maxBodyBytes)) res.writeContinue();
    server.emit("request", req, res);
  });
  const port = (server.address() as net.AddressInfo).port;
  hosts = allowedHosts(addr, port, ctx.config.http.allowed_hosts);
  const url = new URL(`http://${authority(addr.host, port)}${MCP_PATH}`);

  const sweepIdle = async (): Promise<number> => {
    const t = now();
    const idle = [...sessions.values()].filter((s) => s.callsInFlight === 0 && t - s.lastSeen > idleMs);
    await Promise.all(idle.map((s) => s.close()));
    if (idle.length > 0) log.log("info", "http sessions closed after idling", { closed: idle.length, idle_ms: idleMs });
    return idle.length;
  };
  const timer = setInterval(() => void sweepIdle(), Math.max(1000, Math.min(idleMs, 60_000)));
  timer.unref();

  return {
    url,
    sessions: () =>
      [...sessions].map(([id, s]) => ({ id, tokenName: s.tokenName, inFlight: s.inFlight, idleMs: s.callsInFlight > 0 ? 0 : now() - s.lastSeen })),
    sweepIdle,
    dashboardLink: () => (dashboard === null ? null : dashboard.link(new URL(`http://${authority(addr.host, port)}/`))),
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(timer);
      feed?.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sessions.values()].map((s) => s.close()));
      server.closeAllConnections();
      await stopped;
    },
  };
}

// ---------------------------------------------------------------------------
// The process entry point

/** Options of {@link serveHttp}. */
export interface ServeHttpOptions {
  /** Project root (default as for stdio: SIGNALBOX_ROOT, nearest `.git`, cwd). */
  root?: string;
  /** `HOST:PORT`, `:PORT` or `PORT` (the `--http` value). */
  listen: string;
  /** Config (default: the root's signalbox.config.json). */
  config?: Config;
  logger?: Logger;
  /** Store folder (default: SIGNALBOX_DB, else the repository's common git directory, else `<root>/.signalbox`; src/runtime/root.ts). */
  storeDir?: string;
  idleMs?: number;
  maxBodyBytes?: number;
  /** The `--toolsets` list (else `SIGNALBOX_TOOLSETS`, else the config's `tools.toolsets`). */
  toolsets?: string;
  /** Serve the read-only dashboard at `/` (default true; `--no-dashboard` turns it off). */
  dashboard?: boolean;
}

/**
 * `signalbox serve --http`: check the settings, open the store, listen, and
 * write `signalbox listening on http://HOST:PORT/mcp` (the real port) to
 * stderr, then (dashboard on) a one-time dashboard link on the next line.
 * `close()` ends every session and closes the store.
 * @throws Error as {@link createHttpServer}, or when the root, config or store cannot be opened.
 */
export async function serveHttp(opts: ServeHttpOptions): Promise<{ url: URL; close(): Promise<void> }> {
  const root = resolveRoot(opts.root !== undefined ? { root: opts.root } : {});
  const config = opts.config ?? loadConfig(root);
  checkHttpSettings(config, opts.listen); // before the store is opened
  const toolsets = resolveToolsets({ flag: opts.toolsets, config: config.tools.toolsets });
  const ctx = createContext({
    root,
    config,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.storeDir !== undefined ? { storeDir: opts.storeDir } : {}),
  });
  let server: HttpServer;
  try {
    server = await createHttpServer(ctx, {
      listen: opts.listen,
      toolsets,
      dashboard: opts.dashboard ?? true,
      ...(opts.idleMs !== undefined ? { idleMs: opts.idleMs } : {}),
      ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    });
  } catch (err) {
    await ctx.close();
    throw err;
  }
  process.stderr.write(`signalbox listening on ${server.url.href}\n`);
  const link = server.dashboardLink();
  if (link !== null) process.stderr.write(`signalbox dashboard (one-time link, 5 min): ${link.href}\n`);
  ctx.logger.log("info", "signalbox serving over HTTP", { url: server.url.href, root: ctx.root, store: ctx.store.dir, pid: process.pid });
  let closed: Promise<void> | null = null;
  return {
    url: server.url,
    close: () => (closed ??= server.close().finally(() => ctx.close())),
  };
}
