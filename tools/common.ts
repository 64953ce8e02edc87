/**
 * Pieces every tool shares: argument schemas with their limits and
 * descriptions, and the result shape (text rendering + structuredContent).
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/**
 * The pattern of an agent id. Every argument that names an agent uses
 * {@link agentId}, and so carries this pattern in its JSON Schema: that is how
 * tools/agent-fields.ts finds the fields a bearer token is bound to.
 */
export const AGENT_ID_PATTERN = /^[\w.:@/+-]+$/;

/** Agent ids: what every mutating tool takes (one server may serve many agents). */
export const agentId = z
  .string()
  .min(1)
  .max(128)
  .regex(AGENT_ID_PATTERN, "letters, digits and . _ - : @ / + only")
  .describe("Your id");

/** An optional feature id. */
export const featureId = z.string().min(1).max(200).describe("Feature id");

/** A resource key as the caller writes it (normalised by the core). */
export const keyString = z.string().max(1024);

/** What a key may be, said once in the description of each tool that takes keys. */
export const KEY_SYNTAX = "Keys: path, dir/ (all below), table:x, resource:x.";

/** Lock mode. */
export const lockMode = z.enum(["read", "write"]);

/** A released lock: mode is read or write. */
export const lockRef = z.object({ key: z.string(), mode: z.string(), fencing_token: z.number() });

/**
 * A lock that had already ended when released or renewed: status is one of
 * expired, released, broken, unknown, token_mismatch (LockStatus in src/locks/types.ts);
 * key is empty when the lock_id is unknown.
 */
export const staleLock = z.object({ key: z.string(), lock_id: z.string(), status: z.string() });

/** ISO-8601 instant (input fields describe it; output fields are plain strings named `*_at`). */
export const isoTime = z.string().describe("ISO time");

/**
 * Build a tool result whose `structuredContent` is exactly `data` (matching
 * the tool's outputSchema) and whose text is a short human rendering.
 */
export function result<T extends Record<string, unknown>>(data: T, text: string): CallToolResult & { structuredContent: T } {
  return { content: [{ type: "text", text }], structuredContent: data };
}

/** Annotations for a tool that only reads. */
export const READ_ONLY = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;
