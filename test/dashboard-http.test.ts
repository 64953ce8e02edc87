/**
 * The dashboard over plain HTTP: one-time links and sessions, refusals
 * (no credentials 401, bad Host or Origin 403, a path outside the page 404,
 * a wrong method 405), the security headers, the JSON and SSE feeds, the
 * activity paging, read-only-ness, and the mount beside `/mcp` in
 * `serve --http` (bearer tokens, the login form).
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DashboardAuth, LINK_TTL_MS, SESSION_TTL_MS } from "../src/dashboard/session.js";
import { startDashboardServer, type DashboardServer } from "../src/dashboard/server.js";
import type { ActivityPageBody, DashboardState } from "../src/dashboard/types.js";
import { parseConfig } from "../src/runtime/config.js";
import { createContext, type Context } from "../src/runtime/context.js";
import { createHttpServer, type HttpServer } from "../src/runtime/http.js";
import { silentLogger } from "../src/runtime/logger.js";
import { connect, type Harness } from "./helpers/client.js";
import { get } from "./helpers/dashboard.js";
import { tempDir } from "./helpers/store.js";

const TOKEN = "dashboard-test-token-0123456789";

/** Read `/api/events` until `count` events of type `state` arrived (bounded by `limitMs`); returns them parsed. */
function readEvents(base: URL, cookie: string, count: number, onOpen: () => void, limitMs = 5000): Promise<DashboardState[]> {
  return new Promise((resolve, reject) => {
    const got: DashboardState[] = [];
    const req = http.get({ host: base.hostname, port: base.port, path: "/api/events", headers: { Cookie: cookie } }, (res) => {
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        buf += d;
        let end: number;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = /^event: state\ndata: (.*)$/m.exec(block);
          if (!data?.[1]) continue;
          got.push(JSON.parse(data[1]) as DashboardState);
          if (got.length === 1) onOpen();
          if (got.length === count) {
            clearTimeout(timer);
            req.destroy();
            resolve(got);
          }
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`only ${got.length} of ${count} state events within ${limitMs} ms`));
    }, limitMs);
    req.on("error", () => undefined);
  });
}

describe("one-time links and sessions (DashboardAuth)", () => {
  it("redeems a link once, within 5 minutes; a session lasts 12 hours; malformed ids are nobody", () => {
    let t = 1_000_000;
    const auth = new DashboardAuth({ now: () => t });
    const a = auth.issueLinkToken();
    const b = auth.issueLinkToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(auth.redeemLinkToken(a)).toBe(true);
    expect(auth.redeemLinkToken(a)).toBe(false);
    t += LINK_TTL_MS;
    expect(auth.redeemLinkToken(b)).toBe(false);
    const sid = auth.openSession("link");
    expect(auth.session(sid)).toMatchObject({ via: "link" });
    expect(auth.session("x")).toBeNull();
    expect(auth.session(undefined)).toBeNull();
    t += SESSION_TTL_MS;
    expect(auth.session(sid)).toBeNull();
    expect(auth.counts()).toEqual({ links: 0, sessions: 0 });
  });

  it("keeps at most 32 links and 256 sessions, dropping the oldest", () => {
    const auth = new DashboardAuth();
    const links = Array.from({ length: 40 }, () => auth.issueLinkToken());
    expect(auth.redeemLinkToken(links[0]!)).toBe(false);
    expect(auth.redeemLinkToken(links[39]!)).toBe(true);
    const sessions = Array.from({ length: 300 }, () => auth.openSession("link"));
    expect(auth.session(sessions[0])).toBeNull();
    expect(auth.session(sessions[299])).not.toBeNull();
  });
});

