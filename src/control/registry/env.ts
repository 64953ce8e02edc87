/**
 * What every control-layer function needs: the transactions it reads and
 * writes in, the clock and the configuration. A `Context` satisfies it; a
 * test on any engine builds one with {@link envInTxn}.
 *
 * Control functions are synchronous (docs/store-port.md): they read and
 * write through `env.txn`, never through an engine's handles. On LMDB the
 * scope opens (or joins) a real write transaction; on an engine whose calls
 * are asynchronous the caller runs the whole use case inside
 * `db.write(tx => ...)` and hands it a scope bound to that transaction.
 */
import type { Config } from "../../runtime/config.js";
import type { Clock } from "../../store/clock.js";
import { scopeOf, type TxnScope, type WriteTxn } from "../../store/txn.js";

export { scopeOf, type TxnScope };

/** The transactions, clock and config a control function works with. */
export interface ControlEnv {
  readonly txn: TxnScope;
  readonly clock: Clock;
  readonly config: Config;
}

/** A control env whose every read and write goes to `tx` (a use case run inside `db.write`). */
export function envInTxn(tx: WriteTxn, clock: Clock, config: Config): ControlEnv {
  return { txn: scopeOf(tx), clock, config };
}

/** Wall-clock now as ISO-8601 (display only; decisions use `clock.monoMs()`). */
export function nowIso(env: Pick<ControlEnv, "clock">): string {
  return new Date(env.clock.wallMs()).toISOString();
}
