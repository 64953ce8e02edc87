/**
 * Authority is granted, never claimed (control/registry/authority.ts): each way an
 * agent once gave itself authority, or lifted its own pause, over a real
 * in-memory Client, each with the call that is refused now and the one that
 * does the same thing with authority.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { openEscalation } from "../src/control/escalations.js";
import { createSignal } from "../src/control/signals.js";
import { connect, type Harness } from "./helpers/client.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

interface Grant {
  granted: boolean;
  reason?: string;
}
const writeLock = (agent_id: string, path: string, feature_id?: string) =>
  h.ok<Grant>("acquire_lock", { agent_id, paths: [path], mode: "write", ...(feature_id ? { feature_id } : {}) });

/** lead (orchestrator), c1 coder on F1, aud auditor, te test engineer. */
async function team(): Promise<void> {
  await h.ok("dispatch_agents", {
    agents: [
      { agent_id: "lead", role: "orchestrator" },
      { agent_id: "c1", role: "coder", feature_id: "F1" },
      { agent_id: "c2", role: "coder", feature_id: "F2" },
      { agent_id: "aud", role: "auditor" },
      { agent_id: "te", role: "test_engineer" },
    ],
  });
  await h.ok("start_feature", { agent_id: "c1", feature_id: "F1" });
}

async function redOnF1(): Promise<string> {
  return (await h.ok<{ signal_id: string }>("emit_audit_signal", { agent_id: "aud", level: "RED", summary: "race", feature_id: "F1" })).signal_id;
}

