/**
 * The wave-lifecycle scenario, played by `npm run demo` (cli/demo-wave.ts)
 * and by test/wave-lifecycle.test.ts from this one place: three features in
 * one wave, a team of three coders, two auditors and a test engineer, a
 * required gate, and what each coder locks and reports on completion.
 *
 * What it exercises: F_search changes a file it never declared nor locked
 * (`./app/shared/util.ts`, given with a leading `./`), so the integration
 * fails on an undeclared write; F_profile and F_posts both add migration
 * 001 (F_posts reports it in the object form), so the integration reports
 * the collision and renumbers the later one. The project turns the
 * well-known migration rules off (`defaults.migrations`), which is what lets
 * the planner put both migrations in one wave.
 */

/** The features planned. */
export const WAVE_FEATURES = [
  { id: "F_profile", writes: ["app/profile.ts", "db/migrations/001_profiles.sql"], schema_changes: ["profiles"] },
  { id: "F_posts", writes: ["app/posts.ts", "db/migrations/001_posts.sql"], schema_changes: ["posts"] },
  { id: "F_search", writes: ["app/search.ts"] },
];

/** The project's signalbox.config.json: six agents at most, the well-known migration rules off. */
export const WAVE_CONFIG = { capacity: { max_agents: 6 }, defaults: { migrations: false } };

/** The orchestrator dispatching the team. */
export const WAVE_ORCHESTRATOR = "orch";

/** The team dispatched (besides the orchestrator). */
export const WAVE_TEAM = [
  { agent_id: "c1", role: "coder", domain: "app", feature_id: "F_profile" },
  { agent_id: "c2", role: "coder", domain: "app", feature_id: "F_posts" },
  { agent_id: "c3", role: "coder", domain: "app", feature_id: "F_search" },
  { agent_id: "aud", role: "auditor", domain: "app" },
  { agent_id: "aud-db", role: "auditor", domain: "db" },
  { agent_id: "te", role: "test_engineer", domain: "app" },
];

/** The gate integration waits for. */
export const WAVE_GATE = {
  agent_id: WAVE_ORCHESTRATOR,
  name: "combined-tests",
  trigger: "wave_integration",
  criteria: "the merged wave passes npm test",
  responsible_role: "test_engineer",
  required: true,
};

/** One coder's work: the feature, what it write-locks, and its complete_feature report. */
export interface WaveWork {
  agent: string;
  feature: string;
  locks: string[];
  done: { files_changed: string[]; migrations?: (string | { path: string })[]; commits: string[] };
}

/** The coders' work, in the order they complete (F_profile first: its 001 migration keeps its number). */
export const WAVE_WORK: readonly WaveWork[] = [
  {
    agent: "c1",
    feature: "F_profile",
    locks: ["app/profile.ts", "db/migrations/001_profiles.sql"],
    done: { files_changed: ["app/profile.ts"], migrations: ["db/migrations/001_profiles.sql"], commits: ["a1a1a1"] },
  },
  {
    agent: "c2",
    feature: "F_posts",
    locks: ["app/posts.ts", "db/migrations/001_posts.sql"],
    done: { files_changed: ["app/posts.ts"], migrations: [{ path: "db/migrations/001_posts.sql" }], commits: ["b1b1b1", "b2b2b2"] },
  },
  {
    agent: "c3",
    feature: "F_search",
    locks: ["app/search.ts"],
    done: { files_changed: ["app/search.ts", "./app/shared/util.ts"], commits: ["c1c1c1"] },
  },
];
