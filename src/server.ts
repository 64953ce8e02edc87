/**
 * `createServer(context)`: the MCP server with every tool and resource
 * registered. The only place (with runtime/stdio.ts and runtime/http.ts) where the core meets the SDK.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ResourceCatalog } from "../resources/catalog.js";
import { registerResources } from "../resources/index.js";
import { enableSubscriptions } from "../resources/subscriptions.js";
import { registerPrompts } from "../prompts/index.js";
import { registerAgentTools } from "../tools/agents/index.js";
import { registerAuditTools } from "../tools/audit/index.js";
import { registerCheckpointTools } from "../tools/checkpoints/index.js";
import { registerFeatureTools } from "../tools/features/index.js";
import { registerGitTools } from "../tools/git/index.js";
import { registerIncidentTools } from "../tools/incidents/index.js";
import { registerMessageTools } from "../tools/messages/index.js";
import { registerQualityTools } from "../tools/quality/index.js";
import { registerWaveTools } from "../tools/waves/index.js";
import { registerAcquireLock } from "../tools/acquire-lock.js";
import { registerBreakLock } from "../tools/break-lock.js";
import { registerCheckParallel } from "../tools/check-parallel.js";
import { registerEnableToolsets } from "../tools/enable-toolsets.js";
import { ToolHost } from "../tools/host.js";
import type { ListingMode } from "../tools/listing.js";
import { parseToolsets, type Toolset } from "../tools/toolsets.js";
import { registerPlanWaves } from "../tools/plan-waves.js";
import { registerRecordDecision } from "../tools/record-decision.js";
import { registerReleaseLock } from "../tools/release-lock.js";
import { registerRenewLease } from "../tools/renew-lease.js";
import { registerServerInfo } from "../tools/server-info.js";
import { registerVerifyLock } from "../tools/verify-lock.js";
import type { Context } from "./runtime/context.js";
import { INSTRUCTIONS, SERVER_CAPABILITIES, SERVER_INFO } from "./runtime/handshake.js";
import { VERSION } from "./runtime/version.js";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** Toolsets listed from the start (default: the config's `tools.toolsets`); `core` always is. */
  toolsets?: readonly Toolset[];
  /** `compact` (default) is what clients get; `full` keeps every input bound (tests and fuzzing). */
  listing?: ListingMode;
}

/**
 * Build the MCP server over `ctx`. `close()` closes the MCP server; the
 * context (store) is the caller's to close. `host` holds the tools by
 * toolset (tools/host.ts).
 * @throws Error naming `tools.toolsets` when the config names an unknown toolset.
 */
export function createServer(ctx: Context, options: ServerOptions = {}): { server: McpServer; host: ToolHost; close: () => Promise<void> } {
  const toolsets = options.toolsets ?? parseToolsets(ctx.config.tools.toolsets, "tools.toolsets");
  const mcp = new McpServer({ ...SERVER_INFO }, { capabilities: structuredClone(SERVER_CAPABILITIES), instructions: INSTRUCTIONS });
  const server = new ToolHost(mcp, toolsets);
  registerEnableToolsets(server, ctx);
  registerServerInfo(server, ctx, VERSION);
  registerCheckParallel(server, ctx);
  registerPlanWaves(server, ctx);
  registerAcquireLock(server, ctx);
  registerReleaseLock(server, ctx);
  registerRenewLease(server, ctx);
  registerVerifyLock(server, ctx);
  registerBreakLock(server, ctx);
  registerRecordDecision(server, ctx);
  registerFeatureTools(server, ctx);
  registerAgentTools(server, ctx);
  registerAuditTools(server, ctx);
  registerMessageTools(server, ctx);
  registerCheckpointTools(server, ctx);
  registerQualityTools(server, ctx);
  registerWaveTools(server, ctx);
  registerIncidentTools(server, ctx);
  registerGitTools(server, ctx);
  server.serveListing(options.listing ?? "compact");
  const catalog = new ResourceCatalog(mcp);
  registerResources(catalog, ctx);
  registerPrompts(mcp, ctx);
  const endSubscriptions = enableSubscriptions(mcp, catalog, ctx.changes, ctx.logger);
  const stopForwarding = forwardEvents(mcp, ctx);
  const previousOnClose = mcp.server.onclose;
  const dispose = () => {
    endSubscriptions();
    stopForwarding();
  };
  mcp.server.onclose = () => {
    dispose();
    previousOnClose?.();
  };
  return {
    server: mcp,
    host: server,
    close: async () => {
      dispose();
      await mcp.close();
    },
  };
}

/**
 * Coordination events of this process (grants, refusals, signals) as MCP
 * logging notifications to this session's client, at or above the level it
 * set with `logging/setLevel` (the SDK keeps the level per session).
 */
function forwardEvents(server: McpServer, ctx: Context): () => void {
  return ctx.events.on((e) => {
    if (!server.isConnected()) return;
    const params = { level: e.level, logger: "signalbox", data: { kind: e.kind, agent_id: e.agent_id, summary: e.summary, ...e.data } };
    server.sendLoggingMessage(params, server.server.transport?.sessionId).catch(() => undefined);
  });
}