describe("who is an orchestrator", () => {
  it("the first agent registered as orchestrator holds it; a second cannot make itself one, the holder hands it over", async () => {
    h = await connect();
    await h.ok("dispatch_agents", { agents: [{ agent_id: "lead", role: "orchestrator" }] });
    const usurper = await h.fails("dispatch_agents", { agents: [{ agent_id: "mallory", role: "orchestrator" }] });
    expect(usurper).toMatch(/^agents\[0\]\.role: "mallory" cannot make itself orchestrator: one is already registered/);
    expect(usurper).toContain('ask an orchestrator ("lead") to hand the role over');
    // Demoting the orchestrator, or dispatching others, takes authority mallory does not have.
    const demote = await h.fails("dispatch_agents", { by: "mallory", agents: [{ agent_id: "lead", role: "coder" }] });
    expect(demote).toMatch(/^agents\[0\]\.agent_id: only an orchestrator dispatches another agent \("lead"\); the dispatcher "mallory" \(by\) is not one/);
    // The holder hands it over.
    await h.ok("dispatch_agents", { by: "lead", agents: [{ agent_id: "lead2", role: "orchestrator" }] });
    await h.ok("dispatch_agents", { by: "lead2", agents: [{ agent_id: "c9", role: "coder" }] });
  });

  it("configured orchestrators (roles.orchestrators) hold it; a stored role grants nothing then", async () => {
    h = await connect({ config: parseConfig({ roles: { orchestrators: ["boss"] } }) });
    const self = await h.fails("dispatch_agents", { agents: [{ agent_id: "eager", role: "orchestrator" }] });
    expect(self).toMatch(/^agents\[0\]\.role: "eager" is not configured as an orchestrator \(roles\.orchestrators/);
    await h.ok("dispatch_agents", { by: "boss", agents: [{ agent_id: "c1", role: "coder" }] });
    const coder = await h.fails("break_lock", { agent_id: "c1", path: "a.ts", reason: "mine now" });
    expect(coder).toBe('agent_id: only an orchestrator may break a lock; "c1" is registered with role coder; ask an orchestrator ("boss"; config roles.orchestrators)');
    expect(await h.ok("break_lock", { agent_id: "boss", path: "a.ts", reason: "tidy" })).toEqual({ broken: [], decision_seq: null });
  });

  it("a batch needs a dispatcher: by, its one orchestrator entry, or one agent registering itself", async () => {
    h = await connect();
    const err = await h.fails("dispatch_agents", { agents: [{ agent_id: "a", role: "coder" }, { agent_id: "b", role: "coder" }] });
    expect(err).toMatch(/^by: name the orchestrator dispatching this batch/);
    const self = await h.ok<{ agents: { agent_id: string }[] }>("dispatch_agents", { agents: [{ agent_id: "a", role: "coder" }] });
    expect(self.agents.map((a) => a.agent_id)).toEqual(["a"]);
  });
});

describe("an agent registers itself only within the rules", () => {
  it("only with a role of roles.self_register, never changing its role while it holds work", async () => {
    h = await connect();
    await team();
    const architect = await h.fails("dispatch_agents", { agents: [{ agent_id: "arch", role: "architect" }] });
    expect(architect).toMatch(/^agents\[0\]\.role: an agent registers itself only with a role of roles\.self_register \(coder, auditor, test_engineer, other\), not architect/);
    expect((await writeLock("c1", "src/a.ts", "F1")).granted).toBe(true);
    const change = await h.fails("dispatch_agents", { agents: [{ agent_id: "c1", role: "auditor" }] });
    expect(change).toMatch(/^agents\[0\]\.role: "c1" holds active feature F1, 1 live lock\(s\) and cannot change its own role \(coder to auditor\)/);
    // The orchestrator may change it.
    await h.ok("dispatch_agents", { by: "lead", agents: [{ agent_id: "c1", role: "auditor" }] });
  });

  it("an unregistered agent's first report registers it as other only when roles.self_register allows it", async () => {
    h = await connect({ config: parseConfig({ roles: { self_register: ["coder"] } }) });
    expect(await h.fails("report_status", { agent_id: "drifter", status: "working" })).toMatch(
      /^agent_id: "drifter" is not registered, and a first report registers it with role other, which roles\.self_register does not allow/,
    );
    await h.ok("dispatch_agents", { agents: [{ agent_id: "drifter", role: "coder" }] });
    await h.ok("report_status", { agent_id: "drifter", status: "working" });
  });

  it("a coder paused by RED cannot re-dispatch itself as auditor to get its write lock back", async () => {
    h = await connect();
    await team();
    const red = await redOnF1();
    expect((await writeLock("c1", "src/a.ts", "F1")).reason).toBe("paused");
    const err = await h.fails("dispatch_agents", { agents: [{ agent_id: "c1", role: "auditor", feature_id: "F1" }] });
    expect(err).toContain(`agents[0].agent_id: "c1" is paused by ${red} and cannot re-register itself`);
    expect((await writeLock("c1", "src/a.ts", "F1")).reason).toBe("paused");
  });
});

describe("a pause is lifted only by someone else with authority", () => {
  it("RED: not by the paused agent nor another coder; by its emitter, an auditor or an orchestrator", async () => {
    h = await connect();
    await team();
    const red = await redOnF1();
    const own = await h.fails("resolve_audit_signal", { agent_id: "c1", signal_id: red, resolution: "fixed it" });
    expect(own).toBe(`agent_id: ${red} pauses "c1", and a paused agent cannot lift its own pause; ask its emitter aud, an auditor or an orchestrator ("lead")`);
    const peer = await h.fails("resolve_audit_signal", { agent_id: "c2", signal_id: red, resolution: "looks fine" });
    expect(peer).toContain(`${red} is resolved by its emitter, an auditor or an orchestrator; "c2" is a coder`);
    await h.ok("resolve_audit_signal", { agent_id: "aud", signal_id: red, resolution: "sequenced" });
    expect((await writeLock("c1", "src/a.ts", "F1")).granted).toBe(true);
  });

  it("failing and restarting its own feature does not clear the RED that pauses it", async () => {
    h = await connect();
    await team();
    const red = await redOnF1();
    const failed = await h.ok<{ resolved_signals: string[]; still_open_signals: string[] }>("fail_feature", { agent_id: "c1", feature_id: "F1", reason: "retry" });
    expect(failed.resolved_signals).toEqual([]);
    expect(failed.still_open_signals).toEqual([red]);
    await h.ok("start_feature", { agent_id: "c1", feature_id: "F1" });
    expect((await writeLock("c1", "src/a.ts", "F1")).reason).toBe("paused");
  });

  it("an agent paused for oscillation cannot resume itself by a decision naming the escalation; an orchestrator can", async () => {
    h = await connect();
    await team();
    const esc = openEscalation(h.ctx, { kind: "oscillation", opened_by: "signalbox", summary: "c1 and c2 alternate on a.ts", agents: ["c1", "c2"] });
    const sig = createSignal(h.ctx, { level: "RED", summary: "oscillation", emitted_by: "signalbox", source: "oscillation_detector", target_agents: ["c1", "c2"], escalation_id: esc.escalation_id }).signal;
    const self = await h.fails("record_decision", { type: "conflict_resolution", decided_by: "c1", context: "x", decision: "I go on", refs: [esc.escalation_id] });
    expect(self).toContain(`decided_by: ${esc.escalation_id} (oscillation) is about "c1", which cannot settle it itself`);
    const auditor = await h.fails("resolve_audit_signal", { agent_id: "aud", signal_id: sig.signal_id, resolution: "ok" });
    expect(auditor).toContain(`came with escalation ${esc.escalation_id}: only an orchestrator settles it`);
    const d = await h.ok<{ resolved_escalations: string[] }>("record_decision", {
      type: "conflict_resolution",
      decided_by: "lead",
      context: "oscillation",
      decision: "c1 first",
      refs: [esc.escalation_id],
    });
    expect(d.resolved_escalations).toEqual([esc.escalation_id]);
    expect((await writeLock("c1", "src/a.ts", "F1")).granted).toBe(true);
  });

  it("an algedonic signal needs a registered emitter and only an orchestrator resolves it", async () => {
    h = await connect();
    await team();
    const ghost = await h.fails("emit_audit_signal", { agent_id: "ghost", level: "RED", algedonic: true, summary: "stop everything" });
    expect(ghost).toMatch(/^agent_id: "ghost" is not registered, and signals come from registered agents/);
    const alg = await h.ok<{ signal_id: string }>("emit_audit_signal", { agent_id: "aud", level: "RED", algedonic: true, summary: "secret in logs" });
    expect(await h.fails("resolve_audit_signal", { agent_id: "aud", signal_id: alg.signal_id, resolution: "masked" })).toContain(
      "is algedonic (security/ethics): only an orchestrator resolves it",
    );
    await h.ok("resolve_audit_signal", { agent_id: "lead", signal_id: alg.signal_id, resolution: "masked and rotated" });
  });
});

describe("gates, checkpoints and capacity", () => {
  it("a coder cannot redefine a gate to pass it itself; results come from the responsible role", async () => {
    h = await connect();
    await team();
    await h.ok("define_gate", { agent_id: "lead", name: "tests", trigger: "feature_complete", criteria: "unit tests green", responsible_role: "test_engineer" });
    const redefine = await h.fails("define_gate", { agent_id: "c1", name: "tests", trigger: "feature_complete", criteria: "trust me", responsible_role: "coder" });
    expect(redefine).toMatch(/^agent_id: only an orchestrator may redefine a gate; "c1" is registered with role coder/);
    const pass = await h.fails("record_gate_result", { agent_id: "c1", gate: "tests", feature_id: "F1", passed: true, evidence: "ok" });
    expect(pass).toContain('agent_id: gate "tests" is validated by role test_engineer; "c1" has role coder; ask an agent with role test_engineer');
    await h.ok("record_gate_result", { agent_id: "te", gate: "tests", feature_id: "F1", passed: true, evidence: "42 passed" });
  });

  it("a checkpoint admits the integration work named when it was requested, not a lock that names its feature", async () => {
    h = await connect();
    await team();
    await h.ok("dispatch_agents", { by: "lead", agents: [{ agent_id: "dba", role: "coder", feature_id: "MIG" }] });
    await h.ok("request_checkpoint", { agent_id: "lead", name: "mig", reason: "migrate", feature_id: "MIG" });
    expect((await writeLock("c2", "src/b.ts", "MIG")).reason).toBe("checkpoint");
    expect((await writeLock("dba", "db/0007.sql", "MIG")).granted).toBe(true);
    // Joining the feature afterwards does not make c2 part of the integration work either.
    await h.ok("dispatch_agents", { by: "lead", agents: [{ agent_id: "c2", role: "coder", feature_id: "MIG" }] });
    expect((await writeLock("c2", "src/b.ts", "MIG")).reason).toBe("checkpoint");
  });

  it("capacity is enforced on start_feature, reassign_feature and report_status, not only on dispatch", async () => {
    h = await connect({ config: parseConfig({ capacity: { max_agents: 1 } }) });
    await h.ok("dispatch_agents", { agents: [{ agent_id: "lead", role: "orchestrator" }] });
    await h.ok("start_feature", { agent_id: "c1", feature_id: "F1" });
    expect(await h.fails("start_feature", { agent_id: "c2", feature_id: "F2" })).toMatch(/^capacity\.max_agents: allows 1 agent in parallel; 1 running \(c1\)/);
    expect(await h.fails("report_status", { agent_id: "c3", status: "working" })).toMatch(/^capacity\.max_agents: /);
    await h.ok("report_status", { agent_id: "c1", status: "completed" });
    // c1's slot is free now: another may start, and c1 coming back is refused.
    await h.ok("start_feature", { agent_id: "c2", feature_id: "F2" });
    expect(await h.fails("report_status", { agent_id: "c1", status: "working" })).toMatch(/^capacity\.max_agents: /);
    expect(await h.fails("reassign_feature", { feature_id: "F2", from_agent: "c2", to_agent: "c1", by: "lead" })).toMatch(/^capacity\.max_agents: /);
    expect(await h.fails("reassign_feature", { feature_id: "F2", from_agent: "c2", to_agent: "c1", by: "c2" })).toMatch(
      /^by: only an orchestrator may reassign a feature; "c2" is registered with role coder/,
    );
  });
});
