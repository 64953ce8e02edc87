/**
 * Section 4: server start to the first `initialize` answer (spawn until
 * `client.connect()` resolves; the stdio entry point answers it while the
 * server loads, src/runtime/stdio-early.ts) and to the first `tools/list` answer
 * (the whole server loaded), against `node -e ""` spawn-to-exit; and the
 * idle resident memory of the server child against a bare idle node process.
 */
import { spawn } from "node:child_process";
import { PACKAGE, median, rssMiB, startServer, tempDir } from "./lib.js";

export interface StartupResult {
  runs: number;
  connect_ms: number;
  connect_runs_ms: number[];
  /** Spawn to the first `tools/list` answer, median (the whole server loaded). */
  ready_ms: number;
  ready_runs_ms: number[];
  ready_ratio: number;
  node_exit_ms: number;
  node_exit_runs_ms: number[];
  ratio: number;
  /** Extra attribution: node importing the server's heavy dependencies, spawn to exit. */
  node_import_deps_ms: number;
  idle_rss_mib: number;
  node_idle_rss_mib: number;
  rss_ratio: number;
}

/** Spawn node with `args` and resolve with ms until it exits. */
function spawnToExit(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: PACKAGE, stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`node ${args.join(" ")} exited ${code}`));
      else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

/** RSS of an idle bare node process (prints a line, then idles), MiB. */
function idleNodeRss(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)'], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.on("error", reject);
    child.stdout.once("data", () => {
      setTimeout(() => {
        const rss = rssMiB(child.pid as number);
        child.kill();
        resolve(rss);
      }, 300);
    });
  });
}

export async function benchStartup(runs = 5): Promise<StartupResult> {
  const connect: number[] = [];
  const ready: number[] = [];
  const nodeExit: number[] = [];
  const importDeps: number[] = [];
  let idle = NaN;
  // Resolve the imports from the package folder, as the server does.
  const importScript =
    'await import("@modelcontextprotocol/sdk/server/mcp.js"); await import("@modelcontextprotocol/sdk/server/stdio.js"); ' +
    'await import("lmdb"); await import("zod"); await import("commander"); await import("picomatch");';
  await spawnToExit(["-e", ""]); // warm the page cache
  for (let r = 0; r < runs; r++) {
    nodeExit.push(await spawnToExit(["-e", ""]));
    importDeps.push(await spawnToExit(["--input-type=module", "-e", importScript]));
    const root = tempDir("signalbox-bench-root-");
    const store = tempDir("signalbox-bench-store-");
    try {
      const s = await startServer(root.dir, store.dir);
      try {
        connect.push(s.connectMs);
        ready.push(s.readyMs);
        if (r === runs - 1) {
          // Idle memory after connect and a few calls.
          await s.call("server_info", {});
          const g = await s.call<{ locks: { lock_id: string }[] }>("acquire_lock", {
            agent_id: "a",
            paths: ["src/x.ts"],
            mode: "write",
          });
          await s.call("release_lock", { agent_id: "a", lock_ids: g.locks.map((l) => l.lock_id) });
          await s.client.listTools();
          await new Promise((res) => setTimeout(res, 300));
          idle = rssMiB(s.pid);
        }
      } finally {
        await s.close();
      }
    } finally {
      root.cleanup();
      store.cleanup();
    }
  }
  const nodeIdle = await idleNodeRss();
  const c = median(connect);
  const n = median(nodeExit);
  const rd = median(ready);
  return {
    runs,
    connect_ms: c,
    connect_runs_ms: connect,
    node_exit_ms: n,
    node_exit_runs_ms: nodeExit,
    ratio: c / n,
    ready_ms: rd,
    ready_runs_ms: ready,
    ready_ratio: rd / n,
    node_import_deps_ms: median(importDeps),
    idle_rss_mib: idle,
    node_idle_rss_mib: nodeIdle,
    rss_ratio: idle / nodeIdle,
  };
}
