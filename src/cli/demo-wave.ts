/**
 * The wave-lifecycle part of `npm run demo` (README, "A wave from dispatch to
 * integration"): a wave of three features from dispatch to integration,
 * rollback and a clean retry, played by agents on three server processes
 * sharing one store, with a capacity limit, a required gate, a peer review and
 * an emergency on the way. The same flow as test/wave-lifecycle.test.ts. Each
 * step prints one line and is checked against what the protocol prescribes; a
 * mismatch makes the demo exit non-zero.
 *
 * [A] serves the orchestrator, [B] the coders c1 and c2, [C] the coder c3,
 * the auditor and the test engineer.
 */
import fs from "node:fs";
import path from "node:path";
import { playOnSharedStore, verdict, type Proc, type Steps } from "./demo-control.js";
import type { StoreWatcher } from "../dashboard/demo.js";
import { WAVE_CONFIG, WAVE_FEATURES, WAVE_GATE, WAVE_TEAM, WAVE_WORK } from "./scenarios/wave-lifecycle.js";

interface Integration {
  status: string;
  attempt: number;
  reasons: string[];
  actions: string[];
  undeclared_writes: { feature_id: string; file: string; severity: string }[];
  migration_collisions: { kind: string; value: string; renumbering: { path: string; rename_to: string | null }[] }[];
  report_uri: string;
}

/** A tool call that must be refused: the error text, or a MISMATCH if it succeeded. */
async function refusal(p: Proc, name: string, args: Record<string, unknown>): Promise<string> {
  try {
    await p.ok(name, args);
    return "";
  } catch (err) {
    return (err as Error).message.replace(/^\[\w+\] \w+ failed: (MCP error -?\d+: )?/, "");
  }
}

const first = (text: string, n = 150): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

