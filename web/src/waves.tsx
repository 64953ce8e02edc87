/** The Waves section: a stored plan as a graph coloured by feature state (with icon and word too), and each wave with its integration report. */
import { useMemo, useState } from "preact/hooks";
import { clock, plural } from "./format.js";
import { layoutPlan, NODE_H, NODE_W, planWindow, waveWindow, type WaveWindow } from "./graph.js";
import type { DashboardState, FeatureNode, FeatureState, PlanGraph, WaveRow } from "./types.js";
import { Conflicts, Integration } from "./wave-report.js";
import { Empty, FEATURE_STATES, Section, StateBadge } from "./ui.js";

const ORDER: FeatureState[] = ["active", "failed", "blocked", "ready", "pending", "completed"];

export function WavesSection(props: { state: DashboardState; planId: string | null; onPlan: (id: string | null) => void }) {
  const { plans, plan } = props.state;
  return (
    <Section id="waves" title="Waves" count={plural(plans.length, "plan")}>
      {plans.length === 0 || plan === null ? (
        <Empty>No wave plan stored yet (plan_waves stores one).</Empty>
      ) : (
        <>
          <div class="toolbar">
            <label for="plan-select">Plan</label>
            <select id="plan-select" value={plan.plan_id} onChange={(e) => props.onPlan((e.currentTarget as HTMLSelectElement).value)}>
              {plans.map((p) => (
                <option key={p.plan_id} value={p.plan_id}>
                  {p.name !== null ? `${p.name} (${p.plan_id})` : p.plan_id} · {plural(p.wave_count, "wave")} · {plural(p.feature_count, "feature")}
                </option>
              ))}
            </select>
            <span class="meta">stored {clock(plan.created_at)}</span>
          </div>
          <p class="counts">
            {ORDER.filter((s) => plan.counts[s] > 0).map((s) => (
              <span key={s}>
                <StateBadge state={s} /> {plan.counts[s]}{" "}
              </span>
            ))}
          </p>
          <PlanView key={plan.plan_id} plan={plan} />
        </>
      )}
    </Section>
  );
}

/** The graph and the wave list of one plan, a window of waves at a time (a long plan would not fit, nor lay out fast). */
function PlanView(props: { plan: PlanGraph }) {
  const { plan } = props;
  const [from, setFrom] = useState<number | null>(null);
  const w = waveWindow(plan, from);
  const shown = planWindow(plan, w);
  const whole = w.from === 1 && w.to === w.last;
  return (
    <>
      {!whole && <WindowPager w={w} onMove={setFrom} />}
      <PlanDrawing plan={shown} w={w} />
      <Legend />
      <p>
        <strong>Critical path</strong> ({plan.critical_path.length}): {plan.critical_path.features.join(" → ") || "—"}
      </p>
      <WaveList plan={plan} w={w} />
      <Conflicts plan={plan} />
    </>
  );
}

function WindowPager(props: { w: WaveWindow; onMove: (from: number) => void }) {
  const { w } = props;
  const span = w.to - w.from + 1;
  return (
    <nav class="pager" aria-label="Waves shown">
      <button type="button" disabled={w.from <= 1} onClick={() => props.onMove(Math.max(1, w.from - span))}>
        ← Earlier waves
      </button>
      <span>
        Waves {w.from}–{w.to} of {w.last}
      </span>
      <button type="button" disabled={w.to >= w.last} onClick={() => props.onMove(w.to + 1)}>
        Later waves →
      </button>
    </nav>
  );
}

