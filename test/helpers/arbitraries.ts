/**
 * fast-check arbitraries derived from a tool's FULL JSON input schema (the
 * listing of `createServer(ctx, { listing: "full", toolsets: TOOLSET_NAMES })`; the served
 * listing is compacted and drops the bounds, tools/listing.ts), for the
 * bad-input property tests (RELIABILITY.md, "Bad input and misuse":
 * test/fuzz.test.ts, test/fuzz-stdio.test.ts).
 *
 * - `validArgs(schema)`: arguments the schema admits. Types, enums, numeric
 *   bounds, string lengths and patterns, array sizes, required/optional and
 *   nested objects are honoured. Values lean on small shared pools (5 agent
 *   ids, 10 keys, 5 feature ids, ...) so successive calls meet each other's
 *   locks, features and signals, mixed with random values.
 * - `invalidArgs(schema)`: a valid argument object with exactly ONE mutation,
 *   and the path of the field it broke (see `Mutation`).
 *
 * The walker understands the JSON Schema subset zod emits for signalbox's
 * inputs: `type` (one or a list), `enum`, `anyOf`, `properties`/`required`,
 * `items`, `minItems`/`maxItems`, `minLength`/`maxLength`/`pattern`,
 * `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum`. Anything else
 * is ignored (and then generated as "any string").
 */
import fc from "fast-check";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createContext } from "../../src/runtime/context.js";
import { silentLogger } from "../../src/runtime/logger.js";
import { createServer } from "../../src/server.js";
import { tempDir } from "./store.js";
import { TOOLSET_NAMES } from "../../tools/toolsets.js";

/**
 * Whether every tool's input is a strict object, so that one unknown extra
 * top-level property (`agentid` for `agent_id`) must be refused with an error
 * naming that key. With false the "unknown property" mutation is not generated.
 */
export const STRICT_INPUTS = true;

/** The JSON Schema subset the walker reads. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
}

/** A tool as the uncompacted listing describes it. */
export interface ToolSchema {
  name: string;
  inputSchema: JsonSchema;
}

/** Where a field sits in the arguments: property names and array indexes, outermost first. */
export type FieldPath = (string | number)[];

/** One invalid call: the arguments, the field the mutation broke, and what the mutation was. */
export interface Mutation {
  args: Record<string, unknown>;
  /** Path of the broken field; for an unknown property, the path of that property. */
  path: FieldPath;
  /** e.g. `drop required`, `wrong type`, `over maxLength`, `key escapes root`. */
  kind: string;
}

/** Agent ids every agent-ish field draws from most of the time. */
export const AGENTS = ["alice", "bob", "carol", "dave", "erin"] as const;
/** Resource keys (files, dirs, tables, resources) the key fields draw from most of the time. */
export const KEYS = [
  "src/a.ts",
  "src/b.ts",
  "src/",
  "src/lib/c.ts",
  "src/lib/",
  "docs/readme.md",
  "app/actions/auth.ts",
  "table:users",
  "table:orders",
  "resource:auth",
] as const;
/** Feature / task ids. */
export const FEATURES = ["f1", "f2", "f3", "f4", "f5"] as const;

/**
 * Fields holding resource keys or scopes: the server normalises them against
 * the project root (src/paths.ts), so a NUL byte, a `..` escape or an absolute
 * path outside the root must be refused naming the field.
 */
export const KEY_FIELDS: ReadonlySet<string> = new Set(["paths", "reads", "writes", "files", "path", "scope"]);

/** Values that break a key field (NUL byte, `..` escape, absolute path outside the root). */
const BAD_KEYS = ["src/a\0.ts", "../outside.ts", "src/../../escape.ts", "..", "/etc/passwd", "/"] as const;

/** Field names whose values are agent ids. */
const AGENT_FIELDS = new Set(["agent_id", "from_agent", "to_agent", "by", "decided_by", "affects"]);
/** Field names whose values are feature or task ids (`id` only inside task objects, but pooling it elsewhere is harmless). */
const FEATURE_FIELDS = new Set(["feature_id", "id", "blocked_by"]);

/**
 * Pools for other fields by name, so that calls refer to what earlier calls
 * created (checkpoint names, signal and message ids, conventions, domains).
 */