async function play([a, b, c]: Proc[], s: Steps): Promise<void> {
  if (!a || !b || !c) throw new Error("three processes expected");
  const plan = await a.ok<{ plan_id: string; waves: { features: string[] }[] }>("plan_waves", { features: WAVE_FEATURES, name: "profiles, posts, search" });
  s.line(a, "orch", "plan_waves", "3 features", `${plan.plan_id}: ${plan.waves.length} wave [${plan.waves[0]?.features.join(", ")}]`, plan.waves.length === 1, "one wave of three");
  const team = WAVE_TEAM;
  const over = await refusal(a, "dispatch_agents", { by: "orch", agents: [...team, { agent_id: "extra", role: "coder", domain: "app" }] });
  s.line(a, "orch", "dispatch_agents", "7 agents", `REFUSED ${first(over, 110)}`, over.startsWith("capacity.max_agents"), "refused by capacity.max_agents");
  const d = await a.ok<{ capacity: { limit: string; in_use: number; max: number }[] }>("dispatch_agents", {
    by: "orch",
    agents: [{ agent_id: "orch", role: "orchestrator" }, ...team],
  });
  const cap = d.capacity.map((x) => `${x.limit} ${x.in_use}/${x.max}`).join(", ");
  s.line(a, "orch", "dispatch_agents", "orch + 6 agents", `registered; ${cap}`, d.capacity.some((x) => x.in_use === 6 && x.max === 6), "6/6 in use");
  await a.ok("define_gate", WAVE_GATE);
  s.line(a, "orch", "define_gate", "combined-tests (wave_integration, test_engineer, required)", "defined");

  const work = async (p: Proc, agent: string, feature: string, locks: string[], done: Record<string, unknown>): Promise<void> => {
    await p.ok("start_feature", { agent_id: agent, feature_id: feature });
    await p.ok("acquire_lock", { agent_id: agent, feature_id: feature, paths: locks, mode: "write" });
    const r = await p.ok<{ released: string[] }>("complete_feature", { agent_id: agent, feature_id: feature, ...done });
    s.line(p, agent, "start, lock, complete", feature, `completed, released ${r.released.length} lock(s); reported ${JSON.stringify(done)}`);
  };
  const procOf: Record<string, Proc> = { c1: b, c2: b, c3: c };
  for (const w of WAVE_WORK) await work(procOf[w.agent] as Proc, w.agent, w.feature, w.locks, w.done);

  const review = await b.ok<{ review_id: string; reviewer: string; reason: string }>("request_review", { agent_id: "c1", feature_id: "F_profile", files: ["app/profile.ts"] });
  s.line(b, "c1", "request_review", "F_profile app/profile.ts", `${review.review_id} -> ${review.reviewer}: ${review.reason}`, review.reviewer === "aud", "the app auditor, never c1");
  await c.ok("submit_review", { agent_id: "aud", review_id: review.review_id, verdict: "approve", findings: [] });
  s.line(c, "aud", "submit_review", review.review_id, "approve");

  const held = await refusal(a, "integrate_wave", { agent_id: "orch", plan_id: plan.plan_id, wave_number: 1 });
  s.line(a, "orch", "integrate_wave", "wave 1", `REFUSED ${first(held)}`, held.includes("combined-tests") && held.includes("npm test"), "held back by combined-tests");
  await c.ok("record_gate_result", { agent_id: "te", gate: "combined-tests", plan_id: plan.plan_id, wave_number: 1, passed: true, evidence: "npm test: 212 passed" });
  s.line(c, "te", "record_gate_result", "combined-tests wave 1", "passed");

  const failed = await a.ok<Integration>("integrate_wave", { agent_id: "orch", plan_id: plan.plan_id, wave_number: 1 });
  const u = failed.undeclared_writes.map((w) => `${w.file} by ${w.feature_id} (${w.severity})`).join(", ");
  s.line(a, "orch", "integrate_wave", "wave 1", `${failed.status.toUpperCase()}: undeclared ${u}`, failed.status === "failed" && u === "app/shared/util.ts by F_search (CRITICAL)", "failed on F_search's undeclared write");
  const renames = failed.migration_collisions.flatMap((m) => m.renumbering.map((r) => `${r.path} -> ${r.rename_to}`));
  s.line(a, "orch", "  migration collisions", "", renames.join(", "), renames.join() === "db/migrations/001_posts.sql -> db/migrations/002_posts.sql", "001_posts renumbered to 002");
  console.log(`       report: ${failed.report_uri}`);

  const rb = await a.ok<{ features: string[]; commits_to_revert: { commit: string }[]; migrations_to_roll_back: { path: string }[] }>("rollback_wave", {
    agent_id: "orch",
    plan_id: plan.plan_id,
    wave_number: 1,
    reason: "CRITICAL undeclared write in F_search",
  });
  const locksLeft = (await a.read<{ locks: unknown[] }>("signalbox://locks")).locks.length;
  s.line(
    a,
    "orch",
    "rollback_wave",
    "wave 1",
    `pending again: ${rb.features.join(", ")}; revert ${rb.commits_to_revert.map((x) => x.commit).join(" ")}; roll back ${rb.migrations_to_roll_back.map((m) => m.path).join(", ")}; ${locksLeft} locks held`,
    rb.features.length === 3 && locksLeft === 0,
    "3 features pending, no locks",
  );

  const inc = await c.ok<{ incident_id: string; escalated_to: string[] }>("report_emergency", {
    agent_id: "te",
    type: "quality_crisis",
    description: "the rolled-back wave left the staging database with migration 001_posts applied",
    temporary_measures: "staging frozen",
  });
  const top = (await a.ok<{ items: { priority: string; kind: string }[] }>("get_inbox", { agent_id: "orch", unread_only: true })).items[0];
  s.line(c, "te", "report_emergency", "quality_crisis", `${inc.incident_id} -> ${inc.escalated_to.join(", ")}; top of orch's inbox: ${top?.kind} (${top?.priority})`, top?.kind === "incident" && top.priority === "algedonic", "escalated above everything");
  const closed = await a.ok<{ decision_seq: number }>("close_incident", {
    agent_id: "orch",
    incident_id: inc.incident_id,
    recovery: "migration 001_posts reverted on staging",
    review: "a wave's migrations must be applied to staging only after integration",
  });
  s.line(a, "orch", "close_incident", inc.incident_id, `closed; post-incident review is decision #${closed.decision_seq}`);

  for (const [p, agent, feature, files, migration] of [
    [b, "c1", "F_profile", ["app/profile.ts"], "db/migrations/001_profiles.sql"],
    [b, "c2", "F_posts", ["app/posts.ts"], "db/migrations/002_posts.sql"],
    [c, "c3", "F_search", ["app/search.ts"], null],
  ] as const) {
    const started = await p.ok<{ attempts: number }>("start_feature", { agent_id: agent, feature_id: feature });
    await p.ok("acquire_lock", { agent_id: agent, feature_id: feature, paths: migration ? [...files, "db/migrations/"] : [...files], mode: "write" });
    await p.ok("complete_feature", { agent_id: agent, feature_id: feature, files_changed: [...files], migrations: migration ? [migration] : [], commits: [`${feature}-2`] });
    s.line(p, agent, "start, lock, complete", feature, `attempt ${started.attempts}, completed`, started.attempts === 2, "attempt 2");
  }
  const again = await refusal(a, "integrate_wave", { agent_id: "orch", plan_id: plan.plan_id, wave_number: 1 });
  const why = again.slice(Math.max(0, again.indexOf("has not passed")));
  s.line(a, "orch", "integrate_wave", "wave 1", `REFUSED: combined-tests ${first(why, 110)}`, again.includes("voided"), "the rollback voided the gate result");
  await c.ok("record_gate_result", { agent_id: "te", gate: "combined-tests", plan_id: plan.plan_id, wave_number: 1, passed: true, evidence: "npm test: 214 passed" });
  const ok = await a.ok<Integration>("integrate_wave", { agent_id: "orch", plan_id: plan.plan_id, wave_number: 1 });
  s.line(a, "orch", "integrate_wave", "wave 1", `${ok.status.toUpperCase()} (attempt ${ok.attempt}); reasons: ${ok.reasons.length}, actions: ${ok.actions.length}`, ok.status === "integrated" && ok.reasons.length === 0, "integrated");

  const activity = await a.read<{ items: { kind: string; agent_id: string; summary: string }[]; total: number }>("signalbox://activity?limit=6");
  console.log(`\nsignalbox://activity (${activity.total} entries, newest first):`);
  for (const e of activity.items) console.log(`  ${e.kind.padEnd(24)} ${first(e.summary, 100)}`);
}

/** Run the wave-lifecycle demo; false (after printing why) if a step answered differently from the protocol. */
export async function runWaveDemo(watch?: StoreWatcher): Promise<boolean> {
  console.log("\n=== 5. A wave from dispatch to integration: capacity, gate, review, integration report, rollback, emergency, retry ===");
  console.log("[A] = orchestrator's process, [B] = coders c1 and c2, [C] = coder c3, auditor aud and test engineer te");
  const s = await playOnSharedStore(["A", "B", "C"], (root) => fs.writeFileSync(path.join(root, "signalbox.config.json"), JSON.stringify(WAVE_CONFIG)), play, watch);
  return verdict(s, "The wave lifecycle DOES NOT follow the protocol", "Every wave-lifecycle step answered as the protocol prescribes.");
}
