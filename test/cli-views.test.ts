/**
 * The terminal views (README, "For people at a terminal") on real data:
 * a real store filled through a real MCP client (plus the core for ids the
 * tool schemas refuse, such as CJK agent ids), gathered by gatherStatus and
 * rendered by the pure views. Checks the 80-column rule, truncation with an
 * ellipsis, escaping of stored control characters, colour on/off, and the
 * structure of the Mermaid output (every node declared once, every edge
 * between declared nodes, labels that decode back to the feature ids).
 */
import fs from "node:fs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatherStatus } from "../src/cli/people-data.js";
import { renderDecisions } from "../src/cli/views/decisions.js";
import { renderLocks } from "../src/cli/views/locks.js";
import { mermaidLabel, renderMermaid } from "../src/cli/views/mermaid.js";
import { nextChangeMs, renderStatus, type StatusData } from "../src/cli/views/status.js";
import { colorsFor, displayWidth, ELLIPSIS, formatDuration, oneLine, packItems, stripAnsi, truncate } from "../src/cli/views/text.js";
import { renderPlanList, renderWavesTable, waveRanges, type FeatureProgress } from "../src/cli/views/waves.js";
import { parseConfig } from "../src/runtime/config.js";
import { dispatchAgents } from "../src/control/dispatch.js";
import { allFeatures } from "../src/control/features.js";
import { deliver } from "../src/control/registry/inbox.js";
import { DomainMap } from "../src/analysis/domains.js";
import { getPlan, getPlanSpec, listPlans, type StoredPlan } from "../src/analysis/plans.js";
import { listDecisions } from "../src/log/decisions.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import type { TaskSpec } from "../src/analysis/tasks.js";
import { planWaves } from "../src/analysis/waves.js";
import { connect, type Harness } from "./helpers/client.js";
import { lmdbSnapshot } from "../src/store/lmdb/engine.js";

const readJson = (name: string): unknown => JSON.parse(fs.readFileSync(new URL(`../examples/${name}`, import.meta.url), "utf8"));
const protocol = (readJson("protocol-example.json") as { features: TaskSpec[] }).features;

const OFF = colorsFor(false);
const ON = colorsFor(true);
const ESC = "\u001b";

/** Lines wider than `width` terminal columns (ANSI codes stripped). */
function overWidth(text: string, width = 80): string[] {
  return text.split("\n").filter((l) => displayWidth(l) > width);
}

// The tool schemas allow agent ids up to 128 characters of [\w.:@/+-].
// 46 characters: longer than the AGENT column, short enough for the store's NUL-separated keys
// (lmdb hands back keys of about 64 bytes and more that hold a NUL as arrays; see the report).
const LONG_CODER = "coder-frontend-authentication-session-fix-0042";
// A recipient id of 100 characters: its inbox key (U seq \0 agent) comes back from lmdb as an array.
const LONG_RECIPIENT = `reviewer-${"y".repeat(87)}-0007`;
const CJK_TESTER = "测试工程师-👍";
// Feature ids are free text: Mermaid must cope with all of these.
const ODD_IDS = ["end", 'say "hi"', "x[y]", "<b>bold</b>", "%%{init: {}}%%", "graph", "o", "a-->b", "日本語", "two\nlines", "#35;", "a|b", "style:a#b;"];

let h: Harness;
let clock: ManualClock;
let protocolPlan: StoredPlan;
let oddPlan: StoredPlan;

