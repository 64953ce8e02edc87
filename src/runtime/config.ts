/**
 * `signalbox.config.json` at the project root (optional).
 *
 * - `domains`: ordered domain map `pattern -> domain`; exact files win over
 *   globs, then the first matching glob wins; `"parallel": "none"` makes every
 *   pair of tasks touching that domain serialize (PARALLELISM_FRAMEWORK, Level 1,
 *   `backend/alembic/* -> NONE (serialized)`).
 * - `integration_points`: `pattern -> tag`; a task touching a matching key gets
 *   the tag and becomes an integration point (Level 3).
 * - `defaults`: the well-known rules every project gets after its own
 *   (src/analysis/well-known.ts): `migrations`, `lockfiles`, `contracts`, each true
 *   unless set to false.
 * - `locks`: lease and wait defaults and ceilings, in milliseconds.
 * - `control`: the control layer's limits, in milliseconds or counts
 *   (heartbeat, acknowledgement, audit-coverage grace, oscillation window,
 *   bottleneck thresholds, page size).
 * - `paths.case_sensitive`: "auto", true or false (lock keys on a
 *   case-insensitive root are case-folded).
 * - `limits`: sizes enforced on every request (RELIABILITY.md, "Bad input and
 *   misuse"): keys in one lock request, keys in one task of
 *   `check_parallel`/`plan_waves`, tasks per call, bytes per free-text field,
 *   live locks per agent, queued requests per key, calls in flight per agent
 *   and process, the free disk kept in reserve and the store's size.
 * - `http`: `signalbox serve --http` (README, "Over HTTP: agents on several
 *   machines"): bearer tokens, each given literally (`token`) or by the name of
 *   an environment variable holding it (`token_env`), each bound to the agent
 *   ids it may act as (`"*"`: any); extra `Origin` and `Host` values accepted
 *   besides the listening address's own.
 * - `hooks.require_lock`: the Claude Code PreToolUse hook also denies an edit
 *   of a file the calling agent has not write-locked (default false: it only
 *   denies files another agent holds).
 * - `capacity` (control/registry/capacity.ts; README, "The config file"): how many
 *   agents may work in parallel, `max_agents` in all, `per_orchestrator` per
 *   dispatching orchestrator, `per_domain` per domain, and `domains`
 *   `{<domain>: n}` overriding `per_domain` for the domains it names. Positive
 *   integers; an absent limit is no limit (the default: none).
 *   `dispatch_agents` refuses a batch that would pass one (control/registry/capacity.ts
 *   says which agents count).
 * - `git.target_branch`: the branch feature branches integrate into (merge
 *   bases, the radar, the wave merge); default the repository's default
 *   branch (origin's HEAD, else `main`, else `master`); `git.radar_poll_ms`:
 *   how often the conflict radar polls branch heads (default 2000 ms, 0: only
 *   when predict_conflicts or signalbox://radar asks).
 * - `tools.toolsets`: the toolsets every client is served from the start
 *   (default `core`; `all` for every tool); `--toolsets` and
 *   `SIGNALBOX_TOOLSETS` override it, `enable_toolsets` adds more per session.
 * - `retention`: how long, and how many, of the records that grow with every
 *   event are kept: activity log entries, acknowledged inbox messages and
 *   detector histories, by age (ms) and by count (log/activity.ts,
 *   control/registry/inbox.ts, control/detectors.ts prune them in small batches inside
 *   the writes that add them). The decision log is never pruned.
 * - The file is read from the worktree the server runs in: worktrees on
 *   different commits may hold different versions of it, and each server then
 *   follows its own (the README says what that means).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

export const CONFIG_FILE = "signalbox.config.json";

const DomainRule = z.strictObject({
  pattern: z.string().min(1).describe("Exact path or glob (picomatch syntax)"),
  domain: z.string().min(1).describe("Domain (coordinator) name"),
  parallel: z.enum(["none", "all_except_self"]).optional().describe('"none": tasks in this domain always serialize'),
});

const IntegrationRule = z.strictObject({
  pattern: z.string().min(1).describe("Exact path or glob"),
  tag: z.string().min(1).describe("Integration trigger tag, e.g. migration"),
});

const LockSettings = z.strictObject({
  default_lease_ms: z.number().int().positive().default(600_000),
  max_lease_ms: z.number().int().positive().default(3_600_000),
  default_wait_ms: z.number().int().nonnegative().default(0),
  max_wait_ms: z.number().int().nonnegative().default(60_000),
});

const Limits = z.strictObject({
  /** Keys in one acquire_lock / release_lock request. */
  keys_per_request: z.number().int().positive().default(256),
  /** Keys in one task of check_parallel / plan_waves (a real commit can write hundreds of files). */
  keys_per_task: z.number().int().positive().default(10_000),
  /** Tasks in one check_parallel / plan_waves call. */
  tasks_per_check: z.number().int().positive().default(20_000),
  /**
   * Pair visits of one check_parallel / plan_waves call: tasks sharing a key or group are
   * visited pairwise, once per shared key or group from each side (10,000 writers of one
   * file: 99,990,000). Beyond it the call is refused naming this limit (src/analysis/pairs.ts).
   */
  pair_visits_per_check: z.number().int().positive().default(200_000_000),
  /** UTF-8 bytes of one free-text field. */
  string_bytes: z.number().int().positive().default(16_384),
  /** Live locks one agent may hold across the store. */
  locks_per_agent: z.number().int().positive().default(1024),
  /** Requests queued (waiting) on one key across the store. */
  queue_depth_per_key: z.number().int().positive().default(64),
  /** Tool calls of one agent in flight at once in one server process (a flood gets refused, others go on). */
  requests_in_flight_per_agent: z.number().int().positive().default(16),
  /** Writes are refused while the store's filesystem has fewer free MiB than this. */
  disk_reserve_mb: z.number().int().nonnegative().default(64),
  /**
   * The store's quota, MiB: from it on retention prunes harder (the activity
   * log to its newest 100 entries, acknowledged messages of any age); writes
   * go on in a headroom of 1/16 of it (256 KiB to 64 MiB), past which only
   * housekeeping and releases are written (store/lmdb/guard.ts).
   */
  store_mb: z.number().int().positive().default(1024),
});

