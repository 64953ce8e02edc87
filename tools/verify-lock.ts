import type { ToolHost } from "./host.js";
import { z } from "zod";
import type { Context } from "../src/runtime/context.js";
import { READ_ONLY, result } from "./common.js";
import { registerTool } from "./register.js";

/** `verify_lock`: is this grant still the current one? The check before a write. */
export function registerVerifyLock(server: ToolHost, ctx: Context): void {
  registerTool(server, ctx, 
    "verify_lock",
    {
      title: "Verify lock",
      description:
        "Call right before a write: is your grant still current? valid: false: do not write.",
      inputSchema: {
        lock_id: z.string().min(1).max(64).describe("From acquire_lock"),
        fencing_token: z.number().int().nonnegative().describe("From the same grant"),
      },
      outputSchema: {
        valid: z.boolean(),
        status: z.enum(["current", "expired", "released", "broken", "unknown", "token_mismatch"]),
        key: z.string().nullable(),
        mode: z.string().nullable(),
        agent_id: z.string().nullable(),
        feature_id: z.string().nullable(),
        fencing_token: z.number().nullable().describe("The grant's real token"),
        expires_at: z.string().nullable(),
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
