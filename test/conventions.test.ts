import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { createContext } from "../src/runtime/context.js";
import { normalizeScope, scopeMatcher } from "../src/control/conventions.js";
import { silentLogger } from "../src/runtime/logger.js";
import { createServer } from "../src/server.js";
import { connect, type Harness } from "./helpers/client.js";
import { tempDir } from "./helpers/store.js";

type Convention = { scope: string; key: string; value: string; set_by: string; set_at: string; rationale: string | null; decision_seq: number };
type SetResult = {
  status: "established" | "already_standard" | "refused";
  convention: Convention;
  proposed_value: string;
  escalation_id: string | null;
  message_id: string | null;
  notified: number;
};
type Check = { path: string; conventions: Convention[]; next_cursor: string | null; total: number };
type Inbox = { items: { message_id: string; kind: string; summary: string; body: Record<string, unknown>; from: string }[]; total: number };
type Decisions = { decisions: { seq: number; type: string; decided_by: string; decision: string }[]; total: number };
type Escalation = { escalation_id: string; kind: string; status: string; detail: Record<string, unknown>; agents: string[] };
type Resource = { conventions: Convention[]; omitted: number; total: number; escalations: Escalation[]; open_escalations: number };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const set = (agent_id: string, scope: string, key: string, value: string, extra: Record<string, unknown> = {}) =>
  h.ok<SetResult>("set_convention", { agent_id, scope, key, value, ...extra });
const check = (path: string, extra: Record<string, unknown> = {}) => h.ok<Check>("check_conventions", { path, ...extra });

