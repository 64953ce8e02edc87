/**
 * Migration collisions between features integrated together
 * (parallel-execution-protocol.md §6.1 "schema_integrity:
 * migrations_sequential ∧ ¬conflicting_changes" and §6.2 "Schema merge
 * conflicts": "Agent A creates 001_P2_profiles.sql, Agent B creates
 * 001_P3_posts.sql. Resolution: rename migrations sequentially, 001_P2 (first
 * to complete), 002_P3 (second to complete)").
 *
 * Pure functions, no store. Two families of migration tools:
 * - numbered files (`001_profiles.sql`, `20240101_x.sql`): the leading digits
 *   of the file name, followed by `_`, `-` or `.`, are its sequence number
 *   within its folder. Two files of one folder with the same number collide;
 *   the one completed first keeps it, each later one is renamed to the next
 *   free number after the folder's highest (same width), so no file that did
 *   not collide is renamed;
 * - revision-based tools (Alembic): a migration reported with a `revision`
 *   collides with another of the same revision (the later one needs a new
 *   revision id), and two migrations with the same `down_revision` are two
 *   heads (the later one must follow the earlier: its `down_revision` becomes
 *   the earlier one's revision).
 */
import path from "node:path/posix";
import type { MigrationRecord } from "./registry/records.js";

/** One migration of a feature, in the order features completed. */
export interface PlacedMigration {
  feature_id: string;
  migration: MigrationRecord;
}

/** One step of a resolution: rename a file, or re-point or regenerate a revision. */
export interface MigrationFix {
  feature_id: string;
  path: string;
  /** The new path for a renumbering, else null. */
  rename_to: string | null;
  /** The new `down_revision` for a second head, else null. */
  down_revision_to: string | null;
  /** One line saying what to do. */
  action: string;
}

/** A collision: which migrations share a number, revision or parent, and how to resolve it. */
export interface MigrationCollision {
  kind: "number" | "revision" | "head";
  /** The folder of numbered migrations, or null for revisions. */
  dir: string | null;
  /** The shared number (as written in the first file), revision or down_revision. */
  value: string;
  migrations: { feature_id: string; path: string }[];
  /** The steps that resolve it: one for every migration of the wave except the one that keeps the number (none keeps it if it was used before the wave). */
  fixes: MigrationFix[];
}

const NUMBERED = /^(\d+)([_.-].*)$/;

/** The sequence number of a numbered migration file: its digits and width, or null. */
export function migrationNumber(file: string): { digits: string; value: bigint; rest: string } | null {
  const m = NUMBERED.exec(path.basename(file));
  if (!m) return null;
  return { digits: m[1] as string, value: BigInt(m[1] as string), rest: m[2] as string };
}

/**
 * The collisions among `wave` (migrations added by the wave's features, in
 * completion order: earlier entries keep their number) against each other and
 * against `before` (migrations already integrated or completed outside the
 * wave, which are never renamed). Deterministic: the same input gives the same
 * collisions and fixes.
 */
export function findMigrationCollisions(wave: readonly PlacedMigration[], before: readonly MigrationRecord[] = []): MigrationCollision[] {
  return [...numberCollisions(wave, before), ...revisionCollisions(wave, before)];
}

