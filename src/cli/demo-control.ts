/**
 * The control-layer part of `npm run demo` (README, "The control layer"): the
 * protocol's worked example (examples/protocol-example.json) played by agents
 * talking to THREE server processes that share one store, each step checked
 * against what the parallel-execution protocol prescribes. The same flow as
 * test/worked-example.test.ts, with the same calls and arguments.
 *
 * Process A serves the orchestrator, B implementor-1, C implementor-2 and
 * the auditor/tester. Every step prints one line: `[process] agent tool args
 * -> decisive answer fields`; a step that answers differently from the
 * protocol is marked MISMATCH and makes the demo exit non-zero.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import Table from "cli-table3";
import type { StoreWatcher } from "../dashboard/demo.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PACKAGE = path.resolve(HERE, "../../..");
const EXAMPLE = path.join(PACKAGE, "examples/protocol-example.json");
const CLI = path.join(PACKAGE, "dist/src/cli.js");

interface Acquired {
  granted: boolean;
  reason: string | null;
  stop: { kind: string; id: string; summary: string; raised_by: string } | null;
  locks: { key: string; fencing_token: number }[];
  holders: { key: string; agent_id: string }[];
}
interface CheckpointAnswer {
  name: string;
  status: string;
  expected: number;
  arrived: string[];
  missing: string[];
  all_arrived: boolean;
}
interface PlanState {
  plan_id: string;
  name: string | null;
  current_wave: number | null;
  counts: { features: number; completed: number; active: number; failed: number; blocked: number; ready: number };
  completed: string[];
  active: { feature_id: string; agent_id: string }[];
  ready: string[];
}
interface State {
  plans: PlanState[];
  schema_changes: { feature_id: string; table: string; operation?: string }[];
  shared_resources: Record<string, { features_using: string[] }>;
  checkpoints: { name: string; missing: string[] }[];
  open_pausing_signals: number;
}
interface Decision {
  seq: number;
  type: string;
  decided_by: string;
  decision: string;
}
interface Metrics {
  lock_requests: { total: number; granted: number; waited: number; refused: Record<string, number>; contention_rate: number | null };
  conflicts_by_type: Record<string, number>;
  conflict_resolution_ms: { resolved: number };
  features: { completed: number; active: number; failed: number };
  agents_by_status: Record<string, number>;
}
interface Board {
  agents: { agent_id: string; role: string; feature_id: string | null; status: string; paused_by: string[] }[];
  audit_coverage: { phase: string; status: string }[];
}
interface Audit {
  counts: Record<string, number>;
}
interface Conventions {
  conventions: { scope: string; key: string; value: string; set_by: string }[];
  escalations: { escalation_id: string; status: string; kind?: string }[];
  open_escalations: number;
}

/** One server process (on the shared store) and the client connected to it. */
export class Proc {
  readonly client = new Client({ name: "signalbox-demo-control", version: "1.0.0" });
  constructor(readonly tag: string) {}
  async start(env: Record<string, string>): Promise<void> {
    await this.client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, "--toolsets", "all"], env, stderr: "inherit" }));
  }
  /** Call a tool; a tool error (isError) aborts the flow with the tool's message. */
  async ok<T>(name: string, args: Record<string, unknown>): Promise<T> {
    const r = (await this.client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
    if (r.isError) {
      const text = (r.content as { text?: string }[]).map((c) => c.text ?? "").join(" ");
      throw new Error(`[${this.tag}] ${name} failed: ${text}`);
    }
    return r.structuredContent as T;
  }
  async read<T>(uri: string): Promise<T> {
    const r = await this.client.readResource({ uri });
    return JSON.parse((r.contents[0] as { text: string }).text) as T;
  }
}

/** Prints the step lines and keeps the mismatches. */
export class Steps {
  readonly mismatches: string[] = [];
  /**
   * One line: `[tag] who tool args -> answer`. `ok` false marks it MISMATCH
   * with what the protocol expects.
   */
  line(p: Proc, who: string, tool: string, args: string, answer: string, ok = true, expected = ""): void {
    const call = `[${p.tag}] ${who} ${tool}${args ? ` ${args}` : ""}`;
    console.log(`${call} -> ${answer}${ok ? "" : `   <-- MISMATCH, protocol: ${expected}`}`);
    if (!ok) this.mismatches.push(`${who} ${tool} ${args}: got "${answer}", protocol: ${expected}`);
  }
}

