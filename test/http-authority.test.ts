/**
 * Over Streamable HTTP a token is an identity and its holder may be hostile:
 * every argument naming an agent, nested ones included, is bound to the
 * caller's token (found from each tool's input schema, tools/agent-fields.ts),
 * and orchestrator authority comes from the configuration or a token's
 * `roles`, never from a registration. Real SDK clients over real HTTP.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { createContext, type Context } from "../src/runtime/context.js";
import { createHttpServer, type HttpServer } from "../src/runtime/http.js";
import { silentLogger } from "../src/runtime/logger.js";
import { createServer } from "../src/server.js";
import { AGENT_ID_PATTERN } from "../tools/common.js";
import { tempDir } from "./helpers/store.js";
import { TOOLSET_NAMES } from "../tools/toolsets.js";

const ALICE = "alice-token-0123456789";
const LEAD = "lead-token-01234567890";
const CONFIG = parseConfig({
  http: {
    tokens: [
      { name: "alice-laptop", token: ALICE, agents: ["alice"] },
      { name: "lead", token: LEAD, agents: ["lead"], roles: ["orchestrator"] },
    ],
  },
});

/** Fields that name an agent without acting as one, each with why it is not bound to the token. */
const ADDRESSEES: Record<string, string> = {
  "cross_agent_handoff.affects": "whom to tell: an agent id or a domain; the sender is agent_id",
};

type Schema = {
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
};

/** Every property path of a JSON Schema, with its schema (`agents[].agent_id`). */
function paths(s: Schema, at = ""): [string, Schema][] {
  const out: [string, Schema][] = [];
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const p = at ? `${at}.${k}` : k;
    out.push([p, v], ...paths(v, p));
    if (v.items) out.push([`${p}[]`, v.items], ...paths(v.items, `${p}[]`));
    for (const alt of v.anyOf ?? []) out.push(...paths(alt, p));
  }
  return out;
}

/** A value valid under `s`, with every agent id "alice"; `force` names optional properties to fill too. */
function sample(s: Schema, at: string, force: Set<string>): unknown {
  if (s.anyOf) return sample(s.anyOf.find((a) => a.type !== "null") ?? (s.anyOf[0] as Schema), at, force);
  if (s.enum) return s.enum[0];
  if (s.pattern === AGENT_ID_PATTERN.source) return "alice";
  switch (s.type) {
    case "object": {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) {
        const p = at ? `${at}.${k}` : k;
        if (s.required?.includes(k) || [...force].some((f) => f === p || f.startsWith(`${p}.`) || f.startsWith(`${p}[]`))) {
          o[k] = sample(v, p, force);
        }
      }
      return o;
    }
    case "array":
      return [sample(s.items ?? {}, `${at}[]`, force)];
    case "integer":
    case "number":
      return Math.max(1, s.minimum ?? 1);
    case "boolean":
      return true;
    default:
      return "x".repeat(Math.max(1, s.minLength ?? 1));
  }
}

/** Set the value at `path` (with `[]` for the first item) to `value`. */
function setAt(args: Record<string, unknown>, path: string, value: string): void {
  const steps = path.split(".").flatMap((p) => (p.endsWith("[]") ? [p.slice(0, -2), "0"] : [p]));
  let cur: Record<string, unknown> = args;
  for (const step of steps.slice(0, -1)) cur = cur[step] as Record<string, unknown>;
  cur[steps.at(-1) as string] = value;
}

let ctx: Context;
let server: HttpServer;
let tools: Tool[];
const cleanup: (() => void)[] = [];
const clients: Client[] = [];

async function client(token: string): Promise<Client> {
  const c = new Client({ name: "http-authority", version: "0.0.0" });
  await c.connect(new StreamableHTTPClientTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  clients.push(c);
  return c;
}
const call = async (c: Client, name: string, args: Record<string, unknown>) => (await c.callTool({ name, arguments: args })) as CallToolResult;
const text = (r: CallToolResult) => (r.content as { text: string }[]).map((x) => x.text).join("\n");
async function ok<T>(c: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const r = await call(c, name, args);
  if (r.isError) throw new Error(`${name}: ${text(r)}`);
  return r.structuredContent as T;
}
async function fails(c: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const r = await call(c, name, args);
  if (!r.isError) throw new Error(`${name} should have failed: ${JSON.stringify(r.structuredContent)}`);
  return text(r);
}

beforeAll(async () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  cleanup.push(root.cleanup, store.cleanup);
  ctx = createContext({ root: root.dir, storeDir: store.dir, config: CONFIG, logger: silentLogger, sweepMs: 0 });
  server = await createHttpServer(ctx, { listen: "127.0.0.1:0", toolsets: TOOLSET_NAMES });
  // The complete input schemas, as registered (the served listing is compacted).
  const { server: full } = createServer(ctx, { listing: "full", toolsets: TOOLSET_NAMES });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const lister = new Client({ name: "schemas", version: "0.0.0" });
  await Promise.all([full.connect(b), lister.connect(a)]);
  tools = (await lister.listTools()).tools;
  await lister.close();
  await full.close();
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await server.close();
  await ctx.close();
  for (const f of cleanup) f();
});

