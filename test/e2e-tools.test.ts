import fs from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createServer } from "../src/server.js";
import { compactSchemaJson, withoutNoise } from "../tools/listing.js";
import { connect, type Harness } from "./helpers/client.js";
import { TOOLSET_NAMES } from "../tools/toolsets.js";

const example = JSON.parse(fs.readFileSync(new URL("../examples/protocol-example.json", import.meta.url), "utf8")) as {
  features: Record<string, unknown>[];
};

let h: Harness;
beforeEach(async () => {
  h = await connect();
});
afterEach(async () => {
  await h.close();
});

const TOOLS = [
  "acknowledge",
  "acquire_lock",
  "audit_handoff",
  "break_lock",
  "check_conventions",
  "check_parallel",
  "close_incident",
  "complete_feature",
  "cross_agent_handoff",
  "define_gate",
  "dispatch_agents",
  "emit_audit_signal",
  "enable_toolsets",
  "fail_feature",
  "get_inbox",
  "integrate_wave",
  "plan_waves",
  "predict_conflicts",
  "reach_checkpoint",
  "reassign_feature",
  "record_decision",
  "record_gate_result",
  "release_lock",
  "renew_lease",
  "report_emergency",
  "report_status",
  "request_checkpoint",
  "request_review",
  "resolve_audit_signal",
  "resume_checkpoint",
  "rollback_wave",
  "server_info",
  "set_convention",
  "start_feature",
  "submit_review",
  "verify_lock",
];

/** MCP ToolAnnotations: the value a client assumes for an absent hint. */
const HINT_DEFAULTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } as const;

/** The annotations each tool declares in code (an uncompacted server's listing). */
async function declaredAnnotations(harness: Harness): Promise<Map<string, Record<string, unknown>>> {
  const { server } = createServer(harness.ctx, { listing: "full", toolsets: TOOLSET_NAMES });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "annotations", version: "0" });
  await Promise.all([server.connect(b), client.connect(a)]);
  const { tools } = await client.listTools();
  await client.close();
  return new Map(tools.map((t) => [t.name, (t.annotations ?? {}) as Record<string, unknown>]));
}

/**
 * What a model sees of a listing: each tool's name, description and input
 * schema (clients do not show output schemas or annotations to the model).
 */
function modelVisible(tools: { name: string; description?: string; inputSchema: unknown }[]): number {
  return tools.reduce((n, t) => n + JSON.stringify({ name: t.name, description: t.description, inputSchema: t.inputSchema }).length, 0);
}

/** The default listing (toolset core) and the listing with every toolset: tool counts and model-visible characters. */
const BUDGET = { core: { tools: 16, chars: 10_000 }, all: { tools: 40, chars: 32_000 } } as const;