beforeAll(async () => {
  clock = manualClock();
  // The protocol's own reading of its example (well-known migrations off): P2 and P3 share wave 2.
  h = await connect({ clock, config: parseConfig({ control: { heartbeat_ms: 60_000 }, defaults: { migrations: false } }) });
  const p1 = await h.ok<{ plan_id: string }>("plan_waves", { features: protocol, name: "protocol example" });
  const odd = ODD_IDS.map((id, i) => ({
    id,
    writes: [`src/odd/${i}.ts`, ...(i % 3 === 0 ? ["src/shared.ts"] : [])],
    blocked_by: i > 0 && i % 4 === 0 ? [ODD_IDS[i - 1] as string] : [],
  }));
  const p2 = await h.ok<{ plan_id: string }>("plan_waves", { features: odd, name: 'odd ids "quoted"' });
  await h.ok("dispatch_agents", {
    agents: [
      { agent_id: "orchestrator-1", role: "orchestrator" },
      { agent_id: LONG_CODER, role: "coder", feature_id: "P1_user_auth" },
      { agent_id: "auditor-1", role: "auditor" },
    ],
  });
  dispatchAgents(h.ctx, [{ agent_id: CJK_TESTER, role: "test_engineer" }]);
  await h.ok("start_feature", { agent_id: LONG_CODER, feature_id: "P1_user_auth", plan_id: p1.plan_id });
  await h.ok("report_status", {
    agent_id: LONG_CODER,
    status: "working",
    current_task: "writing middleware.ts and the session refresh for every route below app/",
    progress_percentage: 40,
  });
  await h.ok("acquire_lock", {
    agent_id: LONG_CODER,
    paths: ["app/actions/auth.ts", "supabase/migrations/001_auth_setup_with_row_level_security_for_profiles.sql"],
    mode: "write",
    feature_id: "P1_user_auth",
    lease_ms: 600_000,
  });
  await h.ok("acquire_lock", { agent_id: "auditor-1", paths: ["middleware.ts"], mode: "read", lease_ms: 120_000 });
  await h.ok("emit_audit_signal", {
    agent_id: "auditor-1",
    level: "RED",
    summary: `cookie\nnot httpOnly ${ESC}[31m`,
    feature_id: "P1_user_auth",
  });
  await h.ok("cross_agent_handoff", {
    agent_id: "auditor-1",
    discovery: "the session helper moved to lib/session.ts",
    affects: LONG_CODER,
    impact: "import it from there",
  });
  await h.ok("record_decision", { decided_by: "orchestrator-1", type: "convention", context: "two styles", decision: "camelCase verbs for server actions" });
  await h.ok("record_decision", {
    decided_by: "orchestrator-1",
    type: "lock_break",
    context: `coder-9 silent for 20 minutes while holding app/page.tsx ${"and more ".repeat(10)}`,
    decision: "break the lock on app/page.tsx",
  });
  h.ctx.store.write(() =>
    deliver(h.ctx, [LONG_RECIPIENT], { from: "orchestrator-1", kind: "handoff", summary: "please review app/actions/auth.ts" }),
  );
  protocolPlan = getPlan(lmdbSnapshot(h.ctx.store), p1.plan_id) as StoredPlan;
  oddPlan = getPlan(lmdbSnapshot(h.ctx.store), p2.plan_id) as StoredPlan;
});

afterAll(async () => {
  await h?.close();
});

