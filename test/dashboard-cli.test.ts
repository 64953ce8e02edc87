/**
 * The two commands that start a dashboard, as built (`dist/src/cli.js`):
 * `signalbox dashboard` prints a one-time link on stdout and serves it;
 * `signalbox serve --http` prints one on stderr beside `/mcp`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { get, signIn } from "./helpers/dashboard.js";
import { tempDir } from "./helpers/store.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const TOKEN = "dashboard-test-token-0123456789";

describe("the built CLI", () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  afterAll(() => {
    root.cleanup();
    store.cleanup();
  });

  /** Start the CLI; resolves with the first line matching `pattern` on `stream`. */
  function startCli(args: string[], stream: "stdout" | "stderr", pattern: RegExp): Promise<{ child: ChildProcessWithoutNullStreams; match: RegExpExecArray; stdout: () => string }> {
    const env = { ...process.env, SIGNALBOX_DB: store.dir, SIGNALBOX_DASH_TEST_TOKEN: TOKEN } as Record<string, string>;
    delete env.SIGNALBOX_ROOT;
    const child = spawn(process.execPath, [CLI, "--root", root.dir, ...args], { env });
    const text = { stdout: "", stderr: "" };
    return new Promise((resolve, reject) => {
      for (const s of ["stdout", "stderr"] as const) {
        child[s].on("data", (d: Buffer) => {
          text[s] += d.toString("utf8");
          const m = s === stream ? pattern.exec(text[s]) : null;
          if (m) resolve({ child, match: m, stdout: () => text.stdout });
        });
      }
      child.on("exit", (code) => reject(new Error(`exit ${code}: ${text.stderr}`)));
    });
  }
  const exitOf = (child: ChildProcessWithoutNullStreams) =>
    new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));

  it("signalbox dashboard prints one one-time link on stdout, serves it, exits 0 on SIGTERM", async () => {
    const { child, match, stdout } = await startCli(["dashboard"], "stdout", /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)\n/m);
    try {
      const link = new URL(match[1]!);
      const cookie = await signIn(link);
      expect((await get(link, "/api/state", { Cookie: cookie })).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exitOf(child)).toBe(0);
    expect(stdout().trim().split("\n")).toHaveLength(1);
  });

  it("signalbox serve --http prints a one-time dashboard link on stderr, nothing on stdout", async () => {
    fs.writeFileSync(path.join(root.dir, "signalbox.config.json"), JSON.stringify({ http: { tokens: [{ name: "ci", token_env: "SIGNALBOX_DASH_TEST_TOKEN", agents: ["*"] }] } }));
    const { child, match, stdout } = await startCli(["serve", "--http", "127.0.0.1:0"], "stderr", /^signalbox dashboard \(one-time link, 5 min\): (\S+)$/m);
    try {
      const link = new URL(match[1]!);
      expect(link.pathname).toBe("/");
      const cookie = await signIn(link);
      expect((await get(link, "/", { Cookie: cookie })).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exitOf(child)).toBe(0);
    expect(stdout()).toBe("");
  });
});
