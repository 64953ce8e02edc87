/**
 * Which arguments of a tool name an agent, derived from the tool's own input
 * schema: every string field, at any depth, carrying the agent id pattern of
 * tools/common.ts `agentId`. Over Streamable HTTP each such field is bound to
 * the caller's bearer token (tools/register.ts), so a new tool or a nested
 * field cannot be forgotten: it is bound as soon as it uses `agentId`.
 */
import { z } from "zod";
import { AGENT_ID_PATTERN } from "./common.js";

/** One step of a path into a tool's arguments: a property name, or `[]` for every item of an array. */
export type PathStep = string;

/** A JSON Schema as `z.toJSONSchema` writes our input objects (the subset walked here). */
interface JsonSchema {
  type?: string | string[];
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/** The path, in argument form, of every agent-naming field of `schema` (e.g. `["agents", "[]", "agent_id"]`). */
export function agentFieldPaths(schema: z.ZodType): PathStep[][] {
  const out: PathStep[][] = [];
  walk(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema, [], out);
  return out;
}

function walk(s: JsonSchema | undefined, at: PathStep[], out: PathStep[][]): void {
  if (!s) return;
  if (s.pattern === AGENT_ID_PATTERN.source && at.length > 0) out.push(at);
  for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, [...at, k], out);
  if (s.items) walk(s.items, [...at, "[]"], out);
  for (const v of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) walk(v, at, out);
}

/** A value found at an agent-naming path, with its field name as errors print it (`agents[2].agent_id`). */
export interface AgentValue {
  field: string;
  value: string;
}

/** Every string present in `args` at one of `paths` (absent optional fields yield nothing). */
export function agentValues(args: unknown, paths: readonly PathStep[][]): AgentValue[] {
  const out: AgentValue[] = [];
  for (const p of paths) collect(args, p, "", out);
  return out;
}

function collect(value: unknown, path: readonly PathStep[], at: string, out: AgentValue[]): void {
  if (path.length === 0) {
    if (typeof value === "string") out.push({ field: at, value });
    return;
  }
  const [step, ...rest] = path as [PathStep, ...PathStep[]];
  if (step === "[]") {
    if (Array.isArray(value)) value.forEach((v, i) => collect(v, rest, `${at}[${i}]`, out));
    return;
  }
  if (value !== null && typeof value === "object" && Object.hasOwn(value, step)) {
    collect((value as Record<string, unknown>)[step], rest, at ? `${at}.${step}` : step, out);
  }
}
