/**
 * Migration collisions (src/control/migrations.ts): parallel-execution-protocol
 * §6.2 "Schema merge conflicts", numbered files and Alembic-style revisions.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findMigrationCollisions, migrationNumber, type PlacedMigration } from "../src/control/migrations.js";

const file = (feature_id: string, path: string): PlacedMigration => ({ feature_id, migration: { path, revision: null, down_revision: null } });
const rev = (feature_id: string, path: string, revision: string, down_revision: string | null): PlacedMigration => ({
  feature_id,
  migration: { path, revision, down_revision },
});

describe("numbered migrations", () => {
  it("renumbers the protocol's example: 001_P2 (first to complete) keeps 001, 001_P3 becomes 002", () => {
    const out = findMigrationCollisions([file("P2", "supabase/migrations/001_P2_profiles.sql"), file("P3", "supabase/migrations/001_P3_posts.sql")]);
    expect(out).toEqual([
      {
        kind: "number",
        dir: "supabase/migrations",
        value: "001",
        migrations: [
          { feature_id: "P2", path: "supabase/migrations/001_P2_profiles.sql" },
          { feature_id: "P3", path: "supabase/migrations/001_P3_posts.sql" },
        ],
        fixes: [
          {
            feature_id: "P3",
            path: "supabase/migrations/001_P3_posts.sql",
            rename_to: "supabase/migrations/002_P3_posts.sql",
            down_revision_to: null,
            action: "rename supabase/migrations/001_P3_posts.sql to supabase/migrations/002_P3_posts.sql",
          },
        ],
      },
    ]);
  });

  it("is silent when numbers differ, folders differ, or files are not numbered", () => {
    expect(
      findMigrationCollisions([
        file("a", "db/001_a.sql"),
        file("b", "db/002_b.sql"),
        file("c", "other/001_c.sql"),
        file("d", "db/init.sql"),
        file("e", "db/readme-001.md"),
      ]),
    ).toEqual([]);
  });

  it("renames past the folder's highest number, never onto a number used before the wave, keeping the width", () => {
    const out = findMigrationCollisions([file("x", "m/0007_x.sql"), file("y", "m/0003_y.sql")], [
      { path: "m/0003_old.sql", revision: null, down_revision: null },
      { path: "m/0005_old.sql", revision: null, down_revision: null },
    ]);
    // 0003 was taken before the wave: the wave's only 0003 file moves to the next free number after 0007.
    expect(out).toHaveLength(1);
    expect(out[0]!.fixes.map((f) => f.rename_to)).toEqual(["m/0008_y.sql"]);
    expect(out[0]!.migrations.map((m) => m.path)).toEqual(["m/0003_old.sql", "m/0003_y.sql"]);
  });

  it("treats 1_ and 001_ as the same number", () => {
    const out = findMigrationCollisions([file("a", "m/1_a.sql"), file("b", "m/001_b.sql")]);
    expect(out[0]!.fixes[0]!.rename_to).toBe("m/002_b.sql");
  });

  it("property: after the fixes, every folder's numbers are distinct, earlier files keep theirs, and only colliding files move", () => {
    const placed = fc.array(
      fc.record({
        feature: fc.constantFrom("f1", "f2", "f3", "f4"),
        dir: fc.constantFrom("db", "db/alt"),
        n: fc.integer({ min: 1, max: 6 }),
        width: fc.constantFrom(1, 3, 4),
      }),
      { maxLength: 12 },
    );
    const prior = fc.array(fc.record({ dir: fc.constantFrom("db", "db/alt"), n: fc.integer({ min: 1, max: 6 }) }), { maxLength: 4 });
    fc.assert(
      fc.property(placed, prior, (entries, before) => {
        const wave = entries.map((e, i) => file(e.feature, `${e.dir}/${String(e.n).padStart(e.width, "0")}_m${i}.sql`));
        const earlier = before.map((b, i) => ({ path: `${b.dir}/${String(b.n).padStart(3, "0")}_old${i}.sql`, revision: null, down_revision: null }));
        const fixes = findMigrationCollisions(wave, earlier).flatMap((c) => c.fixes);
        const renamed = new Map(fixes.map((f) => [f.path, f.rename_to!]));
        const final = wave.map((w) => renamed.get(w.migration.path) ?? w.migration.path);
        const all = [...earlier.map((e) => e.path), ...final];
        const numbers = new Set<string>();
        const byDir = new Map<string, Set<bigint>>();
        for (const p of all) {
          const dir = p.slice(0, p.lastIndexOf("/"));
          const n = migrationNumber(p)!.value;
          const seen = byDir.get(dir) ?? new Set<bigint>();
          byDir.set(dir, seen);
          numbers.add(`${dir}:${n}`);
          seen.add(n);
        }
        // No collision among the wave's files after renaming, nor with files from before the wave.
        const waveFinal = final.map((p) => `${p.slice(0, p.lastIndexOf("/"))}:${migrationNumber(p)!.value}`);
        expect(new Set(waveFinal).size).toBe(waveFinal.length);
        const priorNumbers = new Set(earlier.map((e) => `${e.path.slice(0, e.path.lastIndexOf("/"))}:${migrationNumber(e.path)!.value}`));
        for (const p of waveFinal) expect(priorNumbers.has(p) && !final.includes(p)).toBe(false);
        // Earlier files never move; a wave file moves only when its number was shared.
        for (const f of fixes) expect(earlier.some((e) => e.path === f.path)).toBe(false);
        for (const w of wave) {
          const key = `${w.migration.path.slice(0, w.migration.path.lastIndexOf("/"))}:${migrationNumber(w.migration.path)!.value}`;
          const shared = wave.filter((o) => `${o.migration.path.slice(0, o.migration.path.lastIndexOf("/"))}:${migrationNumber(o.migration.path)!.value}` === key).length > 1;
          if (!shared && !priorNumbers.has(key)) expect(renamed.has(w.migration.path)).toBe(false);
        }
        // The first of a shared number (in completion order) keeps it unless it was taken before the wave.
        const firsts = new Map<string, string>();
        for (const w of wave) {
          const key = `${w.migration.path.slice(0, w.migration.path.lastIndexOf("/"))}:${migrationNumber(w.migration.path)!.value}`;
          if (!firsts.has(key)) firsts.set(key, w.migration.path);
        }
        for (const [key, first] of firsts) if (!priorNumbers.has(key)) expect(renamed.has(first)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe("revision-based migrations (Alembic)", () => {
  it("reports two heads on one parent and makes the later follow the earlier", () => {
    const out = findMigrationCollisions([rev("P2", "alembic/versions/aa11_profiles.py", "aa11", "e241"), rev("P3", "alembic/versions/bb22_posts.py", "bb22", "e241")]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: "head", value: "e241" });
    expect(out[0]!.fixes).toEqual([
      {
        feature_id: "P3",
        path: "alembic/versions/bb22_posts.py",
        rename_to: null,
        down_revision_to: "aa11",
        action: "set down_revision of alembic/versions/bb22_posts.py to aa11 (after alembic/versions/aa11_profiles.py)",
      },
    ]);
  });

  it("reports a revision id used twice, and a head on a parent an earlier migration already follows", () => {
    const out = findMigrationCollisions([rev("a", "v/x1.py", "x1", "r0"), rev("b", "v/x1b.py", "x1", "x1")], [{ path: "v/old.py", revision: "o1", down_revision: "x1" }]);
    const kinds = out.map((c) => c.kind).sort();
    expect(kinds).toEqual(["head", "revision"]);
    const head = out.find((c) => c.kind === "head")!;
    expect(head.fixes[0]).toMatchObject({ feature_id: "b", down_revision_to: "o1" });
  });

  it("is silent on a linear chain", () => {
    expect(findMigrationCollisions([rev("a", "v/a.py", "a1", "r0"), rev("b", "v/b.py", "b1", "a1")], [{ path: "v/r0.py", revision: "r0", down_revision: null }])).toEqual([]);
  });

  it("does not read the hash of a revisioned file as a sequence number", () => {
    expect(findMigrationCollisions([rev("a", "v/123456_a.py", "123456", "r0"), rev("b", "v/123456_b.py", "999999", "123456")])).toEqual([]);
  });
});