const NAME_POOLS: Record<string, readonly string[]> = {
  name: ["cp1", "cp2", "release"],
  signal_id: ["sig-1", "sig-2", "sig-3", "sig-9"],
  message_ids: ["m-1", "m-2", "m-3", "m-9"],
  key: ["action_naming", "indent"],
  domain: ["frontend", "backend", "db"],
  scope: ["src/", "src/**", "app/**/*.ts", "**", "table:*"],
  plan_id: ["plan_missing"],
  phase: ["CODE", "AUDIT", "TEST"],
  schema_changes: ["users", "orders"],
  table: ["users", "orders"],
};

/**
 * Valid-value overrides by field name, each still inside the schema's bounds:
 * `wait_ms` stays tiny because every call is sequential, so a queued
 * acquire_lock would otherwise sit out its whole wait (up to a minute) with
 * nobody to release; ISO times are real instants.
 */
const HINTS: Record<string, (s: JsonSchema, clean: boolean) => fc.Arbitrary<unknown>> = {
  wait_ms: (s) => fc.integer({ min: lowerInt(s) ?? 0, max: Math.min(upperInt(s) ?? 25, 25) }),
  estimated_completion: (_s, clean) => {
    const iso = fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => d.toISOString());
    return clean ? iso : fc.oneof({ weight: 4, arbitrary: iso }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) });
  },
  // References between items of one call (a blocker that is not in the list, a cycle) are refused before
  // the keys are looked at; clean arguments have none, wild ones draw from the feature pool.
  blocked_by: (s, clean) => (clean ? fc.constant([]) : fc.array(fc.constantFrom(...FEATURES), { maxLength: Math.min(s.maxItems ?? 3, 3) })),
};

/** Strings of clean arguments outside any pool: short, lower-case, nothing to trim or normalise. */
const CLEAN_STRING = /^[a-z][a-z0-9]{0,11}$/;

/** Items generated for a valid array beyond its minimum: kept small so calls stay cheap. */
const EXTRA_ITEMS = 3;
/** Longest random string generated for a valid string field (or its maxLength if smaller). */
const RANDOM_STRING = 24;

// ---------------------------------------------------------------------------
// Valid values

/**
 * Arguments `schema` (an object schema) admits: half "clean" (every string
 * from a pool or plain lower-case, no references between items, so the
 * domain has nothing to refuse but conflicts and state), half "wild" (any
 * string the schema admits: blanks, NUL bytes, lone surrogates, `..`).
 */
export function validArgs(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(cleanArgs(schema), validValue(schema, "", false) as fc.Arbitrary<Record<string, unknown>>);
}

/** Clean valid arguments: what each invalid call starts from, so its one mutation is the only thing wrong. */
export function cleanArgs(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  return validValue(schema, "", true) as fc.Arbitrary<Record<string, unknown>>;
}

/**
 * A value `schema` admits; `field` is the property name it sits under (pools
 * and hints go by it); `clean` as in {@link validArgs}.
 */
export function validValue(schema: JsonSchema, field: string, clean: boolean): fc.Arbitrary<unknown> {
  const hint = HINTS[field];
  if (hint) return hint(schema, clean);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s) => validValue(s, field, clean)));
  const types = typesOf(schema);
  if (types.length > 1) return fc.oneof(...types.map((t) => validValue({ ...schema, type: t }, field, clean)));
  switch (types[0]) {
    case "object":
      return validObject(schema, clean);
    case "array":
      return validArray(schema, field, clean);
    case "string":
      return validString(schema, field, clean);
    case "integer":
      return fc.integer({ min: lowerInt(schema) ?? -1_000_000, max: upperInt(schema) ?? 1_000_000 });
    case "number":
      return validNumber(schema);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    default:
      return fc.string({ maxLength: RANDOM_STRING });
  }
}

function validObject(schema: JsonSchema, clean: boolean): fc.Arbitrary<Record<string, unknown>> {
  const props = schema.properties ?? {};
  const model = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, validValue(s, k, clean)]));
  const requiredKeys = (schema.required ?? []).filter((k) => k in props);
  return fc.record(model, { requiredKeys });
}

function validArray(schema: JsonSchema, field: string, clean: boolean): fc.Arbitrary<unknown[]> {
  const item = schema.items ?? {};
  const minLength = schema.minItems ?? 0;
  const maxLength = Math.min(schema.maxItems ?? Infinity, minLength + EXTRA_ITEMS);
  // Task / feature lists: ids are unique (a duplicate is refused before anything interesting happens).
  if (item.properties?.id) {
    return fc.uniqueArray(validValue(item, field, clean), { minLength, maxLength, selector: (t) => (t as { id: unknown }).id });
  }
  return fc.array(validValue(item, field, clean), { minLength, maxLength });
}

