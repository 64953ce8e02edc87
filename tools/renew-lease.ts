import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { agentId, lockRef, result, staleLock } from "./common.js";
import { registerTool } from "./register.js";

/** `renew_lease`: extend the caller's leases; an expired lock is stale and stays ended. */
export function registerRenewLease(server: ToolHost, ctx: Context): void {
  const { locks: settings } = ctx.config;
  registerTool(server, ctx, 
    "renew_lease",
    {
      title: "Renew lease",
      description:
        "Call before expires_at if work outlasts the lease. An ended lease comes back stale, not revived: acquire again.",
      inputSchema: {
        agent_id: agentId,
        lock_ids: z.array(z.string().min(1).max(64)).min(1).max(1024).optional().describe("Default: all yours"),
        lease_ms: z
          .number()
          .int()
          .positive()
          .max(settings.max_lease_ms)
          .optional()
          .describe(`Lease ms, default ${settings.default_lease_ms}`),
      },
      outputSchema: {
        renewed: z.array(lockRef.extend({ lock_id: z.string(), expires_at: z.string() })),
        stale: z.array(staleLock).describe("Already ended; not renewed"),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      const r = ctx.locks.renew(args.agent_id, args.lock_ids, args.lease_ms);
      const text =
        `renewed ${r.renewed.length}` +
        (r.stale.length ? `; STALE ${r.stale.map((s) => `${s.key || s.lock_id} (${s.status})`).join(", ")}: re-acquire` : "");
      return result({ ...r }, text);
    },
  );
}
