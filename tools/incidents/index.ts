import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerCloseIncident } from "./close-incident.js";
import { registerReportEmergency } from "./report-emergency.js";

/** Emergencies: report_emergency and close_incident (execution-template.md, "Emergency Coordination Protocols"). */
export function registerIncidentTools(server: ToolHost, ctx: Context): void {
  registerReportEmergency(server, ctx);
  registerCloseIncident(server, ctx);
}
