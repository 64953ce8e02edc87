/**
 * Stored wave plans (parallel-execution-protocol §2.1 "Execution Waves").
 * A plan is written once with its id and never changed; the index keyed by
 * creation sequence lists plans newest first without loading their bodies.
 */
import { customAlphabet } from "nanoid";
import type { Clock } from "./store/clock.js";
import { nextCounter, type Store } from "./store/index.js";
import type { WavePlanBody } from "./waves.js";

const planId = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 10);

/** A stored plan: the planner's output plus identity and creation time (ISO). */
export type StoredPlan = WavePlanBody & { plan_id: string; created_at: string; seq: number };

/** What `signalbox://waves` lists for each plan. */
export interface PlanSummary {
  plan_id: string;
  name: string | null;
  created_at: string;
  seq: number;
  wave_count: number;
  feature_count: number;
}

/** Store a plan in one write transaction; returns it with its new `plan_id`. */
export function savePlan(store: Store, clock: Clock, body: WavePlanBody): StoredPlan {
  return store.env.transactionSync(() => {
    const seq = nextCounter(store, "plan_seq");
    const plan: StoredPlan = { ...body, plan_id: `plan_${planId()}`, created_at: new Date(clock.wallMs()).toISOString(), seq };
    const summary: PlanSummary = {
      plan_id: plan.plan_id,
      name: body.name ?? null,
      created_at: plan.created_at,
      seq,
      wave_count: body.waves.length,
      feature_count: body.feature_count,
    };
    store.plans.putSync(plan.plan_id, plan);
    store.planIndex.putSync(seq, summary);
    return plan;
  });
}

/** Plan summaries, newest first, at most `limit` (default 100). */
export function listPlans(store: Store, limit = 100): PlanSummary[] {
  store.env.resetReadTxn();
  return [...store.planIndex.getRange({ reverse: true, limit }).map(({ value }) => value as PlanSummary)];
}

/** One plan by id, or undefined. */
export function getPlan(store: Store, id: string): StoredPlan | undefined {
  store.env.resetReadTxn();
  return store.plans.get(id) as StoredPlan | undefined;
}
