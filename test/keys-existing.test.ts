/**
 * What exists on disk decides a path key's kind: an existing folder named
 * without its trailing slash (`src`, or a symlink to a folder) is the folder
 * key covering everything below it, and a trailing slash after an existing
 * file names that file. Before, `src` was a file key, so a write lock on
 * `src` and one on `src/a.ts` were both granted. Two names of one file by
 * hard link are one key, in the server and in the hook.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openFileCheck } from "../src/hooks/file-check.js";
import { connect, type Harness } from "./helpers/client.js";

let h: Harness;
beforeEach(async () => {
  h = await connect();
  fs.mkdirSync(path.join(h.root, "src/lib"), { recursive: true });
  fs.writeFileSync(path.join(h.root, "src/a.ts"), "");
  fs.symlinkSync("src/lib", path.join(h.root, "lib"));
});
afterEach(async () => {
  await h.close();
});

describe("path keys follow what exists", () => {
  it("names an existing folder, or a link to one, as the folder key; a slash after an existing file names the file", () => {
    expect(h.ctx.keys.normalize("src", "p")).toBe("src/");
    expect(h.ctx.keys.normalize("lib", "p")).toBe("src/lib/");
    expect(h.ctx.keys.normalize("src/a.ts/", "p")).toBe("src/a.ts");
    expect(h.ctx.keys.normalize("src/new.ts", "p")).toBe("src/new.ts"); // missing: as written
    expect(h.ctx.keys.normalize("newdir/", "p")).toBe("newdir/");
  });

  it("refuses a file write lock below a folder locked by its bare name", async () => {
    const folder = await h.ok<{ granted: boolean; locks: { key: string }[] }>("acquire_lock", { agent_id: "alice", paths: ["src"], mode: "write" });
    expect(folder.locks.map((l) => l.key)).toEqual(["src/"]);
    const inside = await h.ok<{ granted: boolean }>("acquire_lock", { agent_id: "bob", paths: ["src/a.ts"], mode: "write" });
    expect(inside.granted).toBe(false);
    const viaLink = await h.ok<{ granted: boolean }>("acquire_lock", { agent_id: "bob", paths: ["lib"], mode: "write" });
    expect(viaLink.granted).toBe(false);
  });
});

describe("two names of one file by hard link are one key", () => {
  it("keys every name of a hard-linked file by the first name seen, across the server and the hook", async () => {
    fs.linkSync(path.join(h.root, "src/a.ts"), path.join(h.root, "b.ts"));
    const alice = await h.ok<{ granted: boolean; locks: { key: string }[] }>("acquire_lock", { agent_id: "alice", paths: ["src/a.ts"], mode: "write" });
    expect(alice.locks.map((l) => l.key)).toEqual(["src/a.ts"]);
    const bob = await h.ok<{ granted: boolean; conflicts: { key: string; holder: string }[] }>("acquire_lock", { agent_id: "bob", paths: ["b.ts"], mode: "write" });
    expect(bob.granted).toBe(false);
    expect(h.ctx.keys.normalize("b.ts", "p")).toBe("src/a.ts");
    // The hook reads the same record from the store, read-only.
    const check = await openFileCheck({ cwd: h.root, root: h.root, env: { SIGNALBOX_DB: h.ctx.store.dir } });
    try {
      const key = check!.keyOf(path.join(h.root, "b.ts"));
      expect(key).toBe("src/a.ts");
      expect(check!.locksCovering(key!).map((l) => l.agent_id)).toEqual(["alice"]);
    } finally {
      await check?.close();
    }
  });

  it("gives the name resolved first while the recorded one no longer leads to the file; a single name is its own key", () => {
    fs.linkSync(path.join(h.root, "src/a.ts"), path.join(h.root, "b.ts"));
    expect(h.ctx.keys.normalize("b.ts", "p")).toBe("b.ts");
    expect(h.ctx.keys.normalize("src/a.ts", "p")).toBe("b.ts");
    // b.ts now names another file: the record moves to the name being resolved.
    fs.rmSync(path.join(h.root, "b.ts"));
    fs.writeFileSync(path.join(h.root, "b.ts"), "other");
    fs.linkSync(path.join(h.root, "src/a.ts"), path.join(h.root, "c.ts"));
    expect(h.ctx.keys.normalize("c.ts", "p")).toBe("c.ts");
    expect(h.ctx.keys.normalize("src/a.ts", "p")).toBe("c.ts");
    expect(h.ctx.keys.normalize("b.ts", "p")).toBe("b.ts");
    fs.rmSync(path.join(h.root, "c.ts"));
    expect(h.ctx.keys.normalize("src/a.ts", "p")).toBe("src/a.ts");
  });
});
