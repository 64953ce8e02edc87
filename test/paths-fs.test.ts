/**
 * KeyResolver against a real filesystem (DESIGN.md "Resource key": keys that
 * cannot escape the root or alias each other): real temp dirs, real symlinks.
 */
import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyError, KeyResolver, keysOverlap, MAX_SYMLINK_HOPS } from "../src/paths.js";
import { tempDir } from "./helpers/store.js";

const NFD_CAFE = "cafe\u0301";
const NFC_CAFE = "caf\u00e9";

/**
 * base/
 *   outside/secret.txt
 *   root/                      the project root (realRoot)
 *     src/x.ts  src/lib/a.ts  Foo.ts
 *     lib -> src/lib           chain -> lib            srcdir -> src
 *     rootlink -> .            dangling-in -> src/new.ts
 *     out-file -> ../outside/secret.txt                 out-dir -> ../outside
 *     out-abs -> <base>/outside (absolute)               dangling-out -> ../outside/missing.txt
 *     dangling-out-abs -> /nonexistent-signalbox/x      dangling-out-dir -> ../gone/
 *     loop-a -> loop-b, loop-b -> loop-a, self -> self
 *     café (NFD name) -> ../outside                     nfd-dir-link -> café-dir (NFD name, a dir)
 *     back-in -> ../root/src   via-root-link -> ../root-link/src/lib (targets that pass outside and come back)
 *   root-link -> root          base-link -> base (another spelling of the root's parent)
 */
let base: string;
let cleanup: () => void;
let realRoot: string;
let rootLink: string;

beforeAll(() => {
  ({ dir: base, cleanup } = tempDir("signalbox-paths-"));
  base = fs.realpathSync.native(base);
  realRoot = path.join(base, "root");
  rootLink = path.join(base, "root-link");
  fs.mkdirSync(path.join(base, "outside"));
  fs.writeFileSync(path.join(base, "outside", "secret.txt"), "x");
  fs.mkdirSync(path.join(realRoot, "src", "lib"), { recursive: true });
  fs.writeFileSync(path.join(realRoot, "src", "x.ts"), "");
  fs.writeFileSync(path.join(realRoot, "src", "lib", "a.ts"), "");
  fs.writeFileSync(path.join(realRoot, "Foo.ts"), "");
  const links: [string, string][] = [
    ["lib", "src/lib"],
    ["chain", "lib"],
    ["srcdir", "src"],
    ["rootlink", "."],
    ["dangling-in", "src/new.ts"],
    ["out-file", "../outside/secret.txt"],
    ["out-dir", "../outside"],
    ["out-abs", path.join(base, "outside")],
    ["dangling-out", "../outside/missing.txt"],
    ["dangling-out-abs", "/nonexistent-signalbox/x"],
    ["dangling-out-dir", "../gone/"],
    ["loop-a", "loop-b"],
    ["loop-b", "loop-a"],
    ["self", "self"],
    [NFD_CAFE, "../outside"],
    ["nfd-dir-link", `${NFD_CAFE}-dir`],
    ["back-in", "../root/src"],
    ["via-root-link", "../root-link/src/lib"],
  ];
  for (const [name, target] of links) fs.symlinkSync(target, path.join(realRoot, name));
  fs.mkdirSync(path.join(realRoot, `${NFD_CAFE}-dir`));
  fs.symlinkSync("root", rootLink);
  fs.symlinkSync(base, path.join(base, "..", `${path.basename(base)}-link`));
});

afterAll(() => {
  fs.rmSync(path.join(base, "..", `${path.basename(base)}-link`), { force: true });
  cleanup();
});

function resolver(options: ConstructorParameters<typeof KeyResolver>[1] = { caseSensitive: true }): KeyResolver {
  return new KeyResolver(rootLink, options);
}

