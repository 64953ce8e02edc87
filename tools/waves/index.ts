import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../../src/context.js";
import { registerIntegrateWave } from "./integrate-wave.js";
import { registerRollbackWave } from "./rollback-wave.js";

/** Wave integration and rollback: integrate_wave and rollback_wave (issue 6). */
export function registerWaveTools(server: McpServer, ctx: Context): void {
  registerIntegrateWave(server, ctx);
  registerRollbackWave(server, ctx);
}
