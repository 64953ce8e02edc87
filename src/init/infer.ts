/**
 * What `signalbox init` proposes for a repository: config rules inferred from
 * its files and its history, each with the reason it was chosen. Pure: the
 * file list and the commits come from src/init/scan.ts.
 *
 * - Migration folders of the common stacks (Alembic `versions/`, Django and
 *   plain `migrations/`, Rails `db/migrate/`, Flyway `db/migration/`, Prisma,
 *   Supabase, Knex): the serialized domain `migrations` and integration
 *   points tagged `migration` (parallelism-framework.md: "Database Migration
 *   ... ALL agents pause"; Level 1 `backend/alembic/* -> NONE`).
 * - Dependency lockfiles: the serialized domain `lockfiles` (each install
 *   rewrites one whole).
 * - API contracts (OpenAPI/Swagger documents, generated clients):
 *   integration points tagged `api_contract`.
 * - Files that change together across domains (at least
 *   {@link COCHANGE_MIN} commits, and in most of the commits of each of the
 *   two): one domain per cluster of at most {@link CLUSTER_MAX} files, so the
 *   planner routes them together. A larger cluster is a busy area, not a
 *   unit, and is left to the layout.
 * - The layout: a domain per top-level folder; a folder holding most of the
 *   repository and several sub-projects (`packages/*`, `apps/*`) is split one
 *   level down.
 *
 * The paths are the well-known ones of src/analysis/well-known.ts, which a project
 * without a config gets as defaults; written into a config they become
 * visible and editable, one rule per folder or file found.
 *
 * Rule order is the config's precedence (domains.ts): exact files first, then
 * the specific globs, then the layout.
 */
import path from "node:path";
import picomatch from "picomatch";
import { CONTRACT_DOCUMENTS, GENERATED_FOLDERS, LOCKFILES, MIGRATION_FOLDERS } from "../analysis/well-known.js";

/** A proposed domain rule and why. */
export interface InferredDomain {
  pattern: string;
  domain: string;
  parallel?: "none";
  reason: string;
}

/** A proposed integration point and why. */
export interface InferredIntegrationPoint {
  pattern: string;
  tag: string;
  reason: string;
}

/** What {@link inferConfig} proposes. */
export interface InferredConfig {
  domains: InferredDomain[];
  integration_points: InferredIntegrationPoint[];
}

const CONTRACT_FILES = picomatch([...CONTRACT_DOCUMENTS], { dot: true });
/** Least commits two files must share to count as changing together. */
export const COCHANGE_MIN = 3;
/** Share of each file's commits the pair must share. */
export const COCHANGE_SHARE = 0.6;
/** Largest cluster proposed as a domain. */
export const CLUSTER_MAX = 8;
/** Commits touching more files than this are ignored for co-change (mass renames, formatting). */
export const COMMIT_FILES_MAX = 50;
/** Folders never made domains. */
const SKIP_TOP = new Set(["node_modules", "vendor", "dist", "build", "target"]);

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
const example = (files: readonly string[]) => `e.g. ${files.slice(0, 2).join(", ")}`;

/**
 * Propose rules for a repository.
 * @param files   repository-relative POSIX paths of the tracked files
 * @param commits the files each recent commit changed, newest first
 */
export function inferConfig(files: readonly string[], commits: readonly (readonly string[])[]): InferredConfig {
  const domains: InferredDomain[] = [];
  const points: InferredIntegrationPoint[] = [];

  for (const f of files) {
    const manager = LOCKFILES[path.posix.basename(f)];
    if (manager) domains.push({ pattern: f, domain: "lockfiles", parallel: "none", reason: `${manager} lockfile: each install rewrites it whole` });
  }
  for (const f of files.filter((x) => CONTRACT_FILES(x))) points.push({ pattern: f, tag: "api_contract", reason: "API contract document" });
  const layout = layoutDomains(files);
  domains.push(...cochangeDomains(commits, new Set(files), layout.domainOf));

  for (const [folder, members] of migrationFolders(files)) {
    const reason = `${plural(members.length, "migration file")} (${example(members)})`;
    domains.push({ pattern: `${folder}/**`, domain: "migrations", parallel: "none", reason });
    points.push({ pattern: `${folder}/**`, tag: "migration", reason });
  }
  for (const [folder, members] of foldersNamed(files, GENERATED_FOLDERS)) {
    points.push({ pattern: `${folder}/**`, tag: "api_contract", reason: `generated code, ${plural(members.length, "file")}` });
  }
  domains.push(...layout.rules);
  return { domains, integration_points: points };
}

