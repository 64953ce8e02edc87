/**
 * Agents pay for every tool schema in tokens (DESIGN.md, "Lessons"; the whole
 * `tools/list` answer must stay under 24,000 characters, test/e2e-tools.test.ts),
 * so the answer drops what the SDK's zod-to-JSON-Schema conversion adds without
 * saying anything a client needs. Rules, each applied to the LISTING only (the
 * zod schemas in code stay exact: inputs are validated by them server-side and
 * every result is built to them):
 *
 * Everywhere:
 * 1. `$schema` (draft-07 marker on every input and output schema) is dropped.
 * 2. zod's safe-integer bounds (`minimum: -2^53+1`, `maximum: 2^53-1`) are dropped.
 * 3. `additionalProperties: false` is dropped (signalbox never sends undeclared
 *    fields; the end-to-end harness checks every result against the listing).
 * 4. `propertyNames: {type: "string"}` is dropped (JSON object keys are strings).
 * 5. `execution: {taskSupport: "forbidden"}` is dropped: it is the protocol's default.
 * 9. An annotation hint equal to the protocol's default is dropped
 *    (`readOnlyHint: false`, `destructiveHint: true`, `idempotentHint: false`,
 *    `openWorldHint: true`; MCP `ToolAnnotations`): a client reads an absent
 *    hint as exactly that value. Every tool still declares all four in code.
 * 10. On a tool with `readOnlyHint: true`, `destructiveHint` and
 *    `idempotentHint` are dropped: MCP `ToolAnnotations` says they are
 *    meaningful only when `readOnlyHint` is false.
 *
 * Input schemas:
 * 6. `pattern`, `minLength: 1`, `maxLength`, `maxItems` and `minItems` are
 *    dropped. The server still enforces every one of them and its error names
 *    the field and the bound (e.g. `paths: expected at most 256 items`);
 *    `minimum`, `maximum`, `enum`, `required` and every description stay.
 * 11. `type: "string"` next to an `enum` of strings is dropped (the values
 *    say it).
 *
 * Output schemas (rule 7, dropping full `required` lists, was folded into 8):
 * 8. The listing's `outputSchema` is `{"type": "object"}`: it says the tool
 *    answers with `structuredContent`, not which fields. Issue 6 took the
 *    tool count from 26 to 34 inside the same 24,000-character budget, and
 *    the output field names (about 3,500 characters) are what an agent needs
 *    least before calling a tool: every answer carries its fields in
 *    `structuredContent` and a text rendering. The zod schemas in code stay
 *    exact, every result is built to them, the end-to-end harness checks
 *    every result against them (createServer with `compactToolList: false`),
 *    and the README documents the shapes.

 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ListToolsRequestSchema, type ListToolsResult } from "@modelcontextprotocol/sdk/types.js";

type Handler = (request: unknown, extra: unknown) => Promise<unknown>;
type Json = Record<string, unknown>;

const SAFE = Number.MAX_SAFE_INTEGER;

/** Input keywords dropped by rule 6 (the server enforces them). */
const INPUT_BOUNDS = new Set(["pattern", "maxLength", "maxItems", "minItems"]);

/**
 * A JSON Schema (an input or output schema from `tools/list`) compacted by the
 * rules in this file's header: rules 1-6 and 11 when `output` is false, rule 8
 * when it is true. Returns a new value; the argument is not changed. Values
 * that are not schemas (arrays of names, enums, numbers) pass through.
 */
export function compactSchemaJson(value: unknown, output = false): unknown {
  return compact(value, output, 0);
}

/**
 * `depth` counts schema levels: 0 is the tool's input/output object, 1 its
 * top-level fields (and their `anyOf` variants), 2 and more anything inside them.
 */
function compact(value: unknown, output: boolean, depth: number): unknown {
  if (Array.isArray(value)) return value.map((v) => compact(v, output, depth));
  if (value === null || typeof value !== "object") return value;
  const obj = value as Json;
  // Rule 8: the whole output schema is listed as an object.
  if (output && depth === 0) return { type: "object" };
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "$schema") continue;
    if ((k === "minimum" && v === -SAFE) || (k === "maximum" && v === SAFE)) continue;
    if (k === "additionalProperties" && v === false) continue;
    if (k === "propertyNames" && isStringType(v)) continue;
    if (!output && (INPUT_BOUNDS.has(k) || (k === "minLength" && v === 1))) continue;
    if (!output && k === "type" && v === "string" && isStringEnum(obj.enum)) continue;
    out[k] = compactKeyword(k, v, output, depth);
  }
  return out;
}

/** Recurse into the sub-schemas a keyword holds, one level deeper (anyOf variants stay at the same level). */
function compactKeyword(k: string, v: unknown, output: boolean, depth: number): unknown {
  switch (k) {
    case "properties":
      // Property maps hold field names, not schema keywords: recurse into each field's schema.
      return mapValues(v, (f) => compact(f, output, depth + 1));
    case "items":
    case "prefixItems":
    case "additionalProperties":
      return compact(v, output, depth + 1);
    case "anyOf":
    case "oneOf":
    case "allOf":
      return compact(v, output, depth);
    case "enum":
    case "required":
    case "const":
    case "default":
    case "examples":
      // Values, not schemas: pass through untouched.
      return v;
    default:
      return compact(v, output, depth);
  }
}

function isStringEnum(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string");
}

function isStringType(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && (v as Json).type === "string";
}

function mapValues(v: unknown, f: (x: unknown) => unknown): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)]));
}

/** The protocol's default value of each annotation hint (rule 9). */
const HINT_DEFAULTS: Record<string, boolean> = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: true,
};

/** Hints that mean nothing on a read-only tool (rule 10). */
const WRITE_ONLY_HINTS = new Set(["destructiveHint", "idempotentHint"]);

/** Annotations without the hints that equal their protocol default (rule 9) or mean nothing on a read-only tool (rule 10); undefined when none is left. */
export function withoutDefaultHints<T extends Record<string, unknown>>(annotations: T): Partial<T> | undefined {
  const readOnly = annotations.readOnlyHint === true;
  const kept = Object.entries(annotations).filter(
    ([k, v]) => (HINT_DEFAULTS[k] === undefined || HINT_DEFAULTS[k] !== v) && !(readOnly && WRITE_ONLY_HINTS.has(k)),
  );
  return kept.length > 0 ? (Object.fromEntries(kept) as Partial<T>) : undefined;
}

/**
 * Wrap the SDK's `tools/list` handler of `server` so its answer is compacted
 * (rule 5 here, the schema rules through compactSchemaJson). Call after every
 * tool is registered. If the SDK's internals changed and the handler cannot be
 * found, the uncompacted list is served (a test catches it).
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
        const { execution, inputSchema, outputSchema, annotations, ...rest } = tool;
        const keep = execution && execution.taskSupport !== "forbidden" ? { execution } : {};
        const hints = annotations ? withoutDefaultHints(annotations) : undefined;
        return {
          ...rest,
          ...(hints ? { annotations: hints } : {}),
          inputSchema: compactSchemaJson(inputSchema) as typeof inputSchema,
          ...(outputSchema ? { outputSchema: compactSchemaJson(outputSchema, true) as typeof outputSchema } : {}),
          ...keep,
        };
      }),
    };
  });
}
