import type { ToolHost } from "../host.js";
import type { Context } from "../../src/runtime/context.js";
import { registerAcknowledge } from "./acknowledge.js";
import { registerCheckConventions } from "./check-conventions.js";
import { registerCrossAgentHandoff } from "./cross-agent-handoff.js";
import { registerGetInbox } from "./get-inbox.js";
import { registerSetConvention } from "./set-convention.js";

/** Discoveries and conventions: cross_agent_handoff, get_inbox, acknowledge, set_convention, check_conventions. */
export function registerMessageTools(server: ToolHost, ctx: Context): void {
  registerCrossAgentHandoff(server, ctx);
  registerGetInbox(server, ctx);
  registerAcknowledge(server, ctx);
  registerSetConvention(server, ctx);
  registerCheckConventions(server, ctx);
}
