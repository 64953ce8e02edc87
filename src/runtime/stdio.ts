/**
 * The stdio entry point: open the context, serve MCP over stdin/stdout, close
 * the store on exit. stdout carries JSON-RPC only; logs go to stderr.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { Readable } from "node:stream";
import { createContext, type ContextOptions } from "./context.js";
import { LineLimit, MAX_LINE_BYTES } from "./line-limit.js";
import { createServer } from "../server.js";
import { resolveToolsets } from "../../tools/toolsets.js";
import type { EarlyAnswer } from "./stdio-early.js";

/** The stdio transport of a server whose `initialize` was answered early (stdio-early.ts): the SDK's own answer is not sent again. */
class EarlyAnsweredTransport extends StdioServerTransport {
  constructor(
    input: Readable,
    private readonly early: EarlyAnswer,
    private readonly warn: (message: string, data: Record<string, unknown>) => void,
  ) {
    super(input);
  }

  override async send(message: JSONRPCMessage): Promise<void> {
    if (this.early.isDuplicate(message, (sent, sdk) => this.warn("initialize was answered early with a different answer than the SDK's", { sent, sdk }))) return;
    return super.send(message);
  }
}

/**
 * Serve over stdio until stdin closes or a signal arrives. `toolsets`: the
 * `--toolsets` list, else `SIGNALBOX_TOOLSETS`, else the config's (tools/toolsets.ts).
 * `early`: stdin as read by stdio-early.ts, which may have answered
 * `initialize` already (default: read process.stdin here).
 * @throws Error naming where an unknown toolset came from.
 */
export async function serveStdio(opts: ContextOptions & { toolsets?: string; early?: EarlyAnswer } = {}): Promise<void> {
  const { toolsets: flag, early, ...contextOptions } = opts;
  const ctx = createContext(contextOptions);
  let toolsets;
  try {
    toolsets = resolveToolsets({ flag, config: ctx.config.tools.toolsets });
  } catch (err) {
    await ctx.close();
    throw err;
  }
  const { server, close } = createServer(ctx, { toolsets });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    try {
      await close();
      await ctx.close();
    } finally {
      process.exit(code);
    }
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  const stdin: Readable = early?.input ?? process.stdin;
  stdin.on("end", () => void stop(0));
  // One oversized request line is dropped and answered with an error; it must not end the server.
  const lines = stdin.pipe(
    new LineLimit(MAX_LINE_BYTES, (bytes, id) => {
      ctx.logger.log("warn", "dropped an oversized request line", { bytes, id });
      if (id === null) return;
      const message = `Invalid Request: the request line is ${bytes} bytes, over this server's limit of ${MAX_LINE_BYTES} bytes`;
      void transport.send({ jsonrpc: "2.0", id, error: { code: -32600, message } });
    }),
  );
  const transport: StdioServerTransport = early
    ? new EarlyAnsweredTransport(lines, early, (message, data) => ctx.logger.log("error", message, data))
    : new StdioServerTransport(lines);
  transport.onclose = () => void stop(0);
  await server.connect(transport);
  ctx.logger.log("info", "signalbox serving on stdio", { root: ctx.root, store: ctx.store.dir, pid: process.pid });
}
