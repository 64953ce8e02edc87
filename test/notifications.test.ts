/**
 * README, "Live notifications": resource subscriptions fed by commits of
 * any process, progress while acquire_lock waits and cancellation, MCP
 * logging notifications with logging/setLevel, the instructions, prompts.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type LoggingMessageNotification,
} from "@modelcontextprotocol/sdk/types.js";
import { connect, type Harness } from "./helpers/client.js";
import { ServerProcess } from "./helpers/process.js";
import { sleep, until } from "./helpers/wait.js";

let h: Harness | undefined;
let other: ServerProcess | undefined;

afterEach(async () => {
  await other?.client.close();
  other = undefined;
  await h?.close();
  h = undefined;
});

/** `granted` of an acquire_lock result. */
const granted = (r: unknown) => (r as { structuredContent: { granted: boolean } }).structuredContent.granted;


/** Updated URIs received by `h`'s client. */
function collectUpdates(harness: Harness): string[] {
  const updates: string[] = [];
  harness.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
  });
  return updates;
}

/** A second server process on the same root and store. */
async function otherProcess(harness: Harness): Promise<ServerProcess> {
  const p = new ServerProcess("other");
  await p.start({ ...process.env, SIGNALBOX_ROOT: harness.root, SIGNALBOX_DB: harness.ctx.store.dir } as Record<string, string>);
  return p;
}

describe("resource subscriptions", () => {
  it("notifies a subscriber of signalbox://locks after another process takes a lock, and only the resources that changed", async () => {
    h = await connect();
    const updates = collectUpdates(h);
    await h.client.subscribeResource({ uri: "signalbox://locks" });
    await h.client.subscribeResource({ uri: "signalbox://decisions" });
    other = await otherProcess(h);

    await other.ok("acquire_lock", { agent_id: "remote", paths: ["src/a.ts"], mode: "write" });
    await until("locks updated", () => updates.includes("signalbox://locks"));
    const locks = await h.readJson<{ locks: { key: string; agent_id: string }[] }>("signalbox://locks");
    expect(locks.locks).toEqual([expect.objectContaining({ key: "src/a.ts", agent_id: "remote" })]);
    expect(updates).not.toContain("signalbox://decisions");

    // A decision changes the log, not the locks.
    updates.length = 0;
    await other.ok("record_decision", { type: "other", decided_by: "remote", context: "API style", decision: "use REST" });
    await until("decisions updated", () => updates.includes("signalbox://decisions"));
    await sleep(500);
    expect(updates).toEqual(["signalbox://decisions"]);
  });

  it("reads a resource the same way each time while nothing commits (an update means a change)", async () => {
    h = await connect();
    await h.ok("acquire_lock", { agent_id: "a", paths: ["x.ts"], mode: "write" });
    const reads = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = await h.client.readResource({ uri: "signalbox://locks" });
      reads.add((r.contents[0] as { text: string }).text);
    }
    expect(reads.size).toBe(1);
  });

  it("stops after resources/unsubscribe, and listens to nothing once the last subscription ends", async () => {
    h = await connect();
    const updates = collectUpdates(h);
    await h.client.subscribeResource({ uri: "signalbox://agents" });
    expect(h.ctx.changes.size).toBe(1);
    await h.ok("report_status", { agent_id: "a1", status: "working" });
    await until("agents updated", () => updates.length === 1);
    await h.client.unsubscribeResource({ uri: "signalbox://agents" });
    expect(h.ctx.changes.size).toBe(0);
    await h.ok("report_status", { agent_id: "a2", status: "working" });
    await sleep(500);
    expect(updates).toEqual(["signalbox://agents"]);
  });

  it("follows one wave plan of the resource template", async () => {
    h = await connect();
    const plan = await h.ok<{ plan_id: string }>("plan_waves", { features: [{ id: "a", writes: ["a.ts"] }, { id: "b", writes: ["b.ts"] }] });
    const updates = collectUpdates(h);
    await h.client.subscribeResource({ uri: `signalbox://waves/${plan.plan_id}` });
    await h.client.subscribeResource({ uri: "signalbox://waves" });
    await h.ok("plan_waves", { features: [{ id: "c", writes: ["c.ts"] }] });
    await until("plan list updated", () => updates.includes("signalbox://waves"));
    await sleep(500);
    // The stored plan itself did not change.
    expect(updates).toEqual(["signalbox://waves"]);
  });

  it("refuses a subscription to an unknown resource, naming the uri", async () => {
    h = await connect();
    await expect(h.client.subscribeResource({ uri: "signalbox://nope" })).rejects.toThrow(/uri: no resource "signalbox:\/\/nope"/);
    await expect(h.client.subscribeResource({ uri: "signalbox://waves/missing" })).rejects.toThrow(/plan_id: no plan "missing"/);
    expect(h.ctx.changes.size).toBe(0);
  });
});

