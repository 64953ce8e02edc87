/**
 * Layout of a wave plan as a left-to-right graph with dagre: one column per
 * wave (the planner's ranks are kept as they are: dagre's ranker is "none"
 * and each node carries its wave as its rank), dependency and conflict
 * edges routed between them, node order chosen by dagre to cut crossings.
 */
import dagre, { type EdgeLabel, type GraphLabel, type NodeLabel } from "@dagrejs/dagre";
import type { PlanGraph } from "./types.js";

/** Size of a feature box, px. */
export const NODE_W = 190;
export const NODE_H = 48;
/** Height of the row of wave titles above the graph, px. */
const HEADER_H = 30;
const MARGIN = 12;
/** Conflict edges drawn at most (the full list is in the table below the graph). */
const CONFLICT_EDGES_MAX = 200;

export interface LaidNode {
  id: string;
  /** Top-left corner, px. */
  x: number;
  y: number;
}

export interface LaidEdge {
  from: string;
  to: string;
  /** `dependency`: blocked_by; `conflict`: a serialized conflict; `order`: the critical path's next step with neither. */
  kind: "dependency" | "conflict" | "order";
  /** Also a serialized conflict (a dependency edge whose pair conflicts too). */
  conflict: boolean;
  critical: boolean;
  /** SVG path data. */
  d: string;
}

export interface Layout {
  width: number;
  height: number;
  nodes: LaidNode[];
  edges: LaidEdge[];
  /** Each wave's title position (centre x), px. */
  waves: { wave: number; x: number }[];
}

/** Most features and waves drawn at once: a longer plan is shown a window of waves at a time. */
export const WINDOW_FEATURES = 60;
export const WINDOW_WAVES = 12;

/** The waves `from..to` (inclusive) shown. */
export interface WaveWindow {
  from: number;
  to: number;
  /** Waves in the plan. */
  last: number;
}

/** The first wave with a feature not completed (the last wave when all are). */
export function currentWave(plan: PlanGraph): number {
  const open = plan.features.filter((f) => f.state !== "completed").map((f) => f.wave);
  return open.length > 0 ? Math.min(...open) : Math.max(1, ...plan.features.map((f) => f.wave));
}

/** The window starting at wave `from` (default: one before the current wave), as long as the limits allow, at least one wave. */
export function waveWindow(plan: PlanGraph, from: number | null): WaveWindow {
  const last = Math.max(1, ...plan.features.map((f) => f.wave));
  const start = Math.min(last, Math.max(1, from ?? currentWave(plan) - 1));
  const perWave = new Map<number, number>();
  for (const f of plan.features) perWave.set(f.wave, (perWave.get(f.wave) ?? 0) + 1);
  let to = start;
  let count = perWave.get(start) ?? 0;
  while (to < last && to - start + 1 < WINDOW_WAVES && count + (perWave.get(to + 1) ?? 0) <= WINDOW_FEATURES) {
    to++;
    count += perWave.get(to) ?? 0;
  }
  return { from: start, to, last };
}

/** The part of `plan` inside the window: its features, the edges and conflicts between them, the critical path's steps among them. */
export function planWindow(plan: PlanGraph, w: WaveWindow): PlanGraph {
  const features = plan.features.filter((f) => f.wave >= w.from && f.wave <= w.to);
  const shown = new Set(features.map((f) => f.id));
  return {
    ...plan,
    features,
    edges: plan.edges.filter((e) => shown.has(e.from) && shown.has(e.to)),
    conflicts: plan.conflicts.filter((c) => shown.has(c.a) && shown.has(c.b)),
    critical_path: { ...plan.critical_path, features: plan.critical_path.features.filter((id) => shown.has(id)) },
  };
}

/** Lay out the plan's features, edges and waves (pass a window of a long plan: see {@link planWindow}). */
export function layoutPlan(plan: PlanGraph): Layout {
  const waveOf = new Map(plan.features.map((f) => [f.id, f.wave]));
  const g = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>();
  const label: GraphLabel = { rankdir: "LR", nodesep: 14, ranksep: 64, marginx: 0, marginy: 0 };
  (label as Record<string, unknown>).ranker = "none";
  g.setGraph(label);
  g.setDefaultEdgeLabel(() => ({}));
  for (const f of plan.features) g.setNode(f.id, { width: NODE_W, height: NODE_H, rank: (f.wave - 1) * 2 });

  const edges = new Map<string, Omit<LaidEdge, "d">>();
  const keyOf = (a: string, b: string) => `${a}\u0000${b}`;
  const add = (a: string, b: string, kind: LaidEdge["kind"]) => {
    const wa = waveOf.get(a);
    const wb = waveOf.get(b);
    if (wa === undefined || wb === undefined || wa === wb) return;
    const [from, to] = wa < wb ? [a, b] : [b, a];
    const known = edges.get(keyOf(from, to));
    if (known) {
      if (kind === "conflict") known.conflict = true;
      return;
    }
    edges.set(keyOf(from, to), { from, to, kind, conflict: kind === "conflict", critical: false });
  };
  for (const e of plan.edges) add(e.from, e.to, "dependency");
  for (const c of plan.conflicts.slice(0, CONFLICT_EDGES_MAX)) add(c.a, c.b, "conflict");
  const path = plan.critical_path.features;
  for (let i = 1; i < path.length; i++) {
    const a = path[i - 1] as string;
    const b = path[i] as string;
    add(a, b, "order");
    const e = edges.get(keyOf(a, b)) ?? edges.get(keyOf(b, a));
    if (e) e.critical = true;
  }
  for (const e of edges.values()) g.setEdge(e.from, e.to);
  dagre.layout(g);

  // dagre leaves room for nothing above the first row: gather the bounds of boxes and bends, then shift.
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const grow = (x: number, y: number) => {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  };
  for (const id of g.nodes()) {
    const n = g.node(id);
    grow((n.x ?? 0) - NODE_W / 2, (n.y ?? 0) - NODE_H / 2);
    grow((n.x ?? 0) + NODE_W / 2, (n.y ?? 0) + NODE_H / 2);
  }
  for (const e of g.edges()) for (const p of g.edge(e).points ?? []) grow(p.x, p.y);
  if (!Number.isFinite(minX)) return { width: 0, height: 0, nodes: [], edges: [], waves: [] };
  const dx = MARGIN - minX;
  const dy = MARGIN + HEADER_H - minY;

  const nodes: LaidNode[] = plan.features.map((f) => {
    const n = g.node(f.id);
    return { id: f.id, x: (n.x ?? 0) - NODE_W / 2 + dx, y: (n.y ?? 0) - NODE_H / 2 + dy };
  });
  const waveX = new Map<number, number>();
  for (const n of nodes) waveX.set(waveOf.get(n.id) as number, n.x + NODE_W / 2);
  const laid: LaidEdge[] = [...edges.values()].map((e) => {
    const pts = (g.edge(e.from, e.to).points ?? []).map((p) => `${round(p.x + dx)} ${round(p.y + dy)}`);
    return { ...e, d: pts.length > 0 ? `M${pts.join(" L")}` : "" };
  });
  return {
    width: round(maxX - minX + 2 * MARGIN),
    height: round(maxY - minY + 2 * MARGIN + HEADER_H),
    nodes,
    edges: laid,
    waves: [...waveX].sort((a, b) => a[0] - b[0]).map(([wave, x]) => ({ wave, x })),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
