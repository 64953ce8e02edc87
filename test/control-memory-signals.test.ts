/**
 * Audit signals and pauses, audit handoffs, conventions, escalations and the
 * decisions that resolve them, on an engine whose reads really are
 * asynchronous (src/store/memory/engine.ts), directly against the domain
 * modules: no LMDB, no MCP. Each use case runs inside one `db.write` with an
 * env bound to it (docs/store-port.md): a decision resolves an escalation,
 * which resolves its signals, which tell agents through their inboxes, all in
 * the transaction the engine may run several times and commits once. The
 * lock manager runs on the same engine with the control layer's hooks, so a
 * pause refuses a write lock inside the grant's own transaction.
 */
import { describe, expect, it } from "vitest";
import { getAgent } from "../src/control/registry/agents.js";
import { createAuditHandoff, emitAuditSignal, markHandoffAcknowledged, resolveAuditSignal, testPhase } from "../src/control/audit.js";
import { allConventions, conventionsFor, normalizeScope, setConvention } from "../src/control/conventions.js";
import { dispatchAgents } from "../src/control/dispatch.js";
import { getEscalation, listEscalations, openEscalation, recordDecisionResolving } from "../src/control/escalations.js";
import { acknowledgeMessages, listInbox } from "../src/control/registry/inbox.js";
import { createSignal, getSignal, listSignals, resolveSignal } from "../src/control/signals.js";
import { reportStatus } from "../src/control/status.js";
import { admitLock, openPausingSignals, pausesFor } from "../src/control/registry/stops.js";
import { codeOf } from "../src/errors.js";
import { listActivity } from "../src/log/activity.js";
import { decisionPage } from "../src/log/decisions.js";
import { failure, onMemory } from "./helpers/memory-engine.js";

/** C1 codes F, A1 audits F, C2 codes G, T1 tests F, O1 orchestrates (dispatching the batch). */
async function team(run: ReturnType<typeof onMemory>["run"]): Promise<void> {
  await run((env) =>
    dispatchAgents(
      env,
      [
        { agent_id: "C1", role: "coder", feature_id: "F" },
        { agent_id: "A1", role: "auditor", feature_id: "F" },
        { agent_id: "C2", role: "coder", feature_id: "G" },
        { agent_id: "T1", role: "test_engineer", feature_id: "F" },
        { agent_id: "O1", role: "orchestrator" },
      ],
      "CODE",
    ),
  );
}

const kinds = (run: ReturnType<typeof onMemory>["run"], agent: string) => run((env) => listInbox(env, agent).items.map((m) => m.kind));