function validString(schema: JsonSchema, field: string, clean: boolean): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? Infinity;
  const fits = (s: string) => s.length >= min && s.length <= max;
  const pattern = schema.pattern !== undefined ? new RegExp(schema.pattern, "u") : undefined;
  const admitted = (s: string) => fits(s) && (pattern === undefined || pattern.test(s));
  const pool = poolFor(field)?.filter(admitted);
  if (clean) return pool && pool.length > 0 ? fc.constantFrom(...pool) : fc.stringMatching(CLEAN_STRING).filter(admitted);
  const random = pattern
    ? fc.stringMatching(pattern, { size: "small" })
    : fc.oneof(
        { weight: 3, arbitrary: fc.string({ maxLength: Math.min(max, RANDOM_STRING) }) },
        { weight: 1, arbitrary: fc.string({ maxLength: Math.min(max, RANDOM_STRING), unit: "binary" }) },
      );
  const arb = pool && pool.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: random }) : random;
  return arb.filter(admitted);
}

function validNumber(schema: JsonSchema): fc.Arbitrary<number> {
  const min = schema.minimum ?? schema.exclusiveMinimum ?? -1e9;
  const max = schema.maximum ?? schema.exclusiveMaximum ?? 1e9;
  return fc.double({
    min,
    max,
    minExcluded: schema.minimum === undefined && schema.exclusiveMinimum !== undefined,
    maxExcluded: schema.maximum === undefined && schema.exclusiveMaximum !== undefined,
    noNaN: true,
    noDefaultInfinity: true,
  });
}

function poolFor(field: string): readonly string[] | undefined {
  if (AGENT_FIELDS.has(field)) return AGENTS;
  if (FEATURE_FIELDS.has(field)) return FEATURES;
  if (NAME_POOLS[field]) return NAME_POOLS[field];
  if (KEY_FIELDS.has(field)) return KEYS;
  return undefined;
}

// ---------------------------------------------------------------------------
// Invalid values: one mutation of a valid argument object

/** Marks a mutation that deletes the field instead of replacing its value. */
const DROP = Symbol("drop");

/** A place a mutation can be applied and the replacement values that break it. */
interface Site {
  path: FieldPath;
  kind: string;
  value: fc.Arbitrary<unknown>;
}

/**
 * A valid argument object of `schema` with exactly one mutation, or null when
 * the schema offers nothing to break (a tool without arguments and
 * `STRICT_INPUTS` false).
 */
export function invalidArgs(schema: JsonSchema): fc.Arbitrary<Mutation> | null {
  if (Object.keys(schema.properties ?? {}).length === 0 && !STRICT_INPUTS) return null;
  return cleanArgs(schema).chain((args) => {
    const sites = mutationSites(schema, args, []);
    if (STRICT_INPUTS) sites.push(...unknownPropertySites(schema, args));
    // Every object schema with properties has a site (each present value can take a wrong type).
    return fc.oneof(...sites.map((site) => site.value.map((v) => ({ args: applyAt(args, site.path, v), path: site.path, kind: site.kind }))));
  });
}

