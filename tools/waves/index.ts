import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerIntegrateWave } from "./integrate-wave.js";
import { registerRollbackWave } from "./rollback-wave.js";

/** Wave integration and rollback: integrate_wave and rollback_wave (README, "A wave from dispatch to integration"). */
export function registerWaveTools(server: ToolHost, ctx: Context): void {
  registerIntegrateWave(server, ctx);
  registerRollbackWave(server, ctx);
}