describe("signalbox dashboard's server (loopback, one-time links)", () => {
  let h: Harness;
  let server: DashboardServer;
  let cookie: string;

  beforeAll(async () => {
    h = await connect({ radarPollMs: 0 });
    server = await startDashboardServer({ ctx: h.ctx, config: h.ctx.config, logger: silentLogger });
  });
  afterAll(async () => {
    await server?.close();
    await h?.close();
  });

  it("refuses without a session: the page 401 with the sign-in page (no form), the API 401", async () => {
    const page = await get(server.url, "/");
    expect(page.status).toBe(401);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toMatch(/Open the one-time link/);
    expect(page.body).not.toMatch(/<form/);
    for (const p of ["/api/state", "/api/events", "/api/activity", "/api/state?plan=x"]) {
      const r = await get(server.url, p);
      expect(r.status, p).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ error: expect.stringMatching(/^Unauthorized/) });
    }
    expect((await get(server.url, "/api/state", { Cookie: "signalbox_dashboard_1=forged" })).status).toBe(401);
    expect((await get(server.url, "/?token=not-a-token")).status).toBe(401);
  });

  it("opens a session from a link: 303 to / with an HttpOnly SameSite=Strict cookie; the link works once", async () => {
    const link = server.link();
    expect(link.href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const r = await get(link, `/${link.search}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe("/");
    const set = (r.headers["set-cookie"] ?? [])[0] ?? "";
    expect(set).toMatch(new RegExp(`^signalbox_dashboard_${server.url.port}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200$`));
    cookie = set.split(";")[0] as string;
    const again = await get(link, `/${link.search}`);
    expect(again.status).toBe(401);
    expect(again.body).toMatch(/used already/);
    // With the session, an old link only drops its token from the address.
    expect((await get(link, `/${link.search}`, { Cookie: cookie })).status).toBe(303);
    const page = await get(server.url, "/", { Cookie: cookie });
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<script type="module" src="\/assets\/app\.js"><\/script>/);
  });

  it("sends a strict CSP, nosniff and no-referrer on every answer (same-origin on the sign-in page); no inline script or style in the page", async () => {
    for (const [p, headers, referrer] of [
      ["/", { Cookie: cookie }, "no-referrer"],
      ["/", {}, "same-origin"],
      ["/api/state", { Cookie: cookie }, "no-referrer"],
      ["/assets/app.js", {}, "no-referrer"],
      ["/nope", {}, "no-referrer"],
    ] as const) {
      const r = await get(server.url, p, headers);
      const csp = String(r.headers["content-security-policy"]);
      expect(csp, p).toMatch(/default-src 'self'/);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/style-src 'self'(;|$)/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/unsafe|https?:/);
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["referrer-policy"], p).toBe(referrer);
    }
    const page = await get(server.url, "/", { Cookie: cookie });
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|style=|\bon[a-z]+=/i);
    expect(page.body).not.toMatch(/https?:\/\//);
  });

  it("refuses a bad Host or Origin 403, a path outside the page 404, a wrong method 405", async () => {
    expect((await get(server.url, "/", { Host: "evil.example.com", Cookie: cookie })).status).toBe(403);
    expect((await get(server.url, "/api/state", { Cookie: cookie, Origin: "https://evil.example.com" })).status).toBe(403);
    expect((await get(server.url, "/api/state", { Cookie: cookie, Origin: server.url.origin })).status).toBe(200);
    for (const p of ["/mcp", "/etc/passwd", "/assets/../package.json", "/assets/nope.js", "/assets/index.html", "/api/nope", "/index.html", "/login/x"]) {
      expect((await get(server.url, p, { Cookie: cookie })).status, p).toBe(404);
    }
    expect((await get(server.url, "/api/state", { Cookie: cookie }, "POST", "{}")).status).toBe(405);
    expect((await get(server.url, "/", { Cookie: cookie }, "DELETE")).status).toBe(405);
    const login = await get(server.url, "/login", { Origin: server.url.origin, "Content-Type": "application/x-www-form-urlencoded" }, "POST", "token=x");
    expect(login.status).toBe(403);
  });

  it("serves the built assets with an ETag, gzip when asked, 304 when unchanged", async () => {
    const js = await get(server.url, "/assets/app.js");
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toMatch(/^text\/javascript/);
    const etag = String(js.headers.etag);
    expect((await get(server.url, "/assets/app.js", { "If-None-Match": etag })).status).toBe(304);
    const gz = await get(server.url, "/assets/app.css", { "Accept-Encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
  });

  it("answers the state as JSON and follows changes over SSE, writing nothing to the store", async () => {
    const before = h.ctx.store.lastTxnId();
    const state = JSON.parse((await get(server.url, "/api/state", { Cookie: cookie })).body) as DashboardState;
    expect(state).toMatchObject({ root: h.ctx.root, agents: [], locks: [], plans: [], plan: null, radar: { available: false } });
    expect(h.ctx.store.lastTxnId()).toBe(before);
    const events = await readEvents(server.url, cookie, 2, () => {
      void h.ok("acquire_lock", { agent_id: "alice", paths: ["src/"], mode: "write", feature_id: "F1" });
    });
    expect(events[0]!.locks).toEqual([]);
    expect(events[1]!.locks).toEqual([expect.objectContaining({ key: "src/", kind: "folder", mode: "write", agent_id: "alice", feature_id: "F1", queue: [] })]);
    expect(events[1]!.locks[0]!.lease_left_ms).toBeGreaterThan(0);
    const after = h.ctx.store.lastTxnId();
    for (const p of ["/api/state", "/api/activity", "/", "/assets/app.js"]) await get(server.url, p, { Cookie: cookie });
    expect(h.ctx.store.lastTxnId()).toBe(after);
  });

  it("pages the activity back through history, filtered by agent, 400 naming a bad parameter", async () => {
    for (let i = 0; i < 3; i++) await h.ok("acquire_lock", { agent_id: `bob-${i}`, paths: [`docs/${i}.md`], mode: "write" });
    const page = async (q: string) => {
      const r = await get(server.url, `/api/activity?${q}`, { Cookie: cookie });
      return { status: r.status, body: JSON.parse(r.body) as ActivityPageBody & { error?: string } };
    };
    const first = await page("limit=2");
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).not.toBeNull();
    const second = await page(`limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items[0]!.seq).toBeLessThan(first.body.items[1]!.seq);
    const bob = await page("agent_id=bob-1");
    expect(bob.body.items.map((e) => e.agent_id)).toEqual(["bob-1"]);
    expect((await page("since=1h")).body.total).toBeNull();
    expect(await page("colour=red")).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^colour: not a parameter/) } });
    expect(await page("limit=0")).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^limit:/) } });
    expect(await page("since=yesterday")).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^since:/) } });
  });

  it("serves loopback only", async () => {
    await expect(startDashboardServer({ listen: "0.0.0.0:0", ctx: null, config: h.ctx.config, logger: silentLogger })).rejects.toThrow(/^--http: signalbox dashboard serves loopback only/);
  });
});