describe("RED signals pause and resume on the in-memory engine", () => {
  it("pauses the feature's coders (not its auditor or test engineer) and refuses their write locks in the grant's transaction", async () => {
    const { run, locks } = onMemory();
    await team(run);
    const emitted = await run((env) => emitAuditSignal(env, { agent_id: "A1", level: "RED", summary: "token stored in localStorage", feature_id: "F" }));
    expect(emitted.signal).toMatchObject({ signal_id: "sig-1", status: "open", level: "RED", emitted_by: "A1", source: "agent" });
    expect(emitted.paused).toEqual(["C1"]);
    expect(emitted.notified.sort()).toEqual(["C1", "O1"]);

    const seen = await run((env) => ({
      open: openPausingSignals(env).map((s) => s.signal_id),
      c1: pausesFor(env, "C1").map((s) => s.signal_id),
      c2: pausesFor(env, "C2").map((s) => s.signal_id),
      a1: pausesFor(env, "A1").map((s) => s.signal_id),
      t1: pausesFor(env, "T1").map((s) => s.signal_id),
      // An unregistered agent asking to write for F counts as its coder.
      stranger: pausesFor(env, "X9", "F").map((s) => s.signal_id),
      admitWrite: admitLock(env, { agent_id: "C1", keys: ["src/a.ts"], mode: "write" }),
      admitRead: admitLock(env, { agent_id: "C1", keys: ["src/a.ts"], mode: "read" }),
    }));
    expect(seen).toMatchObject({ open: ["sig-1"], c1: ["sig-1"], c2: [], a1: [], t1: [], stranger: ["sig-1"], admitRead: null });
    expect(seen.admitWrite).toMatchObject({ kind: "audit_signal", id: "sig-1", raised_by: "A1" });

    // The lock manager's admit hook runs the same rule inside acquire's transaction.
    const write = await locks.acquire({ agent_id: "C1", keys: ["src/a.ts"], mode: "write", feature_id: "F" });
    expect(write.granted).toBe(false);
    if (!write.granted) expect([write.reason, write.stop?.id]).toEqual(["paused", "sig-1"]);
    expect((await locks.acquire({ agent_id: "C1", keys: ["src/a.ts"], mode: "read" })).granted).toBe(true);
    expect((await locks.acquire({ agent_id: "C2", keys: ["src/g.ts"], mode: "write", feature_id: "G" })).granted).toBe(true);

    const status = await run((env) => reportStatus(env, { agent_id: "C1", status: "working" }));
    expect(status.paused).toBe(true);
    expect(status.paused_by.map((p) => p.signal_id)).toEqual(["sig-1"]);
    expect(status.instruction).toMatch(/^paused by sig-1/);
    expect(await kinds(run, "C1")).toEqual(["pause"]);
  });

  it("lifts the pause when the auditor resolves it: the coder writes again, is told, and the resolution is a decision", async () => {
    const { run, locks } = onMemory();
    await team(run);
    await run((env) => emitAuditSignal(env, { agent_id: "A1", level: "RED", summary: "SQL injection", feature_id: "F" }));
    // The paused coder may not lift its own pause; another coder (not the emitter, not an auditor) may not either.
    const own = await failure(run((env) => resolveAuditSignal(env, "sig-1", "C1", "fixed")));
    expect(codeOf(own)).toEqual({ code: "not_permitted", field: "agent_id" });
    expect(own.message).toContain("cannot lift its own pause");
    const other = await failure(run((env) => resolveAuditSignal(env, "sig-1", "C2", "fixed")));
    expect(codeOf(other)).toEqual({ code: "not_permitted", field: "agent_id" });

    const r = await run((env) => resolveAuditSignal(env, "sig-1", "A1", "parameterised queries"));
    expect(r.resumed).toEqual(["C1"]);
    expect(r.still_paused).toEqual([]);
    expect(r.signal).toMatchObject({ status: "resolved", resolved_by: "A1", resolution: "parameterised queries" });

    const seen = await run((env) => ({
      open: openPausingSignals(env),
      pauses: pausesFor(env, "C1"),
      admit: admitLock(env, { agent_id: "C1", keys: ["src/a.ts"], mode: "write" }),
      log: decisionPage(env.txn.read()).decisions.map((d) => [d.type, d.decided_by, d.decision, d.refs]),
      openList: listSignals(env, { openOnly: true }),
    }));
    expect(seen).toMatchObject({ open: [], pauses: [], admit: null, openList: { signals: [], total: 0 } });
    expect(seen.log).toEqual([["conflict_resolution", "A1", "parameterised queries", ["sig-1", "F"]]]);
    expect((await locks.acquire({ agent_id: "C1", keys: ["src/a.ts"], mode: "write", feature_id: "F" })).granted).toBe(true);
    expect(await kinds(run, "C1")).toEqual(["pause", "resume"]);

    // A resolved signal is not resolved again; an unknown one is not found.
    const again = await failure(run((env) => resolveSignal(env, "sig-1", "A1", "again")));
    expect(codeOf(again)).toEqual({ code: "invalid_state", field: "signal_id" });
    expect(again.message).toContain("is resolved by A1");
    expect(codeOf(await failure(run((env) => resolveSignal(env, "sig-99", "A1", "x"))))).toEqual({ code: "not_found", field: "signal_id" });
  });

  it("names the agents another open signal still pauses, and lets only an orchestrator resolve an algedonic signal", async () => {
    const { run } = onMemory();
    await team(run);
    await run((env) => emitAuditSignal(env, { agent_id: "A1", level: "RED", summary: "race in save", feature_id: "F" }));
    await run((env) => emitAuditSignal(env, { agent_id: "A1", level: "RED", summary: "credentials committed", algedonic: true }));
    const alg = await run((env) => getSignal(env, "sig-2"));
    expect(alg).toMatchObject({ algedonic: true, status: "open", feature_id: null });
    // The algedonic message sorts first in the orchestrator's inbox.
    expect((await run((env) => listInbox(env, "O1"))).items[0]).toMatchObject({ priority: "algedonic", kind: "audit_signal" });

    const r = await run((env) => resolveAuditSignal(env, "sig-1", "A1", "lock added"));
    expect(r.resumed).toEqual(["C1"]);
    const byAuditor = await failure(run((env) => resolveAuditSignal(env, "sig-2", "A1", "rotated")));
    expect(codeOf(byAuditor)).toEqual({ code: "not_permitted", field: "agent_id" });
    expect(byAuditor.message).toContain("algedonic");
    expect((await run((env) => resolveAuditSignal(env, "sig-2", "O1", "rotated"))).signal.status).toBe("resolved");
    expect(await run((env) => openPausingSignals(env))).toEqual([]);
  });

  it("refuses a RED signal without a feature, a GREEN algedonic one and an unregistered emitter, writing nothing", async () => {
    const { run, engine } = onMemory();
    await team(run);
    const rev = await engine.revision();
    const noFeature = await failure(run((env) => emitAuditSignal(env, { agent_id: "A1", level: "RED", summary: "x" })));
    expect(codeOf(noFeature)).toEqual({ code: "invalid_argument", field: "feature_id" });
    const green = await failure(run((env) => emitAuditSignal(env, { agent_id: "A1", level: "GREEN", summary: "x", algedonic: true })));
    expect(codeOf(green)).toEqual({ code: "invalid_argument", field: "algedonic" });
    const stranger = await failure(run((env) => emitAuditSignal(env, { agent_id: "nobody", level: "YELLOW", summary: "x", feature_id: "F" })));
    expect(codeOf(stranger)).toEqual({ code: "not_permitted", field: "agent_id" });
    expect(await engine.revision()).toBe(rev);
    // GREEN and YELLOW pause nobody: GREEN is only recorded, YELLOW goes to the orchestrator and the feature's agents.
    const yellow = await run((env) => emitAuditSignal(env, { agent_id: "A1", level: "YELLOW", summary: "naming", feature_id: "F" }));
    expect(yellow.signal.status).toBe("noted");
    expect(yellow.paused).toEqual([]);
    expect(yellow.notified.sort()).toEqual(["C1", "O1", "T1"]);
    const green2 = await run((env) => emitAuditSignal(env, { agent_id: "A1", level: "GREEN", summary: "fine", feature_id: "F" }));
    expect(green2.notified).toEqual([]);
    expect(await run((env) => openPausingSignals(env))).toEqual([]);
  });
});