describe("acquire_lock while it waits", () => {
  it("sends progress with the queue position and the holder, then the grant", async () => {
    h = await connect();
    await h.ok("acquire_lock", { agent_id: "holder", paths: ["q.ts"], mode: "write" });
    const first: { progress: number; total?: number; message?: string }[] = [];
    const second: { progress: number; message?: string }[] = [];
    const p1 = h.client.callTool(
      { name: "acquire_lock", arguments: { agent_id: "w1", paths: ["q.ts"], mode: "write", wait_ms: 5000 } },
      undefined,
      { onprogress: (p) => first.push(p) },
    );
    await until("w1 queued", () => first.length === 1);
    const p2 = h.client.callTool(
      { name: "acquire_lock", arguments: { agent_id: "w2", paths: ["q.ts"], mode: "write", wait_ms: 5000 } },
      undefined,
      { onprogress: (p) => second.push(p) },
    );
    await until("w2 queued", () => second.length === 1);
    expect(first[0]!.message).toMatch(/^queued \(ticket \d+\) behind holder: position 1; holder holds q\.ts \(write\) until \d{4}-/);
    expect(first[0]!.total).toBe(5000);
    expect(second[0]!.message).toMatch(/behind holder, w1: position 2; holder holds q\.ts/);
    // Still waiting a second later: another report, with rising progress.
    await until("a periodic report", () => first.length >= 2, 3000);
    expect(first[1]!.progress).toBeGreaterThan(first[0]!.progress);

    await h.ok("release_lock", { agent_id: "holder", all: true });
    expect(granted(await p1)).toBe(true);
    // w2 is now behind w1 only.
    await until("w2 told it now waits for w1", () => second.some((n) => /behind w1: position 1; w1 holds q\.ts/.test(n.message ?? "")));
    await h.ok("release_lock", { agent_id: "w1", all: true });
    expect(granted(await p2)).toBe(true);
  });

  it("leaves the queue when the client cancels, so the next request is not stuck behind it", async () => {
    h = await connect();
    await h.ok("acquire_lock", { agent_id: "holder", paths: ["c.ts"], mode: "write" });
    const abort = new AbortController();
    const notes: unknown[] = [];
    const cancelled = h.client.callTool(
      { name: "acquire_lock", arguments: { agent_id: "quitter", paths: ["c.ts"], mode: "write", wait_ms: 30_000 } },
      undefined,
      { signal: abort.signal, onprogress: (p) => notes.push(p) },
    );
    await until("queued", () => notes.length === 1);
    expect((await h.readJson<{ waiters: unknown[] }>("signalbox://locks")).waiters).toHaveLength(1);
    abort.abort("changed my mind");
    await expect(cancelled).rejects.toThrow();
    // The server learns of the cancellation by notification; give it a moment to dequeue.
    let waiters = 1;
    for (let i = 0; i < 100 && waiters > 0; i++) {
      waiters = (await h.readJson<{ waiters: unknown[] }>("signalbox://locks")).waiters.length;
      if (waiters > 0) await sleep(20);
    }
    expect(waiters).toBe(0);
    await h.ok("release_lock", { agent_id: "holder", all: true });
    const next = await h.ok<{ granted: boolean; waited_ms: number }>("acquire_lock", { agent_id: "next", paths: ["c.ts"], mode: "write" });
    expect(next.granted).toBe(true);
  });
});

describe("logging notifications", () => {
  it("sends grants, refusals and signals, honouring logging/setLevel", async () => {
    h = await connect();
    const logs: LoggingMessageNotification["params"][] = [];
    h.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params);
    });
    const kinds = () => logs.map((l) => (l.data as { kind: string }).kind);

    await h.client.setLoggingLevel("notice");
    await h.ok("acquire_lock", { agent_id: "alice", paths: ["l.ts"], mode: "write" });
    await h.ok("acquire_lock", { agent_id: "bob", paths: ["l.ts"], mode: "write" });
    await until("refusal logged", () => kinds().includes("lock_refused"));
    expect(kinds()).toEqual(["lock_refused"]);
    expect(logs[0]).toMatchObject({ level: "notice", logger: "signalbox", data: { agent_id: "bob", reason: "conflict", holders: ["alice"] } });

    await h.client.setLoggingLevel("debug");
    await h.ok("release_lock", { agent_id: "alice", all: true });
    await h.ok("acquire_lock", { agent_id: "bob", paths: ["l.ts"], mode: "write" });
    await h.ok("dispatch_agents", { agents: [{ agent_id: "auditor", role: "auditor" }] });
    await h.ok("emit_audit_signal", { agent_id: "auditor", level: "RED", summary: "SQL injection", feature_id: "f1" });
    await until("grant and signal logged", () => kinds().length === 3);
    expect(kinds()).toEqual(["lock_refused", "lock_granted", "signal_emitted"]);
    expect(logs[1]).toMatchObject({ level: "info", data: { agent_id: "bob", keys: ["l.ts"] } });
    expect(logs[2]).toMatchObject({ level: "warning", data: { signal_level: "RED" } });

    await h.client.setLoggingLevel("error");
    await h.ok("emit_audit_signal", { agent_id: "auditor", level: "YELLOW", summary: "naming", feature_id: "f1" });
    await sleep(100);
    expect(kinds()).toHaveLength(3);
  });
});

