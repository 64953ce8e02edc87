/**
 * `createServer(context)`: the MCP server with every tool and resource
 * registered. The only place (with main.ts) where the core meets the SDK.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { registerDecisionResource } from "../resources/decisions.js";
import { registerLockResource } from "../resources/locks.js";
import { registerWaveResources } from "../resources/waves.js";
import { registerAgentTools } from "../tools/agents/index.js";
import { registerAuditTools } from "../tools/audit/index.js";
import { registerCheckpointTools } from "../tools/checkpoints/index.js";
import { registerFeatureTools } from "../tools/features/index.js";
import { registerMessageTools } from "../tools/messages/index.js";
import { registerAcquireLock } from "../tools/acquire-lock.js";
import { registerBreakLock } from "../tools/break-lock.js";
import { registerCheckParallel } from "../tools/check-parallel.js";
import { compactToolList } from "../tools/compact-list.js";
import { registerPlanWaves } from "../tools/plan-waves.js";
import { registerRecordDecision } from "../tools/record-decision.js";
import { registerReleaseLock } from "../tools/release-lock.js";
import { registerRenewLease } from "../tools/renew-lease.js";
import { registerServerInfo } from "../tools/server-info.js";
import { registerVerifyLock } from "../tools/verify-lock.js";
import type { Context } from "./context.js";
import { VERSION } from "./version.js";

/** Short usage guide sent to clients in `initialize`. */
export const INSTRUCTIONS = [
  "signalbox coordinates agents working on one codebase.",
  "Before dispatching parallel work: check_parallel or plan_waves.",
  "Before writing a file: acquire_lock (mode write) with your agent_id; pass the fencing_token along, verify_lock before the write, release_lock after.",
  "Renew long leases with renew_lease; a stale lock must be acquired again.",
  "Record arbitrations in the decision log (record_decision); read signalbox://decisions first.",
  "Orchestrator: dispatch_agents before starting agents; watch signalbox://state, signalbox://agents, signalbox://metrics and your inbox.",
  "Agents: start_feature before a feature, complete_feature or fail_feature after; report_status is your heartbeat and says if you are paused; get_inbox, then acknowledge.",
  "Auditors: emit_audit_signal (RED pauses the feature's coders until resolve_audit_signal). Before editing a file: check_conventions.",
  "Every output field a tool declares is always present (null when it has no value).",
].join("\n");

/**
 * Build the MCP server over `ctx`. `close()` closes the MCP server; the
 * context (store) is the caller's to close. `compactToolList: false` serves
 * the SDK's full tool schemas (tests check results against them exactly).
 */
export function createServer(
  ctx: Context,
  options: { compactToolList?: boolean } = {},
): { server: McpServer; close: () => Promise<void> } {
  const server = new McpServer(
    { name: "signalbox", title: "signalbox", version: VERSION },
    { capabilities: { logging: {}, resources: {}, tools: {} }, instructions: INSTRUCTIONS },
  );
  registerServerInfo(server, ctx, VERSION);
  registerCheckParallel(server, ctx);
  registerPlanWaves(server, ctx);
  registerAcquireLock(server, ctx);
  registerReleaseLock(server, ctx);
  registerRenewLease(server, ctx);
  registerVerifyLock(server, ctx);
  registerBreakLock(server, ctx);
  registerRecordDecision(server, ctx);
  registerWaveResources(server, ctx);
  registerDecisionResource(server, ctx);
  registerLockResource(server, ctx);
  registerFeatureTools(server, ctx);
  registerAgentTools(server, ctx);
  registerAuditTools(server, ctx);
  registerMessageTools(server, ctx);
  registerCheckpointTools(server, ctx);
  if (options.compactToolList !== false) compactToolList(server);
  return { server, close: () => server.close() };
}
