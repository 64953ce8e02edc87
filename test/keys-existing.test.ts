/**
 * What exists on disk decides a path key's kind: an existing folder named
 * without its trailing slash (`src`, or a symlink to a folder) is the folder
 * key covering everything below it, and a trailing slash after an existing
 * file names that file. Before, `src` was a file key, so a write lock on
 * `src` and one on `src/a.ts` were both granted.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
