/**
 * Control-layer decisions made by several server processes at once on one
 * store: each read-check-write is one LMDB write transaction, so races have
 * exactly one winner and a batch split across processes is judged as a whole.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServerProcess } from "./helpers/process.js";
import { tempDir } from "./helpers/store.js";

const PROCESSES = 4;

describe("control state shared by several server processes", () => {
  const root = tempDir("signalbox-root-");
  const store = tempDir("signalbox-store-");
  const procs = Array.from({ length: PROCESSES }, (_, i) => new ServerProcess(`p${i}`));

  beforeAll(async () => {
    const env = { ...process.env, SIGNALBOX_ROOT: root.dir, SIGNALBOX_DB: store.dir } as Record<string, string>;
    await Promise.all(procs.map((p) => p.start(env)));
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.client.close()));
    root.cleanup();
    store.cleanup();
  });

  it("gives a feature to exactly one of several agents racing to start it", async () => {
    for (let round = 0; round < 5; round++) {
      const feature = `F${round}`;
      const answers = await Promise.all(
        procs.map((p, i) => p.call("start_feature", { feature_id: feature, agent_id: `coder-${i}` })),
      );
      const started = answers.filter((r) => !r.isError && (r.structuredContent as { started: boolean }).started);
      const refused = answers.filter((r) => r.isError);
      expect(started, `round ${round}`).toHaveLength(1);
      expect(refused).toHaveLength(PROCESSES - 1);
      for (const r of refused) expect((r.content as { text: string }[])[0]!.text).toMatch(/held by agent "coder-\d"/);
    }
  });

  it("makes exactly one of several different convention values the standard, escalating the others", async () => {
    const answers = await Promise.all(
      procs.map((p, i) =>
        p.ok<{ status: string; escalation_id: string | null }>("set_convention", {
          agent_id: `coder-${i}`,
          scope: "src/**",
          key: "naming",
          value: `style-${i}`,
        }),
      ),
    );
    expect(answers.filter((a) => a.status === "established")).toHaveLength(1);
    const refused = answers.filter((a) => a.status === "refused");
    expect(refused).toHaveLength(PROCESSES - 1);
    for (const r of refused) expect(r.escalation_id).toMatch(/^esc-\d+$/);
    const conventions = await procs[0]!.read<{ conventions: { key: string }[] }>("signalbox://conventions");
    expect(conventions.conventions.filter((c) => c.key === "naming")).toHaveLength(1);
  });

  it("judges audit coverage over a phase dispatched from several processes at once, in any order", async () => {
    const results = await Promise.all(
      procs.map((p, i) =>
        p.ok<{ audit_coverage: { status: string; warning: string | null } }>("dispatch_agents", { by: "orchestrator",
          phase: "RACE",
          agents: [{ agent_id: i === 2 ? "auditor-x" : `race-coder-${i}`, role: i === 2 ? "auditor" : "coder" }],
        }),
      ),
    );
    for (const r of results) expect(r.audit_coverage.warning).toBeNull();
    const board = await procs[3]!.read<{ audit_coverage: { phase: string; status: string; coders: number; auditors: number }[] }>(
      "signalbox://agents",
    );
    expect(board.audit_coverage.find((c) => c.phase === "RACE")).toMatchObject({ status: "covered", coders: 3, auditors: 1 });
  });

  it("refuses every racing write lock while a RED signal is open, and grants after it is resolved", async () => {
    await procs[0]!.ok("dispatch_agents", {
      phase: "PAUSE",
      agents: [
        { agent_id: "orchestrator", role: "orchestrator" },
        { agent_id: "pc-1", role: "coder", feature_id: "FP" },
        { agent_id: "pc-2", role: "coder", feature_id: "FP" },
        { agent_id: "aud", role: "auditor" },
      ],
    });
    const red = await procs[1]!.ok<{ signal_id: string }>("emit_audit_signal", {
      agent_id: "aud",
      level: "RED",
      summary: "unsafe migration",
      feature_id: "FP",
    });
    const tries = await Promise.all(
      procs.map((p, i) =>
        p.ok<{ granted: boolean; reason: string | null }>("acquire_lock", {
          agent_id: i % 2 === 0 ? "pc-1" : "pc-2",
          paths: [`fp/file-${i}.ts`],
          mode: "write",
          feature_id: "FP",
        }),
      ),
    );
    expect(tries.map((t) => t.reason)).toEqual(Array(PROCESSES).fill("paused"));
    await procs[2]!.ok("resolve_audit_signal", { signal_id: red.signal_id, agent_id: "orchestrator", resolution: "fixed" });
    const after = await Promise.all(
      procs.map((p, i) =>
        p.ok<{ granted: boolean }>("acquire_lock", {
          agent_id: i % 2 === 0 ? "pc-1" : "pc-2",
          paths: [`fp/file-${i}.ts`],
          mode: "write",
          feature_id: "FP",
        }),
      ),
    );
    expect(after.every((t) => t.granted)).toBe(true);
  });
});