describe("tool surface", () => {
  it("lists every tool with title, description, described fields, output schema and all four annotations", async () => {
    const { tools } = await h.client.listTools();
    const full = await declaredAnnotations(h);
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const t of tools) {
      expect(t.title, t.name).toBeTruthy();
      expect(t.description!.length, t.name).toBeGreaterThan(40);
      expect(t.description!.length, t.name).toBeLessThanOrEqual(700);
      expect(t.outputSchema, t.name).toBeDefined();
      // Every tool declares all four hints; the listing leaves out those equal to the protocol default (rule 9).
      const declared = full.get(t.name)!;
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        expect(typeof declared[hint], `${t.name}.${hint}`).toBe("boolean");
        // Rule 10: destructive and idempotent hints mean nothing on a read-only tool and are not listed.
        if (declared.readOnlyHint === true && (hint === "destructiveHint" || hint === "idempotentHint")) {
          expect(t.annotations?.[hint], `${t.name}.${hint}`).toBeUndefined();
          continue;
        }
        expect(t.annotations?.[hint] ?? HINT_DEFAULTS[hint], `${t.name}.${hint}`).toBe(declared[hint]);
      }
      for (const [field, schema] of Object.entries(t.inputSchema.properties ?? {})) {
        expect((schema as { description?: string }).description, `${t.name}.${field}`).toBeTruthy();
      }
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(byName.check_parallel!.annotations!.readOnlyHint).toBe(true);
    expect(byName.acquire_lock!.annotations!.readOnlyHint ?? HINT_DEFAULTS.readOnlyHint).toBe(false);
    expect(byName.release_lock!.annotations!.destructiveHint ?? HINT_DEFAULTS.destructiveHint).toBe(true);
  });

  it(`keeps the default listing (core) within ${BUDGET.core.tools} tools and ${BUDGET.core.chars} characters, and every toolset within ${BUDGET.all.tools} and ${BUDGET.all.chars}`, async () => {
    // The default listing: a server made with the config's toolsets (core), as a client first sees it.
    const { server } = createServer(h.ctx);
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "budget", version: "0" });
    await Promise.all([server.connect(b), client.connect(a)]);
    const core = (await client.listTools()).tools;
    await client.close();
    const all = (await h.client.listTools()).tools;
    expect(core.length).toBeLessThanOrEqual(BUDGET.core.tools);
    expect(modelVisible(core), "core listing, model-visible characters").toBeLessThanOrEqual(BUDGET.core.chars);
    expect(all.length).toBeLessThanOrEqual(BUDGET.all.tools);
    expect(modelVisible(all), "all toolsets, model-visible characters").toBeLessThanOrEqual(BUDGET.all.chars);
    expect(core.map((t) => t.name)).toContain("enable_toolsets");
    for (const listing of [core, all]) {
      // The compaction (tools/listing.ts) is in effect: no draft marker anywhere, no safe-integer bounds.
      const text = JSON.stringify(listing);
      expect(text).not.toContain("$schema");
      expect(text).not.toContain("draft-07");
      expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    }
  });

  it("lists each tool's real output schema: its fields, types and nested shapes", async () => {
    const { tools } = await h.client.listTools();
    for (const t of tools) {
      const out = t.outputSchema as { type: string; properties?: Record<string, unknown>; additionalProperties?: unknown };
      expect(out.type, t.name).toBe("object");
      expect(Object.keys(out.properties ?? {}).length, `${t.name} lists its output fields`).toBeGreaterThan(0);
      expect(out.additionalProperties, `${t.name} output is closed`).toBe(false);
    }
    const acquire = tools.find((t) => t.name === "acquire_lock")!.outputSchema as { properties: Record<string, { type?: string }> };
    expect(acquire.properties.granted).toEqual(expect.objectContaining({ type: "boolean" }));
  });

  it("lists the resources and the wave-plan template", async () => {
    const { resources } = await h.client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual([
      "signalbox://activity",
      "signalbox://agents",
      "signalbox://audit",
      "signalbox://conventions",
      "signalbox://decisions",
      "signalbox://incidents",
      "signalbox://locks",
      "signalbox://metrics",
      "signalbox://radar",
      "signalbox://state",
      "signalbox://waves",
    ]);
    const { resourceTemplates } = await h.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
      "signalbox://activity{?agent_id,feature_id,since,until,cursor,limit}",
      "signalbox://waves/{plan_id}",
      "signalbox://waves/{plan_id}/integration/{wave_number}",
    ]);
  });
});

