/**
 * For the dashboard tests: a real Chromium driven by puppeteer-core (Debian's
 * `/usr/bin/chromium`, or CHROMIUM_PATH), and a store with a demo-like
 * scenario played by real server processes over stdio: the protocol's worked
 * example (examples/protocol-example.json) in a git repository with a
 * worktree per feature branch, so the radar has something to predict.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { expect } from "vitest";
import { ServerProcess } from "./process.js";
import { makeRepo, type TempRepo } from "./git-repo.js";
import { tempDir } from "./store.js";

/** Where Chromium is: CHROMIUM_PATH, else Debian's package. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launch headless Chromium at 1280x900 (`--no-sandbox` when running as root, as CI does). */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(root ? ["--no-sandbox"] : []), "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-default-browser-check"],
    defaultViewport: { width: 1280, height: 900 },
  });
}

/** Console lines of a page that report a Content-Security-Policy refusal. */
export function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

export const example = JSON.parse(fs.readFileSync(new URL("../../examples/protocol-example.json", import.meta.url), "utf8")) as {
  features: { id: string; writes: string[]; blocked_by: string[] }[];
};
export const writesOf = (id: string): string[] => example.features.find((f) => f.id === id)!.writes;

/** A store with three server processes on it, in a git repository with two feature worktrees. */
export interface Scenario {
  repo: TempRepo;
  store: string;
  /** Serves the orchestrator. */
  orchestrator: ServerProcess;
  /** Serves implementor-1. */
  impl1: ServerProcess;
  /** Serves implementor-2, auditor-1 and tester-1. */
  impl2: ServerProcess;
  planId: string;
  /** Close the clients (ending the processes) and remove the repository and store. */
  cleanup(): Promise<void>;
}

/**
 * Play the worked example up to wave 2 in progress: the plan stored, P1
 * completed, P2 and P3 started on their own branches (which both change
 * `app/layout.tsx`, so the radar predicts a conflict), each with write locks.
 * `config` is written as signalbox.config.json (the protocol's reading of its
 * example plus whatever is given).
 */
export async function playScenario(config: Record<string, unknown> = {}): Promise<Scenario> {
  const repo = makeRepo({ files: { "app/layout.tsx": "export const a = 1;\nexport const b = 2;\nexport const c = 3;\n", "README.md": "demo\n" } });
  const store = tempDir("signalbox-dash-store-");
  fs.writeFileSync(path.join(repo.dir, "signalbox.config.json"), JSON.stringify({ defaults: { migrations: false }, ...config }));
  const env = { ...process.env, SIGNALBOX_ROOT: repo.dir, SIGNALBOX_DB: store.dir, SIGNALBOX_LOG: "error" } as Record<string, string>;
  const orchestrator = new ServerProcess("orchestrator");
  const impl1 = new ServerProcess("implementor-1");
  const impl2 = new ServerProcess("implementor-2");
  const cleanup = async () => {
    await Promise.allSettled([orchestrator.client.close(), impl1.client.close(), impl2.client.close()]);
    repo.cleanup();
    store.cleanup();
  };
  try {
    await Promise.all([orchestrator.start(env), impl1.start(env), impl2.start(env)]);
    const plan = await orchestrator.ok<{ plan_id: string }>("plan_waves", { features: example.features, name: "worked example" });
    await orchestrator.ok("dispatch_agents", {
      agents: [
        { agent_id: "orchestrator", role: "orchestrator" },
        { agent_id: "implementor-1", role: "coder", feature_id: "P1_user_auth" },
        { agent_id: "auditor-1", role: "auditor" },
      ],
    });
    await impl1.ok("start_feature", { feature_id: "P1_user_auth", agent_id: "implementor-1", plan_id: plan.plan_id });
    await impl1.ok("acquire_lock", { agent_id: "implementor-1", feature_id: "P1_user_auth", paths: writesOf("P1_user_auth"), mode: "write" });
    await impl1.ok("complete_feature", { feature_id: "P1_user_auth", agent_id: "implementor-1", schema_changes: [{ table: "profiles", operation: "create" }] });

    const wtProfile = repo.worktree("wt-profile", "feature/profile");
    const wtPosts = repo.worktree("wt-posts", "feature/posts");
    repo.commit({ "app/layout.tsx": "export const a = 10; // profile menu\nexport const b = 2;\nexport const c = 3;\n", "app/profile/page.tsx": "profile\n" }, "profile page", wtProfile);
    repo.commit({ "app/layout.tsx": "export const a = 11; // posts link\nexport const b = 2;\nexport const c = 3;\n", "app/posts/page.tsx": "posts\n" }, "posts page", wtPosts);

    await orchestrator.ok("dispatch_agents", {
      by: "orchestrator",
      agents: [
        { agent_id: "implementor-1", role: "coder", feature_id: "P2_user_profile" },
        { agent_id: "implementor-2", role: "coder", feature_id: "P3_posts" },
        { agent_id: "auditor-1", role: "auditor" },
        { agent_id: "tester-1", role: "test_engineer", feature_id: "P3_posts" },
      ],
    });
    await impl1.ok("start_feature", { feature_id: "P2_user_profile", agent_id: "implementor-1", branch: "feature/profile" });
    await impl2.ok("start_feature", { feature_id: "P3_posts", agent_id: "implementor-2", branch: "feature/posts" });
    await impl1.ok("acquire_lock", { agent_id: "implementor-1", feature_id: "P2_user_profile", paths: writesOf("P2_user_profile"), mode: "write" });
    await impl2.ok("acquire_lock", { agent_id: "implementor-2", feature_id: "P3_posts", paths: ["app/posts/", "components/PostList.tsx"], mode: "write" });
    await impl1.ok("report_status", { agent_id: "implementor-1", status: "working", current_task: "profile form validation", progress_percentage: 60 });
    await impl2.ok("report_status", { agent_id: "implementor-2", status: "working", current_task: "posts list", progress_percentage: 35 });
    return { repo, store: store.dir, orchestrator, impl1, impl2, planId: plan.plan_id, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Width and height of a PNG from its IHDR chunk; throws if `png` is not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString("ascii", 12, 16) !== "IHDR") throw new Error("not a PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** An HTTP answer, body as text. */
export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to `base`'s server with any headers (node:http, so Host can be anything). */
export function get(base: URL, p: string, headers: Record<string, string> = {}, method = "GET", body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: base.hostname, port: base.port, path: p, method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Redeem a one-time link; returns the `Cookie` header value of the session it opens. */
export async function signIn(link: URL): Promise<string> {
  const r = await get(link, `${link.pathname}${link.search}`);
  expect(r.status).toBe(303);
  const cookie = (r.headers["set-cookie"] ?? [])[0] ?? "";
  return cookie.split(";")[0] as string;
}