function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, wordWrap: true });
  t.push(...rows.map((r) => r.map(String)));
  return t.toString();
}

const list = (xs: readonly string[]): string => (xs.length ? xs.join(", ") : "none");
const sorted = (xs: readonly string[]): string => JSON.stringify([...xs].sort());
const same = (xs: readonly string[], ys: readonly string[]): boolean => sorted(xs) === sorted(ys);

function pathsArg(paths: readonly string[]): string {
  const all = paths.join(", ");
  return all.length <= 60 || paths.length === 1 ? all : `${paths[0]} +${paths.length - 1} more`;
}

function lockAnswer(r: Acquired): string {
  if (r.granted) return `GRANTED ${r.locks.length} lock${r.locks.length === 1 ? "" : "s"}`;
  if (r.stop) return `REFUSED ${r.reason} by ${r.stop.id} (${r.stop.raised_by})`;
  return `REFUSED ${r.reason}${r.holders.length ? ` (held by ${list([...new Set(r.holders.map((h) => h.agent_id))])})` : ""}`;
}

/** The flow itself; throws if a call the protocol allows errors out. */
async function play(a: Proc, b: Proc, c: Proc, s: Steps): Promise<void> {
  const example = JSON.parse(fs.readFileSync(EXAMPLE, "utf8")) as { features: { id: string; writes: string[] }[] };
  const writesOf = (id: string): string[] => example.features.find((f) => f.id === id)!.writes;
  const [P1, P2, P3] = ["P1_user_auth", "P2_user_profile", "P3_posts"] as const;
  const lock = async (p: Proc, agent: string, feature: string, paths: string[], expect: string): Promise<Acquired> => {
    const r = await p.ok<Acquired>("acquire_lock", { agent_id: agent, feature_id: feature, paths, mode: "write" });
    const answer = lockAnswer(r);
    s.line(p, agent, "acquire_lock", `write ${pathsArg(paths)}`, answer, answer.startsWith(expect), expect);
    return r;
  };
  const stateOf = async (p: Proc): Promise<PlanState> => (await p.read<State>("signalbox://state")).plans[0]!;

  // 1. Plan and first dispatch.
  const plan = await a.ok<{ plan_id: string; waves: { features: string[] }[] }>("plan_waves", { features: example.features });
  const waves = plan.waves.map((w, i) => `wave ${i + 1} [${w.features.join(", ")}]`).join(", ");
  s.line(a, "orchestrator", "plan_waves", `${example.features.length} features`, `${plan.plan_id}: ${waves}`,
    JSON.stringify(plan.waves.map((w) => w.features)) === JSON.stringify([[P1], [P2, P3]]), `[P1] then [P2, P3]`);
  const d1 = await a.ok<{ batch: number; audit_coverage: { status: string; warning: string | null } }>("dispatch_agents", {
    agents: [
      { agent_id: "orchestrator", role: "orchestrator" },
      { agent_id: "implementor-1", role: "coder", feature_id: P1 },
      { agent_id: "auditor-1", role: "auditor" },
    ],
  });
  s.line(a, "orchestrator", "dispatch_agents", `orchestrator, implementor-1 (coder ${P1}), auditor-1`,
    `batch ${d1.batch}, audit coverage ${d1.audit_coverage.status}${d1.audit_coverage.warning ? `: ${d1.audit_coverage.warning}` : ""}`,
    d1.audit_coverage.status === "covered" && d1.audit_coverage.warning === null, "coverage covered, no warning");
  let ps = await stateOf(a);
  s.line(a, "orchestrator", "read", "signalbox://state", `current wave ${ps.current_wave}`, ps.current_wave === 1, "wave 1");

  // 2. P3 before its prerequisite: refused and logged.
  const early = await c.ok<{ started: boolean; missing: { feature_id: string; status: string }[]; decision_seq: number | null }>(
    "start_feature", { feature_id: P3, agent_id: "implementor-2", plan_id: plan.plan_id });
  s.line(c, "implementor-2", "start_feature", P3,
    early.started ? "STARTED" : `NOT STARTED, missing ${early.missing.map((m) => `${m.feature_id} (${m.status})`).join(", ")}; decision #${early.decision_seq}`,
    !early.started && early.missing.length === 1 && early.missing[0]?.feature_id === P1, `refused: ${P1} not started`);

  // 3. P1: start, lock, complete.
  const s1 = await b.ok<{ started: boolean }>("start_feature", { feature_id: P1, agent_id: "implementor-1", plan_id: plan.plan_id });
  s.line(b, "implementor-1", "start_feature", P1, s1.started ? "started" : "NOT STARTED", s1.started, "started");
  await lock(b, "implementor-1", P1, writesOf(P1), "GRANTED");
  ps = await stateOf(c);
  s.line(c, "implementor-2", "read", "signalbox://state", `active ${list(ps.active.map((x) => `${x.feature_id} (${x.agent_id})`))}`,
    ps.active.length === 1 && ps.active[0]?.feature_id === P1 && ps.active[0]?.agent_id === "implementor-1", `${P1} active by implementor-1`);
  const done1 = await b.ok<{ released: string[]; unblocks: string[] }>("complete_feature", {
    feature_id: P1, agent_id: "implementor-1", schema_changes: [{ table: "profiles", operation: "create" }],
  });
  s.line(b, "implementor-1", "complete_feature", `${P1} (profiles create)`,
    `released ${done1.released.length} locks, unblocks ${list(done1.unblocks)}`,
    done1.released.length === 3 && same(done1.unblocks, [P2, P3]), `3 locks released, unblocks ${P2}, ${P3}`);
  ps = await stateOf(a);
  const locksLeft = (await a.read<{ locks: unknown[] }>("signalbox://locks")).locks.length;
  s.line(a, "orchestrator", "read", "signalbox://state + locks",
    `current wave ${ps.current_wave}, completed ${list(ps.completed)}, ready ${list(ps.ready)}, ${locksLeft} locks held`,
    ps.current_wave === 2 && same(ps.completed, [P1]) && same(ps.ready, [P2, P3]) && locksLeft === 0, `wave 2, ${P2} and ${P3} ready, no locks`);

  // 4. Wave 2: P2 and P3 in parallel.
  const d2 = await a.ok<{ batch: number; audit_coverage: { status: string } }>("dispatch_agents", {
    by: "orchestrator",
    agents: [
      { agent_id: "implementor-1", role: "coder", feature_id: P2 },
      { agent_id: "implementor-2", role: "coder", feature_id: P3 },
      { agent_id: "auditor-1", role: "auditor" },
      { agent_id: "tester-1", role: "test_engineer", feature_id: P3 },
    ],
  });
  s.line(a, "orchestrator", "dispatch_agents", `implementor-1 (${P2}), implementor-2 (${P3}), auditor-1, tester-1`,
    `batch ${d2.batch}, audit coverage ${d2.audit_coverage.status}`, d2.audit_coverage.status === "covered", "covered");
  for (const [p, agent, f] of [[b, "implementor-1", P2], [c, "implementor-2", P3]] as const) {
    const r = await p.ok<{ started: boolean }>("start_feature", { feature_id: f, agent_id: agent });
    s.line(p, agent, "start_feature", f, r.started ? "started" : "NOT STARTED", r.started, "started");
  }
  const p3paths = writesOf(P3).slice(0, 3);
  const [l2, l3] = await Promise.all([
    b.ok<Acquired>("acquire_lock", { agent_id: "implementor-1", feature_id: P2, paths: writesOf(P2), mode: "write" }),
    c.ok<Acquired>("acquire_lock", { agent_id: "implementor-2", feature_id: P3, paths: p3paths, mode: "write" }),
  ]);
  s.line(b, "implementor-1", "acquire_lock", `write ${pathsArg(writesOf(P2))} (concurrently)`, lockAnswer(l2), l2.granted, "GRANTED");
  s.line(c, "implementor-2", "acquire_lock", `write ${pathsArg(p3paths)} (concurrently)`, lockAnswer(l3), l3.granted, "GRANTED");
  const st = await a.read<State>("signalbox://state");
  const auth = st.shared_resources["supabase_auth"]?.features_using ?? [];
  s.line(a, "orchestrator", "read", "signalbox://state",
    `active ${list(st.plans[0]!.active.map((x) => x.feature_id))}; supabase_auth used by ${list(auth)}`,
    same(st.plans[0]!.active.map((x) => x.feature_id), [P2, P3]) && same(auth, [P2, P3]), `${P2} and ${P3} active, both on supabase_auth`);

  // 5. RED on P3: its coder pauses; P2's does not.
  const red = await c.ok<{ signal_id: string; status: string; paused: string[]; notified: string[] }>("emit_audit_signal", {
    agent_id: "auditor-1",
    level: "RED",
    summary: "posts query builds SQL from user input",
    observation: "app/actions/posts.ts concatenates the search term",
    concern: "SQL injection",
    recommendation: "use a parameterised query",
    feature_id: P3,
    files: ["app/actions/posts.ts"],
  });
  s.line(c, "auditor-1", "emit_audit_signal", `RED on ${P3} (SQL injection)`,
    `${red.signal_id} ${red.status}, paused ${list(red.paused)}, notified ${list(red.notified)}`,
    same(red.paused, ["implementor-2"]), "pauses implementor-2 only");
  const hb = await c.ok<{ paused: boolean; paused_by: { signal_id: string }[]; instruction: string }>("report_status", {
    agent_id: "implementor-2", status: "working", progress_percentage: 50,
  });
  s.line(c, "implementor-2", "report_status", "working 50%",
    `paused=${hb.paused} by ${list(hb.paused_by.map((x) => x.signal_id))}`,
    hb.paused && same(hb.paused_by.map((x) => x.signal_id), [red.signal_id]), `paused by ${red.signal_id}`);
  const refused = await lock(c, "implementor-2", P3, ["supabase/migrations/002_posts.sql"], "REFUSED paused");
  if (refused.stop?.id !== red.signal_id) s.line(c, "implementor-2", "acquire_lock", "stop", `${refused.stop?.id}`, false, `stop ${red.signal_id}`);
  await lock(b, "implementor-1", P2, ["app/profile/avatar.tsx"], "GRANTED");

  // 6. Cross-agent handoff.
  const handoff = await b.ok<{ message_id: string; delivered_to: string[] }>("cross_agent_handoff", {
    agent_id: "implementor-1",
    discovery: "profiles gained an avatar_url column",
    affects: "implementor-2",
    impact: "PostList should show the author's avatar",
    files: ["components/ProfileForm.tsx"],
  });
  s.line(b, "implementor-1", "cross_agent_handoff", "avatar_url -> implementor-2",
    `${handoff.message_id} delivered to ${list(handoff.delivered_to)}`,
    same(handoff.delivered_to, ["implementor-2", "orchestrator"]), "delivered to implementor-2 and orchestrator");
  const inbox = await c.ok<{ items: { message_id: string; kind: string; from: string }[]; unread: number }>("get_inbox", {
    agent_id: "implementor-2", unread_only: true,
  });
  s.line(c, "implementor-2", "get_inbox", "unread", `${inbox.items.length} unread: ${list(inbox.items.map((m) => `${m.kind} from ${m.from}`))}`,
    inbox.items.some((m) => m.kind === "handoff"), "contains the handoff");
  const ack = await c.ok<{ acknowledged: string[] }>("acknowledge", {
    agent_id: "implementor-2", message_ids: inbox.items.map((m) => m.message_id),
  });
  const after = await c.ok<{ items: unknown[] }>("get_inbox", { agent_id: "implementor-2", unread_only: true });
  s.line(c, "implementor-2", "acknowledge", `${inbox.items.length} messages`,
    `acknowledged ${ack.acknowledged.length}, ${after.items.length} unread left`, after.items.length === 0, "inbox empty");

  // 7. Conventions: first value wins, a different one is refused and escalated.
  const set = await b.ok<{ status: string; convention: { decision_seq: number } }>("set_convention", {
    agent_id: "implementor-1", scope: "app/actions/**", key: "error_shape", value: "return { error }",
  });
  s.line(b, "implementor-1", "set_convention", `app/actions/** error_shape="return { error }"`,
    `${set.status} (decision #${set.convention.decision_seq})`, set.status === "established", "established");
  const clash = await c.ok<{ status: string; escalation_id: string | null }>("set_convention", {
    agent_id: "implementor-2", scope: "app/actions/**", key: "error_shape", value: "throw",
  });
  s.line(c, "implementor-2", "set_convention", `app/actions/** error_shape="throw"`,
    `${clash.status.toUpperCase()}, escalation ${clash.escalation_id}`,
    clash.status === "refused" && /^esc-/.test(clash.escalation_id ?? ""), "refused with an escalation");
  const conv = await c.ok<{ conventions: { key: string; value: string; set_by: string }[] }>("check_conventions", {
    path: "app/actions/posts.ts",
  });
  s.line(c, "implementor-2", "check_conventions", "app/actions/posts.ts",
    list(conv.conventions.map((x) => `${x.key}="${x.value}" (${x.set_by})`)),
    conv.conventions.length === 1 && conv.conventions[0]?.value === "return { error }" && conv.conventions[0]?.set_by === "implementor-1",
    `error_shape="return { error }" by implementor-1`);

  // 8. Resolve the RED: P3's coder writes again.
  const resolved = await a.ok<{ resumed: string[]; still_paused: string[] }>("resolve_audit_signal", {
    signal_id: red.signal_id, agent_id: "orchestrator", resolution: "parameterised query required before merge",
  });
  s.line(a, "orchestrator", "resolve_audit_signal", red.signal_id,
    `resumed ${list(resolved.resumed)}, still paused ${list(resolved.still_paused)}`,
    resolved.still_paused.length === 0, "nobody still paused");
  await lock(c, "implementor-2", P3, ["supabase/migrations/002_posts.sql"], "GRANTED");

  // 9. Checkpoint: new writes refused until every active agent reached it and it is resumed.
  const cp = await a.ok<CheckpointAnswer>("request_checkpoint", {
    agent_id: "orchestrator", name: "wave-2-integration", reason: "run combined tests before merging wave 2",
  });
  s.line(a, "orchestrator", "request_checkpoint", cp.name, `expects ${cp.expected}, missing ${list(cp.missing)}`,
    cp.expected === 4 && same(cp.missing, ["auditor-1", "implementor-1", "implementor-2", "tester-1"]), "4 expected");
  const held = await lock(b, "implementor-1", P2, ["app/profile/settings.tsx"], "REFUSED checkpoint");
  if (held.stop?.id !== "wave-2-integration") s.line(b, "implementor-1", "acquire_lock", "stop", `${held.stop?.id}`, false, "stop wave-2-integration");
  const beat = await b.ok<{ checkpoint: { name: string; reached: boolean } | null }>("report_status", {
    agent_id: "implementor-1", status: "working",
  });
  s.line(b, "implementor-1", "report_status", "working",
    beat.checkpoint ? `checkpoint ${beat.checkpoint.name} reached=${beat.checkpoint.reached}` : "no checkpoint",
    beat.checkpoint?.name === "wave-2-integration" && beat.checkpoint.reached === false, "told to reach wave-2-integration");
  let reached: CheckpointAnswer | undefined;
  for (const [p, id] of [[b, "implementor-1"], [c, "implementor-2"], [c, "auditor-1"], [c, "tester-1"]] as const) {
    reached = await p.ok<CheckpointAnswer>("reach_checkpoint", { agent_id: id, name: "wave-2-integration" });
    s.line(p, id, "reach_checkpoint", reached.name, `arrived ${reached.arrived.length}/${reached.expected}, all_arrived=${reached.all_arrived}`);
  }
  if (!reached?.all_arrived) s.line(c, "tester-1", "reach_checkpoint", "", "not all arrived", false, "all arrived");
  const resume = await a.ok<CheckpointAnswer>("resume_checkpoint", { agent_id: "orchestrator", name: "wave-2-integration" });
  s.line(a, "orchestrator", "resume_checkpoint", resume.name, `${resume.status}, missing ${list(resume.missing)}`,
    resume.missing.length === 0 && resume.status === "resumed", "resumed, nobody missing");
  await lock(b, "implementor-1", P2, ["app/profile/settings.tsx"], "GRANTED");

  // 10. Both complete.
  const done2 = await b.ok<{ released: string[]; unblocks: string[] }>("complete_feature", { feature_id: P2, agent_id: "implementor-1" });
  s.line(b, "implementor-1", "complete_feature", P2, `released ${done2.released.length} locks`);
  const done3 = await c.ok<{ released: string[] }>("complete_feature", {
    feature_id: P3, agent_id: "implementor-2", schema_changes: [{ table: "posts", operation: "create" }],
  });
  s.line(c, "implementor-2", "complete_feature", `${P3} (posts create)`, `released ${done3.released.length} locks`);
}

