/**
 * NUL is refused in every string field of every tool, nested ones included:
 * ids are parts of NUL-separated store keys, so a NUL in one could alias
 * another record. The test walks every tool's full input schema, so a new
 * tool or field cannot forget the rule: for each string field (array items
 * and object properties at any depth) it sends an otherwise clean call with
 * a NUL in that field and expects an error naming the field.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Harness } from "./helpers/client.js";
import { cleanArgs, listFullToolSchemas, type JsonSchema, type ToolSchema } from "./helpers/arbitraries.js";

let h: Harness;
let tools: ToolSchema[];
beforeAll(async () => {
  h = await connect();
  tools = await listFullToolSchemas();
});
afterAll(async () => {
  await h.close();
});

/** Every path (`a.b[].c`) of a string field in `schema`. */
function stringPaths(schema: JsonSchema, at: string, out: Set<string>): Set<string> {
  const variants = schema.anyOf ?? [];
  for (const v of variants) stringPaths(v, at, out);
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes("string")) out.add(at);
  if (schema.items) stringPaths(schema.items, `${at}[]`, out);
  for (const [k, v] of Object.entries(schema.properties ?? {})) stringPaths(v, at ? `${at}.${k}` : k, out);
  return out;
}

/** Every string leaf of `value`: its concrete path (`a[0].b`) and its schema path (`a[].b`). */
function stringLeaves(value: unknown, at: string, shape: string, out: { path: string; shape: string }[]): typeof out {
  if (typeof value === "string") out.push({ path: at, shape });
  else if (Array.isArray(value)) value.forEach((v, i) => stringLeaves(v, `${at}[${i}]`, `${shape}[]`, out));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) stringLeaves(v, at ? `${at}.${k}` : k, shape ? `${shape}.${k}` : k, out);
  }
  return out;
}

/** `args` with a NUL inserted into the string at concrete path `path`. */
function withNul(args: Record<string, unknown>, path: string): Record<string, unknown> {
  const copy = structuredClone(args);
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let node: Record<string, unknown> | unknown[] = copy;
  for (let i = 0; i < parts.length - 1; i++) node = (node as Record<string, unknown>)[parts[i] as string] as Record<string, unknown>;
  const last = parts[parts.length - 1] as string;
  const holder = node as Record<string, unknown>;
  holder[last] = `${String(holder[last]).slice(0, 1)}\0x`;
  return copy;
}

/**
 * Follow schema path `shape` (`tasks[].blocked_by[]`) through `args`, taking
 * item 0 of each array on the way, and push a NUL string into the last
 * array; returns the concrete path of the new item, or null when the way is missing.
 */
function pushNul(args: Record<string, unknown>, shape: string): string | null {
  const parts = shape.slice(0, -2).split(".");
  let node: unknown = args;
  let at = "";
  for (const [i, part] of parts.entries()) {
    const name = part.replace(/\[\]$/, "");
    node = (node as Record<string, unknown> | undefined)?.[name];
    at = at ? `${at}.${name}` : name;
    if (part.endsWith("[]") && i < parts.length - 1) {
      node = (node as unknown[] | undefined)?.[0];
      at = `${at}[0]`;
    }
  }
  if (!Array.isArray(node)) return null;
  node.push("a\0x");
  return `${at}[${node.length - 1}]`;
}

describe("NUL in any string field", () => {
  it("is refused naming the field, for every string field of every tool's schema", async () => {
    const missed: string[] = [];
    for (const tool of tools) {
      const wanted = stringPaths(tool.inputSchema, "", new Set());
      const covered = new Set<string>();
      // Clean samples with every optional field present sooner or later.
      for (const args of fc.sample(cleanArgs(tool.inputSchema), { numRuns: 80, seed: 13 })) {
        for (const leaf of stringLeaves(args, "", "", [])) {
          if (covered.has(leaf.shape)) continue;
          const r = await h.call(tool.name, withNul(args, leaf.path));
          const text = (r.content as { text?: string }[]).map((c) => c.text ?? "").join(" ");
          expect(r.isError, `${tool.name} ${leaf.path}: ${text}`).toBe(true);
          // Fields with a character pattern (agent ids) are refused by the schema itself, naming the field.
          const named = text.includes(`${leaf.path}: must not contain a NUL byte`) || (text.includes("Input validation error") && text.includes(leaf.path.replace(/.*[.\]]/, "")));
          expect(named, `${tool.name} ${leaf.path}: ${text}`).toBe(true);
          covered.add(leaf.shape);
        }
      }
      // Arrays the clean generator leaves empty on purpose (blocked_by: no references between items): put a NUL item in.
      for (const p of wanted) {
        if (covered.has(p) || !p.endsWith("[]")) continue;
        const args = fc.sample(cleanArgs(tool.inputSchema), { numRuns: 1, seed: 7 })[0] as Record<string, unknown>;
        const concrete = pushNul(args, p);
        if (concrete === null) continue;
        const r = await h.call(tool.name, args);
        const text = (r.content as { text?: string }[]).map((c) => c.text ?? "").join(" ");
        expect(text, `${tool.name} ${concrete}`).toContain(`${concrete}: must not contain a NUL byte`);
        covered.add(p);
      }
      for (const p of wanted) if (!covered.has(p)) missed.push(`${tool.name}.${p}`);
    }
    expect(missed, "string fields no sample reached").toEqual([]);
  });
});

describe("a lone surrogate in a string field", () => {
  it("is refused naming the field (stored as UTF-8 it would read back as U+FFFD, so two ids would meet in one key)", async () => {
    for (const [tool, args, field] of [
      ["set_convention", { agent_id: "c1", scope: "src/**", key: "nam\ud800ing", value: "camel" }, "key"],
      ["reach_checkpoint", { agent_id: "c1", name: "\udc00sync" }, "name"],
      ["start_feature", { agent_id: "c1", feature_id: "F\ud83d" }, "feature_id"],
    ] as const) {
      const r = await h.call(tool, args);
      const text = (r.content as { text?: string }[]).map((c) => c.text ?? "").join(" ");
      expect(r.isError, `${tool}: ${text}`).toBe(true);
      expect(text, tool).toContain(`${field}: must be well-formed Unicode`);
    }
    // A whole pair is ordinary text.
    expect((await h.call("set_convention", { agent_id: "c1", scope: "src/**", key: "naming\ud83d\ude00", value: "camel" })).isError).toBeFalsy();
  });
});
