/**
 * Resource subscriptions (README, "Live notifications"): a client
 * subscribed to a resource (`signalbox://locks`, `signalbox://agents`, a wave
 * plan, the decision log, any other) gets `notifications/resources/updated`
 * within one second of a change made by any process on the store.
 *
 * How: while this session has subscriptions it listens to the context's
 * change feed (a poll of the store's last transaction id, src/runtime/changes.ts).
 * After each commit it re-reads every subscribed resource and notifies only
 * those whose content changed, so a commit elsewhere in the store (a decision
 * logged) does not wake a subscriber of `signalbox://locks`.
 */
import { createHash } from "node:crypto";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import type { ChangeFeed } from "../src/runtime/changes.js";
import type { Logger } from "../src/runtime/logger.js";
import type { ResourceCatalog } from "./catalog.js";

/** Most resources one session may subscribe to. */
export const MAX_SUBSCRIPTIONS = 256;

/** Fingerprint of a resource's content (sha-256 of its text/blob parts). */
function fingerprint(r: ReadResourceResult): string {
  const h = createHash("sha256");
  for (const c of r.contents) h.update("text" in c ? c.text : String(c.blob)).update("\0");
  return h.digest("base64");
}

/**
 * Serve `resources/subscribe` and `resources/unsubscribe` on `server` (whose
 * capabilities must include `resources.subscribe`). Returns the function
 * that ends every subscription of this session (call it when the session
 * closes).
 */
export function enableSubscriptions(server: McpServer, catalog: ResourceCatalog, feed: ChangeFeed, logger: Logger): () => void {
  /** Subscribed URI -> fingerprint of the content last seen (null: unreadable then). */
  const subscribed = new Map<string, string | null>();
  let stopListening: (() => void) | null = null;
  let running = false;
  let again = false;

  const readPrint = async (uri: string): Promise<string | null> => {
    try {
      return fingerprint(await catalog.read(uri));
    } catch {
      return null;
    }
  };

  const onCommit = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        for (const [uri, before] of [...subscribed]) {
          const now = await readPrint(uri);
          if (now === before || !subscribed.has(uri)) continue;
          subscribed.set(uri, now);
          if (server.isConnected()) await server.server.sendResourceUpdated({ uri });
        }
      } while (again);
    } catch (err) {
      logger.log("warn", "resource update notification failed", { error: (err as Error).message });
    } finally {
      running = false;
    }
  };

  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    const { uri } = req.params;
    if (!subscribed.has(uri) && subscribed.size >= MAX_SUBSCRIPTIONS) {
      throw new McpError(ErrorCode.InvalidParams, `uri: this session already has ${MAX_SUBSCRIPTIONS} subscriptions, the limit`);
    }
    let first: ReadResourceResult;
    try {
      first = await catalog.read(uri);
    } catch (err) {
      throw new McpError(ErrorCode.InvalidParams, (err as Error).message);
    }
    subscribed.set(uri, fingerprint(first));
    stopListening ??= feed.subscribe(() => void onCommit());
    return {};
  });

  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    if (subscribed.size === 0 && stopListening) {
      stopListening();
      stopListening = null;
    }
    return {};
  });

  return () => {
    subscribed.clear();
    stopListening?.();
    stopListening = null;
  };
}
