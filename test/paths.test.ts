import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ancestorDirs, keyKind, keysOverlap, normalizeKey, normalizeKeys } from "../src/paths.js";

const ROOT = "/repo/project";

describe("normalizeKey", () => {
  it.each([
    ["app/actions/auth.ts", "app/actions/auth.ts"],
    ["./app//actions/./auth.ts", "app/actions/auth.ts"],
    ["app\\actions\\auth.ts", "app/actions/auth.ts"],
    ["app/actions/", "app/actions/"],
    ["app/actions/.", "app/actions/"],
    ["app/x/../actions/auth.ts", "app/actions/auth.ts"],
    ["/repo/project/middleware.ts", "middleware.ts"],
    ["/repo/project/app/", "app/"],
    ["/repo/project/..hidden.ts", "..hidden.ts"],
    ["..hidden/x.ts", "..hidden/x.ts"],
    ["  lib/a.ts  ", "lib/a.ts"],
    ["table:profiles", "table:profiles"],
    ["resource:supabase_auth", "resource:supabase_auth"],
  ])("%s -> %s", (raw, key) => {
    expect(normalizeKey(raw, ROOT)).toBe(key);
  });

  it("composes Unicode to NFC so two spellings are one key", () => {
    const decomposed = "cafe\u0301.ts";
    const composed = "caf\u00e9.ts";
    expect(normalizeKey(decomposed, ROOT)).toBe(composed);
  });

  it.each([
    ["../outside.ts", /leaves the project root/],
    ["app/../../outside.ts", /leaves the project root/],
    ["..", /leaves the project root/],
    ["/etc/passwd", /outside the project root/],
    ["/repo/project-evil/x.ts", /outside the project root/],
    ["a\0b.ts", /NUL/],
    ["", /empty/],
    ["   ", /empty/],
    [".", /project root itself/],
    ["./", /project root itself/],
    ["/repo/project", /project root itself/],
    ["table:", /needs a name/],
    ["resource:  ", /needs a name/],
    [`${"a".repeat(256)}.ts`, /component/],
    [`${"abcdefgh/".repeat(120)}x.ts`, /longer than 1024/],
  ])("refuses %j", (raw, why) => {
    expect(() => normalizeKey(raw, ROOT, "paths[3]")).toThrow(why);
    expect(() => normalizeKey(raw, ROOT, "paths[3]")).toThrow(/^paths\[3\]: /);
  });

  it("names the index of the bad entry in a list and drops duplicates", () => {
    expect(normalizeKeys(["a.ts", "./a.ts", "b/"], ROOT)).toEqual(["a.ts", "b/"]);
    expect(() => normalizeKeys(["a.ts", "../b"], ROOT, "writes")).toThrow(/^writes\[1\]/);
  });

  it("never produces a key that leaves the root (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "..", ".", "", "c.ts"), { maxLength: 8 }), (parts) => {
        const raw = parts.join("/");
        let key: string;
        try {
          key = normalizeKey(raw, ROOT);
        } catch {
          return true;
        }
        return !key.startsWith("..") && !key.startsWith("/") && !key.includes("//") && !key.split("/").includes("..");
      }),
    );
  });
});

describe("overlap", () => {
  it("a directory covers every key below it, not its siblings", () => {
    expect(keysOverlap("app/", "app/x.ts")).toBe(true);
    expect(keysOverlap("app/x/y.ts", "app/")).toBe(true);
    expect(keysOverlap("app/", "app/")).toBe(true);
    expect(keysOverlap("app/", "apple.ts")).toBe(false);
    expect(keysOverlap("app/x.ts", "app/y.ts")).toBe(false);
    expect(keysOverlap("table:app", "app/")).toBe(false);
  });

  it("lists ancestor directories nearest last", () => {
    expect(ancestorDirs("a/b/c.ts")).toEqual(["a/", "a/b/"]);
    expect(ancestorDirs("a/b/")).toEqual(["a/"]);
    expect(ancestorDirs("top.ts")).toEqual([]);
    expect(ancestorDirs("table:x")).toEqual([]);
  });

  it("classifies keys", () => {
    expect(["a.ts", "a/", "table:t", "resource:r"].map(keyKind)).toEqual(["file", "dir", "table", "resource"]);
  });
});
