/**
 * The stdio entry point: open the context, serve MCP over stdin/stdout, close
 * the store on exit. stdout carries JSON-RPC only; logs go to stderr.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createContext, type ContextOptions } from "./context.js";
import { createServer } from "./server.js";

/** Serve over stdio until stdin closes or a signal arrives. */
export async function serveStdio(opts: ContextOptions = {}): Promise<void> {
  const ctx = createContext(opts);
  const { server, close } = createServer(ctx);
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
  const transport = new StdioServerTransport();
  transport.onclose = () => void stop(0);
  await server.connect(transport);
  ctx.logger.log("info", "signalbox serving on stdio", { root: ctx.root, store: ctx.store.dir, pid: process.pid });
}