/** The closing tables from the resources, read through process B. */
async function summary(p: Proc, s: Steps): Promise<void> {
  const state = await p.read<State>("signalbox://state");
  console.log("\nsignalbox://state, per plan:");
  console.log(
    table(
      ["plan", "current wave", "completed", "active", "ready"],
      state.plans.map((x) => [x.plan_id, x.current_wave ?? "done", list(x.completed), list(x.active.map((y) => y.feature_id)), list(x.ready)]),
    ),
  );
  const changes = state.schema_changes.map((c) => `${c.feature_id}:${c.table}`);
  console.log(`schema changes: ${list(changes)}; open checkpoints: ${state.checkpoints.length}; open pausing signals: ${state.open_pausing_signals}`);
  const plan = state.plans[0];
  const allDone = plan !== undefined && plan.current_wave === null && plan.completed.length === 3;
  if (!allDone) s.line(p, "implementor-1", "read", "signalbox://state", `plan not complete`, false, "all three features completed");
  const wantChanges = ["P1_user_auth:profiles", "P2_user_profile:profiles", "P3_posts:posts"];
  if (!same(changes, wantChanges)) s.line(p, "implementor-1", "read", "signalbox://state", `schema changes ${list(changes)}`, false, list(wantChanges));

  const log = await p.read<{ decisions: Decision[]; total: number }>("signalbox://decisions");
  console.log(`\nsignalbox://decisions (${log.total}, oldest first):`);
  console.log(
    table(
      ["#", "type", "decided_by", "decision"],
      [...log.decisions].reverse().map((d) => [d.seq, d.type, d.decided_by, d.decision.length > 80 ? `${d.decision.slice(0, 77)}...` : d.decision]),
    ),
  );
  const types = log.decisions.map((d) => d.type);
  for (const t of ["dependency_violation", "convention"]) {
    if (!types.includes(t)) s.line(p, "implementor-1", "read", "signalbox://decisions", `no ${t} entry`, false, `a ${t} entry`);
  }

  const m = await p.read<Metrics>("signalbox://metrics");
  const lr = m.lock_requests;
  const refusedBy = Object.entries(lr.refused).filter(([, n]) => n > 0);
  console.log("\nsignalbox://metrics:");
  console.log(
    table(
      ["lock requests", "granted", "waited", ...refusedBy.map(([r]) => `refused ${r}`), "contention rate"],
      [[lr.total, lr.granted, lr.waited, ...refusedBy.map(([, n]) => n), lr.contention_rate === null ? "-" : `${(lr.contention_rate * 100).toFixed(0)}%`]],
    ),
  );
  const conflicts = Object.entries(m.conflicts_by_type).filter(([, n]) => n > 0);
  console.log(table(["conflict type", "count"], conflicts.length ? conflicts : [["none", 0]]));
  console.log(
    `features completed ${m.features.completed}, active ${m.features.active}, failed ${m.features.failed}; ` +
      `resolved conflicts ${m.conflict_resolution_ms.resolved}; agents by status ${JSON.stringify(m.agents_by_status)}`,
  );
  if ((lr.refused["paused"] ?? 0) < 1 || (lr.refused["checkpoint"] ?? 0) < 1) {
    s.line(p, "implementor-1", "read", "signalbox://metrics", `refused ${JSON.stringify(lr.refused)}`, false, "one paused and one checkpoint refusal");
  }

  const board = await p.read<Board>("signalbox://agents");
  console.log(
    `\nsignalbox://agents: ${board.agents.map((x) => `${x.agent_id} ${x.role} ${x.status}${x.paused_by.length ? " PAUSED" : ""}`).join("; ")}` +
      `; coverage ${board.audit_coverage.map((x) => `${x.phase} ${x.status}`).join(", ")}`,
  );
  const audit = await p.read<Audit>("signalbox://audit");
  console.log(`signalbox://audit: ${Object.entries(audit.counts).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  const conv = await p.read<Conventions>("signalbox://conventions");
  console.log(
    `signalbox://conventions: ${conv.conventions.map((x) => `${x.scope} ${x.key}="${x.value}" (${x.set_by})`).join("; ")}; ` +
      `open escalations ${conv.open_escalations} (${conv.escalations.map((e) => e.escalation_id).join(", ")})`,
  );
  if (conv.open_escalations !== 1) s.line(p, "implementor-1", "read", "signalbox://conventions", `${conv.open_escalations} open escalations`, false, "1");
}