describe("audit handoffs on the in-memory engine", () => {
  it("starts the TEST phase when the feature's test engineer acknowledges the handoff, not when the orchestrator does", async () => {
    const { run } = onMemory();
    await team(run);
    const h = await run((env) =>
      createAuditHandoff(env, {
        agent_id: "A1",
        feature_id: "F",
        concerns: [{ priority: "high", concern: "session fixation", location: "app/auth.ts" }],
        extra_coverage: [{ area: "logout", reason: "token reuse" }],
        test_strategy: ["integration"],
        focus: ["auth"],
      }),
    );
    expect(h).toMatchObject({ handoff_id: "ah-1", delivered_to: ["T1", "O1"], acknowledged_by: null });
    expect(await run((env) => testPhase(env, "F"))).toEqual({ status: "awaiting_acknowledgement", handoff_id: "ah-1", acknowledged_by: null, unacknowledged: 1 });

    /** Acknowledge `agent`'s handoff messages as the acknowledge tool does: one transaction. */
    const ackHandoffs = (agent: string) =>
      run((env) => {
        const ids = listInbox(env, agent).items.filter((m) => m.ref?.kind === "audit_handoff").map((m) => m.message_id);
        return acknowledgeMessages(env, agent, ids).acknowledged.map((m) => markHandoffAcknowledged(env, m));
      });
    expect(await ackHandoffs("O1")).toEqual([false]);
    expect((await run((env) => testPhase(env, "F"))).status).toBe("awaiting_acknowledgement");
    expect(await ackHandoffs("T1")).toEqual([true]);
    expect(await run((env) => testPhase(env, "F"))).toEqual({ status: "started", handoff_id: "ah-1", acknowledged_by: "T1", unacknowledged: 0 });
  });
});

