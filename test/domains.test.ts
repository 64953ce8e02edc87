import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig, type Config } from "../src/runtime/config.js";
import { DomainMap, ROOT_DOMAIN } from "../src/analysis/domains.js";

const fastapiConfig = (): Config =>
  parseConfig(JSON.parse(fs.readFileSync(new URL("../examples/fastapi-template.signalbox.json", import.meta.url), "utf8")));

/** No config rules and the well-known defaults off: only the layout decides. */
const bareConfig = (): Config => parseConfig({ defaults: { migrations: false, lockfiles: false, contracts: false } });

describe("DomainMap without rules (every top-level folder is a domain)", () => {
  const map = new DomainMap(bareConfig());

  it("uses the top-level folder, and (root) for files in the root", () => {
    expect(map.domainOf("app/actions/auth.ts")).toBe("app");
    expect(map.domainOf("components/ProfileForm.tsx")).toBe("components");
    expect(map.domainOf("middleware.ts")).toBe(ROOT_DOMAIN);
    expect(map.domainOf(".gitignore")).toBe(ROOT_DOMAIN);
  });

  it("gives directory keys the domain of their top folder", () => {
    expect(map.domainOf("app/actions/")).toBe("app");
    expect(map.domainOf("app/")).toBe("app");
    expect(map.domainsOf("app/actions/")).toEqual(["app"]);
  });

  it("gives tables and resources no domain and no tags", () => {
    expect(map.domainOf("table:profiles")).toBeUndefined();
    expect(map.domainOf("resource:supabase_auth")).toBeUndefined();
    expect(map.domainsOf("table:profiles")).toEqual([]);
    expect(map.tagsOf("resource:supabase_auth")).toEqual([]);
  });

  it("has no serialized domains and no tags", () => {
    expect(map.isSerialized("app")).toBe(false);
    expect(map.tagsOf("supabase/migrations/001.sql")).toEqual([]);
    expect(map.hasDomainRules).toBe(false);
  });
});

describe("DomainMap's well-known defaults (no config)", () => {
  const map = new DomainMap(defaultConfig());
  const migrations = [
    "backend/app/alembic/versions/1a2b_add_users.py",
    "shop/migrations/0007_users.py",
    "db/migrate/20240101000000_create_users.rb",
    "src/main/resources/db/migration/V7__users.sql",
    "prisma/migrations/20240101_init/migration.sql",
    "supabase/migrations/002_posts.sql",
    "migrations/20240101_users.js",
    "db/migrations/0007_users.sql",
  ];

  it("puts the migration folders of the common stacks in the serialized domain migrations, tagged migration", () => {
    for (const file of migrations) {
      expect(map.domainOf(file), file).toBe("migrations");
      expect(map.tagsOf(file), file).toEqual(["migration"]);
    }
    expect(map.isSerialized("migrations")).toBe(true);
    expect(map.tagsOf("db/migrations/")).toEqual(["migration"]);
    expect(map.domainOf("db/schema.sql")).toBe("db");
    expect(map.tagsOf("app/models/user.py")).toEqual([]);
  });

  it("puts every lockfile in the serialized domain lockfiles, in the root and in sub-projects", () => {
    for (const file of ["package-lock.json", "web/pnpm-lock.yaml", "yarn.lock", "api/poetry.lock", "uv.lock", "Cargo.lock", "go.sum"]) {
      expect(map.domainOf(file), file).toBe("lockfiles");
      expect(map.tagsOf(file), file).toEqual([]);
    }
    expect(map.isSerialized("lockfiles")).toBe(true);
    expect(map.domainOf("package.json")).toBe(ROOT_DOMAIN);
  });

  it("tags API contracts and generated code api_contract, leaving their domain to the layout", () => {
    for (const file of ["openapi.json", "api/openapi.yaml", "docs/swagger.yml", "web/src/generated/client.ts", "web/__generated__/types.ts", "web/src/api.gen.ts"]) {
      expect(map.tagsOf(file), file).toEqual(["api_contract"]);
    }
    expect(map.domainOf("web/src/generated/client.ts")).toBe("web");
    expect(map.tagsOf("web/src/client.ts")).toEqual([]);
  });

  it("lets the config turn each group off", () => {
    const off = (group: "migrations" | "lockfiles" | "contracts") => new DomainMap(parseConfig({ defaults: { [group]: false } }));
    expect(off("migrations").domainOf("db/migrations/0007_users.sql")).toBe("db");
    expect(off("migrations").tagsOf("db/migrations/0007_users.sql")).toEqual([]);
    expect(off("migrations").isSerialized("migrations")).toBe(false);
    expect(off("migrations").domainOf("yarn.lock")).toBe("lockfiles");
    expect(off("lockfiles").domainOf("yarn.lock")).toBe(ROOT_DOMAIN);
    expect(off("lockfiles").tagsOf("db/migrations/0007_users.sql")).toEqual(["migration"]);
    expect(off("contracts").tagsOf("openapi.json")).toEqual([]);
    expect(off("contracts").domainOf("db/migrations/0007_users.sql")).toBe("migrations");
  });

  it("lets a configured rule decide the domain first, and adds the well-known tag beside the configured ones", () => {
    const map = new DomainMap(
      parseConfig({
        domains: [{ pattern: "backend/**", domain: "backend" }],
        integration_points: [{ pattern: "backend/app/alembic/**", tag: "alembic" }],
      }),
    );
    expect(map.domainOf("backend/app/alembic/versions/1a2b.py")).toBe("backend");
    expect(map.tagsOf("backend/app/alembic/versions/1a2b.py")).toEqual(["alembic", "migration"]);
    expect(() => parseConfig({ defaults: { migration: false } })).toThrow(/defaults/);
    expect(() => parseConfig({ defaults: { lockfiles: "no" } })).toThrow(/defaults\.lockfiles/);
  });
});

