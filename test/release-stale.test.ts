/**
 * release_lock by paths after the caller's lease lapsed: the caller is told
 * its own lock is stale (the promise of the lock API), never that the key
 * "belongs to" whoever took it since; the new holder's lock is untouched.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { manualClock, type ManualClock } from "../src/store/clock.js";
import { connect, type Harness } from "./helpers/client.js";

interface Released {
  released: { key: string }[];
  stale: { key: string; lock_id: string; status: string }[];
  not_held: string[];
}

let h: Harness;
let clock: ManualClock;
beforeEach(async () => {
  clock = manualClock();
  h = await connect({ clock });
});
afterEach(async () => {
  await h.close();
});

describe("release_lock by paths of a lapsed lock", () => {
  it("answers stale for the caller's own lock after another agent took the key", async () => {
    const a = await h.ok<{ granted: boolean; locks: { lock_id: string }[] }>("acquire_lock", { agent_id: "alice", paths: ["src/a.ts"], mode: "write", lease_ms: 1000 });
    clock.advance(1500);
    const b = await h.ok<{ granted: boolean; locks: { lock_id: string }[] }>("acquire_lock", { agent_id: "bob", paths: ["src/a.ts"], mode: "write" });
    expect(b.granted).toBe(true);
    const r = await h.ok<Released>("release_lock", { agent_id: "alice", paths: ["src/a.ts"] });
    expect(r).toEqual({ released: [], stale: [{ key: "src/a.ts", lock_id: a.locks[0]!.lock_id, status: "expired" }], not_held: [] });
    const still = await h.ok<{ valid: boolean }>("verify_lock", { lock_id: b.locks[0]!.lock_id, fencing_token: Number(b.locks[0]!.lock_id.split(".")[0]) });
    expect(still.valid).toBe(true);
    // Said once: a second release of the same path has nothing of alice's left.
    expect(await h.fails("release_lock", { agent_id: "alice", paths: ["src/a.ts"] })).toMatch(/bob/);
  });

  it("stays silent on the correct sequence: a live lock is released, a path never held is not_held", async () => {
    await h.ok("acquire_lock", { agent_id: "alice", paths: ["src/a.ts"], mode: "write" });
    expect(await h.ok<Released>("release_lock", { agent_id: "alice", paths: ["src/a.ts", "src/b.ts"] })).toMatchObject({ released: [{ key: "src/a.ts" }], stale: [], not_held: ["src/b.ts"] });
    expect(await h.ok<Released>("release_lock", { agent_id: "alice", paths: ["src/a.ts"] })).toMatchObject({ stale: [], not_held: ["src/a.ts"] });
  });
});
