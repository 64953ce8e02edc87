import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerCompleteFeature } from "./complete-feature.js";
import { registerFailFeature } from "./fail-feature.js";
import { registerStartFeature } from "./start-feature.js";

/** Feature lifecycle: start_feature, complete_feature and fail_feature. */
export function registerFeatureTools(server: ToolHost, ctx: Context): void {
  registerStartFeature(server, ctx);
  registerCompleteFeature(server, ctx);
  registerFailFeature(server, ctx);
}