/**
 * Play the control-layer flow of the worked example through three server
 * processes on a fresh temporary root and store (removed afterwards).
 * Prints one line per step and the closing tables; returns false (after
 * printing why) if any step answered differently from the protocol or a
 * call failed.
 */
export async function runControlDemo(watch?: StoreWatcher): Promise<boolean> {
  console.log("\n=== 4. Control layer: the worked example played by agents on three server processes sharing one store ===");
  console.log("[A] = orchestrator's process, [B] = implementor-1's, [C] = implementor-2's, auditor-1's and tester-1's");
  // The protocol's own reading of its example: a migration is an ordinary file, so P2 and P3 share wave 2.
  const config = path.join(PACKAGE, "examples/protocol-example.signalbox.json");
  const s = await playOnSharedStore(
    ["A", "B", "C"],
    (root) => fs.copyFileSync(config, path.join(root, "signalbox.config.json")),
    async ([a, b, c], steps) => {
      await play(a!, b!, c!, steps);
      await summary(b!, steps);
    },
    watch,
  );
  return verdict(s, "The control layer DOES NOT follow the protocol", "Every control-layer step answered as the protocol prescribes.");
}

/**
 * Start one server process per tag on a fresh root and store (a temp folder,
 * removed afterwards), let `configure` write into the root (e.g. a
 * signalbox.config.json), and run `body`. A call that fails stops the flow
 * and is kept as a mismatch. Returns the steps. `watch` (the demo's
 * dashboard) is shown the store once the servers opened it and let go of it
 * before it is removed.
 */
