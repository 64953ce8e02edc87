import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { listCheckpoints } from "../src/control/checkpoints.js";
import { listInbox } from "../src/control/registry/inbox.js";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

let h: Harness;
let clock: ManualClock;

beforeEach(async () => {
  clock = manualClock();
  h = await connect({ clock, config: parseConfig({ control: { heartbeat_ms: 60_000 } }) });
});
afterEach(async () => {
  await h.close();
});

type Lock = { granted: boolean; reason: string | null; message: string; stop: { kind: string; id: string } | null };
type Cp = {
  name: string;
  status: string;
  expected: number;
  arrived: string[];
  missing: string[];
  omitted: number;
  all_arrived: boolean;
};

const write = (agent: string, path: string, feature?: string) =>
  h.ok<Lock>("acquire_lock", { agent_id: agent, paths: [path], mode: "write", ...(feature ? { feature_id: feature } : {}) });
const read = (agent: string, path: string) => h.ok<Lock>("acquire_lock", { agent_id: agent, paths: [path], mode: "read" });
const inbox = (agent: string) => listInbox(h.ctx, agent).items;

async function team(): Promise<void> {
  await h.ok("dispatch_agents", {
    agents: [
      { agent_id: "c1", role: "coder", feature_id: "F1" },
      { agent_id: "c2", role: "coder", feature_id: "F2" },
      { agent_id: "dba", role: "coder", feature_id: "MIG" },
      { agent_id: "aud", role: "auditor" },
      { agent_id: "orch", role: "orchestrator" },
    ],
  });
  for (const a of ["c1", "c2", "dba", "aud"]) await h.ok("report_status", { agent_id: a, status: "working" });
}