describe("renderStatus on a real store", () => {
  it("fits 80 columns and shows every section", () => {
    const text = renderStatus(gatherStatus(h.ctx), { colors: OFF });
    expect(overWidth(text)).toEqual([]);
    for (const l of text.split("\n")) if (/^[\x20-\x7e]*$/.test(l)) expect(l.length).toBeLessThanOrEqual(80);
    expect(text).toMatch(/^AGENTS {2}4 · /m);
    expect(text).toContain("app/actions/auth.ts");
    expect(text).toMatch(/^middleware\.ts +read +auditor-1 /m);
    expect(text).toMatch(/^sig-1 +RED +P1_user_auth +auditor-1 /m);
    expect(text).toMatch(/^WAVES {2}2 plan\(s\) stored/m);
    // The protocol plan: wave 1 of 2 under way, P1 active.
    expect(text).toMatch(/protocol example +1\/2 +0\/3 0% +1 +0 /);
  });

  it("truncates long agent ids and keys with an ellipsis, keeping both ends of ids and the end of keys", () => {
    const text = renderStatus(gatherStatus(h.ctx), { colors: OFF });
    expect(text).not.toContain(LONG_CODER);
    const coderRow = text.split("\n").find((l) => l.startsWith(LONG_CODER.slice(0, 5)) && l.includes("P1_user_auth"));
    expect(coderRow).toBeDefined();
    expect(coderRow).toContain(ELLIPSIS);
    expect(coderRow).toMatch(/\d+% writing/);
    expect(coderRow?.split(" ")[0]?.endsWith("0042")).toBe(true);
    const keyRow = text.split("\n").find((l) => l.includes("_for_profiles.sql"));
    expect(keyRow?.startsWith(ELLIPSIS)).toBe(true);
    // A wide (CJK and emoji) id is measured in terminal columns and kept whole.
    const cjkRow = text.split("\n").find((l) => l.startsWith(CJK_TESTER));
    expect(cjkRow).toBeDefined();
    expect(displayWidth(CJK_TESTER)).toBe(13);
  });

  it("lists unread messages per inbox, a long recipient id included", () => {
    const data = gatherStatus(h.ctx);
    const coder = data.inboxes.find((i) => i.agent_id === LONG_CODER);
    // The handoff and the pause of the RED signal on its feature.
    expect(coder).toMatchObject({ unread: 2, kinds: { handoff: 1, pause: 1 } });
    expect(data.inboxes.find((i) => i.agent_id === LONG_RECIPIENT)).toMatchObject({ unread: 1, kinds: { handoff: 1 } });
    const orchestrator = data.inboxes.find((i) => i.agent_id === "orchestrator-1");
    expect(orchestrator?.unread).toBeGreaterThanOrEqual(2);
    expect(renderStatus(data, { colors: OFF })).toMatch(/^UNREAD {2}\d+ unacknowledged in \d+ inbox/m);
  });

  it("escapes stored control characters: no raw ESC or newline from the store reaches the terminal", () => {
    const text = renderStatus(gatherStatus(h.ctx), { colors: OFF, width: 120 });
    expect(text).not.toContain(ESC);
    expect(text).toContain("cookie\\nnot httpOnly \\x1b[31m");
  });

  it("adds colour only as ANSI codes: stripping them gives the colourless board", () => {
    const data = gatherStatus(h.ctx);
    const on = renderStatus(data, { colors: ON });
    const off = renderStatus(data, { colors: OFF });
    expect(on).toContain(`${ESC}[`);
    expect(off).not.toContain(ESC);
    expect(stripAnsi(on)).toBe(off);
  });

  it("moves ages on with elapsed time and marks an agent silent past the heartbeat", () => {
    const data = gatherStatus(h.ctx);
    const coder = data.agents.find((a) => a.agent_id === LONG_CODER);
    expect(coder?.available).toBe(true);
    const later = renderStatus(data, { colors: OFF, elapsedMs: 5_000 });
    expect(later.split("\n").find((l) => l.includes("P1_user_auth") && l.includes("writing"))).toMatch(/ 5s 40%/);
    // The first thing to change on its own: the heartbeat limit (60 s) before any lease ends (120 s).
    expect(nextChangeMs(data)).toBe(60_001);
    clock.advance(61_000);
    const after = renderStatus(gatherStatus(h.ctx), { colors: OFF });
    expect(after).toMatch(/unavailable \d+ \(!: silent > 1m00s\)/);
    expect(after.split("\n").find((l) => l.includes("P1_user_auth") && l.includes("writing"))).toMatch(/ !1m01s 40%/);
  });
});

