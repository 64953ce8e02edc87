/**
 * How every signalbox tool is registered: the SDK's `registerTool` plus the
 * two bad-input rules every call is held to (RELIABILITY.md, "Bad input and
 * misuse").
 *
 * - Inputs are strict objects: an unknown argument (`agentid` for
 *   `agent_id`) is refused with an error naming it, never silently dropped.
 * - No string of the arguments, at any depth, may hold a NUL byte (ids are
 *   parts of NUL-separated store keys): refused naming the field.
 * - A flood from one agent cannot starve the others: one agent may have at
 *   most `limits.requests_in_flight_per_agent` calls in flight in this server
 *   process; a call beyond that is refused at once with an error naming the
 *   limit, and the other agents' calls go on. This covers the tools that take
 *   an `agent_id` (every tool that changes state on an agent's behalf); the
 *   id is the caller's own claim, as everywhere in MCP over stdio.
 * - Over Streamable HTTP the caller's bearer token is bound to the agent ids
 *   it may act as. Every argument naming an agent, nested ones included, is
 *   found from the tool's input schema (tools/agent-fields.ts); each one
 *   present must be an id the token covers, or the call is refused naming the
 *   field, the token's label and the ids it covers. A token with role
 *   orchestrator acts on other agents (the agents it dispatches, reassigns
 *   to and from), so for it only the acting fields (`agent_id`, `by`,
 *   `decided_by`) are bound; the authority rules of control/registry/authority.ts
 *   then judge what it may do.
 */
import type { RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { assertMayActAs, grantOf } from "../src/runtime/auth.js";
import { codeOf, InvalidArgumentError } from "../src/errors.js";
import type { Context } from "../src/runtime/context.js";
import type { Vouch } from "../src/control/registry/authority.js";
import { agentFieldPaths, agentValues } from "./agent-fields.js";
import type { ToolHost } from "./host.js";

/** The `_meta` key of a tool error's `{code, field}` (src/errors.ts): what a program reads instead of the message. */
export const ERROR_META = "io.signalbox/error";

/** Top-level arguments that name who is acting: even an orchestrator's token must cover each one present. */
const ACTING_FIELDS: readonly string[] = ["agent_id", "decided_by", "by"];

/** The SDK's per-call extras (abort signal, progress token, notification sender). */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A tool's definition: everything `registerTool` takes, with every field required by house rules. */
export interface ToolDefinition<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: ToolAnnotations;
}

/**
 * Register tool `name` on the host's MCP server with a strict input object
 * and the per-agent in-flight limit of `ctx.admission`, and keep it in the
 * host's registry (its toolset decides whether it is listed, tools/host.ts).
 * @throws Error when the tool is in no toolset (tools/toolsets.ts).
 */
export function registerTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  host: ToolHost,
  ctx: Context,
  name: string,
  definition: ToolDefinition<I, O>,
  handler: (args: z.infer<z.ZodObject<I>>, extra: ToolExtra) => Promise<CallToolResult> | CallToolResult,
): RegisteredTool {
  const inputSchema = z.strictObject(definition.inputSchema) as unknown as z.ZodObject<I>;
  // Derived once, on the first call that carries a token (stdio never needs it; it costs start time).
  let agentPaths: ReturnType<typeof agentFieldPaths> | undefined;
  const admitted = async (args: z.infer<z.ZodObject<I>>, extra: ToolExtra): Promise<CallToolResult> => {
    try {
      return await checked(args, extra);
    } catch (err) {
      // A coded error is answered with its code (src/errors.ts); anything else the SDK reports as it is.
      const coded = codeOf(err);
      if (coded === null) throw err;
      return { isError: true, content: [{ type: "text", text: (err as Error).message }], _meta: { [ERROR_META]: coded } };
    }
  };
  const checked = async (args: z.infer<z.ZodObject<I>>, extra: ToolExtra): Promise<CallToolResult> => {
    refuseNul(args, "");
    const grant = grantOf(extra.authInfo);
    if (grant) {
      const orchestratorToken = grant.roles.includes("orchestrator");
      agentPaths ??= agentFieldPaths(inputSchema);
      for (const { field, value } of agentValues(args, agentPaths)) {
        if (orchestratorToken && !ACTING_FIELDS.includes(field)) continue;
        assertMayActAs(grant, value, field);
      }
    }
    const agent = (args as { agent_id?: unknown }).agent_id;
    if (typeof agent !== "string") return handler(args, extra);
    const release = ctx.admission.enter(agent);
    try {
      return await handler(args, extra);
    } finally {
      release();
    }
  };
  // The SDK's generics cannot follow a schema built from a generic shape; the
  // handler's argument type above is what the strict object parses to.
  const register = host.server.registerTool.bind(host.server) as unknown as (
    name: string,
    config: ToolDefinition<I, O> | (Omit<ToolDefinition<I, O>, "inputSchema"> & { inputSchema: z.ZodObject<I> }),
    cb: typeof admitted,
  ) => RegisteredTool;
  const handle = register(name, { ...definition, inputSchema }, admitted);
  host.add({
    name,
    title: definition.title,
    description: definition.description,
    inputSchema,
    outputSchema: z.object(definition.outputSchema),
    annotations: definition.annotations,
    handle,
  });
  return handle;
}

/**
 * What the transport vouches for about this call's caller: over HTTP its
 * token (ids and roles), over stdio and in memory null (control/registry/authority.ts).
 */
/** A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function vouchOf(extra: ToolExtra): Vouch | null {
  return grantOf(extra.authInfo);
}

/**
 * Refuse a NUL byte in any string of a call's arguments, nested ones
 * included, naming the field (`agents[2].phase: must not contain a NUL
 * byte`). Ids are parts of NUL-separated store keys (control/registry/records.ts), so
 * a NUL in one would let it alias another record; free text gains nothing
 * from one either. A lone surrogate (half of a UTF-16 pair, which JSON can
 * carry) is refused too: stored as UTF-8 it becomes U+FFFD, so two ids would
 * meet in one key. Derived from the arguments themselves, so a new tool or
 * field cannot forget it.
 * @throws InvalidArgumentError `<field>: must not contain a NUL byte` or `<field>: must be well-formed Unicode ...`.
 */
export function refuseNul(value: unknown, at: string): void {
  if (typeof value === "string") {
    if (value.includes("\0")) throw new InvalidArgumentError(at || "(arguments)", "must not contain a NUL byte");
    if (LONE_SURROGATE.test(value)) {
      throw new InvalidArgumentError(at || "(arguments)", "must be well-formed Unicode: it holds a lone surrogate, which the store cannot keep (it would read back as U+FFFD)");
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => refuseNul(v, `${at}[${i}]`));
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) refuseNul(v, at ? `${at}.${k}` : k);
  }
}