describe("compactSchemaJson (the tools/list compaction rules)", () => {
  const SAFE = Number.MAX_SAFE_INTEGER;

  it("drops the draft marker, safe-integer bounds, additionalProperties: false and string propertyNames", () => {
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: {
        n: { type: "integer", minimum: -SAFE, maximum: SAFE },
        m: { type: "object", propertyNames: { type: "string" }, additionalProperties: { type: "number" } },
      },
      additionalProperties: false,
    };
    expect(compactSchemaJson(schema)).toEqual({
      type: "object",
      properties: { n: { type: "integer" }, m: { type: "object", additionalProperties: { type: "number" } } },
    });
  });

  it("input: drops pattern, minLength 1 and length/item bounds; keeps numeric bounds, enum, required and descriptions", () => {
    const input = {
      type: "object",
      properties: {
        agent_id: { type: "string", minLength: 1, maxLength: 128, pattern: "^[\\w]+$", description: "Your agent id" },
        code: { type: "string", minLength: 2, maxLength: 8, description: "Code" },
        mode: { type: "string", enum: ["read", "write"], description: "Lock mode" },
        n: { type: "integer", minimum: 1, maximum: 200, description: "Page size" },
        keys: { type: "array", minItems: 1, maxItems: 256, items: { type: "string", minLength: 1, maxLength: 1024 }, description: "Keys" },
        pattern: { type: "string", minLength: 1, description: "A field named pattern stays" },
      },
      required: ["agent_id", "mode"],
    };
    expect(compactSchemaJson(input)).toEqual({
      type: "object",
      properties: {
        agent_id: { type: "string", description: "Your agent id" },
        code: { type: "string", minLength: 2, description: "Code" },
        mode: { enum: ["read", "write"], description: "Lock mode" },
        n: { type: "integer", minimum: 1, maximum: 200, description: "Page size" },
        keys: { type: "array", items: { type: "string" }, description: "Keys" },
        pattern: { type: "string", description: "A field named pattern stays" },
      },
      required: ["agent_id", "mode"],
    });
  });

  it("output: keeps the exact schema, dropping only the noise; input: drops a string type beside a string enum (rule 11)", () => {
    const output = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { status: { type: "string", enum: ["open", "noted"], description: "open: pausing" }, n: { type: "integer", minimum: -SAFE, maximum: SAFE } },
      required: ["status", "n"],
      additionalProperties: false,
    };
    expect(withoutNoise(output)).toEqual({
      type: "object",
      properties: { status: { type: "string", enum: ["open", "noted"], description: "open: pausing" }, n: { type: "integer" } },
      required: ["status", "n"],
      additionalProperties: false,
    });
    const input = {
      type: "object",
      properties: {
        mode: { type: "string", enum: ["read", "write"], description: "Lock mode" },
        n: { type: "integer", enum: [1, 2], description: "A number enum keeps its type" },
      },
    };
    expect(compactSchemaJson(input)).toEqual({
      type: "object",
      properties: { mode: { enum: ["read", "write"], description: "Lock mode" }, n: { type: "integer", enum: [1, 2], description: "A number enum keeps its type" } },
    });
  });

  it("is what tools/list serves: input bounds and enums survive, patterns do not, output schemas are whole", async () => {
    const { tools } = await h.client.listTools();
    const acquire = tools.find((t) => t.name === "acquire_lock")!;
    const props = acquire.inputSchema.properties as Record<string, Record<string, unknown>>;
    expect(props.mode!.enum).toEqual(["read", "write"]);
    expect(props.wait_ms!.maximum).toBeGreaterThan(0);
    expect(props.agent_id).not.toHaveProperty("pattern");
    expect(props.agent_id).not.toHaveProperty("minLength");
    for (const t of tools) expect(Object.keys((t.outputSchema as { properties?: object }).properties ?? {}).length, t.name).toBeGreaterThan(0);
  });
});

describe("check_parallel and plan_waves on the protocol's worked example", () => {
  it("orders P1 before P2, and the migrations of P1 and P3 (well-known integration points) make each converge alone", async () => {
    const r = await h.ok<{
      verdict: string;
      pairs: { a: string; b: string; verdict: string; order: string; reasons: { type: string; keys: string[] }[] }[];
      groups: string[][];
    }>("check_parallel", { tasks: example.features });
    expect(r.verdict).toBe("CONVERGE");
    const p12 = r.pairs.find((p) => p.a === "P1_user_auth" && p.b === "P2_user_profile")!;
    expect(p12).toMatchObject({ verdict: "CONVERGE", order: "a_first" });
    expect(p12.reasons.map((x) => x.type).sort()).toEqual(["dependency", "integration_point", "resource_contention", "schema", "write_read"]);
    expect(p12.reasons.find((x) => x.type === "write_read")!.keys).toEqual(["app/actions/auth.ts"]);
    const p23 = r.pairs.find((p) => p.a === "P2_user_profile" && p.b === "P3_posts")!;
    expect(p23).toMatchObject({ verdict: "CONVERGE", order: "b_first" });
    expect(p23.reasons.map((x) => x.type)).toEqual(["integration_point", "resource_contention"]);
    expect(p23.reasons[0]!.keys).toEqual(["migration"]);
    expect(r.groups).toEqual([["P1_user_auth"], ["P3_posts"], ["P2_user_profile"]]);
  });

  it("plans waves P1, P2, P3 (the migration alone), stores the plan and serves it as a resource with completion", async () => {
    const plan = await h.ok<{ plan_id: string; waves: { features: string[] }[] }>("plan_waves", {
      features: example.features,
      name: "protocol example",
    });
    expect(plan.waves.map((w) => w.features)).toEqual([["P1_user_auth"], ["P2_user_profile"], ["P3_posts"]]);
    const list = await h.readJson<{ plans: { plan_id: string; name: string }[] }>("signalbox://waves");
    expect(list.plans[0]).toMatchObject({ plan_id: plan.plan_id, name: "protocol example" });
    const stored = await h.readJson<{ plan_id: string; waves: unknown[] }>(`signalbox://waves/${plan.plan_id}`);
    expect(stored.waves).toEqual(plan.waves);
    const completion = await h.client.complete({
      ref: { type: "ref/resource", uri: "signalbox://waves/{plan_id}" },
      argument: { name: "plan_id", value: plan.plan_id.slice(0, 7) },
    });
    expect(completion.completion.values).toContain(plan.plan_id);
    const templ = await h.client.listResources();
    expect(templ.resources.map((r) => r.uri)).toContain(`signalbox://waves/${plan.plan_id}`);
  });

  it("names a dependency cycle and an unknown dependency", async () => {
    const cycle = await h.fails("plan_waves", {
      features: [
        { id: "A", blocked_by: ["C"] },
        { id: "B", blocked_by: ["A"] },
        { id: "C", blocked_by: ["B"] },
      ],
    });
    expect(cycle).toMatch(/cycle/);
    expect(cycle).toMatch(/A/);
    expect(cycle).toMatch(/B/);
    expect(cycle).toMatch(/C/);
    const unknown = await h.fails("plan_waves", { features: [{ id: "A", blocked_by: ["ghost"] }] });
    expect(unknown).toMatch(/ghost/);
  });
});

