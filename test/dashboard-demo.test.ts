/**
 * The dashboard during `signalbox demo --pause`: the demo prints the
 * dashboard's one-time link first and, at the end of each section, waits
 * for Enter while the page still shows that section's store. A real
 * Chromium opens the link during the control-layer section and takes the
 * README's screenshot (docs/dashboard.png with SIGNALBOX_UPDATE_SCREENSHOT=1);
 * the demo then plays to its end and exits 0.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import type { Browser } from "puppeteer-core";
import { afterAll, describe, expect, it } from "vitest";
import { launchBrowser, pngSize } from "./helpers/dashboard.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
/** The section whose store the screenshot shows: the control layer playing the worked example on three server processes. */
const SHOT_SECTION = 4;
/** An agent of that section, and a feature of its plan. */
const SHOT_AGENT = 'tr[data-agent="implementor-2"]';
const SHOT_FEATURE = /P3_posts/;

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
});

describe("the dashboard during the demo", () => {
  it("opens from the demo's link while a section pauses, shows its store, and the demo then plays to the end", async () => {
    const child = spawn(process.execPath, [CLI, "demo", "--pause"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, SIGNALBOX_LOG: "error" } });
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let link: string | null = null;
    let section = 0;
    let pauses = 0;
    let shot: { width: number; height: number; bytes: number; text: string } | null = null;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-demo-shot-")), "dashboard.png");
    try {
      for await (const line of readline.createInterface({ input: child.stdout })) {
        const url = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(line);
        if (url && link === null) link = url[1]!;
        const header = /^=== (\d+)\./.exec(line);
        if (header) section = Number(header[1]);
        if (!line.startsWith("-- paused")) continue;
        pauses++;
        if (section === SHOT_SECTION && shot === null) {
          expect(link).not.toBeNull();
          browser ??= await launchBrowser();
          const page = await browser.newPage();
          await page.goto(link!, { waitUntil: "domcontentloaded" });
          await page.waitForSelector(".conn-live", { timeout: 10_000 });
          // The section's agents and its plan are on the page.
          await page.waitForSelector(SHOT_AGENT, { timeout: 10_000 });
          await page.evaluate(() => window.scrollTo(0, 0));
          await page.screenshot({ path: file as `${string}.png`, fullPage: true });
          const png = fs.readFileSync(file);
          shot = { ...pngSize(png), bytes: png.length, text: await page.evaluate(() => document.body.innerText) };
          await page.close();
        }
        child.stdin.write("\n");
      }
      expect(await exited).toBe(0);
      expect(pauses).toBe(5);
      expect(shot).not.toBeNull();
      expect(shot!.width).toBe(1280);
      expect(shot!.height).toBeGreaterThan(900);
      expect(shot!.bytes).toBeGreaterThan(40_000);
      expect(shot!.text).toMatch(SHOT_FEATURE);
      if (process.env.SIGNALBOX_UPDATE_SCREENSHOT === "1") fs.copyFileSync(file, new URL("../docs/dashboard.png", import.meta.url));
    } finally {
      child.kill();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  }, 180_000);
});