/** Each folder holding migrations, with its files, in path order. */
function migrationFolders(files: readonly string[]): Map<string, string[]> {
  const isMigration = MIGRATION_FOLDERS.map((g) => picomatch(`${g}/**`, { dot: true }));
  const out = new Map<string, string[]>();
  for (const f of files) {
    if (!isMigration.some((m) => m(f))) continue;
    const parts = f.split("/");
    // The deepest folder of the path whose name is one of the migration folder names.
    let end = -1;
    parts.slice(0, -1).forEach((p, i) => {
      const up = parts[i - 1];
      if (p === "migrations" || p === "migrate" || p === "migration" || (p === "versions" && up === "alembic")) end = i;
    });
    if (end < 0) continue;
    const folder = parts.slice(0, end + 1).join("/");
    out.set(folder, [...(out.get(folder) ?? []), f]);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** Folders whose last name is one of `names`, with their files. */
function foldersNamed(files: readonly string[], names: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of files) {
    const parts = f.split("/");
    const i = parts.slice(0, -1).findIndex((p) => names.includes(p));
    if (i < 0) continue;
    const folder = parts.slice(0, i + 1).join("/");
    out.set(folder, [...(out.get(folder) ?? []), f]);
  }
  return out;
}

/** The layout's domains and the domain each file falls in. */
function layoutDomains(files: readonly string[]): { rules: InferredDomain[]; domainOf: (file: string) => string } {
  const byTop = new Map<string, string[]>();
  for (const f of files) {
    const i = f.indexOf("/");
    if (i < 0) continue;
    const top = f.slice(0, i);
    if (top.startsWith(".") || SKIP_TOP.has(top)) continue;
    byTop.set(top, [...(byTop.get(top) ?? []), f]);
  }
  const rules: InferredDomain[] = [];
  const split = new Set<string>();
  for (const [top, members] of [...byTop].sort(([a], [b]) => a.localeCompare(b))) {
    const subs = new Map<string, number>();
    for (const f of members) {
      const rest = f.slice(top.length + 1);
      if (rest.includes("/")) subs.set(rest.slice(0, rest.indexOf("/")), (subs.get(rest.slice(0, rest.indexOf("/"))) ?? 0) + 1);
    }
    if (members.length * 2 > files.length && subs.size >= 2) {
      split.add(top);
      for (const [sub, n] of [...subs].sort(([a], [b]) => a.localeCompare(b))) {
        rules.push({ pattern: `${top}/${sub}/**`, domain: `${top}/${sub}`, reason: `sub-project of ${top}/ (${plural(n, "file")}; ${top}/ holds most of the repository)` });
      }
    }
    rules.push({ pattern: `${top}/**`, domain: top, reason: `top-level folder, ${plural(members.length, "file")}` });
  }
  const domainOf = (file: string): string => {
    const parts = file.split("/");
    if (parts.length === 1) return "(root)";
    const top = parts[0] as string;
    return split.has(top) && parts.length > 2 ? `${top}/${parts[1]}` : top;
  };
  return { rules, domainOf };
}

/** One domain per cluster of files that change together across domains. */
function cochangeDomains(commits: readonly (readonly string[])[], present: ReadonlySet<string>, domainOf: (file: string) => string): InferredDomain[] {
  const changes = new Map<string, number>();
  const pairs = new Map<string, number>();
  for (const c of commits) {
    if (c.length < 2 || c.length > COMMIT_FILES_MAX) continue;
    const files = [...new Set(c)].filter((f) => present.has(f)).sort();
    for (const f of files) changes.set(f, (changes.get(f) ?? 0) + 1);
    for (let i = 0; i < files.length; i++) {
      for (let j = i + 1; j < files.length; j++) {
        const a = files[i] as string;
        const b = files[j] as string;
        if (domainOf(a) === domainOf(b)) continue;
        const k = `${a}\0${b}`;
        pairs.set(k, (pairs.get(k) ?? 0) + 1);
      }
    }
  }
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== undefined && parent.get(r) !== r) r = parent.get(r) as string;
    parent.set(x, r);
    return r;
  };
  const together = new Map<string, number>();
  for (const [k, n] of pairs) {
    const [a, b] = k.split("\0") as [string, string];
    if (n < COCHANGE_MIN || n < COCHANGE_SHARE * Math.max(changes.get(a) ?? 0, changes.get(b) ?? 0)) continue;
    parent.set(a, find(a));
    parent.set(b, find(b));
    parent.set(find(a), find(b));
    together.set(k, n);
  }
  const clusters = new Map<string, string[]>();
  for (const f of parent.keys()) clusters.set(find(f), [...(clusters.get(find(f)) ?? []), f]);
  const out: InferredDomain[] = [];
  [...clusters.values()]
    .filter((m) => m.length <= CLUSTER_MAX)
    .map((m) => m.sort())
    .sort((a, b) => (a[0] as string).localeCompare(b[0] as string))
    .forEach((members, i) => {
      const shared = Math.max(...[...together].filter(([k]) => members.some((m) => k.startsWith(`${m}\0`))).map(([, n]) => n));
      for (const f of members) {
        const others = members.filter((m) => m !== f);
        const named = others.length > 3 ? `${others.slice(0, 3).join(", ")} and ${others.length - 3} more` : others.join(", ");
        out.push({ pattern: f, domain: `cochange-${i + 1}`, reason: `changes with ${named} (up to ${shared} commits together, across domains)` });
      }
    });
  return out;
}
