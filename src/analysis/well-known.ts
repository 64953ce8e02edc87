/**
 * Rules a project gets without writing them: the well-known paths of common
 * stacks. They apply after the config's own `domains` and
 * `integration_points` (so a configured rule for the same files decides the
 * domain first), and the config's `defaults` turns each group off.
 *
 * - `migrations`: migration folders are integration points (tag
 *   `migration`) in the serialized domain `migrations`
 *   (parallelism-framework.md, Level 1: `backend/alembic/* -> NONE
 *   (serialized)`; Level 3: "Database Migration ... ALL agents pause").
 *   Alembic `alembic/versions/`, Django `<app>/migrations/`, Rails
 *   `db/migrate/`, Flyway `db/migration/`, Prisma `prisma/migrations/`,
 *   Supabase `supabase/migrations/`, Knex and plain `migrations/`,
 *   `db/migrations/`.
 * - `lockfiles`: dependency lockfiles are the serialized domain `lockfiles`:
 *   two tasks that write lockfiles never run in parallel (an install
 *   rewrites one whole, and a repository's package managers share them).
 * - `contracts`: API contract documents (OpenAPI/Swagger) and generated
 *   code (`generated/`, `__generated__/`, `*.gen.ts`) are integration points
 *   tagged `api_contract` (Level 3: "API Contract Change").
 *
 * `signalbox init` (src/init/infer.ts) finds the same paths in a repository
 * and writes them into a config, one rule per folder or file it found.
 */
import type { Config, DomainRuleT, IntegrationRuleT } from "../runtime/config.js";

/** Globs of the folders that hold migrations (the files are below them). */
export const MIGRATION_FOLDERS = ["**/alembic/versions", "**/migrations", "**/db/migrate", "**/db/migration"] as const;

/** Dependency lockfile names and the package manager that writes each. */
export const LOCKFILES: Readonly<Record<string, string>> = Object.freeze({
  "package-lock.json": "npm",
  "pnpm-lock.yaml": "pnpm",
  "yarn.lock": "yarn",
  "poetry.lock": "Poetry",
  "uv.lock": "uv",
  "Cargo.lock": "Cargo",
  "go.sum": "Go modules",
});

/** Globs of API contract documents. */
export const CONTRACT_DOCUMENTS = ["**/openapi.{json,yaml,yml}", "**/swagger.{json,yaml,yml}"] as const;

/** Names of folders holding generated code. */
export const GENERATED_FOLDERS = ["generated", "__generated__"] as const;

/** Globs of generated source files outside such folders. */
export const GENERATED_FILES = ["**/*.gen.ts"] as const;

/** The domain of the well-known migration folders. */
export const MIGRATIONS_DOMAIN = "migrations";
/** The domain of the well-known lockfiles. */
export const LOCKFILES_DOMAIN = "lockfiles";
/** The tag of migrations. */
export const MIGRATION_TAG = "migration";
/** The tag of API contracts and generated code. */
export const CONTRACT_TAG = "api_contract";

const migrationGlobs = (): string[] => MIGRATION_FOLDERS.map((f) => `${f}/**`);
const lockfileGlobs = (): string[] => Object.keys(LOCKFILES).map((name) => `**/${name}`);
const contractGlobs = (): string[] => [...CONTRACT_DOCUMENTS, ...GENERATED_FOLDERS.map((f) => `**/${f}/**`), ...GENERATED_FILES];

/**
 * The config's domain rules followed by the enabled well-known ones (first
 * matching glob wins in domains.ts, so a configured rule decides first).
 */
export function domainRulesOf(config: Config): DomainRuleT[] {
  const on = config.defaults;
  return [
    ...config.domains,
    ...(on.migrations ? migrationGlobs().map((pattern) => ({ pattern, domain: MIGRATIONS_DOMAIN, parallel: "none" as const })) : []),
    ...(on.lockfiles ? lockfileGlobs().map((pattern) => ({ pattern, domain: LOCKFILES_DOMAIN, parallel: "none" as const })) : []),
  ];
}

/** The config's integration points followed by the enabled well-known ones (a key gets the tags of every matching rule). */
export function integrationRulesOf(config: Config): IntegrationRuleT[] {
  const on = config.defaults;
  return [
    ...config.integration_points,
    ...(on.migrations ? migrationGlobs().map((pattern) => ({ pattern, tag: MIGRATION_TAG })) : []),
    ...(on.contracts ? contractGlobs().map((pattern) => ({ pattern, tag: CONTRACT_TAG })) : []),
  ];
}