describe("instructions and prompts", () => {
  it("tells an agent in a few lines to lock before writing, report status and read the inbox", async () => {
    h = await connect();
    const text = h.client.getInstructions() ?? "";
    expect(text.split("\n").length).toBeLessThanOrEqual(8);
    for (const tool of ["acquire_lock", "release_lock", "report_status", "get_inbox", "acknowledge"]) expect(text).toContain(tool);
    const { tools } = await h.client.listTools();
    const names = new Set(tools.map((t) => t.name));
    const named = (text.match(/\b[a-z]+_[a-z_]+\b/g) ?? []).filter((w) => w !== "agent_id");
    for (const tool of named) expect(names.has(tool), tool).toBe(true);
  });

  it("pre_parallel_check renders the S2 checkpoint for the tasks", async () => {
    h = await connect();
    const { prompts } = await h.client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(["audit_handoff", "pre_parallel_check"]);
    const tasks = [
      { id: "api", writes: ["src/api/users.ts", "src/shared/types.ts"] },
      { id: "ui", writes: ["src/ui/users.tsx", "src/shared/types.ts"] },
      { id: "docs", writes: ["docs/users.md"] },
    ];
    const r = await h.client.getPrompt({ name: "pre_parallel_check", arguments: { tasks: JSON.stringify(tasks) } });
    const text = (r.messages[0]!.content as { text: string }).text;
    expect(text).toContain("**S2 Pre-Parallel Check**");
    expect(text).toMatch(/- Shared files: .*src\/shared\/types\.ts/);
    expect(text).toMatch(/- Anticipated conflicts: .*api.*ui/);
    expect(text).toMatch(/Verdict: SERIALIZE/);
    expect(text).toMatch(/^1\. api, docs$/m);
    expect(text).toMatch(/^2\. ui$/m);
  });

  it("pre_parallel_check names the bad argument", async () => {
    h = await connect();
    const get = (tasks: string) => h!.client.getPrompt({ name: "pre_parallel_check", arguments: { tasks } });
    await expect(get("not json")).rejects.toThrow(/tasks: expected a JSON array of tasks/);
    await expect(get(JSON.stringify([{ id: "a", writes: [3] }]))).rejects.toThrow(/tasks\[0\]\.writes\[0\]: /);
    await expect(get("[]")).rejects.toThrow(/tasks: /);
  });

  it("audit_handoff drafts the handoff from the feature's signals and completes feature ids", async () => {
    h = await connect();
    await h.ok("start_feature", { agent_id: "coder", feature_id: "login" });
    await h.ok("dispatch_agents", { agents: [{ agent_id: "auditor", role: "auditor" }] });
    await h.ok("emit_audit_signal", {
      agent_id: "auditor",
      level: "RED",
      summary: "Tokens in logs",
      concern: "JWT written to the access log",
      feature_id: "login",
      files: ["src/auth.ts"],
    });
    await h.ok("emit_audit_signal", { agent_id: "auditor", level: "GREEN", summary: "Good tests", feature_id: "login" });
    const r = await h.client.getPrompt({ name: "audit_handoff", arguments: { feature_id: "login" } });
    const text = (r.messages[0]!.content as { text: string }).text;
    expect(text).toContain("## Audit Handoff: login");
    expect(text).toMatch(/^1\. \*\*\[CRITICAL\]\*\* JWT written to the access log - src\/auth\.ts \(signal \S+, open\)$/m);
    expect(text).not.toContain("Good tests");
    expect(text).toContain("audit_handoff tool");
    await expect(h.client.getPrompt({ name: "audit_handoff", arguments: { feature_id: "nope" } })).rejects.toThrow(/feature_id: no feature "nope"/);
    const c = await h.client.complete({ ref: { type: "ref/prompt", name: "audit_handoff" }, argument: { name: "feature_id", value: "lo" } });
    expect(c.completion.values).toEqual(["login"]);
  });
});