describe("serve --http: the dashboard at / beside /mcp", () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  const cfg = parseConfig({ http: { tokens: [{ name: "watcher", token: TOKEN, agents: ["*"] }] } });
  let ctx: Context;
  let server: HttpServer;
  let plain: HttpServer;

  beforeAll(async () => {
    ctx = createContext({ root: root.dir, storeDir: store.dir, config: cfg, logger: silentLogger, sweepMs: 0, radarPollMs: 0 });
    server = await createHttpServer(ctx, { listen: "127.0.0.1:0", dashboard: true });
    plain = await createHttpServer(ctx, { listen: "127.0.0.1:0" });
  });
  afterAll(async () => {
    await server?.close();
    await plain?.close();
    await ctx?.close();
    root.cleanup();
    store.cleanup();
  });

  it("takes the bearer tokens: the API with Authorization, the sign-in form for a browser", async () => {
    const page = await get(server.url, "/");
    expect(page.status).toBe(401);
    expect(page.body).toMatch(/<form method="post" action="\/login"/);
    expect((await get(server.url, "/api/state")).headers["www-authenticate"]).toBe('Bearer realm="signalbox"');
    expect((await get(server.url, "/api/state", { Authorization: "Bearer wrong-token-0123456789" })).status).toBe(401);
    const state = await get(server.url, "/api/state", { Authorization: `Bearer ${TOKEN}` });
    expect(state.status).toBe(200);
    expect(JSON.parse(state.body)).toMatchObject({ store: store.dir });
  });

  it("signs in by the form only from its own origin, with a valid token", async () => {
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    const origin = { ...form, Origin: `http://${server.url.host}` };
    expect((await get(server.url, "/login", form, "POST", `token=${TOKEN}`)).status).toBe(403);
    expect((await get(server.url, "/login", { ...form, Origin: "https://evil.example.com" }, "POST", `token=${TOKEN}`)).status).toBe(403);
    expect((await get(server.url, "/login", origin, "POST", "token=wrong-token-0123456789")).status).toBe(401);
    const ok = await get(server.url, "/login", origin, "POST", `token=${TOKEN}`);
    expect(ok.status).toBe(303);
    const cookie = ((ok.headers["set-cookie"] ?? [])[0] ?? "").split(";")[0] as string;
    expect((await get(server.url, "/", { Cookie: cookie })).status).toBe(200);
    expect((await get(server.url, "/api/state", { Cookie: cookie })).status).toBe(200);
  });

  it("hands out one-time links, keeps /mcp as it was, and stays off unless asked for", async () => {
    const link = server.dashboardLink();
    expect(link).not.toBeNull();
    expect((await get(server.url, `/${link!.search}`)).status).toBe(303);
    const mcp = await get(server.url, "/mcp", { "Content-Type": "application/json", Accept: "application/json, text/event-stream" }, "POST", "{}");
    expect(mcp.status).toBe(401);
    expect(mcp.headers["www-authenticate"]).toBe('Bearer realm="signalbox"');
    expect((await get(server.url, "/nope", { Authorization: `Bearer ${TOKEN}` })).body).toMatch(/MCP is served at \/mcp/);
    expect(plain.dashboardLink()).toBeNull();
    expect((await get(plain.url, "/", { Authorization: `Bearer ${TOKEN}` })).status).toBe(404);
  });
});