describe("set_convention (Convention Authority: first agent's choice is the standard)", () => {
  it("makes the first value the standard, logs a convention decision and tells every agent but the setter", async () => {
    h = await connect();
    await h.ok("dispatch_agents", { by: "orchestrator",
      agents: [
        { agent_id: "be-1", role: "coder" },
        { agent_id: "be-2", role: "coder" },
        { agent_id: "aud", role: "auditor" },
      ],
    });
    const r = await set("be-1", "app/actions/**", "action_naming", "camelCase verbs", { rationale: "matches the SDK" });
    expect(r).toMatchObject({
      status: "established",
      convention: { scope: "app/actions/", key: "action_naming", value: "camelCase verbs", set_by: "be-1", rationale: "matches the SDK" },
      escalation_id: null,
      notified: 3,
    });
    const log = await h.readJson<Decisions>("signalbox://decisions");
    expect(log.decisions[0]).toMatchObject({ seq: r.convention.decision_seq, type: "convention", decided_by: "be-1" });
    expect(log.decisions[0]!.decision).toMatch(/action_naming = camelCase verbs/);
    for (const who of ["be-2", "aud", "orchestrator"]) {
      const box = await h.ok<Inbox>("get_inbox", { agent_id: who });
      expect(box.items.map((m) => [m.message_id, m.kind])).toContainEqual([r.message_id, "convention"]);
    }
    expect((await h.ok<Inbox>("get_inbox", { agent_id: "be-1" })).total).toBe(0);
  });

  it("is idempotent for the same value (no second decision, no message)", async () => {
    h = await connect();
    const first = await set("be-1", "app/", "quotes", "double");
    const again = await set("be-2", "./app/**", "quotes", "  double ");
    expect(again).toMatchObject({ status: "already_standard", escalation_id: null, message_id: null, notified: 0 });
    expect(again.convention).toEqual(first.convention);
    expect((await h.readJson<Decisions>("signalbox://decisions")).total).toBe(1);
    expect((await h.readJson<Resource>("signalbox://conventions")).open_escalations).toBe(0);
  });

  it("refuses a different later value naming the standing one and who set it, escalates it, and keeps the standard", async () => {
    h = await connect();
    await set("be-1", "app/", "quotes", "double");
    const r = await h.call("set_convention", { agent_id: "be-2", scope: "app/**", key: "quotes", value: "single", rationale: "shorter" });
    expect(r.isError).toBeFalsy();
    const out = r.structuredContent as SetResult;
    expect(out).toMatchObject({
      status: "refused",
      convention: { scope: "app/", key: "quotes", value: "double", set_by: "be-1" },
      proposed_value: "single",
      escalation_id: "esc-1",
    });
    expect((r.content as { text: string }[])[0]!.text).toMatch(/REFUSED: quotes for app\/ is already "double" \(set by be-1/);

    const box = await h.ok<Inbox>("get_inbox", { agent_id: "orchestrator" });
    const esc = box.items.find((m) => m.kind === "escalation")!;
    expect(esc.summary).toMatch(/esc-1 \(convention_clash\)/);
    expect(esc.body).toMatchObject({
      escalation_id: "esc-1",
      detail: { scope: "app/", key: "quotes", standing_value: "double", standing_set_by: "be-1", proposed_value: "single", proposed_by: "be-2" },
    });

    expect((await check("app/x.ts")).conventions).toEqual([expect.objectContaining({ key: "quotes", value: "double", set_by: "be-1" })]);
    const res = await h.readJson<Resource>("signalbox://conventions");
    expect(res).toMatchObject({ total: 1, omitted: 0, open_escalations: 1 });
    expect(res.escalations[0]).toMatchObject({ escalation_id: "esc-1", kind: "convention_clash", status: "open", agents: ["be-1", "be-2"] });
    expect((await h.readJson<Decisions>("signalbox://decisions")).total).toBe(1);

    // The same clash again reuses its open escalation rather than flooding the orchestrator.
    const again = await set("be-2", "app/", "quotes", "single");
    expect(again).toMatchObject({ status: "refused", escalation_id: "esc-1" });
    expect((await h.readJson<Resource>("signalbox://conventions")).open_escalations).toBe(1);
  });

  it("a record_decision naming the escalation resolves it; the standard is still unchanged", async () => {
    h = await connect();
    await set("be-1", "**", "indent", "2 spaces");
    await set("be-2", ".", "indent", "tabs");
    // Only an orchestrator (or an architect) settles a convention clash; a party to it cannot.
    await h.ok("dispatch_agents", { agents: [{ agent_id: "orchestrator", role: "orchestrator" }] });
    expect(await h.fails("record_decision", { type: "convention", decided_by: "be-2", context: "indent clash", decision: "tabs", refs: ["esc-1"] })).toContain(
      'decided_by: esc-1 (convention_clash) is about "be-2", which cannot settle it itself',
    );
    const d = await h.ok<{ resolved_escalations: string[] }>("record_decision", {
      type: "convention",
      decided_by: "orchestrator",
      context: "indent clash",
      decision: "keep 2 spaces",
      refs: ["esc-1"],
    });
    expect(d.resolved_escalations).toEqual(["esc-1"]);
    const res = await h.readJson<Resource>("signalbox://conventions");
    expect(res).toMatchObject({ open_escalations: 0, escalations: [] });
    expect(res.conventions).toEqual([expect.objectContaining({ scope: "**", value: "2 spaces" })]);
    // Once resolved, proposing the same clash again opens a fresh escalation.
    expect(await set("be-2", "**", "indent", "tabs")).toMatchObject({ status: "refused", escalation_id: "esc-2" });
  });

  it("refuses bad scopes naming the field", async () => {
    h = await connect();
    for (const bad of ["", "   ", "a\0b", "../outside/**", "app/../../x", "/definitely/outside/**"]) {
      expect(await h.fails("set_convention", { agent_id: "a", scope: bad, key: "k", value: "v" })).toMatch(/scope/);
    }
    expect(await h.fails("set_convention", { agent_id: "a", scope: "app/", key: "", value: "v" })).toMatch(/key/);
    expect(await h.fails("set_convention", { agent_id: "a", scope: "app/", key: "k", value: "" })).toMatch(/value/);
    expect((await h.readJson<Resource>("signalbox://conventions")).total).toBe(0);
  });
});

describe("check_conventions (Convention Drift Check)", () => {
  it("returns the conventions whose glob or directory scope covers the path, most specific first", async () => {
    h = await connect();
    await set("a", "**", "indent", "2 spaces");
    await set("a", "app/", "quotes", "double");
    await set("a", "app/actions/**/*.ts", "action_naming", "camelCase");
    await set("a", "app/actions/", "quotes", "single");
    await set("a", "lib/", "quotes", "backtick");
    await set("a", "table:profiles", "columns", "snake_case");

    const file = await check("./app/actions/auth.ts");
    expect(file.path).toBe("app/actions/auth.ts");
    expect(file.conventions.map((c) => `${c.key}@${c.scope}`)).toEqual([
      "action_naming@app/actions/**/*.ts",
      "indent@**",
      "quotes@app/actions/",
      "quotes@app/",
    ]);
    expect((await check("app/actions/readme.md")).conventions.map((c) => c.key)).toEqual(["indent", "quotes", "quotes"]);
    expect((await check("app/page.tsx")).conventions.map((c) => `${c.key}@${c.scope}`)).toEqual(["indent@**", "quotes@app/"]);
    expect((await check("app/actions/")).conventions.map((c) => `${c.key}@${c.scope}`)).toEqual([
      "action_naming@app/actions/**/*.ts",
      "indent@**",
      "quotes@app/actions/",
      "quotes@app/",
    ]);
    expect((await check("table:profiles")).conventions.map((c) => c.key)).toEqual(["columns"]);
  });

  it("answers an empty list when nothing covers the path, and refuses paths leaving the root", async () => {
    h = await connect();
    await set("a", "app/", "quotes", "double");
    expect(await check("docs/guide.md")).toEqual({ path: "docs/guide.md", conventions: [], next_cursor: null, total: 0 });
    expect(await h.fails("check_conventions", { path: "../etc/passwd" })).toMatch(/path/);
  });

  it("pages with a cursor", async () => {
    h = await connect();
    for (let i = 0; i < 55; i++) await set("a", "src/", `rule_${String(i).padStart(2, "0")}`, "yes");
    const first = await check("src/x.ts");
    expect(first).toMatchObject({ total: 55, next_cursor: "50" });
    expect(first.conventions).toHaveLength(50);
    const second = await check("src/x.ts", { cursor: first.next_cursor });
    expect(second.conventions.map((c) => c.key)).toEqual(["rule_50", "rule_51", "rule_52", "rule_53", "rule_54"]);
    expect(second.next_cursor).toBeNull();
  });
});

describe("normalizeScope and scopeMatcher", () => {
  const root = "/repo";
  it("canonicalises one place to one spelling", () => {
    expect(normalizeScope("app/**", root)).toBe("app/");
    expect(normalizeScope("app/", root)).toBe("app/");
    expect(normalizeScope("./app//actions\\", root)).toBe("app/actions/");
    expect(normalizeScope("/repo/app/actions/**", root)).toBe("app/actions/");
    expect(normalizeScope("app/*/", root)).toBe("app/*/**");
    for (const all of [".", "./", "**", "**/*", "/repo", "/repo/"]) expect(normalizeScope(all, root)).toBe("**");
    expect(normalizeScope("app/x.ts", root)).toBe("app/x.ts");
    expect(normalizeScope("table:profiles", root)).toBe("table:profiles");
  });

  it("refuses empty, NUL and root-leaving scopes naming the field", () => {
    expect(() => normalizeScope("", root)).toThrow(/^scope: is empty/);
    expect(() => normalizeScope("a\0b/**", root)).toThrow(/^scope: contains a NUL/);
    expect(() => normalizeScope("../x/**", root)).toThrow(/^scope: .*leaves the project root/);
    expect(() => normalizeScope("/etc/**", root)).toThrow(/^scope: .*outside the project root/);
    expect(() => normalizeScope(`${"a/".repeat(600)}*.ts`, root)).toThrow(/^scope: is longer/);
  });

  it("matches files, directories and named keys", () => {
    expect(scopeMatcher("app/")("app/a/b.ts")).toBe(true);
    expect(scopeMatcher("app/")("application.ts")).toBe(false);
    expect(scopeMatcher("**")("deep/.hidden/x")).toBe(true);
    expect(scopeMatcher("**")("table:profiles")).toBe(false);
    expect(scopeMatcher("app/**/*.ts")("app/a/b.ts")).toBe(true);
    expect(scopeMatcher("app/**/*.ts")("app/a/b.tsx")).toBe(false);
    expect(scopeMatcher("app/**/*.ts")("lib/")).toBe(false);
    expect(scopeMatcher("app/x.ts")("app/")).toBe(true);
    expect(scopeMatcher("table:*")("table:profiles")).toBe(true);
    expect(scopeMatcher("table:*")("tables/x")).toBe(false);
  });
});

describe("two servers on one store", () => {
  it("setting different values concurrently: exactly one becomes the standard, the other is refused and escalated", async () => {
    const rootDir = tempDir("signalbox-root-");
    const storeDir = tempDir("signalbox-store-");
    const opened: { client: Client; close: () => Promise<void> }[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const ctx = createContext({ root: rootDir.dir, storeDir: storeDir.dir, logger: silentLogger, sweepMs: 0 });
        const { server } = createServer(ctx);
        const [ct, st] = InMemoryTransport.createLinkedPair();
        const client = new Client({ name: `c${i}`, version: "0.0.0" });
        await Promise.all([server.connect(st), client.connect(ct)]);
        opened.push({
          client,
          close: async () => {
            await client.close();
            await server.close();
            await ctx.close();
          },
        });
      }
      const results = (await Promise.all(
        opened.map(({ client }, i) =>
          client.callTool({ name: "set_convention", arguments: { agent_id: `agent-${i}`, scope: "src/", key: "style", value: `style-${i}` } }),
        ),
      )) as CallToolResult[];
      const outs = results.map((r) => r.structuredContent as SetResult);
      expect(outs.map((o) => o.status).sort()).toEqual(["established", "refused"]);
      const winner = outs.find((o) => o.status === "established")!;
      const loser = outs.find((o) => o.status === "refused")!;
      expect(loser.convention).toEqual(winner.convention);
      expect(loser.escalation_id).toBe("esc-1");
      for (const { client } of opened) {
        const r = (await client.readResource({ uri: "signalbox://conventions" })).contents[0] as { text: string };
        const res = JSON.parse(r.text) as Resource;
        expect(res.conventions).toEqual([winner.convention]);
        expect(res.open_escalations).toBe(1);
      }
    } finally {
      for (const o of opened.reverse()) await o.close();
      rootDir.cleanup();
      storeDir.cleanup();
    }
  });
});