describe("integration checkpoints (Level 3)", () => {
  it("pauses writes outside the integration work until every stream arrived and the requester resumed", async () => {
    await team();
    expect((await write("c1", "app/a.ts", "F1")).granted).toBe(true);
    await h.ok("release_lock", { agent_id: "c1", all: true });

    const cp = await h.ok<Cp>("request_checkpoint", { agent_id: "dba", name: "mig-42", reason: "run migration 0042", feature_id: "MIG" });
    expect(cp).toMatchObject({ name: "mig-42", status: "open", all_arrived: false, omitted: 0 });
    // The active streams: not the requester, not the orchestrator.
    expect(cp.missing.sort()).toEqual(["aud", "c1", "c2"]);
    expect(cp.expected).toBe(3);
    expect(inbox("c1").some((m) => m.kind === "checkpoint" && m.summary.includes("mig-42"))).toBe(true);

    // Writes outside the integration work are refused, naming the checkpoint.
    for (const a of ["c1", "c2"]) {
      const r = await write(a, `app/${a}.ts`);
      expect(r).toMatchObject({ granted: false, reason: "checkpoint", stop: { kind: "checkpoint", id: "mig-42" } });
      expect(r.message).toContain("mig-42");
    }
    // The requester and work on the checkpoint's feature go on; reads go on.
    expect((await write("dba", "db/migrations/0042.sql", "MIG")).granted).toBe(true);
    expect((await read("c1", "app/c1.ts")).granted).toBe(true);
    expect((await read("aud", "db/migrations/")).granted).toBe(false); // dba writes there: an ordinary conflict
    expect((await read("aud", "app/")).granted).toBe(true);

    const status = await h.ok<{ checkpoint: { name: string; reached: boolean } | null; instruction: string }>("report_status", {
      agent_id: "c1",
      status: "working",
    });
    expect(status.checkpoint).toMatchObject({ name: "mig-42", reached: false });
    expect(status.instruction).toContain("reach_checkpoint");

    expect(await h.fails("request_checkpoint", { agent_id: "c2", name: "mig-42", reason: "again" })).toMatch(/name: checkpoint "mig-42" is already open/);
    expect(await h.fails("resume_checkpoint", { agent_id: "c1", name: "mig-42" })).toMatch(/agent_id: only the requester or an orchestrator may resume checkpoint "mig-42"; ask dba/);
    expect(await h.fails("reach_checkpoint", { agent_id: "dba", name: "mig-42" })).toMatch(/agent_id: dba requested/);

    const r1 = await h.ok<Cp>("reach_checkpoint", { agent_id: "c1", name: "mig-42" });
    expect(r1).toMatchObject({ arrived: ["c1"], all_arrived: false });
    expect((await h.ok<Cp>("reach_checkpoint", { agent_id: "c1", name: "mig-42" })).arrived).toEqual(["c1"]); // idempotent
    await h.ok<Cp>("reach_checkpoint", { agent_id: "aud", name: "mig-42" });
    expect(inbox("dba").some((m) => m.summary.startsWith("all 3"))).toBe(false);
    const r2 = await h.ok<Cp>("reach_checkpoint", { agent_id: "c2", name: "mig-42" });
    expect(r2).toMatchObject({ all_arrived: true, missing: [] });
    expect(r2.arrived).toEqual(["c1", "aud", "c2"]);
    expect(inbox("dba").filter((m) => m.kind === "checkpoint" && m.summary.startsWith("all 3 expected"))).toHaveLength(1);

    const waiting = await h.ok<{ instruction: string; checkpoint: { reached: boolean } }>("report_status", { agent_id: "c1", status: "paused" });
    expect(waiting.checkpoint.reached).toBe(true);
    expect(waiting.instruction).toContain("waiting at checkpoint");

    // The orchestrator sees who arrived while it is open.
    const listed = listCheckpoints(h.ctx);
    expect(listed.open).toBe(1);
    expect(listed.checkpoints[0]).toMatchObject({ name: "mig-42", requested_by: "dba", reason: "run migration 0042", feature_id: "MIG", all_arrived: true, missing: [] });

    const done = await h.ok<Cp>("resume_checkpoint", { agent_id: "dba", name: "mig-42" });
    expect(done).toMatchObject({ status: "resumed", missing: [] });
    expect(listCheckpoints(h.ctx).checkpoints[0]).toMatchObject({ name: "mig-42", status: "resumed", resumed_by: "dba" });
    await h.ok("release_lock", { agent_id: "aud", all: true });
    expect((await write("c1", "app/c1.ts", "F1")).granted).toBe(true);
    expect((await write("c2", "app/c2.ts", "F2")).granted).toBe(true);
    expect(inbox("c2").some((m) => m.kind === "resume" && m.summary.includes("mig-42"))).toBe(true);
    const after = await h.ok<{ checkpoint: unknown }>("report_status", { agent_id: "c1", status: "working" });
    expect(after.checkpoint).toBeNull();
    expect(listCheckpoints(h.ctx).open).toBe(0);

    expect(await h.fails("resume_checkpoint", { agent_id: "dba", name: "mig-42" })).toMatch(/already resumed by dba/);
    expect(await h.fails("reach_checkpoint", { agent_id: "c1", name: "mig-42" })).toMatch(/already resumed/);
    expect(await h.fails("reach_checkpoint", { agent_id: "c1", name: "nope" })).toMatch(/name: no checkpoint "nope"/);
    expect(await h.fails("request_checkpoint", { agent_id: "c1", name: "a\0b", reason: "x" })).toMatch(/^name: must not contain a NUL byte/);
  });

  it("lets an orchestrator resume and names who never arrived; the name may be reused after resume", async () => {
    await team();
    await h.ok("request_checkpoint", { agent_id: "dba", name: "release", reason: "version bump" });
    await h.ok("reach_checkpoint", { agent_id: "c1", name: "release" });
    const done = await h.ok<Cp>("resume_checkpoint", { agent_id: "orch", name: "release" });
    expect(done).toMatchObject({ status: "resumed", arrived: ["c1"], all_arrived: false });
    expect(listCheckpoints(h.ctx).checkpoints[0]!.resumed_by).toBe("orch");
    expect(done.missing.sort()).toEqual(["aud", "c2"]);
    const again = await h.ok<Cp>("request_checkpoint", { agent_id: "c1", name: "release", reason: "second round" });
    expect(again).toMatchObject({ status: "open", arrived: [] });
    expect(listCheckpoints(h.ctx).checkpoints[0]).toMatchObject({ requested_by: "c1", reason: "second round" });
    expect(again.missing.sort()).toEqual(["aud", "c2", "dba"]);
  });

  it("expects only available, unfinished agents; with nobody to wait for it is complete at once", async () => {
    await team();
    await h.ok("report_status", { agent_id: "c2", status: "completed" });
    clock.advance(61_000); // everyone goes silent past the heartbeat...
    await h.ok("report_status", { agent_id: "c1", status: "working" }); // ...except c1
    const cp = await h.ok<Cp>("request_checkpoint", { agent_id: "dba", name: "cp", reason: "sync" });
    expect(cp.missing).toEqual(["c1"]);
    await h.ok("resume_checkpoint", { agent_id: "dba", name: "cp" });
    const solo = await h.ok<Cp>("request_checkpoint", { agent_id: "c1", name: "solo", reason: "nobody else" });
    expect(solo).toMatchObject({ expected: 0, missing: [], all_arrived: true });
  });
});
