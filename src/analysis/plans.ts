/**
 * Stored wave plans (parallel-execution-protocol §2.1 "Execution Waves").
 * A plan is written once with its id and never changed; the index keyed by
 * creation sequence lists plans newest first without loading their bodies.
 *
 * Beside each plan, under `plans` key `<plan_id>\0spec`, the features' specs
 * as the planner normalised them (dependencies, shared resources, tables,
 * writes, tags): the feature lifecycle (§4.2 "State Update Protocol") checks
 * prerequisites against them. The plan body itself stays light.
 */
import { customAlphabet } from "nanoid";
import type { Clock } from "../store/clock.js";
import { meta, plans } from "../store/schema.js";
import type { Db, ReadTxn, WriteTxn } from "../store/txn.js";
import type { NormalizedTask } from "./task-input.js";
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

/**
 * One feature of a plan as the planner saw it (keys normalised relative to the
 * root, `table:`/`resource:` prefixes stripped, derived integration tags added).
 */
export interface FeatureSpec {
  /** Feature ids that must complete before this one starts (§4.2). */
  blocked_by: string[];
  shared_resources: string[];
  /** Tables the feature declared it creates or modifies. */
  schema_changes: string[];
  writes: string[];
  tags: string[];
}

/** feature_id -> spec, for every feature of one plan. */
export type PlanSpec = Map<string, FeatureSpec>;

/** The specs of a normalised feature list (input order), ready for {@link savePlan}. */
export function planSpecOf(tasks: readonly NormalizedTask[]): PlanSpec {
  const spec: PlanSpec = new Map();
  for (const t of tasks) {
    spec.set(t.id, {
      blocked_by: t.blockedBy.map((i) => (tasks[i] as NormalizedTask).id),
      shared_resources: [...t.resources],
      schema_changes: [...t.tables],
      writes: [...t.writes],
      tags: [...t.tags],
    });
  }
  return spec;
}

/** Stored form of a spec: entries in input order (ids such as `__proto__` stay plain data). */
export type StoredSpec = { features: [string, FeatureSpec][] };

/**
 * Store a plan in `tx`; returns it with its new `plan_id`. `spec` (from
 * {@link planSpecOf}) is stored with it (schema.ts `plans.spec`).
 */
export function storePlan(tx: WriteTxn, clock: Clock, body: WavePlanBody, spec?: PlanSpec): StoredPlan {
  const seq = tx.next(meta.counter, ["plan_seq"]);
  const plan: StoredPlan = { ...body, plan_id: `plan_${planId()}`, created_at: new Date(clock.wallMs()).toISOString(), seq };
  const summary: PlanSummary = {
    plan_id: plan.plan_id,
    name: body.name ?? null,
    created_at: plan.created_at,
    seq,
    wave_count: body.waves.length,
    feature_count: body.feature_count,
  };
  tx.put(plans.plan, [plan.plan_id], plan);
  if (spec) tx.put(plans.spec, [plan.plan_id, "spec"], { features: [...spec] });
  tx.put(plans.summary, [seq], summary);
  return plan;
}

/** {@link storePlan} in a write transaction of its own; resolves once it is durable. */
export function savePlan(db: Db, clock: Clock, body: WavePlanBody, spec?: PlanSpec): Promise<StoredPlan> {
  return db.write((tx) => storePlan(tx, clock, body, spec));
}

/** Plan summaries, newest first, at most `limit` (default 100). */
export function listPlans(tx: ReadTxn, limit = 100): PlanSummary[] {
  return [...tx.values(plans.summary, { reverse: true, limit })];
}

/** One plan by id, or undefined. */
export function getPlan(tx: ReadTxn, id: string): StoredPlan | undefined {
  return tx.get(plans.plan, [id]);
}

/**
 * The feature specs stored with plan `planId`, or undefined (unknown plan, or
 * a plan stored before specs were kept).
 */
export function getPlanSpec(tx: ReadTxn, planId: string): PlanSpec | undefined {
  const raw = tx.get(plans.spec, [planId, "spec"]);
  return raw ? new Map(raw.features) : undefined;
}

/**
 * The newest plan (by creation sequence) whose spec contains `featureId`,
 * scanning the plan index newest first; undefined if none does.
 */
export function newestPlanWith(tx: ReadTxn, featureId: string): { plan_id: string; spec: PlanSpec } | undefined {
  for (const summary of tx.values(plans.summary, { reverse: true })) {
    const spec = getPlanSpec(tx, summary.plan_id);
    if (spec?.has(featureId)) return { plan_id: summary.plan_id, spec };
  }
  return undefined;
}

/** How many plans are stored (the plan sequence counter). */
export function planCount(tx: ReadTxn): number {
  return tx.get(meta.counter, ["plan_seq"]) ?? 0;
}
