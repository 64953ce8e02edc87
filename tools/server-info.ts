import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { READ_ONLY, result } from "./common.js";
import { registerTool } from "./register.js";

/** `server_info`: which root and store this server coordinates; the cheapest round trip. */
export function registerServerInfo(server: ToolHost, ctx: Context, version: string): void {
  registerTool(server, ctx, 
    "server_info",
    {
      title: "Server info",
      description:
        "Read-only: this server's project root (keys are relative to it), store folder, repository (git_common_dir), target_branch, " +
        "version and pid. Call when setting up, or when agents do not see each other's locks: every agent must report the same store.",
      inputSchema: {},
      outputSchema: {
        version: z.string(),
        root: z.string().describe("Keys are relative to it"),
        store: z.string(),
        git_common_dir: z.string().nullable().describe("Repository; null outside git"),
        target_branch: z.string().nullable(),
        pid: z.number(),
      },
      annotations: READ_ONLY,
    },
    async () => {
      const data = {
        version,
        root: ctx.root,
        store: ctx.store.dir,
        git_common_dir: ctx.git.repo?.commonDir ?? null,
        target_branch: ctx.git.targetBranch(),
        pid: process.pid,
      };
      return result(data, `signalbox ${version} on ${ctx.root} (store ${ctx.store.dir}, pid ${process.pid})`);
    },
  );
}
