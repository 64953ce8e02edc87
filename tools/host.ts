/**
 * signalbox's own tool registry: every tool registered on one MCP server,
 * with its toolset, its definition and the SDK's handle. It serves
 * `tools/list` from these definitions through the SDK's public
 * `setRequestHandler` (no SDK internals), and turns toolsets on and off with
 * the handles' public `enable()`/`disable()`, which make the SDK send
 * `notifications/tools/list_changed`.
 *
 * The listing (tools/listing.ts says what it drops) holds only enabled tools.
 * One host per MCP server: over HTTP each session has its own, so a session's
 * `enable_toolsets` changes only its own listing.
 */
import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ListToolsRequestSchema, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { listedTool, type ListableTool, type ListingMode } from "./listing.js";
import { TOOLSET_NAMES, TOOLSET_OF, type Toolset } from "./toolsets.js";

/** What the host keeps of one tool. */
export interface HostedTool extends ListableTool {
  toolset: Toolset;
  handle: RegisteredTool;
}

/** The answer of {@link ToolHost.enable}. */
export interface EnableResult {
  /** Every toolset enabled now, in listing order. */
  enabled: Toolset[];
  /** Tools listed now that were not before, by name. */
  added: string[];
}

/** The tools of one MCP server, by toolset (see the module header). */
export class ToolHost {
  private readonly tools = new Map<string, HostedTool>();
  private readonly on: Set<Toolset>;
  private readonly listings = new Map<ListingMode, Tool[]>();

  /**
   * @param server   the MCP server tools are registered on
   * @param toolsets the toolsets listed from the start (`core` always is)
   */
  constructor(
    readonly server: McpServer,
    toolsets: readonly Toolset[],
  ) {
    this.on = new Set<Toolset>(["core", ...toolsets]);
  }

  /**
   * Keep a registered tool; it is disabled at once unless its toolset is on.
   * @throws Error when the tool is in no toolset (tools/toolsets.ts TOOLSET_OF) or was added twice.
   */
  add(tool: Omit<HostedTool, "toolset">): void {
    const toolset = TOOLSET_OF[tool.name];
    // A programming error caught when the server is built, never an answer to a caller: no code.
    /* eslint-disable no-restricted-syntax */
    if (toolset === undefined) throw new Error(`tool ${tool.name}: in no toolset; add it to TOOLSET_OF in tools/toolsets.ts`);
    if (this.tools.has(tool.name)) throw new Error(`tool ${tool.name}: registered twice`);
    /* eslint-enable no-restricted-syntax */
    this.tools.set(tool.name, { ...tool, toolset });
    if (!this.on.has(toolset)) tool.handle.disable();
  }

  /** The toolsets on now, in listing order. */
  enabled(): Toolset[] {
    return TOOLSET_NAMES.filter((t) => this.on.has(t));
  }

  /** Every tool of `toolset`, by name. */
  toolsOf(toolset: Toolset): string[] {
    return [...this.tools.values()].filter((t) => t.toolset === toolset).map((t) => t.name);
  }

  /**
   * Turn `toolsets` on: their tools are listed and callable from now on, and
   * the SDK tells the client (`notifications/tools/list_changed`) once per
   * tool enabled. Toolsets already on change nothing.
   */
  enable(toolsets: readonly Toolset[]): EnableResult {
    const added: string[] = [];
    for (const ts of toolsets) {
      if (this.on.has(ts)) continue;
      this.on.add(ts);
      for (const t of this.tools.values()) {
        if (t.toolset !== ts) continue;
        t.handle.enable();
        added.push(t.name);
      }
    }
    return { enabled: this.enabled(), added };
  }

  /** The `tools/list` answer: every enabled tool, from its own definition (tools/listing.ts). */
  listing(mode: ListingMode = "compact"): Tool[] {
    let all = this.listings.get(mode);
    if (!all) {
      all = [...this.tools.values()].map((t) => listedTool(t, mode));
      this.listings.set(mode, all);
    }
    return all.filter((t) => this.tools.get(t.name)?.handle.enabled === true);
  }

  /** Serve `tools/list` from {@link listing} (call after every tool is registered). */
  serveListing(mode: ListingMode): void {
    this.server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.listing(mode) }));
  }
}