describe("DomainMap with the fastapi-template config", () => {
  const map = new DomainMap(fastapiConfig());

  it("lets an exact file win over the globs", () => {
    expect(map.domainOf("backend/app/core/security.py")).toBe("resilience");
    expect(map.domainOf("backend/app/models.py")).toBe("platform");
    expect(map.domainOf("backend/app/core/config.py")).toBe("engine");
  });

  it("uses the first matching glob in config order", () => {
    expect(map.domainOf("backend/app/alembic/versions/1a2b_add.py")).toBe("migrations");
    expect(map.domainOf("backend/app/api/routes/users.py")).toBe("platform");
    expect(map.domainOf("frontend/tests/login.spec.ts")).toBe("quality");
    expect(map.domainOf("frontend/src/main.tsx")).toBe("frontend");
    // `frontend/**` comes before `**/*.md`.
    expect(map.domainOf("frontend/README.md")).toBe("frontend");
    expect(map.domainOf("docs/guide.md")).toBe("docs");
    expect(map.domainOf("release-notes.md")).toBe("docs");
  });

  it("matches dot folders (picomatch dot: true)", () => {
    expect(map.domainOf(".github/workflows/test.yml")).toBe("ops");
  });

  it("falls back to the top-level folder when no rule matches", () => {
    expect(map.domainOf("scripts/test.sh")).toBe("scripts");
    expect(map.domainOf("LICENSE")).toBe(ROOT_DOMAIN);
    expect(map.domainOf("{{cookiecutter.project_slug}}/backend/app/main.py")).toBe("{{cookiecutter.project_slug}}");
  });

  it("knows the serialized domains", () => {
    expect(map.isSerialized("migrations")).toBe(true);
    expect(map.isSerialized("engine")).toBe(false);
    expect(map.isSerialized("nope")).toBe(false);
  });

  it("derives integration tags from every matching pattern", () => {
    expect(map.tagsOf("backend/app/alembic/versions/1a2b_add.py")).toEqual(["migration"]);
    expect(map.tagsOf("frontend/src/client/sdk.gen.ts")).toEqual(["api_contract"]);
    expect(map.tagsOf("backend/app/models.py")).toEqual(["model_change"]);
    expect(map.tagsOf("backend/app/crud.py")).toEqual([]);
  });

  it("matches a directory key as a path inside it, plus the rules lying inside it", () => {
    expect(map.domainOf("backend/app/")).toBe("engine");
    expect(map.domainsOf("backend/app/")).toEqual(["engine", "resilience", "migrations", "platform"]);
    expect(map.tagsOf("backend/app/")).toEqual(["migration", "model_change", "auth_change"]);
    expect(map.domainOf("backend/app/alembic/")).toBe("migrations");
    expect(map.domainOf("frontend/")).toBe("frontend");
    expect(map.tagsOf("frontend/src/")).toEqual(["api_contract"]);
    expect(map.tagsOf("frontend/src/client/")).toEqual(["api_contract"]);
    expect(map.domainOf("scripts/")).toBe("scripts");
  });

  it("caches per key (same answer object on the second call)", () => {
    const first = map.domainsOf("backend/app/");
    expect(map.domainsOf("backend/app/")).toBe(first);
    const tags = map.tagsOf("backend/app/models.py");
    expect(map.tagsOf("backend/app/models.py")).toBe(tags);
  });
});

describe("DomainMap precedence details", () => {
  it("prefers an exact file even when it is listed after a matching glob", () => {
    const map = new DomainMap(
      parseConfig({
        domains: [
          { pattern: "src/**", domain: "core" },
          { pattern: "src/special.ts", domain: "special" },
        ],
      }),
    );
    expect(map.domainOf("src/special.ts")).toBe("special");
    expect(map.domainOf("src/other.ts")).toBe("core");
  });

  it("treats a literal pattern ending in / as covering its folder", () => {
    const map = new DomainMap(parseConfig({ domains: [{ pattern: "./db/migrations/", domain: "db", parallel: "none" }] }));
    expect(map.domainOf("db/migrations/001.sql")).toBe("db");
    expect(map.domainOf("db/migrations/")).toBe("db");
    expect(map.isSerialized("db")).toBe(true);
    // Unmatched: the top folder, which is a plain domain name (here the same "db").
    expect(map.domainOf("db/seed.sql")).toBe("db");
    expect(map.domainOf("web/app.ts")).toBe("web");
  });

  it("dedupes tags of several matching rules and keeps config order", () => {
    const map = new DomainMap(
      parseConfig({
        integration_points: [
          { pattern: "api/**", tag: "api_contract" },
          { pattern: "api/schema.graphql", tag: "schema" },
          { pattern: "**/*.graphql", tag: "api_contract" },
        ],
      }),
    );
    expect(map.tagsOf("api/schema.graphql")).toEqual(["api_contract", "schema"]);
    expect(map.tagsOf("web/x.graphql")).toEqual(["api_contract"]);
    expect(map.tagsOf("api/")).toEqual(["api_contract", "schema"]);
  });

  it("names the rule whose glob picomatch refuses", () => {
    const huge = `${"a".repeat(70_000)}/**`;
    expect(() => new DomainMap(parseConfig({ integration_points: [{ pattern: "ok/**", tag: "t" }, { pattern: huge, tag: "t" }] }))).toThrow(
      /^integration_points\[1\]\.pattern: invalid glob/,
    );
  });
});
