/**
 * The boot identity leases are judged under: the system's own record of the
 * boot, never a wall clock. A server whose clock is 10 s off must read the
 * same boot id as every other process of the boot, on every platform's
 * source; with no source at all the store refuses to start rather than guess.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { BootIdError, parseBoottime, parseProcStatBtime, readBootId, systemBootSources } from "../src/store/clock.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("boot id", () => {
  it("takes the first source that answers, in order", () => {
    expect(readBootId([() => null, () => "from-sysctl", () => "later"])).toBe("from-sysctl");
    expect(readBootId([() => "proc-id", () => "from-sysctl"])).toBe("proc-id");
  });

  it("reads kern.boottime and /proc/stat btime as the kernel prints them", () => {
    expect(parseBoottime("{ sec = 1733280000, usec = 123456 } Wed Dec  4 02:00:00 2026")).toBe("boottime-1733280000.123456");
    expect(parseBoottime("garbage")).toBeNull();
    expect(parseProcStatBtime("cpu  1 2 3\nintr 5\nbtime 1733280000\nprocesses 9\n")).toBe("btime-1733280000");
    expect(parseProcStatBtime("cpu 1\n")).toBeNull();
  });

  it("does not move with a shifted wall clock, on the primary source and on the fallbacks", () => {
    const all = systemBootSources();
    const fallbacks = all.slice(1); // what a system without /proc/sys/kernel/random/boot_id uses
    const before = [readBootId(all), readBootId(fallbacks)];
    vi.useFakeTimers({ now: Date.now() + 10_000, toFake: ["Date"] });
    expect([readBootId(all), readBootId(fallbacks)]).toEqual(before);
    vi.setSystemTime(Date.now() - 3_600_000);
    expect([readBootId(all), readBootId(fallbacks)]).toEqual(before);
  });

  it("refuses to guess when no source names the boot", () => {
    expect(() => readBootId([() => null, () => null])).toThrow(BootIdError);
    try {
      readBootId([]);
    } catch (err) {
      expect((err as BootIdError).code).toBe("boot_id_unavailable");
      expect((err as Error).message).toMatch(/cannot identify this boot.*wall clock would double-grant/);
    }
  });
});
