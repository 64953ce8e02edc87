/**
 * An agent polling a held key (acquire_lock with wait_ms 0 in a loop) used to
 * add one activity entry per refusal (about 384 bytes each) until the store
 * reached its quota and every agent's writes were refused. Repeated identical
 * refusals now fold into one entry with a count; a different refusal, or
 * anything else the agent does in between, starts a new entry.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listActivity } from "../src/log/activity.js";
import { connect, type Harness } from "./helpers/client.js";

let h: Harness;
beforeEach(async () => {
  h = await connect();
});
afterEach(async () => {
  await h.close();
});

const refusalsOf = (agent: string) => listActivity(h.ctx, { agent_id: agent, limit: 200 }).items.filter((a) => a.kind === "lock_refused");

describe("repeated refusals in the activity log", () => {
  it("fold 3,000 identical refused polls into one entry with a count, and the store barely grows", async () => {
    expect((await h.ctx.locks.acquire({ agent_id: "bob", keys: ["src/hot.ts"], mode: "write" })).granted).toBe(true);
    expect((await h.ctx.locks.acquire({ agent_id: "alice", keys: ["src/hot.ts"], mode: "write" })).granted).toBe(false);
    const before = h.ctx.store.usedBytes();
    for (let i = 1; i < 3000; i++) await h.ctx.locks.acquire({ agent_id: "alice", keys: ["src/hot.ts"], mode: "write" });
    const grown = h.ctx.store.usedBytes() - before;
    const entries = refusalsOf("alice");
    expect(entries).toHaveLength(1);
    expect(entries[0]?.data).toMatchObject({ count: 3000, reason: "conflict", keys: ["src/hot.ts"] });
    expect(entries[0]?.summary).toMatch(/\(x3000\)$/);
    expect(grown, `store grew ${grown} bytes`).toBeLessThan(64 * 1024);
  });

  it("keeps distinct refusals apart: other keys, another mode, or a grant in between start a new entry", async () => {
    await h.ctx.locks.acquire({ agent_id: "bob", keys: ["src/a.ts", "src/b.ts"], mode: "write" });
    const tryLock = (keys: string[], mode: "read" | "write" = "write") => h.ctx.locks.acquire({ agent_id: "alice", keys, mode });
    await tryLock(["src/a.ts"]);
    await tryLock(["src/b.ts"]);
    await tryLock(["src/b.ts"], "read");
    expect((await tryLock(["src/c.ts"])).granted).toBe(true);
    await tryLock(["src/b.ts"], "read");
    expect(refusalsOf("alice").map((a) => [a.data.keys, a.data.mode, a.data.count ?? 1])).toEqual([
      [["src/b.ts"], "read", 1],
      [["src/b.ts"], "read", 1],
      [["src/b.ts"], "write", 1],
      [["src/a.ts"], "write", 1],
    ]);
  });
});
