import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { Context } from "../src/context.js";
import { READ_ONLY, isoTime, lockMode, result } from "./common.js";

/** `verify_lock`: is this grant still the current one? The check before a write. */
export function registerVerifyLock(server: McpServer, ctx: Context): void {
  server.registerTool(
    "verify_lock",
    {
      title: "Verify lock",
      description:
        "Check, right before writing, that your grant (lock_id + fencing_token) is still current. valid: false with status expired, released, broken, unknown or token_mismatch means stop: your lease ended and another agent may hold the key.",
      inputSchema: {
        lock_id: z.string().min(1).max(64).describe("lock_id from acquire_lock"),
        fencing_token: z.number().int().nonnegative().describe("fencing_token from the same grant"),
      },
      outputSchema: {
        valid: z.boolean().describe("True only if the grant is current"),
        status: z.enum(["current", "expired", "released", "broken", "unknown", "token_mismatch"]),
        key: z.string().nullable(),
        mode: lockMode.nullable(),
        agent_id: z.string().nullable(),
        feature_id: z.string().nullable(),
        fencing_token: z.number().int().nullable().describe("The grant's real token"),
        expires_at: isoTime.nullable().describe("Lease end"),
      },
      annotations: READ_ONLY,
    },
    async (args) => {
      const r = ctx.locks.verify(args.lock_id, args.fencing_token);
      const text = r.valid
        ? `current: ${r.key} (${r.mode}) token ${r.fencing_token} until ${r.expires_at}`
        : `STALE (${r.status})${r.key ? ` for ${r.key}` : ""}: do not write`;
      return result({ ...r }, text);
    },
  );
}
