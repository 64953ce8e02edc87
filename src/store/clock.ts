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
import { execFileSync } from "node:child_process";

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

/** One way to learn this boot's identity: its answer, or null where the system does not offer it. */
export type BootSource = () => string | null;

/** Run `sysctl -n <name>`; null when sysctl or the name does not exist. */
function sysctl(name: string): string | null {
  try {
    const out = execFileSync("sysctl", ["-n", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 2000 }).trim();
    return out === "" ? null : out;
  } catch {
    return null;
  }
}

/** The first line of `file`, or null when it cannot be read. */
function firstLine(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8").split("\n")[0]?.trim() || null;
  } catch {
    return null;
  }
}

/**
 * The system's own records of this boot, most specific first: Linux's
 * `/proc/sys/kernel/random/boot_id`; macOS's `kern.bootsessionuuid`; the
 * kernel's boot timestamp, `kern.boottime` (macOS, the BSDs) or `btime` of
 * Linux's `/proc/stat`. Each is fixed for the whole boot by the kernel,
 * whatever a process's wall clock says.
 */
export function systemBootSources(): BootSource[] {
  return [
    () => firstLine("/proc/sys/kernel/random/boot_id"),
    () => sysctl("kern.bootsessionuuid"),
    () => {
      const t = sysctl("kern.boottime");
      return t === null ? null : parseBoottime(t);
    },
    () => {
      try {
        return parseProcStatBtime(fs.readFileSync("/proc/stat", "utf8"));
      } catch {
        return null;
      }
    },
  ];
}

/** The boot id in `sysctl -n kern.boottime` output (`{ sec = 1733280000, usec = 123456 } Wed Dec  4 ...`), or null. */
export function parseBoottime(text: string): string | null {
  const m = /sec\s*=\s*(\d+),\s*usec\s*=\s*(\d+)/.exec(text);
  return m ? `boottime-${m[1]}.${m[2]}` : null;
}

/** The boot id in Linux's `/proc/stat` (its `btime <seconds>` line), or null. */
export function parseProcStatBtime(text: string): string | null {
  const m = /^btime\s+(\d+)$/m.exec(text);
  return m ? `btime-${m[1]}` : null;
}

/** Error raised when no source names this boot; leases cannot be judged safely without one. */
export class BootIdError extends Error {
  readonly code = "boot_id_unavailable";
  constructor() {
    super(
      "store: cannot identify this boot of the machine (no /proc/sys/kernel/random/boot_id, sysctl kern.bootsessionuuid or kern.boottime, /proc/stat btime); " +
        "leases are judged on the monotonic clock of one boot, and a boot id derived from a wall clock would double-grant when a clock is off",
    );
    this.name = "BootIdError";
  }
}

/**
 * This boot's identity from the first of `sources` that answers (DESIGN.md
 * "Store rules": leases compare monotonic time within one boot). Never
 * derived from a wall clock: a process whose clock is off must not see other
 * processes' live leases as another boot's.
 * @throws BootIdError when no source answers.
 */
export function readBootId(sources: readonly BootSource[] = systemBootSources()): string {
  for (const source of sources) {
    const id = source();
    if (id) return id;
  }
  throw new BootIdError();
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
export function monoToIso(clock: Pick<Clock, "wallOffsetMs">, mono: number): string {
  return new Date(Math.round(mono + clock.wallOffsetMs())).toISOString();
}