describe("renderStatus on any data", () => {
  // Ids of any Unicode: wide, combining, emoji, control characters.
  const text = fc.string({ unit: "grapheme", maxLength: 60 });
  const iso = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 2) }).map((t) => new Date(t).toISOString());
  const data: fc.Arbitrary<StatusData> = fc.record({
    root: text,
    store_dir: text,
    txn: fc.nat(),
    observed_wall_ms: fc.constant(Date.UTC(2026, 0, 1, 12)),
    heartbeat_ms: fc.integer({ min: 1000, max: 600_000 }),
    agents: fc.array(
      fc.record({
        agent_id: text,
        role: fc.constantFrom("coder", "auditor", "test_engineer", "orchestrator"),
        status: fc.constantFrom("working", "blocked", "completed", "dispatched"),
        branch: fc.option(text),
        feature_id: fc.option(text),
        current_task: fc.option(text),
        progress_percentage: fc.option(fc.integer({ min: 0, max: 100 })),
        available: fc.boolean(),
        silent_ms: fc.integer({ min: -1, max: 10_000_000 }),
        paused_by: fc.array(text, { maxLength: 2 }),
      }),
      { maxLength: 6 },
    ),
    agents_total: fc.nat(1000),
    by_status: fc.dictionary(fc.constantFrom("working", "blocked"), fc.nat(100)),
    unavailable: fc.nat(100),
    locks: fc.array(
      fc.record({
        key: text,
        mode: fc.constantFrom("read" as const, "write" as const),
        agent_id: text,
        feature_id: fc.option(text),
        fencing_token: fc.nat(),
        acquired_at: iso,
        expires_at: iso,
      }),
      { maxLength: 4 },
    ),
    waiters: fc.array(
      fc.record({
        agent_id: text,
        mode: fc.constantFrom("read" as const, "write" as const),
        keys: fc.array(text, { minLength: 1, maxLength: 3 }),
        feature_id: fc.option(text),
        enqueued_at: iso,
        gives_up_at: iso,
      }),
      { maxLength: 3 },
    ),
    signals: fc.array(
      fc.record({
        signal_id: text,
        level: fc.constantFrom("RED", "YELLOW"),
        algedonic: fc.boolean(),
        feature_id: fc.option(text),
        emitted_by: text,
        summary: text,
        emitted_at: iso,
      }),
      { maxLength: 3 },
    ),
    signals_total: fc.nat(100),
    inboxes: fc.array(
      fc.record({ agent_id: text, unread: fc.nat(1000), oldest_ms: fc.nat(), delayed: fc.nat(10), kinds: fc.dictionary(text, fc.nat(9), { maxKeys: 3 }) }),
      { maxLength: 3 },
    ),
    plans: fc.array(
      fc.record({
        plan_id: text,
        name: fc.option(text),
        current_wave: fc.option(fc.nat(999)),
        wave_count: fc.nat(999),
        counts: fc.record({ features: fc.nat(9999), completed: fc.nat(9999), active: fc.nat(99), failed: fc.nat(99), blocked: fc.nat(99), ready: fc.nat(99) }),
      }),
      { maxLength: 3 },
    ),
    plans_total: fc.nat(100),
  });

  it("never writes a line wider than the terminal, nor a control character, at widths 60 to 120", () => {
    fc.assert(
      fc.property(data, fc.integer({ min: 60, max: 120 }), fc.boolean(), (d, width, color) => {
        const out = renderStatus(d, { width, colors: colorsFor(color), footer: "Ctrl-C to stop" });
        expect(overWidth(out, width)).toEqual([]);
        // Only SGR colour codes may appear; nothing else below U+0020 but the newline.
        expect(/\p{Cc}/u.test(stripAnsi(out).replace(/\n/g, ""))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

describe("text helpers", () => {
  it("truncate never splits an emoji or a combined letter and keeps to the width", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom("end", "start", "middle" as const), (s, w, at) => {
        const safe = oneLine(s);
        const cut = truncate(safe, w, at as "end" | "start" | "middle");
        expect(displayWidth(cut)).toBeLessThanOrEqual(w);
        // No lone surrogate halves.
        expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(cut)).toBe(false);
        if (displayWidth(safe) <= w) expect(cut).toBe(safe);
        else expect(cut).toContain(ELLIPSIS);
      }),
      { numRuns: 300 },
    );
    expect(truncate("👍👍👍👍", 6)).toBe("👍👍…");
    expect(truncate("src/deep/path/file.ts", 10, "start")).toBe("…h/file.ts");
    expect(truncate("coder-frontend-0042", 11, "middle")).toBe("coder…-0042");
  });

  it("packItems reports what it left out and keeps room for the marker", () => {
    const items = Array.from({ length: 30 }, (_, i) => `feature-${i}`);
    const { lines, omitted } = packItems(items, 40, 2, 2);
    expect(lines.length).toBe(2);
    expect(lines.flat().length + omitted).toBe(30);
    const last = (lines[1] as string[]).join("  ");
    expect(displayWidth(`${last} … +${omitted}`)).toBeLessThanOrEqual(40);
  });

  it("formats durations and wave ranges", () => {
    expect([0, 999, 42_000, 245_000, 3 * 3_600_000 + 720_000, 2 * 86_400_000 + 3 * 3_600_000].map(formatDuration)).toEqual([
      "0s",
      "0s",
      "42s",
      "4m05s",
      "3h12m",
      "2d03h",
    ]);
    expect(waveRanges([1, 2, 3, 5, 7, 8])).toBe("1-3,5,7-8");
  });
});

function progressOf(plan: StoredPlan): Map<string, FeatureProgress> {
  const ids = new Set(plan.waves.flatMap((w) => w.features));
  return new Map(allFeatures(h.ctx).filter((f) => ids.has(f.feature_id)).map((f) => [f.feature_id, { status: f.status, agent_id: f.agent_id }]));
}

describe("renderWavesTable and renderPlanList", () => {
  it("shows the protocol plan's waves with progress, the critical path and the conflicts", () => {
    const text = renderWavesTable(protocolPlan, { colors: OFF, progress: progressOf(protocolPlan) });
    expect(overWidth(text)).toEqual([]);
    expect(text).toMatch(/^1 +»P1_user_auth +- +0\/1$/m);
    expect(text).toMatch(/^2 +P2_user_profile {2}P3_posts +1 +0\/2$/m);
    expect(text).toContain("critical path (length 2): P1_user_auth -> P2_user_profile");
    expect(text).toContain("serialized conflicts: 2");
    expect(text).toMatch(/P1_user_auth -> P2_user_profile {2}write_read, schema/);
  });

  it("packs a large real plan (fastapi-template history) into 80 columns with a marker for what it leaves out", () => {
    const config = parseConfig(readJson("fastapi-template.signalbox.json"));
    const history = (readJson("fastapi-template-history.json") as { tasks: { id: string; writes: string[] }[] }).tasks.slice(-200);
    const body = planWaves(
      history.map((t) => ({ id: t.id, writes: t.writes })),
      { root: "/repo", domains: new DomainMap(config), name: "fastapi-template, last 200 commits" },
    );
    const plan: StoredPlan = { ...body, plan_id: "plan_fastapi", created_at: "2026-01-01T00:00:00.000Z", seq: 1 };
    const text = renderWavesTable(plan, { colors: ON, maxLinesPerWave: 2 });
    expect(overWidth(text)).toEqual([]);
    const first = body.waves[0]?.features.length ?? 0;
    expect(first).toBeGreaterThan(12);
    // Wave 1: its first line ends with the DONE count, its second (last allowed) line with the marker.
    const lines = stripAnsi(text).split("\n");
    const at = lines.findIndex((l) => l.startsWith("1 "));
    expect(lines[at]).toMatch(new RegExp(` - +0/${first}$`));
    const marker = new RegExp(` ${ELLIPSIS} \\+(\\d+)$`).exec(lines[at + 1] as string);
    const shown = `${lines[at]} ${lines[at + 1]}`.split(/\s+/).filter((w) => /^[0-9a-f]{8}$/.test(w)).length;
    expect(shown + Number(marker?.[1])).toBe(first);
    expect(stripAnsi(text)).toContain(`serialized conflicts: ${body.conflicts_total} (first 10)`);
  });

  it("lists stored plans newest first", () => {
    const text = renderPlanList(listPlans(lmdbSnapshot(h.ctx.store)), { colors: OFF, total: 2 });
    expect(overWidth(text)).toEqual([]);
    const rows = text.split("\n").slice(2);
    expect(rows[0]).toContain(oddPlan.plan_id);
    expect(rows[1]).toContain(protocolPlan.plan_id);
  });
});

/** The parts of a flowchart this renderer writes, read back with regexes. */
function parseFlowchart(src: string): {
  nodes: Map<string, string>;
  subgraphs: string[];
  edges: { from: string; to: string; dotted: boolean; label: string | null }[];
  classes: Map<string, string[]>;
} {
  const nodes = new Map<string, string>();
  const subgraphs: string[] = [];
  const edges: { from: string; to: string; dotted: boolean; label: string | null }[] = [];
  const classes = new Map<string, string[]>();
  for (const l of src.split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /^ {2}subgraph (\w+)\["[^"]*"\]$/.exec(l))) subgraphs.push(m[1] as string);
    else if ((m = /^ {4}(\w+)(?:\["([^"]*)"\]|\{\{"([^"]*)"\}\})$/.exec(l))) {
      expect(nodes.has(m[1] as string), `node ${m[1]} declared twice`).toBe(false);
      nodes.set(m[1] as string, (m[2] ?? m[3]) as string);
    } else if ((m = /^ {2}(\w+) (-->|-\.->)(?:\|"([^"]*)"\|)? (\w+)$/.exec(l))) {
      edges.push({ from: m[1] as string, to: m[4] as string, dotted: m[2] === "-.->", label: m[3] ?? null });
    } else if ((m = /^ {2}class ([\w,]+) (\w+)$/.exec(l))) {
      classes.set(m[2] as string, [...(classes.get(m[2] as string) ?? []), ...(m[1] as string).split(",")]);
    } else {
      expect(l, `unexpected line: ${l}`).toMatch(/^(%%.*|flowchart TB| {2}end| {2}classDef \w+ [^;"]+| {2}%%.*|)$/);
    }
  }
  return { nodes, subgraphs, edges, classes };
}

/** A label's text with Mermaid's numeric entity codes decoded. */
const decode = (label: string) => label.replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));

describe("renderMermaid", () => {
  it("draws the protocol plan: a subgraph per wave, dependencies, dotted conflicts, critical path", () => {
    const src = renderMermaid(protocolPlan, { dependencies: getPlanSpec(lmdbSnapshot(h.ctx.store), protocolPlan.plan_id), progress: progressOf(protocolPlan) });
    const g = parseFlowchart(src);
    expect(g.subgraphs).toEqual(["wave1", "wave2"]);
    expect([...g.nodes.values()].sort()).toEqual(["P1_user_auth", "P2_user_profile", "P3_posts"]);
    const idOf = (f: string) => [...g.nodes].find(([, label]) => label === f)?.[0];
    const solid = g.edges.filter((e) => !e.dotted).map((e) => `${e.from}>${e.to}`);
    expect(solid.sort()).toEqual([`${idOf("P1_user_auth")}>${idOf("P2_user_profile")}`, `${idOf("P1_user_auth")}>${idOf("P3_posts")}`].sort());
    const dotted = g.edges.filter((e) => e.dotted);
    expect(dotted).toHaveLength(protocolPlan.conflicts.length);
    expect(dotted.find((e) => e.to === idOf("P2_user_profile"))?.label).toBe("write_read, schema, resource_contention");
    expect(g.classes.get("critical")?.sort()).toEqual([idOf("P1_user_auth"), idOf("P2_user_profile")].sort());
    expect(g.classes.get("active")).toEqual([idOf("P1_user_auth")]);
  });

  it("declares every odd id once with a quoted label that decodes back to the id, and links only declared nodes", () => {
    const spec = getPlanSpec(lmdbSnapshot(h.ctx.store), oddPlan.plan_id);
    const src = renderMermaid(oddPlan, { ...(spec ? { dependencies: spec } : {}) });
    const g = parseFlowchart(src);
    expect(g.subgraphs).toHaveLength(oddPlan.waves.length);
    expect(g.nodes.size).toBe(ODD_IDS.length);
    for (const id of g.nodes.keys()) expect(id).toMatch(/^f\d+(_[A-Za-z0-9_]+)?$/);
    const labels = [...g.nodes.values()];
    for (const l of labels) expect(l).not.toMatch(/[<>:%`\\]|#(?!\d+;)/);
    expect(labels.map(decode).sort()).toEqual(ODD_IDS.map(oneLine).sort());
    for (const e of g.edges) {
      expect(g.nodes.has(e.from), e.from).toBe(true);
      expect(g.nodes.has(e.to), e.to).toBe(true);
    }
    expect(g.edges.filter((e) => !e.dotted)).toHaveLength(oddPlan.dependency_count);
    expect(g.edges.filter((e) => e.dotted)).toHaveLength(oddPlan.conflicts.length);
    // A plan name cannot smuggle in a %%{...}%% directive.
    expect(src).not.toContain("%%{");
  });

  it("links waves by their prerequisites when the plan has no stored spec", () => {
    const g = parseFlowchart(renderMermaid(protocolPlan));
    expect(g.edges.map((e) => `${e.from}>${e.to}`)).toContain("wave1>wave2");
  });

  it("quotes labels so no character ends them early", () => {
    expect(mermaidLabel('a"b<c>#d%e:f`g&h')).toBe('"a#34;b#60;c#62;#35;d#37;e#58;f#96;g#38;h"');
    expect(mermaidLabel("x\ny")).toBe('"x#92;ny"');
  });
});

describe("renderDecisions and renderLocks", () => {
  it("shows decisions newest first with their context, within 80 columns", async () => {
    const { decisions, total } = await listDecisions(h.ctx.db);
    const text = renderDecisions(decisions, { colors: OFF, total });
    expect(overWidth(text)).toEqual([]);
    const rows = text.split("\n");
    expect(rows[2]).toMatch(/^ *\d+ \d\d-\d\d \d\d:\d\d:\d\d lock_break +orchestrator-1 +break the lock on app\/page\.tsx$/);
    expect(rows[3]).toMatch(/^ +coder-9 silent for 20 minutes .*…$/);
    expect(text).toContain("camelCase verbs for server actions");
  });

  it("shows live locks with holder, token and lease left, within 80 columns", () => {
    const list = h.ctx.locks.list();
    const text = renderLocks(list, h.ctx.clock.wallMs(), { colors: OFF });
    expect(overWidth(text)).toEqual([]);
    expect(text).toMatch(/^LOCKS {2}3 held$/m);
    expect(text).toMatch(/^middleware\.ts +read +auditor-1 +- +\d+ +\d+s$/m);
    expect(text).toContain("nobody waiting");
  });
});
