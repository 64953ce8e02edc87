import type { ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";

/** A resource body as compact JSON. */
export function jsonContents(uri: string, data: unknown): ReadResourceResult {
  return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify(data) }] };
}
