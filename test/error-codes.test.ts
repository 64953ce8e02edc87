/**
 * Tool errors carry a stable code and the field they are about in
 * `_meta["io.signalbox/error"]` (src/errors.ts), so a program never has to
 * match the message text. Through a real in-memory client.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { ERROR_META } from "../tools/register.js";
import { connect, type Harness } from "./helpers/client.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const codeOf = (r: CallToolResult) => {
  expect(r.isError).toBe(true);
  return (r._meta as Record<string, unknown> | undefined)?.[ERROR_META];
};

describe("error codes", () => {
  it("not_holder, invalid_argument, limit and not_permitted, each with its field", async () => {
    h = await connect({ config: parseConfig({ limits: { locks_per_agent: 2 }, roles: { orchestrators: ["boss"] } }) });
    const held = await h.ok<{ locks: { lock_id: string }[] }>("acquire_lock", { agent_id: "alice", paths: ["src/a.ts"], mode: "write" });
    expect(codeOf(await h.call("release_lock", { agent_id: "bob", lock_ids: [held.locks[0]!.lock_id] }))).toEqual({ code: "not_holder", field: "lock_ids" });
    expect(codeOf(await h.call("release_lock", { agent_id: "bob", paths: ["src/a.ts"] }))).toEqual({ code: "not_holder", field: "paths" });
    expect(codeOf(await h.call("acquire_lock", { agent_id: "bob", paths: ["../outside.ts"], mode: "write" }))).toEqual({ code: "invalid_argument", field: "paths[0]" });
    expect(codeOf(await h.call("acquire_lock", { agent_id: "bob", paths: ["a.ts"], mode: "write", feature_id: "F\0x" }))).toEqual({
      code: "invalid_argument",
      field: "feature_id",
    });
    expect(codeOf(await h.call("acquire_lock", { agent_id: "alice", paths: ["b.ts", "c.ts"], mode: "write" }))).toEqual({ code: "limit", field: "paths" });
    expect(codeOf(await h.call("break_lock", { agent_id: "alice", path: "src/a.ts", reason: "mine" }))).toEqual({ code: "not_permitted", field: "agent_id" });
    // The message is still the sentence naming the field.
    const r = await h.call("release_lock", { agent_id: "bob", paths: ["src/a.ts"] });
    expect((r.content as { text: string }[])[0]!.text).toMatch(/^paths: /);
  });

  it("not_found for an id that names nothing, invalid_state for a thing in the wrong state", async () => {
    h = await connect();
    expect(codeOf(await h.call("resolve_audit_signal", { signal_id: "sig-99", agent_id: "alice", resolution: "x" }))).toEqual({
      code: "not_found",
      field: "signal_id",
    });
    expect(codeOf(await h.call("complete_feature", { feature_id: "F9", agent_id: "alice" }))).toEqual({ code: "not_found", field: "feature_id" });
    await h.ok("start_feature", { feature_id: "F1", agent_id: "alice" });
    await h.ok("complete_feature", { feature_id: "F1", agent_id: "alice" });
    const twice = await h.call("complete_feature", { feature_id: "F1", agent_id: "alice" });
    expect(codeOf(twice)).toEqual({ code: "invalid_state", field: "feature_id" });
    expect((twice.content as { text: string }[])[0]!.text).toMatch(/^feature_id: "F1" is completed /);
    expect(codeOf(await h.call("start_feature", { feature_id: "F1", agent_id: "alice" }))).toEqual({ code: "invalid_state", field: "feature_id" });
  });

  it("the tools' own argument checks and git's answers carry codes too (no tool throws a plain Error: lint)", async () => {
    h = await connect();
    expect(codeOf(await h.call("release_lock", { agent_id: "alice" }))).toEqual({ code: "invalid_argument", field: "lock_ids" });
    expect(codeOf(await h.call("release_lock", { agent_id: "alice", all: false }))).toEqual({ code: "invalid_argument", field: "all" });
    expect(codeOf(await h.call("report_status", { agent_id: "alice", status: "working", estimated_completion: "soon" }))).toEqual({
      code: "invalid_argument",
      field: "estimated_completion",
    });
    // The harness's root is a plain folder, not a git repository.
    expect(codeOf(await h.call("start_feature", { feature_id: "F1", agent_id: "alice", branch: "feature/x" }))).toEqual({
      code: "not_a_repository",
      field: "branch",
    });
    expect(codeOf(await h.call("predict_conflicts", { agent_id: "alice" }))).toEqual({ code: "not_a_repository", field: null });
  });
});
