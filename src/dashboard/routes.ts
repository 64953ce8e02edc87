/**
 * The dashboard's paths, behind the Host and Origin checks of the server that
 * mounts them (runtime/http.ts for `serve --http`, ./server.ts for
 * `signalbox dashboard`):
 *
 * | path | who | what |
 * | --- | --- | --- |
 * | `GET /?token=T` | anyone with a one-time link | redeems T, sets the session cookie, 303 to `/` |
 * | `GET /` | session or bearer | the page; without: 401 and the login page |
 * | `GET /login`, `POST /login` | anyone | the login page; the form (bearer tokens configured only; Origin required) |
 * | `GET /assets/*` | anyone | the page's own files (no store data) |
 * | `GET /api/state?plan=` | session or bearer | the state as JSON |
 * | `GET /api/events?plan=` | session or bearer | the state as Server-Sent Events |
 * | `GET /api/activity?...` | session or bearer | a page of the activity log |
 *
 * Anything else is not the dashboard's: `handle` answers false and the
 * caller sends 404. Nothing here writes to the store; POST `/login` only
 * opens a session in this process's memory.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { matchToken, type ResolvedToken } from "../runtime/auth.js";
import type { Logger } from "../runtime/logger.js";
import { SignalboxError } from "../errors.js";
import { AssetStore, ASSET_TYPES } from "./assets.js";
import type { StateFeed } from "./feed.js";
import { redirect, send, sendJson, sendText } from "./headers.js";
import { loginHtml } from "./login.js";
import { DashboardAuth } from "./session.js";

/** Largest login form body read, in bytes. */
const MAX_FORM_BYTES = 8 * 1024;
/** Longest plan id accepted in `?plan=`. */
const PLAN_ID_MAX = 200;
/**
 * The sign-in page's referrer policy: `same-origin`, not `no-referrer`, since
 * under `no-referrer` a browser sends `Origin: null` with the form's POST, and
 * the form is accepted from the dashboard's own origin only. Nothing is ever
 * sent to another origin either way.
 */
const LOGIN_HEADERS = { "Referrer-Policy": "same-origin" };

/** Options of {@link DashboardRoutes}. */
export interface DashboardRoutesOptions {
  /** Bearer tokens accepted as credentials and at the login form (`serve --http`); none: one-time links only. */
  tokens?: readonly ResolvedToken[];
  logger: Logger;
  /** The feed of the store shown now, or null while there is none (the demo between two stores). */
  source: () => StateFeed | null;
  /** The page's files (default: the package's `dist/web`). */
  assets?: AssetStore;
  /** One-time links and sessions (default: a new {@link DashboardAuth}). */
  auth?: DashboardAuth;
}

/** The dashboard's request handler; one per server, holding that server's sessions. */
export class DashboardRoutes {
  readonly auth: DashboardAuth;
  readonly assets: AssetStore;
  private readonly tokens: readonly ResolvedToken[];
  private readonly log: Logger;
  private readonly source: () => StateFeed | null;

  constructor(opts: DashboardRoutesOptions) {
    this.auth = opts.auth ?? new DashboardAuth();
    this.assets = opts.assets ?? new AssetStore();
    this.tokens = opts.tokens ?? [];
    this.log = opts.logger;
    this.source = opts.source;
    if (this.assets.missing.length > 0) {
      this.log.log("warn", "dashboard assets missing: run npm run build", { dir: this.assets.dir, missing: this.assets.missing });
    }
  }

  /** A one-time link to the page at `base` (its origin): `<origin>/?token=<fresh token>`. */
  link(base: URL): URL {
    const url = new URL("/", base);
    url.searchParams.set("token", this.auth.issueLinkToken());
    return url;
  }