const ControlSettings = z.strictObject({
  /** An agent silent (no report_status) longer than this is unavailable, ms. */
  heartbeat_ms: z.number().int().positive().default(300_000),
  /** A message unacknowledged longer than this is a communication delay, ms. */
  ack_limit_ms: z.number().int().positive().default(600_000),
  /** Coders of a phase without an auditor are warned about once this has passed since their dispatch, ms. */
  audit_grace_ms: z.number().int().nonnegative().default(60_000),
  /** A, B, A, B write grants on one key within this window are an oscillation, ms; 0 turns the detector off. */
  oscillation_window_ms: z.number().int().nonnegative().default(600_000),
  /** A lock held longer than this is a bottleneck, ms. */
  lock_held_limit_ms: z.number().int().positive().default(1_800_000),
  /** A key with at least this many queued requests is a bottleneck. */
  queue_limit: z.number().int().positive().default(3),
  /** An agent with more active features than this is overloaded. */
  agent_task_limit: z.number().int().positive().default(3),
  /** Default page size of lists in tool results and resources. */
  page_size: z.number().int().positive().max(1000).default(50),
});

const PathSettings = z.strictObject({
  /**
   * Whether lock keys differing only in case are different files: "auto"
   * probes the root's filesystem (paths.ts KeyResolver); false folds case.
   */
  case_sensitive: z.union([z.boolean(), z.literal("auto")]).default("auto"),
});

const HttpToken = z
  .strictObject({
    name: z.string().min(1).max(64).describe("Label used in logs and errors (never the token itself)"),
    token: z.string().min(16).optional().describe("The bearer token itself (at least 16 characters)"),
    token_env: z.string().min(1).optional().describe("Name of the environment variable holding the token"),
    agents: z.array(z.string().min(1)).min(1).describe('Agent ids this token may act as; "*" for any'),
    roles: z
      .array(z.enum(["orchestrator"]))
      .default([])
      .describe('Authority the token grants to the agents it may act as: "orchestrator" makes each of them an orchestrator'),
  })
  .refine((t) => (t.token === undefined) !== (t.token_env === undefined), {
    message: "give exactly one of token and token_env",
  });

const HttpSettings = z.strictObject({
  tokens: z
    .array(HttpToken)
    .default([])
    .superRefine((tokens, ctx) => {
      // A name labels a token in logs and binds its sessions: two tokens may not share one.
      tokens.forEach((t, i) => {
        const first = tokens.findIndex((u) => u.name === t.name);
        if (first < i) ctx.addIssue({ code: "custom", path: [i, "name"], message: `"${t.name}" is already the name of http.tokens[${first}]; token names must be unique` });
      });
    }),
  /** Origins accepted besides http(s)://<listening host>:<port> and the localhost forms of it. */
  allowed_origins: z.array(z.string().min(1)).default([]),
  /** Host header values accepted besides the listening host:port (and localhost:port / 127.0.0.1:port on loopback). */
  allowed_hosts: z.array(z.string().min(1)).default([]),
  /** Open MCP sessions across every token; past it a new session is refused 429 (memory stays bounded). */
  max_sessions: z.number().int().positive().default(512),
  /** Open MCP sessions of one token; past it that token's new session is refused 429, the others go on. */
  max_sessions_per_token: z.number().int().positive().default(64),
});

const HookSettings = z.strictObject({
  require_lock: z.boolean().default(false),
});

const CapacitySettings = z.strictObject({
  /** Agents working in parallel across the store. */
  max_agents: z.number().int().positive().optional(),
  /** Agents working in parallel that one orchestrator dispatched. */
  per_orchestrator: z.number().int().positive().optional(),
  /** Agents working in parallel in one domain (unless `domains` names it). */
  per_domain: z.number().int().positive().optional(),
  /** Per-domain limits overriding `per_domain`, e.g. `{"backend": 2}`. */
  domains: z.record(z.string().min(1), z.number().int().positive()).default({}),
});