const ROOT = "/repo";

describe("conventions on the in-memory engine", () => {
  it("makes the first value the standard, logs a convention decision and tells every agent but the setter; the same value again is a no-op", async () => {
    const { run, engine } = onMemory();
    await team(run);
    const scope = normalizeScope("app/actions/**", ROOT);
    expect(scope).toBe("app/actions/");
    const r = await run((env) => setConvention(env, { agent_id: "C1", scope, key: "action_naming", value: "verbNoun", rationale: "matches the router" }));
    expect(r).toMatchObject({ status: "established", escalation_id: null, notified: 4 });
    expect(r.convention).toMatchObject({ scope, key: "action_naming", value: "verbNoun", set_by: "C1", decision_seq: 1 });
    expect(r.message_id).not.toBeNull();
    const seen = await run((env) => ({
      c2: listInbox(env, "C2").items.map((m) => [m.kind, m.message_id]),
      c1: listInbox(env, "C1").items.filter((m) => m.kind === "convention"),
      log: decisionPage(env.txn.read()).decisions.map((d) => [d.type, d.decided_by, d.decision]),
    }));
    expect(seen.c2).toEqual([["convention", r.message_id]]);
    expect(seen.c1).toEqual([]);
    expect(seen.log).toEqual([["convention", "C1", "action_naming = verbNoun (scope app/actions/)"]]);

    const rev = await engine.revision();
    const same = await run((env) => setConvention(env, { agent_id: "C2", scope, key: "action_naming", value: " verbNoun " }));
    expect(same).toMatchObject({ status: "already_standard", message_id: null, notified: 0 });
    expect(await engine.revision()).toBe(rev);
  });

  it("refuses a different later value, escalates it to the orchestrator once per clash, and keeps the standard", async () => {
    const { run } = onMemory();
    await team(run);
    const scope = normalizeScope("app/", ROOT);
    await run((env) => setConvention(env, { agent_id: "C1", scope, key: "errors", value: "Result<T>" }));
    const r = await run((env) => setConvention(env, { agent_id: "C2", scope, key: "errors", value: "throw" }));
    expect(r).toMatchObject({ status: "refused", escalation_id: "esc-1", proposed_value: "throw" });
    expect(r.convention).toMatchObject({ value: "Result<T>", set_by: "C1" });
    const again = await run((env) => setConvention(env, { agent_id: "C2", scope, key: "errors", value: "throw" }));
    expect(again.escalation_id).toBe("esc-1");
    const seen = await run((env) => ({
      esc: getEscalation(env, "esc-1"),
      list: listEscalations(env),
      standing: allConventions(env).map((c) => [c.scope, c.key, c.value]),
      orch: listInbox(env, "O1").items.filter((m) => m.kind === "escalation").map((m) => m.ref),
    }));
    expect(seen.esc).toMatchObject({ kind: "convention_clash", status: "open", opened_by: "C2", agents: ["C1", "C2"] });
    expect(seen.esc?.detail).toMatchObject({ standing_value: "Result<T>", proposed_value: "throw", standing_set_by: "C1" });
    expect(seen.list.open).toBe(1);
    expect(seen.list.escalations).toHaveLength(1);
    expect(seen.standing).toEqual([["app/", "errors", "Result<T>"]]);
    expect(seen.orch).toEqual([{ kind: "escalation", id: "esc-1" }]);
    // Bad input names the field.
    expect(codeOf(await failure(run((env) => setConvention(env, { agent_id: "C1", scope, key: " ", value: "x" }))))).toEqual({ code: "invalid_argument", field: "key" });
    expect(codeOf(await failure(run((env) => setConvention(env, { agent_id: "C1", scope, key: "k", value: "" }))))).toEqual({ code: "invalid_argument", field: "value" });
  });

  it("answers conventionsFor(key) with the conventions whose scope covers the key, by key and most specific scope first", async () => {
    const { run } = onMemory();
    const set = (scope: string, key: string, value: string) => run((env) => setConvention(env, { agent_id: "C1", scope: normalizeScope(scope, ROOT), key, value }));
    await set("**", "naming", "camelCase");
    await set("app/", "naming", "camelCase-app");
    await set("app/actions/**", "naming", "verbNoun");
    await set("app/**/*.ts", "exports", "named");
    await set("lib/", "naming", "snake");
    await set("table:users", "naming", "plural");
    const scopesFor = (key: string) => run((env) => conventionsFor(env, key).map((c) => `${c.key}@${c.scope}`));
    expect(await scopesFor("app/actions/auth.ts")).toEqual(["exports@app/**/*.ts", "naming@app/actions/", "naming@app/", "naming@**"]);
    expect(await scopesFor("app/page.tsx")).toEqual(["naming@app/", "naming@**"]);
    expect(await scopesFor("lib/util.ts")).toEqual(["naming@lib/", "naming@**"]);
    expect(await scopesFor("table:users")).toEqual(["naming@table:users"]);
    expect(await scopesFor("docs/readme.md")).toEqual(["naming@**"]);
  });
});