function PlanDrawing(props: { plan: PlanGraph; w: WaveWindow }) {
  const { plan, w } = props;
  // A stored plan never changes: lay out each window once, recolour on every state.
  const layout = useMemo(() => layoutPlan(plan), [plan.plan_id, w.from, w.to]);
  const byId = new Map(plan.features.map((f) => [f.id, f]));
  const deps = plan.edges.length;
  return (
    <div class="graph-wrap" tabIndex={0} role="region" aria-label="Wave graph (scrolls sideways)">
      <svg
        class="graph"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-labelledby="graph-title graph-desc"
        data-plan={plan.plan_id}
      >
        <title id="graph-title">Wave plan {plan.name ?? plan.plan_id}</title>
        <desc id="graph-desc">
          {plural(plan.features.length, "feature")} in waves {w.from} to {w.to}, {plural(deps, "dependency edge")} and {plural(plan.conflicts.length, "serialized conflict")} between them;
          critical path {plan.critical_path.features.join(", ") || "elsewhere"}. The waves are listed below as text.
        </desc>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0 0 L10 5 L0 10 z" class="arrowhead" />
          </marker>
        </defs>
        {layout.waves.map((w) => (
          <text key={w.wave} class="wave-title" x={w.x} y={20} text-anchor="middle">
            Wave {w.wave}
          </text>
        ))}
        {layout.edges.map((e) => (
          <path
            key={`${e.from}>${e.to}`}
            d={e.d}
            class={`edge ${e.kind}${e.conflict ? " conflicting" : ""}${e.critical ? " critical" : ""}`}
            marker-end="url(#arrow)"
            data-from={e.from}
            data-to={e.to}
          />
        ))}
        {layout.nodes.map((n) => {
          const f = byId.get(n.id) as FeatureNode;
          return <Node key={n.id} f={f} x={n.x} y={n.y} />;
        })}
      </svg>
    </div>
  );
}

function Node(props: { f: FeatureNode; x: number; y: number }) {
  const { f } = props;
  const s = FEATURE_STATES[f.state];
  const name = fit(f.id, 24);
  return (
    <g class={`node state-${f.state}${f.critical ? " critical" : ""}`} transform={`translate(${props.x} ${props.y})`} data-feature={f.id} data-state={f.state}>
      <title>
        {f.id}: {s.label}
        {f.agent_id !== null ? ` (${f.agent_id})` : ""}
        {f.critical ? ", on the critical path" : ""}
      </title>
      <rect width={NODE_W} height={NODE_H} rx={6} />
      <text x={10} y={19} class="node-id">
        {name}
      </text>
      <text x={10} y={37} class="node-state">
        {fit(`${s.icon} ${s.label}${f.agent_id !== null && f.state !== "completed" ? ` · ${f.agent_id}` : ""}`, 27)}
      </text>
    </g>
  );
}

/** `text` cut to `max` characters with an ellipsis (the full text is in the node's title). */
function fit(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function Legend() {
  return (
    <ul class="legend" aria-label="Legend">
      {(Object.keys(FEATURE_STATES) as FeatureState[]).map((s) => (
        <li key={s}>
          <StateBadge state={s} />
        </li>
      ))}
      <li>
        <span class="legend-line dependency" aria-hidden="true" /> dependency
      </li>
      <li>
        <span class="legend-line conflict" aria-hidden="true" /> serialized conflict (dashed)
      </li>
      <li>
        <span class="legend-line critical" aria-hidden="true" /> critical path (thick line and border)
      </li>
    </ul>
  );
}

function WaveList(props: { plan: PlanGraph; w: WaveWindow }) {
  const byId = new Map(props.plan.features.map((f) => [f.id, f]));
  return (
    <div class="wave-list">
      {props.plan.waves
        .filter((w) => w.wave_number >= props.w.from && w.wave_number <= props.w.to)
        .map((w) => (
          <WaveItem key={w.wave_number} w={w} byId={byId} />
        ))}
      {props.plan.features_omitted > 0 && <p class="meta">{props.plan.features_omitted} more features are not drawn.</p>}
    </div>
  );
}

function WaveItem(props: { w: WaveRow; byId: Map<string, FeatureNode> }) {
  const { w } = props;
  return (
    <div class="wave" data-wave={w.wave_number}>
      <h3>
        Wave {w.wave_number}
        {w.integration_point && <span class="badge kind">integration point</span>}
        {w.prerequisites.length > 0 && <span class="meta"> after wave {w.prerequisites.join(", ")}</span>}
      </h3>
      <ul class="features">
        {w.features.map((id) => {
          const f = props.byId.get(id);
          return (
            <li key={id}>
              {f ? <StateBadge state={f.state} /> : null} {id}
              {f?.agent_id ? <span class="meta"> {f.agent_id}</span> : null}
              {f?.critical ? <span class="meta"> · critical path</span> : null}
              {f && f.blocked_because.length > 0 ? <span class="meta"> (failed: {f.blocked_because.join(", ")})</span> : null}
            </li>
          );
        })}
      </ul>
      {w.integration !== null ? <Integration r={w.integration} /> : <p class="meta">Not integrated yet.</p>}
    </div>
  );
}
