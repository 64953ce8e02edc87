import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerPredictConflicts } from "./predict-conflicts.js";

/** Git-backed tools: predict_conflicts (the conflict radar). */
export function registerGitTools(server: ToolHost, ctx: Context): void {
  registerPredictConflicts(server, ctx);
}
