/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`
 * 0.1.13, the last that runs on Node 20) against the built server's
 * Streamable HTTP endpoint (`signalbox serve --http`). The suite's runner
 * cannot send a bearer token, so a plain forwarding proxy adds one and keeps
 * every other header, the Host header included (the DNS-rebinding scenario
 * sends a bad one on purpose); the proxy's own host:port is in
 * `http.allowed_hosts`. Scenarios that need the suite's fixture tools,
 * resources and prompts are the expected failures, each named in
 * test/conformance-baseline.yml; the runner exits non-zero on any other
 * failure and on a baseline entry that passes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers/store.js";
import { until } from "./helpers/wait.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const SUITE = fileURLToPath(new URL("../node_modules/@modelcontextprotocol/conformance/dist/index.js", import.meta.url));
const BASELINE = fileURLToPath(new URL("./conformance-baseline.yml", import.meta.url));
const TOKEN = "conformance-token-0123456789";

/** Scenarios that need no fixture: each must pass. */
const MUST_PASS = [
  "server-initialize",
  "logging-set-level",
  "ping",
  "tools-list",
  "tools-call-error",
  "server-sse-multiple-streams",
  "resources-list",
  "prompts-list",
  "dns-rebinding-protection",
];

const root = tempDir("signalbox-conformance-");
const store = tempDir("signalbox-conformance-store-");
let server: ChildProcessWithoutNullStreams;
let proxy: http.Server;
let proxyUrl: string;

beforeAll(async () => {
  // The proxy first: its port goes into the server's allowed hosts.
  let target = 0;
  proxy = http.createServer((req, res) => {
    const up = http.request(
      { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: { ...req.headers, authorization: `Bearer ${TOKEN}` } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as AddressInfo).port;
  proxyUrl = `http://127.0.0.1:${port}/mcp`;
  fs.writeFileSync(
    path.join(root.dir, "signalbox.config.json"),
    JSON.stringify({ http: { tokens: [{ name: "conformance", token: TOKEN, agents: ["*"] }], allowed_hosts: [`127.0.0.1:${port}`, `localhost:${port}`] } }),
  );
  server = spawn(process.execPath, [CLI, "--root", root.dir, "serve", "--http", "127.0.0.1:0"], { env: { ...process.env, SIGNALBOX_DB: store.dir } });
  let err = "";
  server.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
  await until("the server listens", () => /listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.test(err), 20_000);
  target = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(err)![1]);
});

afterAll(async () => {
  server?.kill();
  await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  root.cleanup();
  store.cleanup();
});

describe("the MCP conformance suite against signalbox serve --http", () => {
  it("passes every scenario that needs no fixture; the only failures are the baseline's fixture scenarios", async () => {
    const run = spawn(process.execPath, [SUITE, "server", "--url", proxyUrl, "--expected-failures", BASELINE], { env: process.env });
    let out = "";
    run.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    run.stderr.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const code = await new Promise<number | null>((resolve) => run.on("close", resolve));
    const summary = out.slice(out.indexOf("=== SUMMARY ==="));
    expect(code, summary).toBe(0);
    for (const scenario of MUST_PASS) expect(summary, scenario).toMatch(new RegExp(`✓ ${scenario}: \\d+ passed, 0 failed`));
  }, 180_000);
});
