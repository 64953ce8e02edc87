/**
 * The faults of the torture harness (RELIABILITY.md, "The fault-injection
 * harness"):
 * - kill: SIGKILL a random driver's server every 50-100 ms;
 * - stall: SIGSTOP a random DRIVER (client side, never a server: a stopped
 *   server could hold LMDB's write mutex and stall every process) for
 *   max lease + 300 ms, then SIGCONT;
 * - clock: libfaketime (wall clock +10 s, monotonic untouched) for one server;
 * - disk: the store on a small tmpfs, filled by a ballast file below the
 *   server's disk reserve for about a second every few seconds.
 * Each fault is a loop object with `stop()`; state lives in the object.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { monoNow } from "./history.js";
import type { Rng } from "./random.js";
import { findFaketimeLib } from "./server.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A running fault loop. */
export interface FaultLoop {
  /** End the loop and undo what it holds (SIGCONT, ballast deleted). */
  stop(): Promise<void>;
}

/**
 * Kill fault: every 50-100 ms pick a random driver and SIGKILL its current
 * server (nothing happens that tick if that driver is still starting a new one).
 * `serverPids` lists each running driver's current server pid, or null.
 */
export function startKills(rng: Rng, serverPids: () => (number | null)[], onKill: (pid: number) => void): FaultLoop {
  let running = true;
  const killed = new Set<number>();
  const loop = (async () => {
    while (running) {
      await sleep(rng.int(50, 100));
      const pids = serverPids();
      if (!running || pids.length === 0) continue;
      const pid = rng.pick(pids);
      if (pid === null || killed.has(pid)) continue;
      try {
        process.kill(pid, "SIGKILL");
        killed.add(pid);
        onKill(pid);
      } catch {
        // gone already
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Stall fault: every 2-4 s, SIGSTOP a random driver for `stallMs`, then SIGCONT. */
export function startStalls(rng: Rng, driverPids: () => number[], stallMs: number, onStall: (pid: number, stopped: boolean) => void): FaultLoop {
  let running = true;
  const loop = (async () => {
    while (running) {
      await sleep(rng.int(2000, 4000));
      const pids = driverPids();
      if (!running || pids.length === 0) continue;
      const pid = rng.pick(pids);
      try {
        process.kill(pid, "SIGSTOP");
      } catch {
        continue;
      }
      onStall(pid, true);
      await sleep(stallMs);
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        // gone
      }
      onStall(pid, false);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Is libfaketime there; if not, install it when we are root with apt-get (saying so through `log`). */
export function ensureFaketime(log: (msg: string) => void): { lib: string | null; message: string } {
  let lib = findFaketimeLib();
  if (lib) return { lib, message: `libfaketime at ${lib}` };
  const hasApt = spawnSync("sh", ["-c", "command -v apt-get"], { encoding: "utf8" }).status === 0;
  if (process.getuid?.() === 0 && hasApt) {
    log("clock fault: installing faketime (apt-get install -y faketime)");
    let r = spawnSync("apt-get", ["install", "-y", "faketime"], { encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (r.status !== 0) {
      spawnSync("apt-get", ["update"], { encoding: "utf8" });
      r = spawnSync("apt-get", ["install", "-y", "faketime"], { encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    }
    lib = findFaketimeLib();
    if (lib) return { lib, message: `installed faketime; libfaketime at ${lib}` };
    return { lib: null, message: `faketime install failed: ${(r.stderr || r.stdout || "").trim().slice(-200)}` };
  }
  return { lib: null, message: "faketime not installed and cannot install it (needs root and apt-get): clock fault skipped" };
}

/** Free bytes for unprivileged writers on the filesystem of `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Mount a tmpfs of `sizeMb` MiB at `dir` (root or a user+mount namespace); null on success, else the reason. */
export function mountTmpfs(dir: string, sizeMb: number): string | null {
  if (process.getuid?.() !== 0) return "not root (run under `unshare -rm` or as root)";
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMb}m`, "tmpfs", dir], { encoding: "utf8" });
  return r.status === 0 ? null : `mount -t tmpfs failed: ${(r.stderr || "").trim()}`;
}

/** Unmount a tmpfs mounted by {@link mountTmpfs} (lazy, so a straggler cannot block it). */
export function unmountTmpfs(dir: string): void {
  spawnSync("umount", ["-l", dir]);
}

/** One window during which the disk was kept below the reserve (monotonic ms). */
export interface DiskWindow {
  start: number;
  end: number;
  /** Free bytes measured with the ballast in place. */
  free_bytes: number;
}

/**
 * Disk fault: every 3-5 s write a ballast file beside the store until fewer
 * than `targetFreeBytes` are free, hold `holdMs`, delete it.
 */
export function startDiskFills(
  rng: Rng,
  dir: string,
  targetFreeBytes: number,
  holdMs: number,
  onWindow: (w: DiskWindow) => void,
  onError: (msg: string) => void,
): FaultLoop {
  let running = true;
  const ballast = path.join(dir, "ballast.bin");
  const chunk = Buffer.alloc(1 << 20, 0xa5);
  const loop = (async () => {
    while (running) {
      await sleep(rng.int(3000, 5000));
      if (!running) break;
      let fd: number | null = null;
      try {
        fd = fs.openSync(ballast, "w");
        while (freeBytes(dir) > targetFreeBytes) {
          const room = freeBytes(dir) - targetFreeBytes;
          fs.writeSync(fd, chunk, 0, Math.max(4096, Math.min(chunk.length, room)));
        }
        fs.closeSync(fd);
        fd = null;
        const start = monoNow();
        const free = freeBytes(dir);
        await sleep(holdMs);
        fs.rmSync(ballast, { force: true });
        onWindow({ start, end: monoNow(), free_bytes: free });
      } catch (err) {
        onError(`disk fault: ${(err as Error).message}`);
        if (fd !== null) fs.closeSync(fd);
        fs.rmSync(ballast, { force: true });
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      fs.rmSync(ballast, { force: true });
    },
  };
}
