import type { PromptMessage } from "@modelcontextprotocol/sdk/types.js";

/** A prompt message from the user role with one text part. */
export function userText(text: string): PromptMessage {
  return { role: "user", content: { type: "text", text } };
}
