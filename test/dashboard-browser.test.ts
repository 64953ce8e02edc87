/**
 * The dashboard in a real browser (Chromium through puppeteer-core): the
 * one-time link, live updates from OTHER server processes without a reload,
 * the RED signal at the top, the wave graph of the worked example, the radar
 * matrix, the activity filter, keyboard use, an automated accessibility
 * check (axe-core) in both themes, and a screenshot of the whole page.
 *
 * The dashboard runs in this process on its own Context over the store the
 * scenario's three stdio server processes write (test/helpers/dashboard.ts).
 * Every wait is for a selector or a condition with a bound; none is a sleep.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboardServer, type DashboardServer } from "../src/dashboard/server.js";
import { parseConfig } from "../src/runtime/config.js";
import { createContext, type Context } from "../src/runtime/context.js";
import { createHttpServer } from "../src/runtime/http.js";
import { silentLogger } from "../src/runtime/logger.js";
import { cspViolations, launchBrowser, playScenario, pngSize, type Scenario } from "./helpers/dashboard.js";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
/** A stale heartbeat after 6 s: long enough for the scenario's active agents, short enough to watch one go stale. */
const HEARTBEAT_MS = 6000;

describe("the dashboard in Chromium", () => {
  let scenario: Scenario;
  let ctx: Context;
  let server: DashboardServer;
  let browser: Browser;
  let page: Page;
  let violations: string[];
  const pending: Promise<unknown>[] = [];

  beforeAll(async () => {
    [scenario, browser] = await Promise.all([playScenario({ control: { heartbeat_ms: HEARTBEAT_MS } }), launchBrowser()]);
    ctx = createContext({ root: scenario.repo.dir, storeDir: scenario.store, radarPollMs: 0, sweepMs: 0, logger: silentLogger });
    server = await startDashboardServer({ ctx, config: ctx.config, logger: silentLogger });
    page = await browser.newPage();
    violations = cspViolations(page);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await ctx?.close();
    await scenario?.cleanup();
    await Promise.allSettled(pending);
  });

  it("opens with the one-time link, drops the token from the address and keeps the session in an HttpOnly cookie", async () => {
    const link = server.link();
    const response = await page.goto(link.href, { waitUntil: "domcontentloaded" });
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(server.url.href);
    expect(page.url()).not.toContain("token");
    await page.waitForSelector(".conn-live", { timeout: 10_000 });
    const cookies = await page.browserContext().cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(await page.evaluate(() => document.cookie)).toBe("");
    // The link worked once: another browser context presenting it again gets the sign-in page, 401.
    const other = await browser.createBrowserContext();
    try {
      const again = await (await other.newPage()).goto(link.href);
      expect(again?.status()).toBe(401);
      expect(await again?.text()).toMatch(/This link was used already/);
    } finally {
      await other.close();
    }
  });

  it("shows the scenario's agents, locks and the lease counting down", async () => {
    await page.waitForSelector('tr[data-agent="implementor-2"]', { timeout: 5000 });
    const agents = await page.$$eval("tr[data-agent]", (rows) => rows.map((r) => r.getAttribute("data-agent")));
    expect(agents.sort()).toEqual(["auditor-1", "implementor-1", "implementor-2", "orchestrator", "tester-1"]);
    expect(await page.$eval('tr[data-lock-key="app/posts/"]', (r) => r.textContent)).toMatch(/folder.*app\/posts\/.*and everything below.*implementor-2.*P3_posts/);
    const lease = () => page.$eval('tr[data-lock-key="app/posts/"] .countdown', (e) => e.textContent ?? "");
    const first = await lease();
    await page.waitForFunction((before) => document.querySelector('tr[data-lock-key="app/posts/"] .countdown')?.textContent !== before, { timeout: 5000 }, first);
  });

  it("shows a lock taken by another server process within a second, without a reload, and its queue", async () => {
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await scenario.impl1.ok("acquire_lock", { agent_id: "implementor-1", feature_id: "P2_user_profile", paths: ["app/profile/avatar.tsx"], mode: "write" });
    await page.waitForSelector('tr[data-lock-key="app/profile/avatar.tsx"]', { timeout: 1000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    // A read request queued behind it (from a third process) shows in the lock's queue.
    const queued = scenario.impl2.call("acquire_lock", { agent_id: "tester-1", paths: ["app/profile/avatar.tsx"], mode: "read", wait_ms: 30_000 });
    pending.push(queued.catch(() => undefined));
    await page.waitForFunction(() => /tester-1/.test(document.querySelector('tr[data-lock-key="app/profile/avatar.tsx"] ol.queue')?.textContent ?? ""), { timeout: 5000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });

  it("puts a RED audit signal at the top of the page, naming whom it pauses", async () => {
    const red = await scenario.impl2.ok<{ signal_id: string }>("emit_audit_signal", {
      agent_id: "auditor-1",
      level: "RED",
      summary: "posts query builds SQL from user input",
      concern: "SQL injection",
      feature_id: "P3_posts",
      files: ["app/actions/posts.ts"],
    });
    await page.waitForSelector(`.banner.alarm [data-signal="${red.signal_id}"]`, { timeout: 5000 });
    const first = await page.$eval("main", (m) => m.firstElementChild?.id);
    expect(first).toBe("signals");
    const text = await page.$eval(".banner.alarm", (b) => b.textContent ?? "");
    expect(text).toMatch(/RED.*posts query builds SQL from user input.*pauses implementor-2/);
    const [bannerTop, agentsTop] = await Promise.all([page.$eval(".banner", (e) => e.getBoundingClientRect().top), page.$eval("#agents", (e) => e.getBoundingClientRect().top)]);
    expect(bannerTop).toBeLessThan(agentsTop);
    await page.waitForFunction(() => /‖ RED/.test(document.querySelector('tr[data-agent="implementor-2"]')?.textContent ?? ""), { timeout: 5000 });
  });

  it("draws the worked example's plan: three features in two waves, P1 -> P2 and P1 -> P3, coloured by state with words", async () => {
    const nodes = await page.$$eval("svg.graph g.node", (gs) => gs.map((g) => ({ id: g.getAttribute("data-feature"), state: g.getAttribute("data-state"), text: g.textContent })));
    expect(nodes.map((n) => n.id).sort()).toEqual(["P1_user_auth", "P2_user_profile", "P3_posts"]);
    expect(nodes.find((n) => n.id === "P1_user_auth")).toMatchObject({ state: "completed" });
    expect(nodes.find((n) => n.id === "P2_user_profile")?.text).toMatch(/active/);
    const edges = await page.$$eval("svg.graph path.edge.dependency", (ps) => ps.map((p) => `${p.getAttribute("data-from")}>${p.getAttribute("data-to")}`));
    expect(edges.sort()).toEqual(["P1_user_auth>P2_user_profile", "P1_user_auth>P3_posts"]);
    expect(await page.$$eval("svg.graph path.edge.critical", (ps) => ps.length)).toBe(1);
    const titles = await page.$$eval("svg.graph .wave-title", (ts) => ts.map((t) => t.textContent));
    expect(titles).toEqual(["Wave 1", "Wave 2"]);
    const x = await page.$$eval("svg.graph g.node", (gs) => Object.fromEntries(gs.map((g) => [g.getAttribute("data-feature"), (g as SVGGraphicsElement).getBBox().x + (g as SVGGElement).transform.baseVal.consolidate()!.matrix.e])));
    expect(x.P1_user_auth).toBeLessThan(x.P2_user_profile);
    expect(x.P2_user_profile).toBe(x.P3_posts);
    expect(await page.$eval('.wave[data-wave="2"]', (w) => w.textContent)).toMatch(/active P2_user_profile.*active P3_posts/);
  });

  it("shows the radar's predicted conflict; a cell opens its files and kind", async () => {
    await page.waitForSelector("table.matrix button.cell.conflict", { timeout: 20_000 });
    await page.click("table.matrix button.cell.conflict");
    await page.waitForSelector("#radar-detail .detail", { timeout: 2000 });
    expect(await page.$eval("#radar-detail", (d) => d.textContent)).toMatch(/feature\/(posts|profile) × feature\/(profile|posts): conflict.*app\/layout\.tsx/);
    expect(await page.$eval("table.matrix button.cell.conflict", (b) => b.getAttribute("aria-expanded"))).toBe("true");
  });

  it("filters the activity by agent", async () => {
    await page.waitForSelector("table.activity tbody tr", { timeout: 5000 });
    await page.type('form.filters input[list="agent-ids"]', "implementor-2");
    await page.click('form.filters button[type="submit"]');
    await page.waitForFunction(
      () => {
        const cells = [...document.querySelectorAll("table.activity tbody tr td:nth-child(3)")].map((td) => td.textContent);
        return cells.length > 0 && cells.every((c) => c === "implementor-2");
      },
      { timeout: 5000 },
    );
  });

  it("is usable by keyboard: a skip link first, then the section links, each focus visible", async () => {
    // A second tab of the same browser: the session cookie lets it in without a link.
    const tab = await browser.newPage();
    try {
      expect((await tab.goto(server.url.href))?.status()).toBe(200);
      await tab.waitForSelector("header nav a", { timeout: 10_000 });
      await tab.keyboard.press("Tab");
      expect(await tab.evaluate(() => document.activeElement?.textContent)).toMatch(/Skip to the content/);
      const seen: string[] = [];
      for (let i = 0; i < 7; i++) {
        await tab.keyboard.press("Tab");
        const f = await tab.evaluate(() => ({ text: document.activeElement?.textContent ?? "", outline: getComputedStyle(document.activeElement as Element).outlineStyle }));
        expect(f.outline, f.text).not.toBe("none");
        seen.push(f.text.replace(/\d+$/, ""));
      }
      expect(seen).toEqual(["Signals", "Messages", "Agents", "Locks", "Waves", "Radar", "Activity"]);
      await tab.keyboard.press("Enter");
      await tab.waitForFunction(() => location.hash === "#activity", { timeout: 2000 });
      // Radar cells and pager buttons are real buttons, reachable by Tab and pressed with Enter.
      expect(await tab.$$eval("table.matrix button.cell, nav.pager button", (bs) => bs.every((b) => b.tagName === "BUTTON"))).toBe(true);
    } finally {
      await tab.close();
    }
  });

  it("marks an agent that stopped reporting as stale", async () => {
    await page.waitForSelector('tr.stale[data-agent="tester-1"]', { timeout: HEARTBEAT_MS + 5000 });
    expect(await page.$eval('tr[data-agent="tester-1"]', (r) => r.textContent)).toMatch(/stale/);
  });

  it("serve --http: a person pastes a bearer token into the sign-in form and lands on the dashboard", async () => {
    const token = "browser-sign-in-token-0123456789";
    const httpCtx = createContext({
      root: scenario.repo.dir,
      storeDir: scenario.store,
      radarPollMs: 0,
      sweepMs: 0,
      logger: silentLogger,
      config: parseConfig({ control: { heartbeat_ms: HEARTBEAT_MS }, http: { tokens: [{ name: "watcher", token, agents: ["*"] }] } }),
    });
    const http = await createHttpServer(httpCtx, { listen: "127.0.0.1:0", dashboard: true });
    const incognito = await browser.createBrowserContext();
    try {
      const tab = await incognito.newPage();
      const base = new URL("/", http.url);
      expect((await tab.goto(base.href))?.status()).toBe(401);
      await tab.type("#token", "wrong-token-0123456789");
      await Promise.all([tab.waitForNavigation(), tab.click('form.login-form button[type="submit"]')]);
      expect(await tab.$eval("main", (m) => m.textContent)).toMatch(/not a valid bearer token/);
      await tab.type("#token", token);
      await Promise.all([tab.waitForNavigation(), tab.click('form.login-form button[type="submit"]')]);
      expect(tab.url()).toBe(base.href);
      await tab.waitForSelector('tr[data-agent="implementor-1"]', { timeout: 10_000 });
      expect((await incognito.cookies())[0]).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    } finally {
      await incognito.close();
      await http.close();
      await httpCtx.close();
    }
  });

  it("has no serious or critical accessibility violation (axe-core), in the light and the dark theme", async () => {
    const probe = await browser.newPage();
    try {
      // The page's CSP refuses injected scripts (as it should): this page lets the test inject axe.
      await probe.setBypassCSP(true);
      await probe.goto(server.link().href);
      await probe.waitForSelector("svg.graph g.node", { timeout: 10_000 });
      await probe.addScriptTag({ path: AXE });
      for (const scheme of ["light", "dark"] as const) {
        await probe.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
        const found = await probe.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
        });
        expect(found.filter((v) => v.impact === "serious" || v.impact === "critical"), scheme).toEqual([]);
      }
    } finally {
      await probe.close();
    }
  });

  it("takes a PNG of the whole dashboard at 1280 px (the README's comes from the demo: test/dashboard-demo.test.ts)", async () => {
    await scenario.impl1.ok("cross_agent_handoff", {
      agent_id: "implementor-1",
      discovery: "profiles gained an avatar_url column",
      affects: "implementor-2",
      impact: "PostList should show the author's avatar",
      files: ["components/ProfileForm.tsx"],
    });
    await scenario.impl1.ok("report_status", { agent_id: "implementor-1", status: "working", current_task: "avatar upload", progress_percentage: 70 });
    await page.waitForFunction(() => /avatar_url/.test(document.querySelector("#messages")?.textContent ?? ""), { timeout: 5000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-shot-")), "dashboard.png");
    try {
      await page.screenshot({ path: file as `${string}.png`, fullPage: true });
      const png = fs.readFileSync(file);
      const { width, height } = pngSize(png);
      expect(width).toBe(1280);
      expect(height).toBeGreaterThan(900);
      expect(height).toBeLessThan(20_000);
      expect(png.length).toBeGreaterThan(40_000);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
    expect(violations).toEqual([]);
  });
});
