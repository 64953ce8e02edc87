/**
 * Toolsets: the tools grouped by who needs them, so an agent lists (and pays
 * tokens for) only what its job uses. `core` is what every agent needs and is
 * served by default; the others are enabled by `--toolsets`,
 * `SIGNALBOX_TOOLSETS`, the config's `tools.toolsets`, or at run time by the
 * `enable_toolsets` tool (the client is told with
 * `notifications/tools/list_changed`).
 *
 * Every tool belongs to exactly one toolset, named in {@link TOOLSET_OF}; a
 * tool missing from the table cannot be registered (tools/register.ts).
 */
import { InvalidArgumentError } from "../src/errors.js";

/** The toolsets and what each is for (the server's instructions and `enable_toolsets` say the same). */
export const TOOLSETS = {
  core: "every agent: locks, the feature lifecycle, status, inbox, handoffs, conventions, audit signals, checkpoints",
  planning: "before dispatching: conflict analysis and wave plans",
  orchestration: "the orchestrator: dispatching, reassigning, decisions, breaking locks, checkpoints, resolving signals",
  quality: "gates, reviews and the audit handoff to testing",
  waves: "integrating and rolling back waves",
  incidents: "emergencies and their closing review",
  git: "merge conflicts predicted between branches",
} as const;

/** A toolset's name. */
export type Toolset = keyof typeof TOOLSETS;

/** Every toolset name, in listing order. */
export const TOOLSET_NAMES = Object.keys(TOOLSETS) as Toolset[];

/** What `tools.toolsets` and `--toolsets` accept besides the names: every toolset. */
export const ALL_TOOLSETS = "all";

/** The toolset each tool belongs to. */
export const TOOLSET_OF: Readonly<Record<string, Toolset>> = {
  acquire_lock: "core",
  release_lock: "core",
  renew_lease: "core",
  verify_lock: "core",
  start_feature: "core",
  complete_feature: "core",
  fail_feature: "core",
  report_status: "core",
  get_inbox: "core",
  acknowledge: "core",
  cross_agent_handoff: "core",
  check_conventions: "core",
  set_convention: "core",
  emit_audit_signal: "core",
  reach_checkpoint: "core",
  enable_toolsets: "core",
  check_parallel: "planning",
  plan_waves: "planning",
  dispatch_agents: "orchestration",
  reassign_feature: "orchestration",
  record_decision: "orchestration",
  break_lock: "orchestration",
  request_checkpoint: "orchestration",
  resume_checkpoint: "orchestration",
  resolve_audit_signal: "orchestration",
  server_info: "orchestration",
  define_gate: "quality",
  record_gate_result: "quality",
  request_review: "quality",
  submit_review: "quality",
  audit_handoff: "quality",
  integrate_wave: "waves",
  rollback_wave: "waves",
  report_emergency: "incidents",
  close_incident: "incidents",
  predict_conflicts: "git",
};

/** The toolsets served when nothing asks for more. */
export const DEFAULT_TOOLSETS: readonly Toolset[] = ["core"];

/**
 * The toolsets a server starts with: `--toolsets`, else `SIGNALBOX_TOOLSETS`,
 * else the config's `tools.toolsets` (each parsed by {@link parseToolsets},
 * errors naming where the list came from).
 * @throws Error naming `--toolsets`, `SIGNALBOX_TOOLSETS` or `tools.toolsets`.
 */
export function resolveToolsets(opts: { flag?: string | undefined; env?: NodeJS.ProcessEnv; config: readonly string[] }): Toolset[] {
  if (opts.flag !== undefined) return parseToolsets(opts.flag, "--toolsets");
  const fromEnv = (opts.env ?? process.env).SIGNALBOX_TOOLSETS;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return parseToolsets(fromEnv, "SIGNALBOX_TOOLSETS");
  return parseToolsets(opts.config, "tools.toolsets");
}

/**
 * Parse a toolset list as `--toolsets`, `SIGNALBOX_TOOLSETS` or the config
 * give it (`"core,planning"`, or an array): names of {@link TOOLSETS} or `all`.
 * `core` is always included. Returns the toolsets in listing order.
 * @throws InvalidArgumentError `<source>: unknown toolset "x"; toolsets: core, planning, ... or all`.
 */
export function parseToolsets(value: string | readonly string[], source: string): Toolset[] {
  const names = (typeof value === "string" ? value.split(",") : [...value]).map((s) => s.trim()).filter((s) => s !== "");
  const wanted = new Set<Toolset>(["core"]);
  for (const n of names) {
    if (n === ALL_TOOLSETS) return [...TOOLSET_NAMES];
    if (!(n in TOOLSETS)) throw new InvalidArgumentError(source, `unknown toolset "${n}"; toolsets: ${TOOLSET_NAMES.join(", ")} or ${ALL_TOOLSETS}`);
    wanted.add(n as Toolset);
  }
  return TOOLSET_NAMES.filter((t) => wanted.has(t));
}