export async function playOnSharedStore(
  tags: string[],
  configure: (root: string) => void,
  body: (procs: Proc[], s: Steps) => Promise<void>,
  watch?: StoreWatcher,
): Promise<Steps> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "signalbox-demo-control-"));
  const root = path.join(work, "root");
  const store = path.join(work, "store");
  fs.mkdirSync(root);
  fs.mkdirSync(store);
  configure(root);
  const env = { ...process.env, SIGNALBOX_ROOT: root, SIGNALBOX_DB: store } as Record<string, string>;
  const procs = tags.map((t) => new Proc(t));
  const s = new Steps();
  try {
    await Promise.all(procs.map((p) => p.start(env)));
    await watch?.follow(root, store);
    await body(procs, s);
  } catch (err) {
    s.mismatches.push(`the flow stopped: ${(err as Error).message}`);
  } finally {
    await watch?.release();
    await Promise.allSettled(procs.map((p) => p.client.close()));
    fs.rmSync(work, { recursive: true, force: true });
  }
  return s;
}

/** Print the closing line of a played flow; true when no step mismatched. */
export function verdict(s: Steps, failed: string, passed: string): boolean {
  if (s.mismatches.length) {
    console.log(`\n${failed} (${s.mismatches.length}):`);
    for (const m of s.mismatches) console.log(`  - ${m}`);
    return false;
  }
  console.log(`\n${passed}`);
  return true;
}
