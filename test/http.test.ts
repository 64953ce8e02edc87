/**
 * `signalbox serve --http` (README, "Over HTTP: agents on several machines"):
 * Streamable HTTP with bearer tokens bound to agent ids, Host/Origin
 * validation, body limit, sessions. Driven by the SDK's own
 * `StreamableHTTPClientTransport` and by raw node:http requests (which, unlike
 * fetch, may set any Host header).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../src/runtime/config.js";
import { createContext, type Context } from "../src/runtime/context.js";
import { allowedHosts, createHttpServer, DEFAULT_MAX_BODY_BYTES, parseListen, serveHttp, type HttpServer } from "../src/runtime/http.js";
import { silentLogger } from "../src/runtime/logger.js";
import { TOOLSET_NAMES } from "../tools/toolsets.js";
import { tempDir } from "./helpers/store.js";
import { until } from "./helpers/wait.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const ALICE_TOKEN = "alice-token-0123456789";
const ADMIN_TOKEN = "admin-token-0123456789";

const config = (http: Record<string, unknown>): Config => parseConfig({ http });
const TWO_TOKENS = config({
  tokens: [
    { name: "alice-laptop", token: ALICE_TOKEN, agents: ["alice"] },
    { name: "orchestrator", token: ADMIN_TOKEN, agents: ["*"] },
  ],
  allowed_hosts: ["signalbox.example.com"],
  allowed_origins: ["https://console.example.com"],
});

/** A real SDK client over Streamable HTTP with `token`. */
async function connectClient(url: URL, token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: "http-test", version: "0.0.0" });
  await client.connect(transport);
  return { client, transport };
}

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;
const text = (r: CallToolResult) => (r.content as { text: string }[]).map((c) => c.text).join("\n");

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Informational (1xx) statuses received before the response, e.g. 100 Continue. */
  informational: number[];
}

