import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultConfig, parseConfig, type Config } from "../src/config.js";
import { DomainMap, ROOT_DOMAIN } from "../src/domains.js";

const fastapiConfig = (): Config =>
  parseConfig(JSON.parse(fs.readFileSync(new URL("../examples/fastapi-template.signalbox.json", import.meta.url), "utf8")));

describe("DomainMap without rules (every top-level folder is a domain)", () => {
  const map = new DomainMap(defaultConfig());

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
