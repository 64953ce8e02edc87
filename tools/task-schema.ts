/**
 * The task / feature argument shared by `check_parallel` and `plan_waves`
 * (parallel-execution-protocol §1.1 Feature_Dependencies; DESIGN.md "Task / feature"),
 * and the pair shapes both return.
 */
import { z } from "zod";
import type { Config } from "../src/config.js";
import { REASON_TYPES } from "../src/tasks.js";
import { keyString } from "./common.js";

/** Zod schema of one task, with list sizes bounded by the config. */
export function taskSchema(config: Config) {
  const list = (item: z.ZodString) => z.array(item).max(config.limits.keys_per_task).optional();
  const name = z.string().min(1).max(1024);
  return z.object({
    id: z.string().min(1).max(200),
    reads: list(keyString),
    writes: list(keyString),
    inputs: list(name).describe("Data artifacts consumed"),
    outputs: list(name).describe("Data artifacts produced"),
    schema_changes: list(name).describe("Tables changed"),
    shared_resources: list(name),
    tags: list(name).describe("Integration triggers (migration, api_contract...)"),
    blocked_by: list(z.string().min(1).max(200)).describe("Task ids to finish first"),
    domain: z.string().min(1).max(200).optional(),
    estimate: z.number().positive().max(1e6).optional().describe("Effort for the critical path (default 1)"),
  });
}

export const reasonType = z.enum(REASON_TYPES);
export const pairOrder = z.enum(["a_first", "b_first", "either", "none"]);
export const verdict = z.enum(["PARALLEL", "SERIALIZE", "CONVERGE"]);

export const pairSchema = z.object({
  a: z.string(),
  b: z.string(),
  verdict,
  order: pairOrder,
  same_domain: z.boolean(),
  reasons: z.array(
    z.object({
      type: z.string(),
      severity: z.string(),
      keys: z.array(z.string()).describe("At most 10"),
      key_count: z.number(),
      order: z.string(),
    }),
  ),
});
