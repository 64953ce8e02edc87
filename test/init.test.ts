/**
 * `signalbox init` (src/cli/init.ts, src/init/): a config inferred from a
 * real git repository, every rule printed with its reason, never overwriting
 * a config without --force, and touching nothing else in the repository.
 * The written config then changes what check_parallel says.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { DomainMap } from "../src/analysis/domains.js";
import { inferConfig } from "../src/init/infer.js";
import { parseLog } from "../src/init/scan.js";
import { checkParallel } from "../src/analysis/parallel.js";
import { makeRepo, type TempRepo } from "./helpers/git-repo.js";

const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
let repo: TempRepo | undefined;
afterEach(() => {
  repo?.cleanup();
  repo = undefined;
});

/** A repository of several stacks, and a history where two files of two domains always change together. */
function stackRepo(): TempRepo {
  const r = makeRepo({
    files: {
      "README.md": "x",
      "backend/app/api.py": "1",
      "backend/alembic/versions/001_init.py": "1",
      "shop/migrations/0001_initial.py": "1",
      "db/migrate/20240101_create_users.rb": "1",
      "package-lock.json": "{}",
      "frontend/yarn.lock": "",
      "frontend/src/client.ts": "1",
      "frontend/src/generated/api.ts": "1",
      "openapi.yaml": "openapi: 3.1.0",
    },
  });
  for (let i = 2; i <= 4; i++) r.commit({ "backend/app/api.py": String(i), "frontend/src/client.ts": String(i) }, `api change ${i}`);
  r.commit({ "README.md": "y" }, "docs");
  return r;
}

const run = (root: string, args: string[]) => spawnSync(process.execPath, [CLI, "--root", root, "init", ...args], { encoding: "utf8" });

describe("signalbox init", () => {
  it("infers migrations, lockfiles, contracts, files that change together and the layout, each with its reason, and writes a config the server reads", () => {
    repo = stackRepo();
    const before = repo.fingerprint();
    const r = run(repo.dir, []);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("domain migrations (serialized)  backend/alembic/versions/**  - 1 migration file (e.g. backend/alembic/versions/001_init.py)");
    expect(r.stdout).toContain("domain migrations (serialized)  shop/migrations/**");
    expect(r.stdout).toContain("domain migrations (serialized)  db/migrate/**");
    expect(r.stdout).toContain("domain lockfiles (serialized)  package-lock.json  - npm lockfile");
    expect(r.stdout).toContain("domain lockfiles (serialized)  frontend/yarn.lock  - yarn lockfile");
    expect(r.stdout).toContain("integration point api_contract  openapi.yaml  - API contract document");
    expect(r.stdout).toContain("integration point api_contract  frontend/src/generated/**");
    expect(r.stdout).toContain("domain cochange-1  backend/app/api.py  - changes with frontend/src/client.ts (up to 4 commits together, across domains)");
    expect(r.stdout).toContain("domain backend  backend/**  - top-level folder");
    const config = parseConfig(JSON.parse(fs.readFileSync(path.join(repo.dir, "signalbox.config.json"), "utf8")));
    expect(config.domains.find((d) => d.pattern === "backend/alembic/versions/**")).toEqual({ pattern: "backend/alembic/versions/**", domain: "migrations", parallel: "none" });
    // Nothing but the new config file changed in the repository.
    fs.rmSync(path.join(repo.dir, "signalbox.config.json"));
    expect(repo.fingerprint()).toBe(before);

    // With the written config, two new migrations in one folder no longer run in parallel.
    const domains = new DomainMap(config);
    const report = checkParallel(
      [
        { id: "a", writes: ["backend/alembic/versions/002_a.py"] },
        { id: "b", writes: ["backend/alembic/versions/003_b.py"] },
      ],
      { root: repo.dir, domains },
    );
    expect(report.verdict).not.toBe("PARALLEL");
  });

  it("refuses to overwrite a config without --force, replaces it with --force, and writes nothing on --dry-run", () => {
    repo = stackRepo();
    const file = path.join(repo.dir, "signalbox.config.json");
    fs.writeFileSync(file, '{"domains": []}');
    const refused = run(repo.dir, []);
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    expect(refused.stderr).toContain("signalbox.config.json: exists at");
    expect(fs.readFileSync(file, "utf8")).toBe('{"domains": []}');
    const dry = run(repo.dir, ["--dry-run"]);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain("dry run: signalbox.config.json not written");
    expect(fs.readFileSync(file, "utf8")).toBe('{"domains": []}');
    expect(run(repo.dir, ["--force"]).status).toBe(0);
    expect(JSON.parse(fs.readFileSync(file, "utf8")).domains.length).toBeGreaterThan(3);
  });
});

describe("inferConfig", () => {
  it("leaves a busy area to the layout instead of making it one domain, and ignores files that are gone", () => {
    const files = Array.from({ length: 12 }, (_, i) => `m${i}/f.ts`);
    const commits = Array.from({ length: 5 }, () => [...files, "gone/old.ts"]);
    const inferred = inferConfig(files, commits);
    expect(inferred.domains.filter((d) => d.domain.startsWith("cochange-"))).toEqual([]);
    expect(inferred.domains.map((d) => d.pattern)).not.toContain("gone/old.ts");
  });

  it("splits a folder holding most of the repository into its sub-projects", () => {
    const files = ["packages/a/x.ts", "packages/a/y.ts", "packages/b/x.ts", "tools/t.ts"];
    const patterns = inferConfig(files, []).domains.map((d) => `${d.pattern} -> ${d.domain}`);
    expect(patterns).toEqual(["packages/a/** -> packages/a", "packages/b/** -> packages/b", "packages/** -> packages", "tools/** -> tools"]);
  });

  it("parses git log --name-only -z output into one file list per commit", () => {
    expect(parseLog("\x01\0a.ts\0b.ts\0\x01\0c.ts\0")).toEqual([["a.ts", "b.ts"], ["c.ts"]]);
  });
});
