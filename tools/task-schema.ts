/**
 * The task / feature argument shared by `check_parallel` and `plan_waves`
 * (parallel-execution-protocol §1.1 Feature_Dependencies; DESIGN.md "Task / feature"),
 * and the pair shape check_parallel returns.
 */
import { z } from "zod";
import type { Config } from "../src/runtime/config.js";
import { keyString } from "./common.js";

/** Zod schema of one task, with list sizes bounded by the config. */
export function taskSchema(config: Config) {
  const list = (item: z.ZodString) => z.array(item).max(config.limits.keys_per_task).optional();
  const name = z.string().min(1).max(1024);
  return z.object({
    id: z.string().min(1).max(200),
    reads: list(keyString),
    writes: list(keyString),
    inputs: list(name).describe("Data consumed"),
    outputs: list(name).describe("Data produced"),
    schema_changes: list(name).describe("Tables"),
    shared_resources: list(name),
    tags: list(name).describe("e.g. migration, api_contract"),
    blocked_by: list(z.string().min(1).max(200)).describe("Ids that must complete first"),
    domain: z.string().min(1).max(200).optional(),
    estimate: z.number().positive().max(1e6).optional().describe("Effort, default 1"),
  });
}

/** Overall verdict of check_parallel. */
export const verdict = z.enum(["PARALLEL", "SERIALIZE", "CONVERGE"]);

/**
 * A pair as check_parallel returns it (PairResult in src/analysis/tasks.ts). Nested
 * `verdict` (PARALLEL, SERIALIZE, CONVERGE), `order` (a_first, b_first, either,
 * none) and reason `type` (REASON_TYPES in src/analysis/tasks.ts) are plain strings here
 * to keep the tools/list answer short; the values are the ones named.
 */
export const pairSchema = z.object({
  a: z.string(),
  b: z.string(),
  verdict: z.string(),
  order: z.string(),
  same_domain: z.boolean(),
  reasons: z.array(
    z.object({
      type: z.string(),
      severity: z.string(),
      keys: z.array(z.string()),
      key_count: z.number(),
      order: z.string(),
    }),
  ),
});