describe("locks through the tools", () => {
  it("grants, refuses with holders, verifies, renews and releases", async () => {
    const g = await h.ok<{ granted: boolean; locks: { key: string; lock_id: string; fencing_token: number }[] }>(
      "acquire_lock",
      { agent_id: "implementor-1", paths: ["./app//actions/profile.ts"], mode: "write", feature_id: "P2" },
    );
    expect(g.granted).toBe(true);
    expect(g.locks[0]!.key).toBe("app/actions/profile.ts");
    const refused = await h.ok<{ granted: boolean; reason: string; holders: unknown[] }>("acquire_lock", {
      agent_id: "implementor-2",
      paths: ["app/actions/"],
      mode: "read",
    });
    expect(refused).toMatchObject({
      granted: false,
      reason: "conflict",
      holders: [expect.objectContaining({ agent_id: "implementor-1", mode: "write", feature_id: "P2", key: "app/actions/profile.ts" })],
    });
    const { lock_id, fencing_token } = g.locks[0]!;
    expect(await h.ok("verify_lock", { lock_id, fencing_token })).toMatchObject({ valid: true, status: "current" });
    expect(await h.ok("renew_lease", { agent_id: "implementor-1", lease_ms: 120_000 })).toMatchObject({
      renewed: [expect.objectContaining({ lock_id })],
    });

    const locksView = await h.readJson<{ locks: Record<string, unknown>[] }>("signalbox://locks");
    expect(locksView.locks).toHaveLength(1);
    expect(locksView.locks[0]).toMatchObject({ key: "app/actions/profile.ts", agent_id: "implementor-1" });
    expect(JSON.stringify(locksView)).not.toContain(lock_id);

    const notYours = await h.fails("release_lock", { agent_id: "implementor-2", lock_ids: [lock_id] });
    expect(notYours).toMatch(/implementor-1/);
    expect(await h.ok("release_lock", { agent_id: "implementor-1", paths: ["app/actions/profile.ts"] })).toMatchObject({
      released: [{ key: "app/actions/profile.ts", mode: "write", fencing_token }],
    });
    expect(await h.ok("verify_lock", { lock_id, fencing_token })).toMatchObject({ valid: false, status: "released" });
  });

  it("refuses keys that leave the root, hold NUL or are empty, naming the field", async () => {
    for (const bad of ["../etc/passwd", "a\0b", "", "/definitely/outside/root.ts"]) {
      const msg = await h.fails("acquire_lock", { agent_id: "a", paths: ["ok.ts", bad], mode: "write" });
      expect(msg).toMatch(/paths\[1\]/);
    }
    expect((await h.readJson<{ locks: unknown[] }>("signalbox://locks")).locks).toEqual([]);
  });
});

