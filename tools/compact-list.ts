/**
 * Agents pay for every tool schema in tokens (DESIGN.md, "Lessons"), so the
 * `tools/list` answer drops what the SDK's zod-to-JSON-Schema conversion adds
 * without saying anything a client needs:
 * - `$schema` (draft-07 marker on every input and output schema),
 * - zod's safe-integer bounds (`minimum: -2^53+1`, `maximum: 2^53-1`) on integers,
 * - `additionalProperties: false` (signalbox never sends undeclared fields;
 *   the end-to-end tests check it),
 * - `execution: {taskSupport: "forbidden"}`, which is the protocol's default;
 * - in output schemas, `required` lists naming every property: signalbox
 *   always sends every declared output field (null when there is no value),
 *   as the server instructions say.
 * Input validation is unchanged; the output schemas stay true of every result.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ListToolsRequestSchema, type ListToolsResult } from "@modelcontextprotocol/sdk/types.js";

type Handler = (request: unknown, extra: unknown) => Promise<unknown>;

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * A JSON Schema without the noise listed above; with `output`, also without
 * `required` lists that name every property.
 */
export function compactSchemaJson(value: unknown, output = false): unknown {
  if (Array.isArray(value)) return value.map((v) => compactSchemaJson(v, output));
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "$schema") continue;
    if ((k === "minimum" && v === -SAFE) || (k === "maximum" && v === SAFE)) continue;
    if (k === "additionalProperties" && v === false) continue;
    if (k === "required" && output && namesEveryProperty(v, obj.properties)) continue;
    // Property maps hold field names, not schema keywords: recurse into each field's schema.
    out[k] = k === "properties" ? mapValues(v, (f) => compactSchemaJson(f, output)) : compactSchemaJson(v, output);
  }
  return out;
}

function namesEveryProperty(required: unknown, properties: unknown): boolean {
  if (!Array.isArray(required) || properties === null || typeof properties !== "object") return false;
  return required.length === Object.keys(properties).length;
}

function mapValues(v: unknown, f: (x: unknown) => unknown): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)]));
}

/**
 * Wrap the SDK's `tools/list` handler of `server` so its answer is compacted.
 * Call after every tool is registered. If the SDK's internals changed and the
 * handler cannot be found, the uncompacted list is served (a test catches it).
 */
export function compactToolList(server: McpServer): void {
  const inner = server.server as unknown as { _requestHandlers?: Map<string, Handler> };
  const original = inner._requestHandlers?.get("tools/list");
  if (!original) return;
  server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const answer = (await original(request, extra)) as ListToolsResult;
    return {
      ...answer,
      tools: answer.tools.map((tool) => {
        const { execution, inputSchema, outputSchema, ...rest } = tool;
        const keep = execution && execution.taskSupport !== "forbidden" ? { execution } : {};
        return {
          ...rest,
          inputSchema: compactSchemaJson(inputSchema) as typeof inputSchema,
          ...(outputSchema ? { outputSchema: compactSchemaJson(outputSchema, true) as typeof outputSchema } : {}),
          ...keep,
        };
      }),
    };
  });
}
