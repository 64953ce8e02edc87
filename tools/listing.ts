/**
 * What `tools/list` shows of each tool, built from signalbox's own
 * definitions (tools/host.ts) with zod's `toJSONSchema` (JSON Schema
 * 2020-12). Agents pay for every listed schema in tokens, so the compact
 * listing (the one served) drops what the conversion adds without saying
 * anything a client needs. The zod schemas in code stay exact: inputs are
 * validated by them server-side and every result is built to them.
 *
 * Everywhere:
 * 1. `$schema` is dropped (no draft marker in any listed schema: the
 *    Anthropic API wants 2020-12 input schemas, some clients reject draft-07).
 * 2. zod's safe-integer bounds (`minimum: -2^53+1`, `maximum: 2^53-1`) are dropped.
 * 4. `propertyNames: {type: "string"}` is dropped (JSON object keys are strings).
 * 9. An annotation hint equal to the protocol's default is dropped
 *    (`readOnlyHint: false`, `destructiveHint: true`, `idempotentHint: false`,
 *    `openWorldHint: true`; MCP `ToolAnnotations`): a client reads an absent
 *    hint as exactly that value. Every tool still declares all four in code.
 * 10. On a tool with `readOnlyHint: true`, `destructiveHint` and
 *    `idempotentHint` are dropped: MCP `ToolAnnotations` says they are
 *    meaningful only when `readOnlyHint` is false.
 *
 * Input schemas (what a model sees, with the name and description):
 * 3. `additionalProperties: false` is dropped (unknown arguments are refused
 *    by name server-side, tools/register.ts).
 * 6. `pattern`, `minLength: 1`, `maxLength`, `maxItems` and `minItems` are
 *    dropped. The server still enforces every one of them and its error names
 *    the field and the bound (e.g. `paths: expected at most 256 items`);
 *    `minimum`, `maximum`, `enum`, `required` and every description stay.
 * 11. `type: "string"` next to an `enum` of strings is dropped (the values
 *    say it).
 *
 * Output schemas are the tool's real output schema, exact (field names,
 * types, enums, nested shapes, closed objects), with only rules 1, 2 and 4
 * applied: a validating client checks every `structuredContent` against it.
 * Clients do not show output schemas to the model.
 *
 * The `full` listing (tests, fuzzing) applies only rules 1, 2 and 4 to inputs too.
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

type Json = Record<string, unknown>;

/** `compact`: what is served; `full`: the exact schemas with only the noise dropped (rules 1, 2, 4). */
export type ListingMode = "compact" | "full";

const SAFE = Number.MAX_SAFE_INTEGER;

/** Input keywords dropped by rule 6 (the server enforces them). */
const INPUT_BOUNDS = new Set(["pattern", "maxLength", "maxItems", "minItems"]);

/**
 * An input schema compacted by the rules in this file's header (1-4, 6, 11).
 * Returns a new value; the argument is not changed. Values that are not
 * schemas (arrays of names, enums, numbers) pass through.
 */
export function compactSchemaJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compactSchemaJson);
  if (value === null || typeof value !== "object") return value;
  const obj = value as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "$schema") continue;
    if ((k === "minimum" && v === -SAFE) || (k === "maximum" && v === SAFE)) continue;
    if (k === "additionalProperties" && v === false) continue;
    if (k === "propertyNames" && isStringType(v)) continue;
    if (INPUT_BOUNDS.has(k) || (k === "minLength" && v === 1)) continue;
    if (k === "type" && v === "string" && isStringEnum(obj.enum)) continue;
    out[k] = compactKeyword(k, v);
  }
  return out;
}

/** Recurse into the sub-schemas a keyword holds. */
function compactKeyword(k: string, v: unknown): unknown {
  switch (k) {
    case "properties":
      // Property maps hold field names, not schema keywords: recurse into each field's schema.
      return mapValues(v, compactSchemaJson);
    case "enum":
    case "required":
    case "const":
    case "default":
    case "examples":
      // Values, not schemas: pass through untouched.
      return v;
    default:
      return compactSchemaJson(v);
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

/** What the listing needs of one tool's definition. */
export interface ListableTool {
  name: string;
  title: string;
  description: string;
  inputSchema: z.ZodObject;
  outputSchema: z.ZodObject;
  annotations: Tool["annotations"];
}

/**
 * The listed form of one tool (see the module header). Inputs are converted
 * as the client sends them (`io: "input"`), outputs as the server answers
 * (`io: "output"`: closed objects, defaults filled).
 */
export function listedTool(t: ListableTool, mode: ListingMode): Tool {
  const input = z.toJSONSchema(t.inputSchema, { io: "input", unrepresentable: "any" });
  const output = z.toJSONSchema(t.outputSchema, { io: "output", unrepresentable: "any" });
  const hints = t.annotations && mode === "compact" ? withoutDefaultHints(t.annotations) : t.annotations;
  return {
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: (mode === "compact" ? compactSchemaJson(input) : withoutNoise(input)) as Tool["inputSchema"],
    outputSchema: withoutNoise(output) as Tool["outputSchema"],
    ...(hints ? { annotations: hints } : {}),
  };
}

/** Rules 1, 2 and 4 only, at every depth. */
export function withoutNoise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNoise);
  if (value === null || typeof value !== "object") return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (k === "$schema") continue;
    if ((k === "minimum" && v === -SAFE) || (k === "maximum" && v === SAFE)) continue;
    if (k === "propertyNames" && isStringType(v)) continue;
    out[k] = withoutNoise(v);
  }
  return out;
}
