/**
 * Breaking another agent's lock: the one way past a holder besides waiting
 * for its lease (RELIABILITY.md, "Bad input and misuse", spoofing: a forced
 * break is only through an explicit tool that records who broke what and why in
 * the decision log and tells the previous holder through its inbox).
 *
 * One write transaction ends the locks, appends the `lock_break` decision,
 * delivers the notices and logs one `lock_broken` activity entry per ended
 * lock (activity.ts), so a break is never half recorded.
 */
import { requireOrchestrator, type Vouch } from "./registry/authority.js";
import { appendDecision } from "../log/decisions.js";
import type { BrokenLock, LockManager } from "../locks/manager.js";
import { recordActivity } from "../log/activity.js";
import type { ControlEnv } from "./registry/env.js";
import { deliver } from "./registry/inbox.js";
import { InvalidArgumentError } from "../errors.js";

/** What a break did: the ended locks and the decision that records it (null when nothing was held). */
export interface BreakResult {
  broken: BrokenLock[];
  decision_seq: number | null;
}

/**
 * Break every live lock on exactly `key` held by agents other than `agent_id`.
 * `key` must already be normalised. Nothing held there is not an error: the
 * result is empty and no decision is written.
 *
 * @throws Error naming `reason` when it is blank; NotPermittedError naming
 *         `agent_id` unless the caller is an orchestrator (control/registry/authority.ts).
 */
export function breakLock(
  env: ControlEnv,
  locks: LockManager,
  input: { agent_id: string; key: string; reason: string },
  vouch?: Vouch | null,
): BreakResult {
  const reason = input.reason.trim();
  if (reason === "") throw new InvalidArgumentError("reason", "say why the lock must be broken (it goes into the decision log)");
  return env.txn.write((tx): BreakResult => {
    requireOrchestrator(env, input.agent_id, vouch, "agent_id", "break a lock");
    const broken = locks.breakHeld(input.agent_id, input.key, env.txn);
    if (broken.length === 0) return { broken, decision_seq: null };
    const holders = broken.map((b) => `${b.agent_id} (${b.mode}, token ${b.fencing_token}${b.feature_id ? `, ${b.feature_id}` : ""})`);
    const decision = appendDecision(tx, env.clock, {
      type: "lock_break",
      decided_by: input.agent_id,
      context: `${input.key} was held by ${holders.join(", ")}`,
      decision: `broke ${broken.length} lock(s) on ${input.key}`,
      rationale: reason,
      refs: [input.key, ...broken.flatMap((b) => (b.feature_id ? [b.feature_id] : []))],
    });
    for (const b of broken) {
      deliver(env, [b.agent_id], {
        from: input.agent_id,
        kind: "notice",
        priority: "high",
        summary: `your ${b.mode} lock on ${b.key} (token ${b.fencing_token}) was broken by ${input.agent_id}: ${reason}`,
        body: { key: b.key, mode: b.mode, fencing_token: b.fencing_token, broken_by: input.agent_id, reason, decision_seq: decision.seq },
        ref: { kind: "decision", id: String(decision.seq) },
      });
      recordActivity(env, {
        kind: "lock_broken",
        agent_id: input.agent_id,
        feature_id: b.feature_id,
        summary: `${input.agent_id} broke ${b.agent_id}'s ${b.mode} lock on ${b.key} (token ${b.fencing_token}): ${reason}`,
        data: { key: b.key, mode: b.mode, holder: b.agent_id, fencing_token: b.fencing_token, reason, decision_seq: decision.seq },
      });
    }
    return { broken, decision_seq: decision.seq };
  });
}