/** Every single-field mutation of `value` (valid under `schema`) at `path`. */
function mutationSites(schema: JsonSchema, value: unknown, path: FieldPath): Site[] {
  const sites: Site[] = [];
  const field = lastName(path);
  const wrong = wrongTypeValues(schema);
  if (path.length > 0 && wrong.length > 0) sites.push({ path, kind: "wrong type", value: fc.constantFrom(...wrong) });

  if (schema.enum && typeof value === "string") {
    const off = [`${value}_x`, value.toUpperCase() === value ? value.toLowerCase() : value.toUpperCase(), "bogus"].filter((v) => !schema.enum!.includes(v));
    if (off.length > 0) sites.push({ path, kind: "not in enum", value: fc.constantFrom(...off) });
  }

  if (typeof value === "string") {
    if (schema.maxLength !== undefined) sites.push({ path, kind: "over maxLength", value: fc.constantFrom("a", "é", "/").map((c) => c.repeat(schema.maxLength! + 1)) });
    if ((schema.minLength ?? 0) >= 1) sites.push({ path, kind: "under minLength", value: fc.constant("x".repeat(schema.minLength! - 1)) });
    if (schema.pattern !== undefined) {
      const re = new RegExp(schema.pattern, "u");
      const off = ["bad id", "x!y", "tab\tid", "ünï", "a;b"].filter((s) => !re.test(s) && s.length >= (schema.minLength ?? 0) && s.length <= (schema.maxLength ?? Infinity));
      if (off.length > 0) sites.push({ path, kind: "breaks pattern", value: fc.constantFrom(...off) });
    }
    if (KEY_FIELDS.has(field ?? "")) sites.push({ path, kind: "key escapes root", value: fc.constantFrom(...BAD_KEYS) });
  }

  if (typeof value === "number") {
    const bad: number[] = [];
    if (schema.minimum !== undefined) bad.push(schema.minimum - 1);
    if (schema.exclusiveMinimum !== undefined) bad.push(schema.exclusiveMinimum, schema.exclusiveMinimum - 1);
    if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) bad.push(schema.maximum + 1);
    if (schema.exclusiveMaximum !== undefined) bad.push(schema.exclusiveMaximum);
    const lo = lowerInt(schema);
    if (lo !== undefined && lo >= 0) bad.push(-1, -7);
    if (bad.length > 0) sites.push({ path, kind: "out of range", value: fc.constantFrom(...bad) });
    if (typesOf(schema).includes("integer") && !typesOf(schema).includes("number")) {
      const base = lowerInt(schema) ?? 0;
      sites.push({ path, kind: "not an integer", value: fc.constantFrom(base + 0.5, base + 1.25) });
    }
  }

  if (Array.isArray(value)) {
    const items = schema.items ?? {};
    if (schema.maxItems !== undefined) {
      const n = schema.maxItems + 1;
      const one = value.length > 0 ? fc.constant(value[0]) : validValue(items, field ?? "", true);
      sites.push({ path, kind: "over maxItems", value: one.map((item) => Array.from({ length: n }, () => item)) });
    }
    if ((schema.minItems ?? 0) >= 1) sites.push({ path, kind: "under minItems", value: fc.constant(value.slice(0, schema.minItems! - 1)) });
    // Items keep their array's name (lastName skips indexes): `paths[0]` is a key field.
    value.forEach((item, i) => sites.push(...mutationSites(items, item, [...path, i])));
  }

  if (isPlainObject(value) && schema.properties) {
    for (const [k, sub] of Object.entries(schema.properties)) {
      if (!(k in value)) continue;
      if (schema.required?.includes(k)) sites.push({ path: [...path, k], kind: "drop required", value: fc.constant(DROP) });
      sites.push(...mutationSites(sub, value[k], [...path, k]));
    }
  }
  return sites;
}

/** One unknown top-level property, named like a misspelling of a real one. */
function unknownPropertySites(schema: JsonSchema, args: Record<string, unknown>): Site[] {
  const names = Object.keys(schema.properties ?? {});
  const candidates = [...names.map((n) => n.replace(/_/g, "")), ...names.map((n) => `${n}s`), "unknown_field", "agentId"].filter((n) => !names.includes(n) && !(n in args));
  return [...new Set(candidates)].map((name) => ({ path: [name], kind: "unknown property", value: fc.constantFrom<unknown>("x", 1, true) }));
}

/** JSON values of every type `schema` does not admit. */
function wrongTypeValues(schema: JsonSchema): unknown[] {
  const allowed = new Set(schema.anyOf ? schema.anyOf.flatMap(typesOf) : typesOf(schema));
  if (allowed.size === 0) return [];
  const samples: Record<string, unknown[]> = {
    string: ["42", "true"],
    number: [7, 2.5],
    boolean: [true, false],
    null: [null],
    array: [[], ["x"]],
    object: [{}, { x: 1 }],
  };
  const out: unknown[] = [];
  for (const [type, values] of Object.entries(samples)) {
    if (allowed.has(type) || (type === "number" && allowed.has("integer"))) continue;
    out.push(...values);
  }
  return out;
}

/** A deep copy of `args` with the value at `path` replaced by `v` (or deleted for DROP). */
function applyAt(args: Record<string, unknown>, path: FieldPath, v: unknown): Record<string, unknown> {
  const copy = structuredClone(args);
  let node: Record<string | number, unknown> = copy;
  for (const seg of path.slice(0, -1)) node = node[seg] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (v === DROP) delete node[last];
  else node[last] = v;
  return copy;
}