describe("decision log", () => {
  it("appends with rising sequence numbers and lists newest first", async () => {
    const first = await h.ok<{ seq: number }>("record_decision", {
      type: "interface_arbitration",
      decided_by: "architect",
      context: "profile API shape",
      decision: "use ProfileDTO",
      refs: ["app/actions/profile.ts"],
    });
    const second = await h.ok<{ seq: number }>("record_decision", {
      type: "convention",
      decided_by: "implementor-1",
      context: "naming",
      decision: "camelCase actions",
    });
    expect(second.seq).toBe(first.seq + 1);
    const log = await h.readJson<{ decisions: { seq: number; decision: string }[]; total: number }>("signalbox://decisions");
    expect(log.total).toBe(2);
    expect(log.decisions.map((d) => d.decision)).toEqual(["camelCase actions", "use ProfileDTO"]);
  });
});

describe("bad input names the field", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["acquire_lock", { agent_id: "a", paths: ["x"], mode: "exclusive" }, /mode/],
    ["acquire_lock", { agent_id: "", paths: ["x"], mode: "read" }, /agent_id/],
    ["acquire_lock", { agent_id: "a", paths: [], mode: "read" }, /paths/],
    ["acquire_lock", { agent_id: "a", paths: ["x"], mode: "read", lease_ms: -5 }, /lease_ms/],
    ["acquire_lock", { agent_id: "a", paths: ["x"], mode: "read", wait_ms: 10_000_000 }, /wait_ms/],
    ["release_lock", { agent_id: "a" }, /lock_ids|paths|all/],
    ["release_lock", { agent_id: "a", lock_ids: "nope" }, /lock_ids/],
    ["renew_lease", { agent_id: "a", lease_ms: "long" }, /lease_ms/],
    ["verify_lock", { lock_id: "x" }, /fencing_token/],
    ["record_decision", { type: "whim", decided_by: "a", context: "c", decision: "d" }, /type/],
    ["record_decision", { type: "other", decided_by: "a", decision: "d" }, /context/],
    ["check_parallel", { tasks: [{ writes: ["a.ts"] }] }, /tasks\.0\.id|id/],
    ["check_parallel", { tasks: [{ id: "a", writes: ["../../x"] }] }, /tasks\[0\]\.writes\[0\]/],
    ["check_parallel", { tasks: "all" }, /tasks/],
    ["plan_waves", { features: [{ id: "a" }], max_parallel: 0 }, /max_parallel/],
    ["plan_waves", { features: [{ id: "a" }, { id: "a" }] }, /duplicate|a/],
  ];
  it.each(cases)("%s %j", async (tool, args, field) => {
    const msg = await h.fails(tool, args);
    expect(msg).toMatch(field);
  });
});

describe("the exact-schema check itself", () => {
  it("flags a field the schema does not declare, and passes a declared one", async () => {
    const { undeclaredFields } = await import("./helpers/client.js");
    const schema = { type: "object", properties: { a: { type: "array", items: { type: "object", properties: { b: {} } } } } };
    expect(undeclaredFields({ a: [{ b: 1 }] }, schema)).toEqual([]);
    expect(undeclaredFields({ a: [{ b: 1, c: 2 }], d: 3 }, schema)).toEqual(["$.a[0].c", "$.d"]);
    // Free-form maps (z.record(z.string(), z.unknown())) admit anything below them.
    const free = { type: "object", properties: { body: { type: "object", additionalProperties: {} } } };
    expect(undeclaredFields({ body: { x: { y: [1] } } }, free)).toEqual([]);
  });
});

describe("lists in results are capped with a count of what was left out", () => {
  it("check_parallel lists at most 500 tasks and groups; plan_waves at most 200 waves, the stored plan has all", async () => {
    const tasks = Array.from({ length: 600 }, (_, i) => ({ id: `t${i}`, writes: [`f/${i}.ts`], ...(i > 0 ? { blocked_by: [`t${i - 1}`] } : {}) }));
    const r = await h.ok<{ tasks: unknown[]; tasks_omitted: number; groups: unknown[]; groups_omitted: number }>("check_parallel", {
      tasks,
      max_pairs: 10,
    });
    expect([r.tasks.length, r.tasks_omitted]).toEqual([500, 100]);
    expect([r.groups.length, r.groups_omitted]).toEqual([500, 100]);
    const plan = await h.ok<{ plan_id: string; waves: unknown[]; waves_omitted: number }>("plan_waves", { features: tasks.slice(0, 250) });
    expect([plan.waves.length, plan.waves_omitted]).toEqual([200, 50]);
    const stored = await h.readJson<{ waves: unknown[] }>(`signalbox://waves/${plan.plan_id}`);
    expect(stored.waves).toHaveLength(250);
  });
});