function numberCollisions(wave: readonly PlacedMigration[], before: readonly MigrationRecord[]): MigrationCollision[] {
  const out: MigrationCollision[] = [];
  const dirs = new Map<string, PlacedMigration[]>();
  for (const m of wave) {
    if (m.migration.revision !== null || !migrationNumber(m.migration.path)) continue;
    const dir = path.dirname(m.migration.path);
    dirs.set(dir, [...(dirs.get(dir) ?? []), m]);
  }
  for (const [dir, entries] of dirs) {
    const earlier = before.filter((b) => b.revision === null && path.dirname(b.path) === dir && migrationNumber(b.path));
    let highest = 0n;
    for (const p of [...earlier.map((b) => b.path), ...entries.map((e) => e.migration.path)]) {
      const n = migrationNumber(p)?.value ?? 0n;
      if (n > highest) highest = n;
    }
    const taken = new Set(earlier.map((b) => String(migrationNumber(b.path)?.value)));
    const groups = new Map<string, PlacedMigration[]>();
    for (const e of entries) {
      const key = String(migrationNumber(e.migration.path)?.value);
      groups.set(key, [...(groups.get(key) ?? []), e]);
    }
    for (const [value, group] of groups) {
      const usedBefore = taken.has(value);
      if (group.length < 2 && !usedBefore) continue;
      const fixes: MigrationFix[] = [];
      // The first to complete keeps the number unless a migration outside the wave already has it.
      for (const e of usedBefore ? group : group.slice(1)) {
        highest += 1n;
        const n = migrationNumber(e.migration.path)!;
        const digits = String(highest).padStart(n.digits.length, "0");
        const to = path.join(dir, `${digits}${n.rest}`);
        fixes.push({ feature_id: e.feature_id, path: e.migration.path, rename_to: to, down_revision_to: null, action: `rename ${e.migration.path} to ${to}` });
      }
      const first = group[0] as PlacedMigration;
      out.push({
        kind: "number",
        dir,
        value: migrationNumber(first.migration.path)!.digits,
        migrations: [
          ...earlier.filter((b) => String(migrationNumber(b.path)?.value) === value).map((b) => ({ feature_id: "(before this wave)", path: b.path })),
          ...group.map((e) => ({ feature_id: e.feature_id, path: e.migration.path })),
        ],
        fixes,
      });
    }
  }
  return out;
}

function revisionCollisions(wave: readonly PlacedMigration[], before: readonly MigrationRecord[]): MigrationCollision[] {
  const out: MigrationCollision[] = [];
  const revisioned = wave.filter((m) => m.migration.revision !== null);
  const priorRevisions = new Set(before.map((b) => b.revision).filter((r): r is string => r !== null));
  const priorParents = new Map(before.filter((b) => b.down_revision !== null).map((b) => [b.down_revision as string, b]));

  const byRevision = groupBy(revisioned, (m) => m.migration.revision as string);
  for (const [revision, group] of byRevision) {
    const usedBefore = priorRevisions.has(revision);
    if (group.length < 2 && !usedBefore) continue;
    const fixes = (usedBefore ? group : group.slice(1)).map((e) => ({
      feature_id: e.feature_id,
      path: e.migration.path,
      rename_to: null,
      down_revision_to: null,
      action: `generate a new revision id for ${e.migration.path} (revision ${revision} is taken)`,
    }));
    out.push({ kind: "revision", dir: null, value: revision, migrations: group.map((e) => ({ feature_id: e.feature_id, path: e.migration.path })), fixes });
  }

  const withParent = revisioned.filter((m) => m.migration.down_revision !== null);
  for (const [parent, group] of groupBy(withParent, (m) => m.migration.down_revision as string)) {
    const prior = priorParents.get(parent);
    if (group.length < 2 && !prior) continue;
    // Linearise in completion order: each later head follows the one before it.
    const chain: { revision: string | null; path: string }[] = prior ? [{ revision: prior.revision, path: prior.path }] : [];
    const fixes: MigrationFix[] = [];
    for (const e of group) {
      const previous = chain[chain.length - 1];
      if (previous && previous.revision !== null) {
        fixes.push({
          feature_id: e.feature_id,
          path: e.migration.path,
          rename_to: null,
          down_revision_to: previous.revision,
          action: `set down_revision of ${e.migration.path} to ${previous.revision} (after ${previous.path})`,
        });
      }
      chain.push({ revision: e.migration.revision, path: e.migration.path });
    }
    out.push({
      kind: "head",
      dir: null,
      value: parent,
      migrations: [...(prior ? [{ feature_id: "(before this wave)", path: prior.path }] : []), ...group.map((e) => ({ feature_id: e.feature_id, path: e.migration.path }))],
      fixes,
    });
  }
  return out;
}

function groupBy<T>(items: readonly T[], keyOf: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
