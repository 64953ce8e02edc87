import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { agentId, isoTime, lockMode, result } from "./common.js";

/** `renew_lease`: extend the caller's leases; an expired lock is stale and stays ended. */
export function registerRenewLease(server: McpServer, ctx: Context): void {
  const { locks: settings } = ctx.config;
  server.registerTool(
    "renew_lease",
    {
      title: "Renew lease",
      description:
        "Extend your locks' leases (the given lock_ids, or all you hold) to now + lease_ms. A lock whose lease already ended is reported stale and is NOT revived: " +
        "someone else may hold that key now; acquire it again and use the new fencing token.",
      inputSchema: {
        agent_id: agentId,
        lock_ids: z.array(z.string().min(1).max(64)).min(1).max(1024).optional().describe("Locks to renew; default all of yours"),
        lease_ms: z
          .number()
          .int()
          .positive()
          .max(settings.max_lease_ms)
          .optional()
          .describe(`New lease length from now, ms (default ${settings.default_lease_ms})`),
      },
      outputSchema: {
        renewed: z
          .array(
            z.object({
              key: z.string(),
              mode: lockMode,
              lock_id: z.string(),
              fencing_token: z.number().int(),
              expires_at: isoTime.describe("New lease end"),
            }),
          )
          .describe("Locks whose lease was extended"),
        stale: z
          .array(
            z.object({
              key: z.string(),
              lock_id: z.string(),
              status: z.enum(["current", "expired", "released", "broken", "unknown", "token_mismatch"]),
            }),
          )
          .describe("Locks that had already ended and were not renewed"),
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
