/**
 * What every control-layer function needs: the store, the clock and the
 * configuration. A `Context` satisfies it; tests may build one directly.
 */
import type { Config } from "../runtime/config.js";
import type { Clock } from "../store/clock.js";
import type { Store } from "../store/lmdb/store.js";

/** The store, clock and config a control function works with. */
export interface ControlEnv {
  readonly store: Store;
  readonly clock: Clock;
  readonly config: Config;
}

/** Wall-clock now as ISO-8601 (display only; decisions use `clock.monoMs()`). */
export function nowIso(env: Pick<ControlEnv, "clock">): string {
  return new Date(env.clock.wallMs()).toISOString();
}
