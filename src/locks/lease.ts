/** The lease rule of a lock, on the engine's time (store/port.ts `EngineTime`). */

/**
 * Whether a lock record is held right now: state `held`, granted under this
 * boot (monotonic times of another boot mean nothing here), and its lease
 * not lapsed at monotonic instant `nowMono` (DESIGN.md "Store rules": lease
 * times use the monotonic clock plus the boot id).
 */
export function isLeaseLive(rec: { state: string; boot: string; expires_mono: number }, bootId: string, nowMono: number): boolean {
  return rec.state === "held" && rec.boot === bootId && rec.expires_mono > nowMono;
}
