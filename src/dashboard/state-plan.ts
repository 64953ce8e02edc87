/**
 * The Waves section of the dashboard state: one stored plan as a graph
 * (src/analysis/plans.ts `getPlan`, `getPlanSpec`: features by wave,
 * `blocked_by` edges, serialized conflicts, critical path), each feature in
 * the state its lifecycle record gives (control/features.ts), and each wave's
 * latest integration report (control/integration.ts, as
 * `signalbox://waves/{plan_id}/integration/{n}`). Read-only.
 */
import { getPlan, getPlanSpec, listPlans, type FeatureSpec, type PlanSpec, type StoredPlan } from "../analysis/plans.js";
import type { ControlEnv } from "../control/registry/env.js";
import { allDependents, allFeatures } from "../control/features.js";
import { integrationReport, planIntegrations } from "../control/integration.js";
import type { FeatureRecord } from "../control/registry/records.js";
import type { ReadTxn } from "../store/txn.js";
import type { FeatureNode, FeatureState, IntegrationRow, PlanGraph, PlanSummaryRow, WaveRow } from "./types.js";

/** Most plans listed in the plan chooser. */
export const PLANS_LISTED = 50;
/** Most features drawn in the graph of one plan; `features_omitted` counts the rest. */
export const GRAPH_FEATURES = 300;
/** Most items of each list of an integration report. */
const REPORT_LISTED = 20;

/** The stored plans, newest first. */
export function planRows(tx: ReadTxn): PlanSummaryRow[] {
  return listPlans(tx, PLANS_LISTED).map((p) => ({
    plan_id: p.plan_id,
    name: p.name,
    created_at: p.created_at,
    wave_count: p.wave_count,
    feature_count: p.feature_count,
  }));
}

/**
 * The graph of plan `planId`, or of the newest plan when it is null or names
 * no stored plan; null when no plan is stored.
 */
export function planGraph(env: ControlEnv, tx: ReadTxn, planId: string | null, newest: string | null): PlanGraph | null {
  const plan = (planId !== null ? getPlan(tx, planId) : undefined) ?? (newest !== null ? getPlan(tx, newest) : undefined);
  if (!plan) return null;
  const spec: PlanSpec = getPlanSpec(tx, plan.plan_id) ?? new Map<string, FeatureSpec>();
  const records = new Map<string, FeatureRecord>(allFeatures(env).map((f) => [f.feature_id, f]));
  const blockedBy = blockedFeatures(spec, records);
  const critical = new Set(plan.critical_path.features);
  const counts: Record<FeatureState, number> = { completed: 0, active: 0, failed: 0, blocked: 0, ready: 0, pending: 0 };
  const nodes: FeatureNode[] = [];
  for (const wave of plan.waves) {
    for (const id of wave.features) {
      const rec = records.get(id);
      const state = stateOf(rec, blockedBy.has(id), (spec.get(id)?.blocked_by ?? []).every((b) => records.get(b)?.status === "completed"));
      counts[state]++;
      if (nodes.length >= GRAPH_FEATURES) continue;
      nodes.push({
        id,
        wave: wave.wave_number,
        state,
        agent_id: rec?.agent_id ?? null,
        attempts: rec?.attempts ?? 0,
        branch: rec?.branch ?? null,
        critical: critical.has(id),
        blocked_because: blockedBy.get(id) ?? [],
      });
    }
  }
  const shown = new Set(nodes.map((n) => n.id));
  const edges: PlanGraph["edges"] = [];
  for (const [id, s] of spec) {
    if (!shown.has(id)) continue;
    for (const b of s.blocked_by) if (shown.has(b)) edges.push({ from: b, to: id });
  }
  return {
    plan_id: plan.plan_id,
    name: plan.name ?? null,
    created_at: plan.created_at,
    features: nodes,
    features_omitted: Math.max(0, plan.feature_count - nodes.length),
    edges,
    conflicts: plan.conflicts.filter((c) => shown.has(c.a) && shown.has(c.b)).map((c) => ({ a: c.a, b: c.b, reasons: [...c.reasons], order: c.order, placed: c.placed })),
    conflicts_total: plan.conflicts_total,
    critical_path: { features: [...plan.critical_path.features], length: plan.critical_path.length },
    waves: waveRows(env, plan),
    counts,
  };
}

/** A feature's state: its record's, else blocked (a prerequisite failed), ready (all prerequisites completed) or pending. */
function stateOf(rec: FeatureRecord | undefined, blocked: boolean, prerequisitesDone: boolean): FeatureState {
  if (rec) return rec.status;
  if (blocked) return "blocked";
  return prerequisitesDone ? "ready" : "pending";
}

/** Features not started that a failed feature holds back (transitively), with the failed ones holding each. */
function blockedFeatures(spec: PlanSpec, records: Map<string, FeatureRecord>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [id] of spec) {
    if (records.get(id)?.status !== "failed") continue;
    for (const d of allDependents(spec, id)) {
      if (records.has(d)) continue;
      const list = out.get(d);
      if (list) list.push(id);
      else out.set(d, [id]);
    }
  }
  return out;
}

/** The waves of `plan`, each with its latest integration report, if any. */
function waveRows(env: ControlEnv, plan: StoredPlan): WaveRow[] {
  const integrated = new Map(planIntegrations(env, plan.plan_id).map((w) => [w.wave_number, w]));
  return plan.waves.map((w) => {
    const rec = integrated.get(w.wave_number);
    let integration: IntegrationRow | null = null;
    if (rec) {
      const r = integrationReport(env, plan.plan_id, w.wave_number, rec.attempt);
      integration = {
        status: rec.status,
        attempt: rec.attempt,
        at: rec.at,
        by: rec.by,
        reasons: rec.reasons.slice(0, REPORT_LISTED),
        actions: (r?.actions ?? []).slice(0, REPORT_LISTED),
        undeclared_writes: (r?.undeclared_writes ?? []).slice(0, REPORT_LISTED).map((u) => ({ feature_id: u.feature_id, file: u.file })),
        undeclared_writes_total: r?.undeclared_writes_total ?? 0,
        overlapping_changes: (r?.overlapping_changes ?? []).slice(0, REPORT_LISTED).map((o) => ({ file: o.file, features: o.features })),
        overlapping_changes_total: r?.overlapping_changes_total ?? 0,
        migration_collisions: (r?.migration_collisions ?? []).slice(0, REPORT_LISTED).map((m) => ({ kind: m.kind, value: m.value, paths: m.migrations.map((x) => x.path) })),
        gates: (r?.gates ?? []).slice(0, REPORT_LISTED).map((g) => ({ gate: g.gate, required: g.required, status: g.status })),
        reviews: (r?.reviews ?? []).slice(0, REPORT_LISTED).map((v) => ({ feature_id: v.feature_id, reviewer: v.reviewer, status: v.status })),
        merge: r?.merge ? { status: r.merge.status, conflict_files: r.merge.first_conflict?.files.slice(0, REPORT_LISTED) ?? [] } : null,
      };
    }
    return { wave_number: w.wave_number, features: w.features, prerequisites: w.prerequisites, integration_point: w.integration_point, integration };
  });
}
