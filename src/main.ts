/**
 * The stdio entry point: open the context, serve MCP over stdin/stdout, close
 * the store on exit. stdout carries JSON-RPC only; logs go to stderr.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createContext, type ContextOptions } from "./context.js";
import { LineLimit, MAX_LINE_BYTES } from "./line-limit.js";
import { createServer } from "./server.js";
import { resolveToolsets } from "../tools/toolsets.js";

/**
 * Serve over stdio until stdin closes or a signal arrives. `toolsets`: the
 * `--toolsets` list, else `SIGNALBOX_TOOLSETS`, else the config's (tools/toolsets.ts).
 * @throws Error naming where an unknown toolset came from.
 */
export async function serveStdio(opts: ContextOptions & { toolsets?: string } = {}): Promise<void> {
  const { toolsets: flag, ...contextOptions } = opts;
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
  process.stdin.on("end", () => void stop(0));
  // One oversized request line is dropped and answered with an error; it must not end the server.
  const transport: StdioServerTransport = new StdioServerTransport(
    process.stdin.pipe(
      new LineLimit(MAX_LINE_BYTES, (bytes, id) => {
        ctx.logger.log("warn", "dropped an oversized request line", { bytes, id });
        if (id === null) return;
        const message = `Invalid Request: the request line is ${bytes} bytes, over this server's limit of ${MAX_LINE_BYTES} bytes`;
        void transport.send({ jsonrpc: "2.0", id, error: { code: -32600, message } });
      }),
    ),
  );
  transport.onclose = () => void stop(0);
  await server.connect(transport);
  ctx.logger.log("info", "signalbox serving on stdio", { root: ctx.root, store: ctx.store.dir, pid: process.pid });
}