// ---------------------------------------------------------------------------
// Small helpers

/** The innermost property name on `path` (array indexes skipped): `["tasks", 0, "reads", 1]` -> `reads`. */
export function lastName(path: FieldPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === "string") return path[i] as string;
  return undefined;
}

function typesOf(schema: JsonSchema): string[] {
  if (schema.type === undefined) return schema.enum ? [...new Set(schema.enum.map((v) => (v === null ? "null" : typeof v)))] : [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function lowerInt(s: JsonSchema): number | undefined {
  if (s.minimum !== undefined) return Math.ceil(s.minimum);
  if (s.exclusiveMinimum !== undefined) return Math.floor(s.exclusiveMinimum) + 1;
  return undefined;
}

function upperInt(s: JsonSchema): number | undefined {
  if (s.maximum !== undefined) return Math.floor(s.maximum);
  if (s.exclusiveMaximum !== undefined) return Math.ceil(s.exclusiveMaximum) - 1;
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

// ---------------------------------------------------------------------------
// The schemas themselves

/**
 * Every tool's full input schema, as listed by a server with
 * `listing: "full"` over a throwaway context (temp root and store,
 * removed before returning).
 */
export async function listFullToolSchemas(): Promise<ToolSchema[]> {
  const root = tempDir("signalbox-fuzz-list-root-");
  const store = tempDir("signalbox-fuzz-list-store-");
  const ctx = createContext({ root: root.dir, storeDir: store.dir, logger: silentLogger, sweepMs: 0 });
  const { server } = createServer(ctx, { listing: "full", toolsets: TOOLSET_NAMES });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "signalbox-fuzz-schemas", version: "0.0.0" });
  try {
    await Promise.all([server.connect(b), client.connect(a)]);
    const { tools } = await client.listTools();
    return tools.map((t) => ({ name: t.name, inputSchema: t.inputSchema as JsonSchema }));
  } finally {
    await client.close();
    await server.close();
    await ctx.close();
    root.cleanup();
    store.cleanup();
  }
}

// ---------------------------------------------------------------------------
// Judging answers (shared by the in-memory and the stdio fuzz tests)

/**
 * Text that only an internal failure puts in a tool error: a JS exception
 * escaping a handler, an LMDB error, or a result the server's own output
 * schema refused.
 */
export const INTERNAL_ERROR_MARKS = [
  "TypeError",
  "RangeError",
  "ReferenceError",
  "Cannot read properties",
  "is not a function",
  "undefined is not",
  "Maximum call stack",
  "MDB_",
  "Output validation error",
] as const;

/** The first internal-failure mark in `text`, if any. */
export function internalErrorMark(text: string): string | undefined {
  return INTERNAL_ERROR_MARKS.find((m) => text.includes(m));
}

/**
 * Whether an error `text` names the field at `path`: the top-level argument
 * name and, for a nested field, its innermost property name, each as a whole
 * word (`id` does not match inside `Invalid`).
 */
export function namesField(text: string, path: FieldPath): boolean {
  const names = [String(path[0]), lastName(path)].filter((n): n is string => n !== undefined);
  return names.every((n) => new RegExp(`(^|[^A-Za-z0-9_])${n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^A-Za-z0-9_])`).test(text));
}

/** The text parts of a tool result, joined by newlines. */
export function resultText(content: unknown): string {
  if (!Array.isArray(content)) return "";
  return content.map((c) => (c !== null && typeof c === "object" && "text" in c ? String((c as { text: unknown }).text) : "")).join("\n");
}

/** The mutated field as written in a report: `tasks[0].reads[1]`. */
export function showPath(path: FieldPath): string {
  return path.map((seg, i) => (typeof seg === "number" ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join("");
}

/**
 * Call a tool through `client`. A call with no answer within `timeoutMs`
 * throws `hang: ...`; a protocol-level error (the client's own check of
 * structuredContent against the listed output schema included) throws
 * `protocol error: ...`.
 */
export async function callWithin(client: Client, name: string, args: Record<string, unknown>, timeoutMs: number): Promise<CallToolResult> {
  try {
    return (await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs })) as CallToolResult;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/timed out/i.test(message)) throw new Error(`hang: no answer within ${timeoutMs} ms`);
    throw new Error(`protocol error: ${message}`);
  }
}
