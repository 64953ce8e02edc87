/** Output shapes shared by the agent tools and the status board. */
import { z } from "zod";

/**
 * An agent on the status board (AgentView in src/control/registry/agents.ts). `role` is
 * one of ROLES and `status` one of AGENT_STATUSES (src/control/registry/records.ts);
 * `available` is false once silent past the heartbeat limit; `paused_by` lists
 * the open RED signal ids pausing it.
 */
export const agentView = z.object({
  agent_id: z.string(),
  role: z.string(),
  domain: z.string().nullable(),
  feature_id: z.string().nullable(),
  phase: z.string().nullable(),
  status: z.string(),
  current_task: z.string().nullable(),
  progress_percentage: z.number().nullable(),
  estimated_completion: z.string().nullable(),
  blocking_issues: z.array(z.string()),
  outputs_ready: z.array(z.string()),
  last_seen_at: z.string(),
  worktree: z.string().nullable().describe("Worktree path; null: unknown"),
  branch: z.string().nullable().describe("Git branch; null: unknown or detached"),
  head: z.string().nullable().describe("HEAD commit when last seen"),
  available: z.boolean(),
  silent_ms: z.number(),
  paused_by: z.array(z.string()),
});

/** Audit coverage of a phase (AuditCoverage in src/control/registry/agents.ts); `decides_at`: when pending turns uncovered. */
export const coverage = z.object({
  phase: z.string(),
  coders: z.number(),
  auditors: z.number(),
  status: z.enum(["covered", "pending", "uncovered", "no_coders"]),
  coders_without_auditor: z.array(z.string()),
  decides_at: z.string().nullable(),
  warning: z.string().nullable(),
});
