/**
 * The radar kept current by polling branch heads: a subscriber to
 * signalbox://radar hears `resources/updated` when a branch head moves and a
 * pair starts to conflict; the poll itself (no tool call) tells both agents
 * once; a head that does not move recomputes nothing. And the Claude Code
 * PreToolUse hook, run in one worktree, maps an absolute path of another
 * worktree to the same key and denies the edit.
 */
import fs from "node:fs";
import path from "node:path";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { runClaudePreToolUse } from "../src/hooks/claude.js";
import { connect, type Harness } from "./helpers/client.js";
import { makeRepo, type TempRepo } from "./helpers/git-repo.js";
import { until } from "./helpers/wait.js";

let h: Harness | undefined;
let r: TempRepo | undefined;
afterEach(async () => {
  await h?.close();
  r?.cleanup();
  h = undefined;
  r = undefined;
});

describe("the radar watcher", () => {
  it("recomputes when a head moves, tells both agents once, and notifies subscribers", async () => {
    r = makeRepo({ files: { "app/shared.py": "1\n2\n3\n4\n5\n6\n" } });
    h = await connect({ root: r.dir, storeDir: undefined, radarPollMs: 100, changePollMs: 50, config: parseConfig({ control: { heartbeat_ms: 3_600_000 } }) });
    const harness = h;
    const repo = r;
    const updates: string[] = [];
    harness.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    const w1 = repo.worktree("wt1", "feature/one");
    const w2 = repo.worktree("wt2", "feature/two");
    await harness.ok("start_feature", { agent_id: "c1", feature_id: "F1", branch: "feature/one" });
    await harness.ok("start_feature", { agent_id: "c2", feature_id: "F2", branch: "feature/two" });
    const first = await harness.readJson<{ conflicting_pairs: number; pairs: unknown[] }>("signalbox://radar");
    expect(first).toMatchObject({ conflicting_pairs: 0 });
    expect(first.pairs).toHaveLength(1);
    await harness.client.subscribeResource({ uri: "signalbox://radar" });

    repo.commit({ "app/shared.py": "ONE\n2\n3\n4\n5\n6\n" }, "one", w1);
    repo.commit({ "app/shared.py": "uno\n2\n3\n4\n5\n6\n" }, "two", w2);
    const messages = async (agent: string) =>
      (await harness.ok<{ items: { kind: string }[] }>("get_inbox", { agent_id: agent })).items.filter((m) => m.kind === "merge_conflict").length;
    await until("the poll records the conflict and tells c1", async () => (await messages("c1")) === 1);
    await until("subscribers hear of the new matrix", () => updates.includes("signalbox://radar"));
    const now = await harness.readJson<{ conflicting_pairs: number; pairs: { conflicts: { path: string }[] }[] }>("signalbox://radar");
    expect(now.conflicting_pairs).toBe(1);
    expect(now.pairs[0]?.conflicts.map((c) => c.path)).toEqual(["app/shared.py"]);
    expect(await messages("c2")).toBe(1);

    // Heads that do not move: the stored matrix stays as it is (no recompute, no new message).
    const refreshed = await harness.ctx.radar.refresh();
    expect(refreshed?.recomputed).toBe(false);
    expect(await messages("c1")).toBe(1);
  });
});

describe("hooks in worktrees", () => {
  it("the PreToolUse hook in worktree B denies an edit, by absolute path in worktree A, of a file locked from A", async () => {
    r = makeRepo({ files: { "app/a.py": "a\n" } });
    const wtB = r.worktree("wt-b", "feature/b");
    h = await connect({ root: r.dir, storeDir: undefined, radarPollMs: 0 });
    expect((await h.ok<{ granted: boolean }>("acquire_lock", { agent_id: "coder-a", paths: ["app/a.py"], mode: "write" })).granted).toBe(true);
    const input = (file: string) =>
      JSON.stringify({ session_id: "s", transcript_path: "/dev/null", cwd: wtB, hook_event_name: "PreToolUse", tool_name: "Edit", tool_input: { file_path: file }, tool_use_id: "t" });
    const env: NodeJS.ProcessEnv = { ...process.env, SIGNALBOX_AGENT_ID: "coder-b" };
    delete env.SIGNALBOX_DB;
    delete env.SIGNALBOX_ROOT;
    for (const file of [path.join(r.dir, "app/a.py"), path.join(wtB, "app/a.py")]) {
      const out = await runClaudePreToolUse(input(file), { env });
      expect(out.exitCode).toBe(0);
      expect(JSON.parse(out.stdout).hookSpecificOutput.permissionDecision).toBe("deny");
    }
    fs.writeFileSync(path.join(wtB, "free.py"), "");
    expect((await runClaudePreToolUse(input(path.join(wtB, "free.py")), { env })).stdout).toBe("");
  });
});