/** One raw HTTP request to `url`'s server (any Host header allowed). */
function raw(url: URL, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const informational: number[] = [];
    const req = http.request(
      { host: url.hostname, port: url.port, method: opts.method ?? "POST", path: opts.path ?? url.pathname, headers: opts.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), informational }),
        );
      },
    );
    req.on("information", (info) => informational.push(info.statusCode));
    // The server may answer (413) before the whole body is written and close the connection.
    req.on("error", reject);
    req.end(opts.body);
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
});
const MCP_HEADERS = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("createHttpServer over one in-process Context", () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  let ctx: Context;
  let server: HttpServer;
  const clients: Client[] = [];

  beforeAll(async () => {
    ctx = createContext({ root: root.dir, storeDir: store.dir, config: TWO_TOKENS, logger: silentLogger, sweepMs: 0 });
    server = await createHttpServer(ctx, { listen: "127.0.0.1:0", toolsets: TOOLSET_NAMES });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await server.close();
    await ctx.close();
    root.cleanup();
    store.cleanup();
  });
  const open = async (token: string) => {
    const c = await connectClient(server.url, token);
    clients.push(c.client);
    return c;
  };

  it("takes a queued acquire_lock whose connection dropped out of the queue at once: no ghost grant", async () => {
    expect((await ctx.locks.acquire({ agent_id: "bob", keys: ["src/ghost.ts"], mode: "write" })).granted).toBe(true);
    const init = await raw(server.url, { headers: { ...MCP_HEADERS, ...bearer(ALICE_TOKEN) }, body: INITIALIZE });
    const sid = init.headers["mcp-session-id"] as string;
    const headers = { ...MCP_HEADERS, ...bearer(ALICE_TOKEN), "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18" };
    await raw(server.url, { headers, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/call",
      params: { name: "acquire_lock", arguments: { agent_id: "alice", paths: ["src/ghost.ts"], mode: "write", wait_ms: 20_000 } },
    });
    const req = http.request(server.url, { method: "POST", headers: { ...headers, "Content-Length": String(Buffer.byteLength(body)) } });
    req.on("error", () => undefined);
    req.end(body);
    await until("alice queues behind bob", () => ctx.locks.list().waiters.some((w) => w.agent_id === "alice"));
    req.destroy(); // the connection goes away while the call waits
    await until("alice's request left the queue", () => !ctx.locks.list().waiters.some((w) => w.agent_id === "alice"));
    await ctx.locks.release("bob", { keys: ["src/ghost.ts"] });
    await new Promise((r) => setTimeout(r, 200));
    expect(ctx.locks.list().locks.filter((l) => l.key === "src/ghost.ts")).toEqual([]);
    expect(server.sessions().some((s) => s.id === sid)).toBe(false);
  });

  it("listens on 127.0.0.1 with the real port, MCP at /mcp", () => {
    expect(server.url.hostname).toBe("127.0.0.1");
    expect(Number(server.url.port)).toBeGreaterThan(0);
    expect(server.url.pathname).toBe("/mcp");
  });

  it("serves tools/list, acquire_lock as the token's agent, and signalbox://locks to the SDK client", async () => {
    const { client } = await open(ALICE_TOKEN);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["acquire_lock", "release_lock", "server_info"]));

    const granted = await call(client, "acquire_lock", { agent_id: "alice", paths: ["src/a.ts"], mode: "write" });
    expect(granted.isError).toBeFalsy();
    expect(granted.structuredContent).toMatchObject({ granted: true });

    const refused = await call(client, "acquire_lock", { agent_id: "bob", paths: ["src/b.ts"], mode: "write" });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^agent_id: token "alice-laptop" may act as "alice", not "bob"/);
    // Every argument naming the actor is bound, not only agent_id.
    const spoofed = await call(client, "record_decision", { type: "other", decided_by: "bob", context: "c", decision: "bob says so" });
    expect(spoofed.isError).toBe(true);
    expect(text(spoofed)).toMatch(/^decided_by: token "alice-laptop" may act as "alice", not "bob"/);
    const own = await call(client, "record_decision", { type: "other", decided_by: "alice", context: "c", decision: "alice says so" });
    expect(own.isError).toBeFalsy();

    const r = await client.readResource({ uri: "signalbox://locks" });
    const locks = JSON.parse((r.contents[0] as { text: string }).text) as { locks: { key: string; holder?: string; agent_id?: string }[] };
    expect(locks.locks).toEqual([expect.objectContaining({ key: "src/a.ts" })]);
    expect(JSON.stringify(locks.locks[0])).toContain("alice");
  });

  it("two clients on two sessions share one store: each sees the other's locks", async () => {
    const a = await open(ALICE_TOKEN);
    const b = await open(ADMIN_TOKEN);
    expect(a.transport.sessionId).toBeDefined();
    expect(b.transport.sessionId).not.toBe(a.transport.sessionId);
    await call(a.client, "acquire_lock", { agent_id: "alice", paths: ["src/shared.ts"], mode: "write" });
    const conflict = await call(b.client, "acquire_lock", { agent_id: "carol", paths: ["src/shared.ts"], mode: "write" });
    expect(conflict.structuredContent).toMatchObject({ granted: false });
    const viaB = JSON.parse(((await b.client.readResource({ uri: "signalbox://locks" })).contents[0] as { text: string }).text) as {
      locks: { key: string }[];
    };
    expect(viaB.locks.map((l) => l.key)).toContain("src/shared.ts");
    const released = await call(a.client, "release_lock", { agent_id: "alice", all: true });
    expect(released.isError).toBeFalsy();
    const now = await call(b.client, "acquire_lock", { agent_id: "carol", paths: ["src/shared.ts"], mode: "write" });
    expect(now.structuredContent).toMatchObject({ granted: true });
    await call(b.client, "release_lock", { agent_id: "carol", all: true });
  });

  it("refuses a missing token 401 with a bare Bearer challenge, a wrong one 401 with invalid_token", async () => {
    const none = await raw(server.url, { headers: MCP_HEADERS, body: INITIALIZE });
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toBe('Bearer realm="signalbox"');

    const wrong = await raw(server.url, { headers: { ...MCP_HEADERS, ...bearer("not-a-configured-token") }, body: INITIALIZE });
    expect(wrong.status).toBe(401);
    expect(wrong.headers["www-authenticate"]).toMatch(/^Bearer realm="signalbox", error="invalid_token"/);

    const basic = await raw(server.url, { headers: { ...MCP_HEADERS, Authorization: `Basic ${ALICE_TOKEN}` }, body: INITIALIZE });
    expect(basic.status).toBe(401);

    await expect(connectClient(server.url, "not-a-configured-token")).rejects.toMatchObject({ code: 401 });

    const right = await raw(server.url, { headers: { ...MCP_HEADERS, ...bearer(ALICE_TOKEN) }, body: INITIALIZE });
    expect(right.status).toBe(200);
    expect(right.headers["mcp-session-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a foreign Origin 403 and admits the listening address's own and the configured ones", async () => {
    const headers = { ...MCP_HEADERS, ...bearer(ALICE_TOKEN) };
    const evil = await raw(server.url, { headers: { ...headers, Origin: "http://evil.example" }, body: INITIALIZE });
    expect(evil.status).toBe(403);
    expect(evil.body).toMatch(/Origin/);
    const nullOrigin = await raw(server.url, { headers: { ...headers, Origin: "null" }, body: INITIALIZE });
    expect(nullOrigin.status).toBe(403);
    for (const origin of [`http://localhost:${server.url.port}`, `http://127.0.0.1:${server.url.port}`, "https://console.example.com"]) {
      const ok = await raw(server.url, { headers: { ...headers, Origin: origin }, body: INITIALIZE });
      expect(ok.status, origin).toBe(200);
    }
  });

  it("refuses a foreign Host 403 (DNS rebinding) before looking at the token, and admits the loopback names and allowed_hosts", async () => {
    const port = server.url.port;
    for (const host of [`evil.example:${port}`, "evil.example", `localhost:${Number(port) + 1}`]) {
      const r = await raw(server.url, { headers: { ...MCP_HEADERS, Host: host }, body: INITIALIZE });
      expect(r.status, host).toBe(403);
      expect(r.body).toMatch(/Host/);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "signalbox.example.com", `signalbox.example.com:${port}`]) {
      const r = await raw(server.url, { headers: { ...MCP_HEADERS, ...bearer(ALICE_TOKEN), Host: host }, body: INITIALIZE });
      expect(r.status, host).toBe(200);
    }
  });

  it("refuses a body over 4 MiB 413, declared or streamed, and answers unknown paths 404", async () => {
    const headers = { ...MCP_HEADERS, ...bearer(ALICE_TOKEN) };
    const big = Buffer.alloc(DEFAULT_MAX_BODY_BYTES + 1, 0x20);
    const declared = await raw(server.url, { headers: { ...headers, "Content-Length": String(big.length) }, body: big });
    expect(declared.status).toBe(413);
    const streamed = await raw(server.url, { headers: { ...headers, "Transfer-Encoding": "chunked" }, body: big });
    expect(streamed.status).toBe(413);
    // Expect: 100-continue: a body declared too large gets no "100 Continue", a small one does.
    const expectTooLarge = await raw(server.url, {
      headers: { ...headers, "Content-Length": String(big.length), Expect: "100-continue" },
      body: big,
    });
    expect([expectTooLarge.status, expectTooLarge.informational]).toEqual([413, []]);
    const expectSmall = await raw(server.url, { headers: { ...headers, Expect: "100-continue" }, body: INITIALIZE });
    expect([expectSmall.status, expectSmall.informational]).toEqual([200, [100]]);
    for (const p of ["/", "/mcp/x", "/sse", "/.well-known/oauth-protected-resource"]) {
      expect((await raw(server.url, { method: "GET", path: p, headers: bearer(ALICE_TOKEN) })).status, p).toBe(404);
    }
  });

  it("finds a session only under the token that opened it, ends it on DELETE", async () => {
    const { transport } = await open(ALICE_TOKEN);
    const id = transport.sessionId!;
    const list = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    const session = { ...MCP_HEADERS, "Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18" };
    expect((await raw(server.url, { headers: { ...session, ...bearer(ALICE_TOKEN) }, body: list })).status).toBe(200);
    expect((await raw(server.url, { headers: { ...session, ...bearer(ADMIN_TOKEN) }, body: list })).status).toBe(404);
    const before = server.sessions().length;
    await transport.terminateSession();
    expect(server.sessions().length).toBe(before - 1);
    expect((await raw(server.url, { headers: { ...session, ...bearer(ALICE_TOKEN) }, body: list })).status).toBe(404);
  });

  it("closes sessions idle for idleMs since their last call; an open GET stream alone does not keep a session", async () => {
    let t = 0;
    const own = await createHttpServer(ctx, { listen: "127.0.0.1:0", idleMs: 60_000, now: () => t });
    try {
      const initialize = async () =>
        (await raw(own.url, { headers: { ...MCP_HEADERS, ...bearer(ALICE_TOKEN) }, body: INITIALIZE })).headers["mcp-session-id"] as string;
      const list = (id: string) =>
        raw(own.url, {
          headers: { ...MCP_HEADERS, ...bearer(ALICE_TOKEN), "Mcp-Session-Id": id, "Mcp-Protocol-Version": "2025-06-18" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        });
      const connected = await connectClient(own.url, ADMIN_TOKEN); // the SDK client keeps a GET stream open
      const quiet = await initialize();
      t = 30_000;
      const recent = await initialize();
      const inFlight = () => Object.fromEntries(own.sessions().map((s) => [s.id, s.inFlight]));
      await until("the server saw the calls' responses close", async () => {
        const f = inFlight();
        return f[connected.transport.sessionId!] === 1 && f[quiet] === 0 && f[recent] === 0;
      });
      t = 70_000; // quiet: 70 s since its last call, recent: 40 s, connected: 70 s with only its GET stream open
      expect(own.sessions().map((s) => [s.id, s.idleMs]).sort()).toEqual(
        [[connected.transport.sessionId, 70_000], [quiet, 70_000], [recent, 40_000]].sort(),
      );
      expect(await own.sweepIdle()).toBe(2);
      expect(own.sessions().map((s) => s.id)).toEqual([recent]);
      expect((await list(quiet)).status).toBe(404);
      expect((await list(recent)).status).toBe(200);
      await connected.client.close();
      t += 60_001;
      expect(await own.sweepIdle()).toBe(1);
      expect(own.sessions()).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it("caps sessions per token and in total with 429 and Retry-After; 3,000 initializes by one token leave it serving the others", async () => {
    // The same context (one store per process), seen with lower caps.
    const capped: Context = { ...ctx, config: config({ ...TWO_TOKENS.http, max_sessions: 12, max_sessions_per_token: 8 }) };
    const own = await createHttpServer(capped, { listen: "127.0.0.1:0" });
    try {
      const init = (token: string) => raw(own.url, { headers: { ...MCP_HEADERS, ...bearer(token) }, body: INITIALIZE });
      const statuses = new Map<number, number>();
      for (let i = 0; i < 3000; i++) {
        const r = await init(ALICE_TOKEN);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 429) expect(r.headers["retry-after"]).toMatch(/^\d+$/);
      }
      expect(Object.fromEntries(statuses)).toEqual({ 200: 8, 429: 2992 });
      const refused = await init(ALICE_TOKEN);
      expect(refused.body).toMatch(/token \\"alice-laptop\\" has 8 sessions open \(http\.max_sessions_per_token = 8\)/);
      // Another token still gets in, up to the total cap.
      for (let i = 0; i < 4; i++) expect((await init(ADMIN_TOKEN)).status).toBe(200);
      const total = await init(ADMIN_TOKEN);
      expect(total.status).toBe(429);
      expect(total.body).toMatch(/http\.max_sessions = 12/);
      expect(own.sessions()).toHaveLength(12);
    } finally {
      await own.close();
    }
  });
});

describe("settings refused before listening", () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  afterAll(() => {
    root.cleanup();
    store.cleanup();
  });
  const start = (cfg: Config, listen: string) => serveHttp({ root: root.dir, storeDir: store.dir, config: cfg, logger: silentLogger, listen });

  it("parses HOST:PORT, [IPv6]:PORT, :PORT and PORT, defaulting to 127.0.0.1", () => {
    expect(parseListen("8765")).toEqual({ host: "127.0.0.1", port: 8765, loopback: true, wildcard: false });
    expect(parseListen(":0")).toMatchObject({ host: "127.0.0.1", port: 0 });
    expect(parseListen("[::1]:80")).toMatchObject({ host: "::1", loopback: true });
    expect(parseListen("0.0.0.0:80")).toMatchObject({ loopback: false, wildcard: true });
    expect(parseListen("buildbox.lan:80")).toMatchObject({ host: "buildbox.lan", loopback: false });
    for (const bad of ["", "abc", "host:", "1.2.3.4:65536", "[nope]:80", "::1:80", "a b:80", "http://x:80"]) {
      expect(() => parseListen(bad), bad).toThrow(/^--http: expected HOST:PORT, :PORT or PORT/);
    }
  });

  it("accepts as Host: the listening host:port, the loopback names on loopback, interface addresses on the wildcard, allowed_hosts", () => {
    const named = allowedHosts(parseListen("buildbox.lan:8080"), 8080, ["proxy.example.com", "Other.Example:9000"]);
    expect([...named].sort()).toEqual(["buildbox.lan:8080", "other.example:9000", "proxy.example.com", "proxy.example.com:8080"]);
    const loop = allowedHosts(parseListen(":0"), 4321, []);
    expect([...loop].sort()).toEqual(["127.0.0.1:4321", "[::1]:4321", "localhost:4321"]);
    const any = allowedHosts(parseListen("0.0.0.0:8080"), 8080, []);
    expect(any).toContain("0.0.0.0:8080");
    expect(any).toContain("127.0.0.1:8080");
    expect([...any].every((h) => /^(\[[0-9a-f:.]+\]|[0-9.]+|localhost):8080$/.test(h))).toBe(true);
    const port80 = allowedHosts(parseListen("127.0.0.1:80"), 80, []);
    expect([...port80].sort()).toEqual(["127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:80", "localhost", "localhost:80"]);
  });

  it("refuses to serve without a token, on loopback and on a network address, naming http.tokens", async () => {
    await expect(start(config({}), "127.0.0.1:0")).rejects.toThrow(/^http\.tokens: no bearer token configured; authentication is always on/);
    await expect(start(config({}), "0.0.0.0:0")).rejects.toThrow(/^http\.tokens: .*without authentication on a network address/);
  });

  it("refuses a config whose tokens share a name (a name labels a token and binds its sessions)", () => {
    expect(() =>
      config({
        tokens: [
          { name: "laptop", token: "a".repeat(20), agents: ["alice"] },
          { name: "laptop", token: "b".repeat(20), agents: ["*"] },
        ],
      }),
    ).toThrow(/http\.tokens\.1\.name: "laptop" is already the name of http\.tokens\[0\]; token names must be unique/);
    expect(() => config({ tokens: [{ name: "a", token: "a".repeat(20), agents: ["x"] }, { name: "b", token: "b".repeat(20), agents: ["y"] }] })).not.toThrow();
  });

  it("refuses an unset token_env, naming it", async () => {
    const cfg = config({ tokens: [{ name: "ci", token_env: "SIGNALBOX_TEST_TOKEN_UNSET_42", agents: ["*"] }] });
    delete process.env.SIGNALBOX_TEST_TOKEN_UNSET_42;
    await expect(start(cfg, "127.0.0.1:0")).rejects.toThrow(/^http\.tokens\[0\]\.token_env: environment variable SIGNALBOX_TEST_TOKEN_UNSET_42 is not set/);
  });

  it("refuses a port already in use, naming --http", async () => {
    const first = await start(TWO_TOKENS, "127.0.0.1:0");
    try {
      await expect(start(TWO_TOKENS, `127.0.0.1:${first.url.port}`)).rejects.toThrow(/^--http: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});

describe("the built CLI: signalbox serve --http", () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  const env = { ...process.env, SIGNALBOX_DB: store.dir, SIGNALBOX_HTTP_TEST_TOKEN: ADMIN_TOKEN } as Record<string, string>;
  delete env.SIGNALBOX_ROOT;
  afterAll(() => {
    root.cleanup();
    store.cleanup();
  });

  /** Run the CLI; resolves with the child once `signalbox listening on <url>` is on stderr, or rejects with its stderr when it exits. */
  function startCli(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; url: URL; stdout: () => string }> {
    const child = spawn(process.execPath, [CLI, "--root", root.dir, ...args], { env });
    let err = "";
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    return new Promise((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString("utf8");
        const m = /^signalbox listening on (\S+)$/m.exec(err);
        if (m?.[1]) resolve({ child, url: new URL(m[1]), stdout: () => out });
      });
      child.on("exit", (code) => reject(new Error(`exit ${code}: ${err}`)));
    });
  }
  const exitOf = (child: ChildProcessWithoutNullStreams) =>
    new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));

  it("prints the real port on stderr, serves the SDK client, writes nothing to stdout, exits 0 on SIGTERM", async () => {
    fs.writeFileSync(
      path.join(root.dir, "signalbox.config.json"),
      JSON.stringify({ http: { tokens: [{ name: "ci", token_env: "SIGNALBOX_HTTP_TEST_TOKEN", agents: ["*"] }] } }),
    );
    const { child, url, stdout } = await startCli(["serve", "--http", "127.0.0.1:0"]);
    try {
      expect(url.href).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/mcp$/);
      const { client } = await connectClient(url, ADMIN_TOKEN);
      const info = await call(client, "server_info", {});
      expect(info.structuredContent).toMatchObject({ store: store.dir });
      await client.close();
      expect((await raw(url, { headers: MCP_HEADERS, body: INITIALIZE })).status).toBe(401);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exitOf(child)).toBe(0);
    expect(stdout()).toBe("");
  });

  it("exits 1 naming --http for a malformed address, and http.tokens when none is configured", async () => {
    await expect(startCli(["serve", "--http", "localhost"])).rejects.toThrow(/exit 1: signalbox: --http: expected HOST:PORT/);
    fs.writeFileSync(path.join(root.dir, "signalbox.config.json"), "{}");
    await expect(startCli(["serve", "--http", ":0"])).rejects.toThrow(/exit 1: signalbox: http\.tokens: no bearer token configured/);
  });
});