describe("the token binding covers every field that names an agent, derived from the schemas", () => {
  it("every field whose name says it is an agent carries the agent id pattern, or is a listed addressee", () => {
    const agentish = /(^|_)agents?(_|$)|^by$|_by$|^from_|^to_|holder|emitter|reviewer|integrators|affects/;
    const unbound: string[] = [];
    let bound = 0;
    for (const t of tools) {
      for (const [p, s] of paths(t.inputSchema as Schema)) {
        const leaf = p.split(".").at(-1)!.replace("[]", "");
        const isAgent = s.pattern === AGENT_ID_PATTERN.source || s.items?.pattern === AGENT_ID_PATTERN.source;
        if (p.endsWith("[]")) continue; // the array itself is judged above
        if (isAgent) bound++;
        else if (agentish.test(leaf) && s.type !== "array" && s.type !== "object" && !ADDRESSEES[`${t.name}.${p}`]) unbound.push(`${t.name}.${p}`);
      }
    }
    expect(unbound).toEqual([]);
    expect(bound).toBeGreaterThanOrEqual(tools.length - 4); // all but the four tools that name no agent
  });

  it("for every tool and every agent field, a token bound to alice naming mallory there is refused, naming the field", async () => {
    const alice = await client(ALICE);
    const checked: string[] = [];
    for (const t of tools) {
      const fields = paths(t.inputSchema as Schema).filter(([, s]) => s.pattern === AGENT_ID_PATTERN.source).map(([p]) => p);
      for (const field of fields) {
        const args = sample(t.inputSchema as Schema, "", new Set([field])) as Record<string, unknown>;
        setAt(args, field, "mallory");
        const err = await fails(alice, t.name, args);
        const shown = field.replace("[]", "[0]");
        expect(err, `${t.name} ${field}`).toBe(`${shown}: token "alice-laptop" may act as "alice", not "mallory"`);
        checked.push(`${t.name}.${field}`);
      }
    }
    expect(checked).toContain("dispatch_agents.agents[].agent_id");
    expect(checked).toContain("dispatch_agents.by");
    expect(checked).toContain("reassign_feature.to_agent");
    expect(checked).toContain("request_checkpoint.integrators[]");
  });
});

describe("a token holder cannot take authority", () => {
  it("alice cannot dispatch bob, make herself orchestrator, demote the orchestrator or act as one; the orchestrator's token can", async () => {
    const lead = await client(LEAD);
    const alice = await client(ALICE);
    await ok(lead, "dispatch_agents", { by: "lead", agents: [{ agent_id: "lead", role: "orchestrator" }, { agent_id: "bob", role: "coder", feature_id: "F1" }] });

    expect(await fails(alice, "dispatch_agents", { agents: [{ agent_id: "bob", role: "auditor" }] })).toBe(
      'agents[0].agent_id: token "alice-laptop" may act as "alice", not "bob"',
    );
    expect(await fails(alice, "dispatch_agents", { agents: [{ agent_id: "alice", role: "orchestrator" }] })).toMatch(
      /^agents\[0\]\.role: "alice" is not configured as an orchestrator/,
    );
    expect(await fails(alice, "dispatch_agents", { agents: [{ agent_id: "lead", role: "coder" }] })).toContain('not "lead"');
    // Defaulted `by`: a batch naming others needs one, and it is bound like every acting field.
    expect(await fails(alice, "dispatch_agents", { agents: [{ agent_id: "alice", role: "coder" }, { agent_id: "bob", role: "coder" }] })).toContain(
      'agents[1].agent_id: token "alice-laptop" may act as "alice", not "bob"',
    );
    await ok(alice, "dispatch_agents", { agents: [{ agent_id: "alice", role: "auditor" }] });

    const alg = await ok<{ signal_id: string }>(alice, "emit_audit_signal", { agent_id: "alice", level: "RED", algedonic: true, summary: "token in logs" });
    expect(await fails(alice, "resolve_audit_signal", { agent_id: "alice", signal_id: alg.signal_id, resolution: "mine" })).toContain(
      "only an orchestrator resolves it; ask an orchestrator (agents of token \"lead\"; config roles.orchestrators)",
    );
    const inc = await ok<{ incident_id: string }>(alice, "report_emergency", { agent_id: "alice", type: "agent_failure", description: "leak" });
    expect(await fails(alice, "close_incident", { agent_id: "alice", incident_id: inc.incident_id, recovery: "r", review: "v" })).toMatch(
      /^agent_id: only an orchestrator may close an incident; "alice" is registered with role auditor/,
    );
    expect(await fails(alice, "rollback_wave", { agent_id: "alice", plan_id: "p", wave_number: 1, reason: "x" })).toMatch(/^agent_id: only an orchestrator may roll back a wave/);
    expect(await fails(alice, "break_lock", { agent_id: "alice", path: "a.ts", reason: "x" })).toMatch(/^agent_id: only an orchestrator may break a lock/);

    // The orchestrator's token dispatches others and resolves; it still acts only as its own ids.
    await ok(lead, "resolve_audit_signal", { agent_id: "lead", signal_id: alg.signal_id, resolution: "rotated the token" });
    await ok(lead, "close_incident", { agent_id: "lead", incident_id: inc.incident_id, recovery: "rotated", review: "scrub logs" });
    await ok(lead, "dispatch_agents", { by: "lead", agents: [{ agent_id: "carol", role: "coder" }] });
    expect(await fails(lead, "break_lock", { agent_id: "mallory", path: "a.ts", reason: "x" })).toBe('agent_id: token "lead" may act as "lead", not "mallory"');
    // A token with role orchestrator cannot lend it to an id it does not cover through a batch without `by`.
    expect(await fails(lead, "dispatch_agents", { agents: [{ agent_id: "eve", role: "orchestrator" }, { agent_id: "dave", role: "coder" }] })).toMatch(
      /^agents\[1\]\.agent_id: only an orchestrator dispatches another agent \("dave"\); the dispatcher "eve" \(agents\[0\]\.agent_id\) is not one/,
    );
  });
});