/**
 * Roles an agent may give itself by registering (dispatch_agents naming only
 * itself); never orchestrator. Mirrors control/registry/records.ts ROLES (a reviewer is
 * any registered agent a review is assigned to, not a role).
 */
const SELF_REGISTRABLE = ["coder", "auditor", "test_engineer", "architect", "other"] as const;

const RoleSettings = z.strictObject({
  /** Agent ids that hold orchestrator authority; empty: the first orchestrator registered in an empty store holds it. */
  orchestrators: z.array(z.string().min(1).max(200)).default([]),
  /** Roles an agent may register itself with (`other`: what an unregistered agent's first report_status registers it as). */
  self_register: z.array(z.enum(SELF_REGISTRABLE)).default(["coder", "auditor", "test_engineer", "other"]),
});

const GitSettings = z.strictObject({
  /** Branch that feature branches integrate into; default: the repository's default branch. */
  target_branch: z.string().min(1).max(255).optional(),
  /** How often the conflict radar polls branch heads, ms (0: only when asked). */
  radar_poll_ms: z.number().int().nonnegative().default(2000),
});

/**
 * Retention of the records that grow with every event (the decision log is
 * never pruned). Ages in ms, counts in entries; each write that adds such a
 * record removes at most a few of the oldest past a limit, so the cost is
 * amortised O(1) per write and a lowered limit is reached gradually.
 */
const RetentionSettings = z.strictObject({
  /** Activity entries whose latest time (a folded entry's `data.last_at`, else `at`) is older than this are pruned, ms (default 7 days). */
  activity_max_age_ms: z.number().int().positive().default(604_800_000),
  /** Most activity entries kept; the oldest go first (default 100,000: about 45 MB at about 450 bytes an entry). */
  activity_max_entries: z.number().int().positive().default(100_000),
  /** Acknowledged messages are pruned this long after their acknowledgement, ms (default 7 days); unacknowledged ones are never pruned. */
  inbox_max_age_ms: z.number().int().positive().default(604_800_000),
  /** Most messages kept in one inbox: beyond it the oldest acknowledged ones go (unacknowledged ones stay, even past it). */
  inbox_max_entries_per_agent: z.number().int().positive().default(1000),
  /** Oscillation-detector holder histories whose latest change is older than this are pruned, ms (default 7 days; the detector's own window usually prunes sooner). */
  detector_max_age_ms: z.number().int().positive().default(604_800_000),
});

/**
 * The well-known rules applied without writing them (src/analysis/well-known.ts):
 * each group on unless set to false.
 */
const DefaultRuleSettings = z.strictObject({
  /** Migration folders of common stacks: the serialized domain `migrations`, integration points tagged `migration`. */
  migrations: z.boolean().default(true),
  /** Dependency lockfiles: the serialized domain `lockfiles`. */
  lockfiles: z.boolean().default(true),
  /** OpenAPI/Swagger documents and generated code: integration points tagged `api_contract`. */
  contracts: z.boolean().default(true),
});

const ToolSettings = z.strictObject({
  /** Toolsets listed to every client from the start (tools/toolsets.ts): names, or "all"; core always is. */
  toolsets: z.array(z.string().min(1)).default(["core"]),
});

export const ConfigSchema = z
  .object({
    domains: z.array(DomainRule).default([]),
    integration_points: z.array(IntegrationRule).default([]),
    defaults: DefaultRuleSettings.prefault({}),
    locks: LockSettings.prefault({}),
    limits: Limits.prefault({}),
    control: ControlSettings.prefault({}),
    paths: PathSettings.prefault({}),
    http: HttpSettings.prefault({}),
    hooks: HookSettings.prefault({}),
    capacity: CapacitySettings.prefault({}),
    git: GitSettings.prefault({}),
    roles: RoleSettings.prefault({}),
    tools: ToolSettings.prefault({}),
    retention: RetentionSettings.prefault({}),
  })
  .strict();

/** The validated configuration with every default filled in. */
export type Config = z.infer<typeof ConfigSchema>;
export type DomainRuleT = z.infer<typeof DomainRule>;
export type ControlSettingsT = z.infer<typeof ControlSettings>;
export type IntegrationRuleT = z.infer<typeof IntegrationRule>;
export type HttpTokenT = z.infer<typeof HttpToken>;
export type CapacitySettingsT = z.infer<typeof CapacitySettings>;
export type RoleSettingsT = z.infer<typeof RoleSettings>;

/** Parse a config object; throws an Error naming each bad field. */
export function parseConfig(raw: unknown, source = CONFIG_FILE): Config {
  const result = ConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw new Error(`invalid ${source}: ${problems}`);
  }
  return result.data;
}

/** The defaults, as used without a config file. */
export function defaultConfig(): Config {
  return parseConfig({});
}

/**
 * Load `<root>/signalbox.config.json`, or the defaults if it does not exist.
 * @throws Error if the file exists but is not valid JSON or fails validation.
 */
export function loadConfig(root: string): Config {
  const file = path.join(root, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return defaultConfig();
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid ${file}: not JSON (${(err as Error).message})`);
  }
  return parseConfig(raw, file);
}
