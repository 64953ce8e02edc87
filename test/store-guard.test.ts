/**
 * The write guard (src/store/lmdb/guard.ts) on a real full disk: a small tmpfs
 * mounted for the test (root only; skipped with the reason otherwise).
 * Clear errors, nothing written or lost, work resumes when room returns, and
 * an LMDB failure past the guard is recovered by reopening the store.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendDecision } from "../src/log/decisions.js";
import { manualClock } from "../src/store/clock.js";
import { openStore, SCHEMA_VERSION, type Store } from "../src/store/lmdb/store.js";
import { tempDir } from "./helpers/store.js";
import { lmdbTxn } from "../src/store/lmdb/engine.js";

const MIB = 1024 * 1024;

function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir("signalbox-mount-probe-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.dir], { stdio: "ignore" });
    execFileSync("umount", [probe.dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    probe.cleanup();
  }
}

const mountable = canMount();
if (!mountable) console.warn("store-guard: skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN) on this machine");

describe.skipIf(!mountable)("the store on a full disk (tmpfs)", () => {
  const mount = tempDir("signalbox-tmpfs-");
  const ballast = path.join(mount.dir, "ballast");
  const clock = manualClock();

  beforeAll(() => {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mount.dir]);
  });
  afterAll(() => {
    execFileSync("umount", ["-l", mount.dir]);
    mount.cleanup();
  });

  /** Fill the filesystem until only `leave` bytes are free (or it is full). */
  function fill(leave: number): void {
    const fd = fs.openSync(ballast, "a");
    try {
      const chunk = Buffer.alloc(64 * 1024);
      for (;;) {
        const s = fs.statfsSync(mount.dir);
        const free = s.bavail * s.bsize;
        if (free <= leave) break;
        fs.writeSync(fd, chunk, 0, Math.min(chunk.length, free - leave));
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
    } finally {
      fs.closeSync(fd);
    }
  }

  const decide = (store: Store, text: string) =>
    store.write(() => appendDecision(lmdbTxn(store), clock, { type: "other", decided_by: "a", context: text, decision: text }));
  const count = (store: Store) => [...store.decisions.getKeys()].length;

  it("refuses writes below the reserve with an error naming limits.disk_reserve_mb, then resumes when room returns", async () => {
    const dir = path.join(mount.dir, "reserve");
    const store = openStore(dir, { limits: { disk_reserve_mb: 4, store_mb: 1024 } });
    for (let i = 0; i < 10; i++) decide(store, `before ${i}`);
    fill(2 * MIB);
    expect(() => decide(store, "while full")).toThrow(/limits\.disk_reserve_mb \(4 MiB\).*Nothing was written/);
    expect(count(store)).toBe(10);
    fs.rmSync(ballast);
    decide(store, "after");
    expect(count(store)).toBe(11);
    expect(store.recoveries).toBe(0);
    // Closed before the next test fills the disk to the last byte.
    await store.close();
  });

  it("survives an LMDB disk failure past the guard: clear error, writes held until room returns, then reopened", () => {
    const dir = path.join(mount.dir, "raw");
    const store = openStore(dir, { limits: { disk_reserve_mb: 0, store_mb: 1024 } });
    for (let i = 0; i < 10; i++) decide(store, `before ${i}`);
    fill(0);
    // A value larger than any free page inside the file: the commit must grow the file and fails.
    const big = "x".repeat(4 * MIB);
    expect(() => decide(store, big)).toThrow(/store: LMDB failed .*nothing of this step was committed.*wait for free disk space/i);
    expect(() => decide(store, "again")).toThrow(/writes are suspended after a disk error/);
    expect(count(store)).toBe(10);
    fs.rmSync(ballast);
    decide(store, "after room returned");
    expect(store.recoveries).toBe(1);
    expect(store.meta.get("store_recoveries")).toBe(1);
    expect(count(store)).toBe(11);
    void store.close();
    // A fresh open sees every committed decision and nothing of the failed one.
    const fresh = openStore(dir);
    const contexts = [...fresh.decisions.getRange({ start: 0 })].map(({ value }) => value.context);
    expect(contexts).toEqual([...Array.from({ length: 10 }, (_, i) => `before ${i}`), "after room returned"]);
    void fresh.close();
  });
});

describe("the store size quota", () => {
  it("refuses writes once the data file reaches limits.store_mb, but lets housekeeping through", () => {
    const t = tempDir();
    const clock = manualClock();
    const store = openStore(t.dir, { limits: { disk_reserve_mb: 0, store_mb: 1 } });
    const fill = "y".repeat(200 * 1024);
    let refused: Error | null = null;
    for (let i = 0; i < 20 && !refused; i++) {
      try {
        store.write(() => appendDecision(lmdbTxn(store), clock, { type: "other", decided_by: "a", context: fill, decision: `d${i}` }));
      } catch (err) {
        refused = err as Error;
      }
      // The quota is looked at every QUOTA_CHECK_MS; wait past it so the next write sees the growth.
      const until = performance.now() + 260;
      while (performance.now() < until) {
        /* spin: the test needs the guard's next look */
      }
    }
    expect(refused?.message).toMatch(/limits\.store_mb \(1 MiB\).*raise limits\.store_mb/);
    expect(store.write(() => store.meta.get("schema_version"), { housekeeping: true })).toBe(SCHEMA_VERSION);
    void store.close();
    t.cleanup();
  });
});
