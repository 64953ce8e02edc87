/** Output shapes shared by the agent tools and the status board. */
import { z } from "zod";
import { AGENT_STATUSES, ROLES } from "../../src/control/records.js";

/** An agent on the status board (AgentView in src/control/agents.ts). */
export const agentView = z.object({
  agent_id: z.string(),
  role: z.enum(ROLES),
  domain: z.string().nullable(),
  feature_id: z.string().nullable(),
  phase: z.string().nullable(),
  status: z.enum(AGENT_STATUSES),
  current_task: z.string().nullable(),
  progress_percentage: z.number().nullable(),
  estimated_completion: z.string().nullable(),
  blocking_issues: z.array(z.string()),
  outputs_ready: z.array(z.string()),
  last_seen_at: z.string(),
  available: z.boolean().describe("False once silent past the heartbeat limit"),
  silent_ms: z.number(),
  paused_by: z.array(z.string()).describe("Open RED signal ids pausing it"),
});

/** Audit coverage of a phase (AuditCoverage in src/control/agents.ts). */
export const coverage = z.object({
  phase: z.string(),
  coders: z.number(),
  auditors: z.number(),
  status: z.enum(["covered", "pending", "uncovered", "no_coders"]),
  coders_without_auditor: z.array(z.string()),
  decides_at: z.string().nullable().describe("When pending turns uncovered"),
  warning: z.string().nullable(),
});
