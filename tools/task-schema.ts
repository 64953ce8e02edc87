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
  const list = (item: z.ZodString, what: string) => z.array(item).max(config.limits.keys_per_task).optional().describe(what);
  const name = z.string().min(1).max(1024);
  return z.object({
    id: z.string().min(1).max(200).describe("Unique task id"),
    reads: list(keyString, "Keys the task reads"),
    writes: list(keyString, "Keys the task writes"),
    inputs: list(name, "Data artifacts the task consumes"),
    outputs: list(name, "Data artifacts the task produces"),
    schema_changes: list(name, "Tables the task creates or modifies"),
    shared_resources: list(name, "Shared resources it uses (auth, database...)"),
    tags: list(name, "Integration triggers (migration, api_contract, release...); any tag makes it an integration point"),
    blocked_by: list(z.string().min(1).max(200), "Ids of tasks that must complete first"),
    domain: z.string().min(1).max(200).optional().describe("Domain override; default from the config's domain map"),
    estimate: z.number().positive().max(1e6).optional().describe("Relative effort for the critical path (default 1)"),
  });
}

export const reasonType = z.enum(REASON_TYPES);
export const pairOrder = z.enum(["a_first", "b_first", "either", "none"]).describe("a_first: a must finish before b starts");
export const verdict = z.enum(["PARALLEL", "SERIALIZE", "CONVERGE"]);

export const pairSchema = z.object({
  a: z.string(),
  b: z.string(),
  verdict,
  order: pairOrder,
  same_domain: z.boolean().describe("Both touch a common domain (Level 1)"),
  reasons: z.array(
    z.object({
      type: reasonType,
      severity: z.enum(["CRITICAL", "WARNING"]),
      keys: z.array(z.string()).describe("Keys involved (at most 10)"),
      key_count: z.number().int(),
      order: pairOrder,
    }),
  ),
});
