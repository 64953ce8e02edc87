import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerDispatchAgents } from "./dispatch-agents.js";
import { registerReassignFeature } from "./reassign-feature.js";
import { registerReportStatus } from "./report-status.js";

/** Agents: dispatch_agents, report_status and reassign_feature. */
export function registerAgentTools(server: ToolHost, ctx: Context): void {
  registerDispatchAgents(server, ctx);
  registerReportStatus(server, ctx);
  registerReassignFeature(server, ctx);
}
