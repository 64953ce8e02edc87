/**
 * The clock every lease is measured on.
 *
 * Store rules (DESIGN.md): lease times use the monotonic clock, which all
 * processes of one boot share (Linux CLOCK_MONOTONIC through
 * `process.hrtime`), together with the boot id; a lease written under another
 * boot id is expired. Wall-clock time is only used to *display* instants
 * (ISO strings), never to decide a grant: a process with a shifted wall clock
 * must not be able to double-grant.
 */
import fs from "node:fs";
import os from "node:os";

/** Source of time for leases. All values in milliseconds. */
export interface Clock {
  /** Identifies this boot of the machine; leases from another boot are expired. */
  readonly bootId: string;
  /** Monotonic milliseconds, comparable across processes of one boot. */
  monoMs(): number;
  /** Wall-clock milliseconds since the epoch, for display only. */
  wallMs(): number;
  /**
   * Wall minus monotonic time, whole ms, steady between reads (it follows a
   * step of the wall clock, not the sub-millisecond jitter between two
   * readings), so a monotonic instant shows as the same ISO time each time.
   */
  wallOffsetMs(): number;
}

/** Read the kernel's boot id, or derive a stable one from the boot time where /proc is absent. */
export function readBootId(): string {
  try {
    return fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    // Boot instant rounded to 10 s: stable for every process of this boot.
    const bootWall = Date.now() - os.uptime() * 1000;
    return `boot-${Math.round(bootWall / 10_000)}`;
  }
}

/** A change of wall minus monotonic time larger than this (ms) is a step of the wall clock, not jitter. */
const STEP_MS = 50;

/** The real clock: `process.hrtime` for leases, `Date.now` for display. */
export function systemClock(): Clock {
  const bootId = readBootId();
  const monoMs = () => Number(process.hrtime.bigint()) / 1e6;
  let offset = Math.round(Date.now() - monoMs());
  return {
    bootId,
    monoMs,
    wallMs: () => Date.now(),
    wallOffsetMs() {
      const now = Math.round(Date.now() - monoMs());
      // Readings jitter by a millisecond or two; a step of the wall clock (NTP, a shifted clock) moves it for good.
      if (Math.abs(now - offset) > STEP_MS) offset = now;
      return offset;
    },
  };
}

/** A clock the caller moves by hand (tests). */
export interface ManualClock extends Clock {
  /** Move both monotonic and wall time forward by `ms`. */
  advance(ms: number): void;
}

/** A manual clock starting at `startMono` ms monotonic and `startWall` epoch ms. */
export function manualClock(bootId = "test-boot", startMono = 1_000_000, startWall = Date.UTC(2026, 0, 1)): ManualClock {
  let mono = startMono;
  let wall = startWall;
  return {
    bootId,
    monoMs: () => mono,
    wallMs: () => wall,
    wallOffsetMs: () => wall - mono,
    advance(ms: number) {
      mono += ms;
      wall += ms;
    },
  };
}

/** ISO time of a monotonic instant, as seen from now on this clock. */
export function monoToIso(clock: Clock, mono: number): string {
  return new Date(Math.round(mono + clock.wallOffsetMs())).toISOString();
}
