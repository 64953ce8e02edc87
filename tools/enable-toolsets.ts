import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { result } from "./common.js";
import type { ToolHost } from "./host.js";
import { registerTool } from "./register.js";
import { ALL_TOOLSETS, TOOLSET_NAMES, TOOLSETS, type Toolset } from "./toolsets.js";

/** The toolsets one may ask for, each with what it is for: said in the tool's description. */
const CHOICES = TOOLSET_NAMES.filter((t) => t !== "core")
  .map((t) => `${t} (${TOOLSETS[t]})`)
  .join("; ");

/**
 * `enable_toolsets`: list more tools in this session. The host enables the
 * toolsets' tools through the SDK's public handles, which send
 * `notifications/tools/list_changed`; clients that refresh on it (Claude Code
 * does) see the new tools at once, others on their next `tools/list`.
 */
export function registerEnableToolsets(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx,
    "enable_toolsets",
    {
      title: "Enable toolsets",
      description:
        `Call when your job needs tools beyond core. Toolsets: ${CHOICES}; or all. ` +
        "Returns the tools added; your tool list refreshes.",
      inputSchema: {
        toolsets: z.array(z.enum([ALL_TOOLSETS, ...TOOLSET_NAMES])).min(1).max(TOOLSET_NAMES.length + 1).describe("Toolsets to enable"),
      },
      outputSchema: {
        enabled: z.array(z.enum(TOOLSET_NAMES as [Toolset, ...Toolset[]])).describe("Every toolset enabled now"),
        added: z.array(z.string()).describe("Tools listed now that were not before"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const wanted = args.toolsets.includes(ALL_TOOLSETS) ? TOOLSET_NAMES : (args.toolsets as Toolset[]);
      const r = server.enable(wanted);
      const text = r.added.length > 0 ? `enabled ${r.enabled.join(", ")}; added ${r.added.join(", ")}` : `already enabled: ${r.enabled.join(", ")}`;
      return result({ enabled: r.enabled, added: r.added }, text);
    },
  );
}