  /**
   * Answer `req` if its path is the dashboard's (see the table above);
   * false when it is not, and nothing was sent.
   */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const path = url.pathname;
    const method = req.method ?? "GET";
    const read = method === "GET" || method === "HEAD";
    if (path.startsWith("/assets/")) {
      const name = path.slice("/assets/".length);
      if (!(name in ASSET_TYPES) || name === "index.html") return false;
      if (!read) return notAllowed(res, "GET, HEAD");
      this.assets.serve(req, res, name);
      return true;
    }
    if (path === "/") {
      if (!read) return notAllowed(res, "GET, HEAD");
      this.page(req, res, url);
      return true;
    }
    if (path === "/login") {
      if (method === "POST") await this.login(req, res);
      else if (read) this.loginPage(req, res, 200, null);
      else notAllowed(res, "GET, HEAD, POST");
      return true;
    }
    if (path === "/api/state" || path === "/api/events" || path === "/api/activity") {
      if (!read) return notAllowed(res, "GET, HEAD");
      await this.api(req, res, path, url.searchParams);
      return true;
    }
    return false;
  }

  /** The label of who is asking: a live session's origin, a bearer token's name, or null. */
  private who(req: IncomingMessage): string | null {
    const session = this.auth.session(cookieOf(req, cookieName(req)));
    if (session !== null) return session.via;
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "");
    if (m?.[1] !== undefined && this.tokens.length > 0) return matchToken(this.tokens, m[1])?.name ?? null;
    return null;
  }

  private page(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const token = url.searchParams.get("token");
    if (token !== null) {
      if (this.auth.redeemLinkToken(token)) {
        this.log.log("info", "dashboard session opened by a one-time link", { remote: req.socket.remoteAddress });
        return this.openSession(req, res, "link");
      }
      // An old link opened in a browser already signed in: drop the token from the address all the same.
      if (this.who(req) !== null) return redirect(res, "/");
      this.log.log("warn", "dashboard link refused: used, expired or unknown", { remote: req.socket.remoteAddress });
      return this.loginPage(req, res, 401, "This link was used already, has expired or is not one this server issued. Links work once, for 5 minutes.");
    }
    if (this.who(req) === null) return this.loginPage(req, res, 401, null);
    this.assets.serve(req, res, "index.html", { "Cache-Control": "no-store" });
  }

  private openSession(req: IncomingMessage, res: ServerResponse, via: string): void {
    const id = this.auth.openSession(via);
    const cookie = `${cookieName(req)}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${this.auth.sessionMaxAgeS}`;
    redirect(res, "/", { "Set-Cookie": cookie });
  }

  private loginPage(req: IncomingMessage, res: ServerResponse, status: number, message: string | null): void {
    if (status === 200 && this.who(req) !== null) return redirect(res, "/");
    send(res, status, "text/html; charset=utf-8", loginHtml({ message, form: this.tokens.length > 0 }), LOGIN_HEADERS);
  }

  /** POST /login: a bearer token pasted into the form; same-origin only (the Origin header must be present). */
  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.tokens.length === 0) {
      return send(res, 403, "text/html; charset=utf-8", loginHtml({ message: "Signing in with a token is off here: open a one-time link.", form: false }), LOGIN_HEADERS);
    }
    if (req.headers.origin === undefined) return sendText(res, 403, "Forbidden: a sign-in must come from the dashboard's own page (no Origin header)");
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers["content-type"] ?? "")) {
      return sendText(res, 415, "Unsupported Media Type: expected application/x-www-form-urlencoded");
    }
    const body = await readBody(req, MAX_FORM_BYTES);
    if (body === null) return sendText(res, 413, `Payload Too Large: at most ${MAX_FORM_BYTES} bytes`, { Connection: "close" });
    const token = new URLSearchParams(body).get("token") ?? "";
    const grant = token.length > 0 ? matchToken(this.tokens, token) : null;
    if (grant === null) {
      this.log.log("warn", "dashboard sign-in refused: not a valid bearer token", { remote: req.socket.remoteAddress });
      return send(res, 401, "text/html; charset=utf-8", loginHtml({ message: "That is not a valid bearer token.", form: true }), LOGIN_HEADERS);
    }
    this.log.log("info", "dashboard session opened by a bearer token", { token: grant.name, remote: req.socket.remoteAddress });
    this.openSession(req, res, grant.name);
  }

  private async api(req: IncomingMessage, res: ServerResponse, path: string, params: URLSearchParams): Promise<void> {
    if (this.who(req) === null) {
      const challenge: Record<string, string> = this.tokens.length > 0 ? { "WWW-Authenticate": 'Bearer realm="signalbox"' } : {};
      return sendJson(res, 401, { error: "Unauthorized: open the dashboard's one-time link, or send a bearer token" }, challenge);
    }
    const feed = this.source();
    if (feed === null) {
      // Between two stores (the demo): a stream that ends at once, so the page reconnects in a second.
      if (path === "/api/events") return send(res, 200, "text/event-stream; charset=utf-8", 'retry: 1000\nevent: waiting\ndata: {}\n\n');
      return sendJson(res, 503, { error: "no store is shown yet" }, { "Retry-After": "1" });
    }
    const plan = params.get("plan");
    if (plan !== null && (plan.length > PLAN_ID_MAX || plan.includes("\0"))) {
      return sendJson(res, 400, { error: `plan: expected a plan id of at most ${PLAN_ID_MAX} characters` });
    }
    const planId = plan === "" ? null : plan;
    try {
      if (path === "/api/events" && req.method === "HEAD") return send(res, 200, "text/event-stream; charset=utf-8", "");
      if (path === "/api/events") return feed.attach(req, res, planId);
      if (path === "/api/state") return sendJson(res, 200, await feed.state(planId));
      return sendJson(res, 200, feed.activity(params));
    } catch (err) {
      if (err instanceof SignalboxError) return sendJson(res, 400, { error: err.message });
      throw err;
    }
  }
}

/** The session cookie's name: per port, since browsers share cookies between the ports of one host. */
function cookieName(req: IncomingMessage): string {
  return `signalbox_dashboard_${req.socket.localPort ?? 0}`;
}

/** The value of cookie `name` in the request, or undefined. */
function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** 405 naming what is allowed; true (answered). */
function notAllowed(res: ServerResponse, allow: string): true {
  sendText(res, 405, `Method Not Allowed: ${allow}`, { Allow: allow });
  return true;
}

/** The request body as text, or null when it passes `max` bytes (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        // Stop keeping it; the 413 goes out with Connection: close.
        req.removeAllListeners("data");
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