/** The KeyError thrown for `raw` under `field`; fails the test when none is thrown. */
function refusal(raw: string, field = "paths[4]", r = resolver()): KeyError {
  try {
    r.normalize(raw, field);
  } catch (err) {
    expect(err).toBeInstanceOf(KeyError);
    expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
    return err as KeyError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

describe("KeyResolver: roots", () => {
  it("keeps the root as given and its real path", () => {
    const r = resolver();
    expect(r.root).toBe(rootLink);
    expect(r.realRoot).toBe(realRoot);
  });

  it("accepts absolute paths under either spelling of the root, and a third one found on disk", () => {
    const r = resolver();
    const alsoBase = path.join(base, "..", `${path.basename(base)}-link`);
    for (const abs of [
      `${rootLink}/src/x.ts`,
      `${realRoot}/src/x.ts`,
      `${realRoot}//./src/x.ts`,
      `${rootLink}/../root/src/x.ts`,
      `${alsoBase}/root/src/x.ts`,
      `${alsoBase}/root-link/src/x.ts`,
    ]) {
      expect(r.normalize(abs, "paths[0]")).toBe("src/x.ts");
    }
    expect(r.normalize(`${rootLink}/src/`, "paths[0]")).toBe("src/");
  });

  it("refuses absolute paths outside the root, naming the field", () => {
    for (const abs of ["/etc/passwd", path.join(base, "outside", "secret.txt"), `${realRoot}-evil/x.ts`, `${rootLink}/../outside/secret.txt`]) {
      expect(refusal(abs).message).toMatch(/outside the project root/);
    }
    expect(refusal(`${rootLink}/`).message).toMatch(/project root itself/);
    expect(refusal(realRoot).message).toMatch(/project root itself/);
  });

  it("refuses a root that does not exist", () => {
    expect(() => new KeyResolver(path.join(base, "nope"))).toThrow(/^root: /);
  });
});

describe("KeyResolver: lexical rules", () => {
  it.each([
    ["../x", /leaves the project root/],
    ["a/../../x", /leaves the project root/],
    ["a/./../..", /leaves the project root/],
    ["src/../../root/src/x.ts", /leaves the project root/],
    ["a\0b.ts", /NUL/],
    ["", /empty/],
    ["   \t ", /empty/],
    [".", /project root itself/],
    ["src/..", /project root itself/],
    [`${"a".repeat(256)}.ts`, /component is longer than 255/],
    [`src/${"abcdefgh/".repeat(120)}x.ts`, /longer than 1024/],
    ["table:", /needs a name/],
  ])("refuses %j", (raw, why) => {
    expect(refusal(raw, "writes[7]").message).toMatch(why);
  });

  it("normalises like the lexical rules where no symlink is involved", () => {
    const r = resolver();
    expect(r.normalize("./src//lib/./a.ts", "p")).toBe("src/lib/a.ts");
    expect(r.normalize("src\\lib\\a.ts", "p")).toBe("src/lib/a.ts");
    expect(r.normalize("  src/x.ts ", "p")).toBe("src/x.ts");
    expect(r.normalize("src/new/deeper/", "p")).toBe("src/new/deeper/");
    expect(r.normalize("src/new/../x.ts", "p")).toBe("src/x.ts");
    expect(r.normalize("src/x.ts/below", "p")).toBe("src/x.ts/below");
    expect(r.normalize("table:Profiles", "p")).toBe("table:Profiles");
    expect(r.normalize("resource:Auth", "p")).toBe("resource:Auth");
  });

  it("composes Unicode to NFC: NFC and NFD spellings are one key", () => {
    const r = resolver();
    expect(r.normalize(`src/${NFD_CAFE}.ts`, "p")).toBe(`src/${NFC_CAFE}.ts`);
    expect(r.normalizeAll([`src/${NFD_CAFE}.ts`, `src/${NFC_CAFE}.ts`], "paths")).toEqual([`src/${NFC_CAFE}.ts`]);
  });

  it("names the index of the bad entry in a list", () => {
    const err = (() => {
      try {
        resolver().normalizeAll(["src/x.ts", "lib/a.ts", "out-file"], "paths");
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/^paths\[2\]: `out-file` resolves through a symlink/);
  });
});

describe("KeyResolver: symlinks", () => {
  it("gives a link inside the root the key of its target", () => {
    const r = resolver();
    expect(r.normalize("lib/a.ts", "p")).toBe("src/lib/a.ts");
    expect(r.normalize("chain/a.ts", "p")).toBe("src/lib/a.ts");
    expect(r.normalize("srcdir/lib/a.ts", "p")).toBe("src/lib/a.ts");
    expect(r.normalize("rootlink/src/x.ts", "p")).toBe("src/x.ts");
    expect(r.normalize("lib", "p")).toBe("src/lib/"); // a link to a folder names the folder
    expect(r.normalize("dangling-in", "p")).toBe("src/new.ts");
    expect(r.normalize("back-in/x.ts", "p")).toBe("src/x.ts");
    expect(r.normalize("via-root-link/a.ts", "p")).toBe("src/lib/a.ts");
    expect(r.normalizeAll(["lib/a.ts", "src/lib/a.ts", "chain/a.ts", `${rootLink}/lib/a.ts`], "paths")).toEqual(["src/lib/a.ts"]);
  });

  it("follows `..` after a link from the link's target, as the kernel does", () => {
    const r = resolver();
    expect(r.normalize("lib/../x.ts", "p")).toBe("src/x.ts");
    // The kernel agrees (string concatenation: path.join would collapse `..` by name).
    expect(fs.realpathSync.native(`${realRoot}/lib/../x.ts`)).toBe(path.join(realRoot, "src/x.ts"));
    expect(refusal("rootlink/../x").message).toMatch(/leaves the project root/);
  });

  it("keeps directory keys, and their overlap with the keys below, through links", () => {
    const r = resolver();
    const dir = r.normalize("srcdir/", "p");
    expect(dir).toBe("src/");
    expect(r.normalize("lib/", "p")).toBe("src/lib/");
    expect(r.normalize("srcdir/.", "p")).toBe("src/");
    expect(keysOverlap(dir, r.normalize("src/x.ts", "p"))).toBe(true);
    expect(keysOverlap(dir, r.normalize("lib/a.ts", "p"))).toBe(true);
    expect(keysOverlap(r.normalize("lib/", "p"), r.normalize("srcdir/lib/a.ts", "p"))).toBe(true);
    expect(keysOverlap(r.normalize("lib/", "p"), r.normalize("srcdir/x.ts", "p"))).toBe(false);
    expect(refusal("rootlink/").message).toMatch(/resolves to the project root itself/);
  });

  it.each([
    ["out-file", "outside/secret.txt"],
    ["out-dir/", "outside"],
    ["out-dir/secret.txt", "outside"],
    ["out-dir/new.ts", "outside"],
    ["out-abs/secret.txt", "outside"],
    ["src/../out-dir/../root/src/x.ts", "outside"],
    ["dangling-out", "outside/missing.txt"],
    ["dangling-out-dir/x.ts", "gone"],
  ])("refuses %j, a link leading outside the root", (raw, where) => {
    const err = refusal(raw, "paths[1]");
    expect(err.message).toContain(`\`${raw}\` resolves through a symlink to ${path.join(base, where)}`);
    expect(err.message).toMatch(/outside the project root/);
  });

  it("refuses a dangling absolute link outside the root", () => {
    expect(refusal("dangling-out-abs", "paths[0]").message).toContain("resolves through a symlink to /nonexistent-signalbox/x, outside");
  });

  it("looks names up with the caller's bytes: an NFD link leading outside is refused", () => {
    expect(refusal(`${NFD_CAFE}/secret.txt`).message).toMatch(/resolves through a symlink to .*outside/);
    expect(resolver().normalize("nfd-dir-link/a.ts", "p")).toBe(`${NFC_CAFE}-dir/a.ts`);
  });

  it("refuses symlink loops (ELOOP)", () => {
    for (const raw of ["loop-a", "self/x.ts", "loop-b/"]) {
      expect(refusal(raw).message).toMatch(new RegExp(`more than ${MAX_SYMLINK_HOPS} symlinks .*ELOOP`));
    }
  });

  it("agrees with the kernel's realpath, or refuses (property)", () => {
    const r = resolver();
    const names = ["src", "lib", "chain", "srcdir", "rootlink", "back-in", "x.ts", "a.ts", "..", ".", "out-dir", "missing", "dangling-in"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 6 }), (parts) => {
        const raw = parts.join("/");
        let real: string | undefined;
        try {
          real = fs.realpathSync.native(`${rootLink}/${raw}`);
        } catch {
          real = undefined;
        }
        let key: string | undefined;
        try {
          key = r.normalize(raw, "p");
        } catch (err) {
          if (!(err instanceof KeyError)) throw err;
        }
        if (key !== undefined) {
          expect(key.startsWith("/") || key.split("/").includes("..")).toBe(false);
          // Where the kernel can resolve it, the key is its real path under the root.
          if (real !== undefined) expect(path.join(realRoot, key.replace(/\/$/, ""))).toBe(real);
        } else if (real !== undefined && real.startsWith(`${realRoot}/`)) {
          // Refused though the kernel lands inside: only the stricter lexical `..` rule may do that.
          expect(() => r.normalize(raw.replace(/[^/]+/g, (n) => (n === "." || n === ".." ? n : "d")), "p")).toThrow(KeyError);
        }
        if (real !== undefined && !real.startsWith(`${realRoot}/`)) expect(key).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });
});

describe("KeyResolver: case", () => {
  it("folds case on a case-insensitive root, never table or resource names", () => {
    const r = resolver({ caseSensitive: false });
    expect(r.caseInsensitive).toBe(true);
    expect(r.normalize("Foo.ts", "p")).toBe("foo.ts");
    expect(r.normalizeAll(["Foo.ts", "foo.ts", "FOO.TS", "SRC/Dir/"], "paths")).toEqual(["foo.ts", "src/dir/"]);
    expect(r.normalize(`${realRoot}/Foo.ts`, "p")).toBe("foo.ts");
    expect(r.normalize("table:Profiles", "p")).toBe("table:Profiles");
    expect(r.normalize("resource:Supabase_Auth", "p")).toBe("resource:Supabase_Auth");
  });

  it("keeps case on a case-sensitive root", () => {
    const r = resolver({ caseSensitive: true });
    expect(r.caseInsensitive).toBe(false);
    expect(r.normalizeAll(["Foo.ts", "foo.ts"], "paths")).toEqual(["Foo.ts", "foo.ts"]);
  });

  it("probes the root's filesystem by default, creating nothing", () => {
    const before = fs.readdirSync(realRoot).sort();
    const r = new KeyResolver(rootLink);
    expect(fs.readdirSync(realRoot).sort()).toEqual(before);
    // Ground truth: does the case-flipped name of an existing file find it?
    const truth = fs.existsSync(path.join(realRoot, "fOO.TS"));
    expect(r.caseInsensitive).toBe(truth);
    expect(r.normalizeAll(["Foo.ts", "foo.ts"], "paths").length).toBe(truth ? 1 : 2);
  });

  it("treats a root with nothing to probe as case-sensitive", () => {
    const bare = path.join(base, "1234");
    fs.mkdirSync(bare);
    expect(new KeyResolver(bare).caseInsensitive).toBe(false);
  });
});
