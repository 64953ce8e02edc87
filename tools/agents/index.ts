import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Context } from "../../src/context.js";
import { registerDispatchAgents } from "./dispatch-agents.js";
import { registerReassignFeature } from "./reassign-feature.js";
import { registerReportStatus } from "./report-status.js";

/** Agents: dispatch_agents, report_status and reassign_feature. */
export function registerAgentTools(server: McpServer, ctx: Context): void {
  registerDispatchAgents(server, ctx);
  registerReportStatus(server, ctx);
  registerReassignFeature(server, ctx);
}