describe("escalations resolved by decisions on the in-memory engine", () => {
  /** A convention clash between C1 and C2 (esc-1), and a RED signal raised with it pausing C2. */
  async function clash(m: ReturnType<typeof onMemory>): Promise<void> {
    await team(m.run);
    const scope = normalizeScope("app/", ROOT);
    await m.run((env) => setConvention(env, { agent_id: "C1", scope, key: "errors", value: "Result<T>" }));
    expect((await m.run((env) => setConvention(env, { agent_id: "C2", scope, key: "errors", value: "throw" }))).escalation_id).toBe("esc-1");
    const s = await m.run((env) => createSignal(env, { level: "RED", summary: "clash on errors", emitted_by: "signalbox", source: "oscillation_detector", target_agents: ["C2"], escalation_id: "esc-1" }));
    expect(s.paused).toEqual(["C2"]);
  }

  it("refuses a decision by an agent the escalation is about, or by a plain coder, writing nothing", async () => {
    const m = onMemory();
    await clash(m);
    const rev = await m.engine.revision();
    const about = await failure(m.run((env) => recordDecisionResolving(env, { type: "convention", decided_by: "C2", context: "c", decision: "throw", refs: ["esc-1"] })));
    expect(codeOf(about)).toEqual({ code: "not_permitted", field: "decided_by" });
    expect(about.message).toContain("cannot settle it itself");
    const coder = await failure(m.run((env) => recordDecisionResolving(env, { type: "convention", decided_by: "A1", context: "c", decision: "throw", refs: ["esc-1"] })));
    expect(codeOf(coder)).toEqual({ code: "not_permitted", field: "decided_by" });
    expect(await m.engine.revision()).toBe(rev);
    // The signal raised with the escalation: only an orchestrator settles it, through the decision.
    expect(codeOf(await failure(m.run((env) => resolveSignal(env, "sig-1", "signalbox", "x"))))).toEqual({ code: "not_permitted", field: "agent_id" });
  });

  it("resolves the escalation named in the decision's refs and auto-resolves its signal, lifting the pause, in one transaction", async () => {
    const m = onMemory();
    await clash(m);
    const r = await m.run((env) =>
      recordDecisionResolving(env, { type: "convention", decided_by: "O1", context: "errors clash", decision: "keep Result<T>", rationale: "first standard", refs: ["esc-1"] }),
    );
    expect(r.entry).toMatchObject({ type: "convention", decided_by: "O1", refs: ["esc-1"] });
    expect(r.resolved.map((e) => [e.escalation_id, e.status, e.decision_seq])).toEqual([["esc-1", "resolved", r.entry.seq]]);
    const seen = await m.run((env) => ({
      esc: getEscalation(env, "esc-1"),
      open: listEscalations(env, { openOnly: true }),
      sig: getSignal(env, "sig-1"),
      c2: pausesFor(env, "C2"),
      c2inbox: listInbox(env, "C2").items.map((m) => m.kind),
      resolvedEntry: listActivity(env, { limit: 10 }).items.find((a) => a.kind === "signal_resolved"),
      decided: listActivity(env, { limit: 1 }).items[0],
      convention: allConventions(env)[0]?.value,
    }));
    expect(seen.esc).toMatchObject({ status: "resolved", decision_seq: r.entry.seq });
    expect(seen.open).toEqual({ escalations: [], open: 0 });
    expect(seen.sig).toMatchObject({ status: "resolved", resolved_by: "O1", resolution: `decision #${r.entry.seq}: keep Result<T>` });
    expect(seen.c2).toEqual([]);
    // High priority (pause, resume) sorts before the normal convention notice.
    expect(seen.c2inbox).toEqual(["pause", "resume", "convention"]);
    expect(seen.resolvedEntry?.data).toMatchObject({ signal_id: "sig-1", auto: true, resumed: ["C2"] });
    expect(seen.decided).toMatchObject({ kind: "decision_recorded", agent_id: "O1", data: { resolved_escalations: ["esc-1"] } });
    expect(seen.convention).toBe("Result<T>");
    // A second decision naming it resolves nothing more.
    const later = await m.run((env) => recordDecisionResolving(env, { type: "other", decided_by: "O1", context: "c", decision: "d", refs: ["esc-1"] }));
    expect(later.resolved).toEqual([]);
  });

  it("lets an architect settle a convention clash but not an oscillation; an algedonic signal raised with an escalation stays open", async () => {
    const m = onMemory();
    await clash(m);
    await m.run((env) => dispatchAgents(env, [{ agent_id: "ARCH", role: "architect" }], "CODE", "O1"));
    const osc = await m.run((env) => openEscalation(env, { kind: "oscillation", opened_by: "signalbox", summary: "A/B/A/B on x.ts", agents: ["C1"] }));
    expect(osc.escalation_id).toBe("esc-2");
    await m.run((env) => createSignal(env, { level: "RED", summary: "secret", emitted_by: "A1", algedonic: true, escalation_id: "esc-1" }));
    const archOsc = await failure(m.run((env) => recordDecisionResolving(env, { type: "other", decided_by: "ARCH", context: "c", decision: "d", refs: ["esc-2"] })));
    expect(codeOf(archOsc)).toEqual({ code: "not_permitted", field: "decided_by" });
    const r = await m.run((env) => recordDecisionResolving(env, { type: "convention", decided_by: "ARCH", context: "c", decision: "keep", refs: ["esc-1"] }));
    expect(r.resolved.map((e) => e.escalation_id)).toEqual(["esc-1"]);
    const seen = await m.run((env) => ({ sig1: getSignal(env, "sig-1")?.status, sig2: getSignal(env, "sig-2")?.status, osc: getEscalation(env, "esc-2")?.status, arch: getAgent(env, "ARCH")?.role }));
    expect(seen).toEqual({ sig1: "resolved", sig2: "open", osc: "open", arch: "architect" });
  });
});
