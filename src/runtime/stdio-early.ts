/**
 * Answering `initialize` on stdio before the server is loaded.
 *
 * A client waits for the answer to its first request, `initialize` (MCP
 * "Lifecycle": it must be the first interaction), before anything else; the
 * SDK, the tool schemas and the store take a few hundred milliseconds to
 * load. This module, which loads only handshake.ts, reads stdin from the
 * start, answers a well-formed `initialize` request at once with the answer
 * the SDK would give (handshake.ts), and hands every byte it read, that
 * request included, to the real transport once the server is up
 * (stdio.ts). The SDK then processes the `initialize` request as usual, so
 * its session state (client capabilities, negotiated version) is set, and
 * {@link EarlyAnswer.isDuplicate} lets the transport drop its second answer.
 *
 * Anything else first (another method, a malformed or oversized line, a
 * batch) is not answered here: the SDK answers it as it would have.
 */
import { PassThrough, type Readable, type Writable } from "node:stream";
import { isDeepStrictEqual } from "node:util";
import { initializeResult, type InitializeResult } from "./handshake.js";
import { MAX_LINE_BYTES } from "./line-limit.js";

/** A JSON-RPC id. */
export type RequestId = string | number;

/** What {@link answerInitializeEarly} did, for the transport that takes over. */
export interface EarlyAnswer {
  /** Every byte read from stdin since the start, then the rest of stdin; ends when stdin ends. */
  readonly input: Readable;
  /**
   * True (once) for the SDK's answer to the `initialize` request answered
   * early, which the transport must not send again. `differs` is called when
   * that answer is not the one sent early (handshake.ts out of step with the
   * SDK), with both.
   */
  isDuplicate(message: unknown, differs: (sent: InitializeResult, sdk: unknown) => void): boolean;
}

/** The id and requested version of a well-formed `initialize` request line, or null. */
export function initializeRequestOf(line: string): { id: RequestId; protocolVersion: string } | null {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return null;
  const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (m.jsonrpc !== "2.0" || m.method !== "initialize") return null;
  if (!(typeof m.id === "string" || (typeof m.id === "number" && Number.isInteger(m.id)))) return null;
  const p = m.params as { protocolVersion?: unknown; capabilities?: unknown; clientInfo?: unknown } | undefined;
  if (typeof p !== "object" || p === null || typeof p.protocolVersion !== "string") return null;
  // The SDK validates these too; a request it would refuse is left to it.
  if (typeof p.capabilities !== "object" || p.capabilities === null) return null;
  const info = p.clientInfo as { name?: unknown; version?: unknown } | undefined;
  if (typeof info !== "object" || info === null || typeof info.name !== "string" || typeof info.version !== "string") return null;
  return { id: m.id, protocolVersion: p.protocolVersion };
}

/**
 * Start reading `stdin`; answer its first line on `stdout` if it is an
 * `initialize` request. Call before loading the server; give
 * {@link EarlyAnswer.input} to the transport.
 */
export function answerInitializeEarly(stdin: Readable, stdout: Writable): EarlyAnswer {
  const input = new PassThrough();
  let head: Buffer[] = [];
  let headBytes = 0;
  let scanning = true;
  let answered: { id: RequestId; result: InitializeResult } | null = null;

  const scan = (chunk: Buffer) => {
    const nl = chunk.indexOf(0x0a);
    if (nl < 0) {
      head.push(chunk);
      headBytes += chunk.length;
      if (headBytes > MAX_LINE_BYTES) {
        scanning = false;
        head = [];
      }
      return;
    }
    scanning = false;
    const line = Buffer.concat([...head, chunk.subarray(0, nl)]).toString("utf8");
    head = [];
    const request = initializeRequestOf(line);
    if (request === null) return;
    const result = initializeResult(request.protocolVersion);
    answered = { id: request.id, result };
    stdout.write(`${JSON.stringify({ jsonrpc: "2.0", id: request.id, result })}\n`);
  };

  stdin.on("data", (chunk: Buffer) => {
    if (scanning) scan(chunk);
    input.write(chunk);
  });
  stdin.on("end", () => input.end());
  stdin.on("error", (err) => input.destroy(err));

  let duplicateDropped = false;
  return {
    input,
    isDuplicate(message, differs) {
      if (answered === null || duplicateDropped) return false;
      const m = message as { id?: unknown; result?: unknown; error?: unknown };
      if (typeof m !== "object" || m === null || m.id !== answered.id || !("result" in m || "error" in m)) return false;
      duplicateDropped = true;
      if (!isDeepStrictEqual(m.result, answered.result)) differs(answered.result, m.result ?? m.error);
      return true;
    },
  };
}
