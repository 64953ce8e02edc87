/**
 * `signalbox waves --format table` (README, "For people at a terminal"): one
 * stored wave plan (parallel-execution-protocol §2.1 "Execution Waves") as a
 * table at most 80 columns wide: per wave its features (marked completed,
 * active or failed from the feature lifecycle), the waves it waits for and its
 * progress; then the critical path and the serialized conflicts. Also the list
 * of stored plans. Pure: plan data in, text out.
 */
import type { PlanSummary, StoredPlan } from "../../analysis/plans.js";
import {
  colorsFor,
  DEFAULT_WIDTH,
  displayWidth,
  ELLIPSIS,
  line,
  packItems,
  renderTable,
  sectionTitle,
  type Cell,
  type Colors,
} from "./text.js";

/** Lifecycle state of a started feature (src/control/registry/records.ts FeatureRecord). */
export interface FeatureProgress {
  status: "active" | "completed" | "failed";
  agent_id: string;
}

/** Options of {@link renderWavesTable}. */
export interface WavesViewOptions {
  width?: number;
  colors?: Colors;
  /** Started features by id; absent ones have not started. */
  progress?: ReadonlyMap<string, FeatureProgress>;
  /** Most lines of feature ids per wave (default 6; then `… +N`). */
  maxLinesPerWave?: number;
  /** Most conflicts listed (default 10). */
  maxConflicts?: number;
}

const MARK: Record<FeatureProgress["status"], string> = { completed: "✓", active: "»", failed: "✗" };

function mark(id: string, progress: ReadonlyMap<string, FeatureProgress> | undefined): string {
  const p = progress?.get(id);
  return p ? MARK[p.status] + id : id;
}

function colorOf(id: string, progress: ReadonlyMap<string, FeatureProgress> | undefined, colors: Colors): (s: string) => string {
  const p = progress?.get(id);
  if (!p) return (s) => s;
  if (p.status === "completed") return colors.green;
  if (p.status === "active") return colors.yellow;
  return colors.red;
}

/** Ascending wave numbers as ranges: `[1, 2, 3, 5]` -> `1-3,5`. */
export function waveRanges(nums: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < nums.length; ) {
    let j = i;
    while (j + 1 < nums.length && (nums[j + 1] as number) === (nums[j] as number) + 1) j++;
    parts.push(j > i ? `${nums[i]}-${nums[j]}` : String(nums[i]));
    i = j + 1;
  }
  return parts.join(",");
}

/** Wrap a plain sentence (ids separated by `sep`) after `prefix` into lines of `width`; at most `maxLines`. */
function wrapList(prefix: string, items: string[], sep: string, width: number, maxLines: number): string[] {
  const first = displayWidth(prefix);
  const { lines, omitted } = packItems(items, Math.max(8, width - first), maxLines, displayWidth(sep));
  const out = lines.map((l, i) => (i === 0 ? prefix : " ".repeat(first)) + l.join(sep));
  if (omitted > 0) out[out.length - 1] = `${out[out.length - 1] ?? prefix} ${ELLIPSIS} +${omitted}`;
  return out.length > 0 ? out : [prefix.trimEnd()];
}

/**
 * The plan as text, every line at most `width` columns (default 80): a title
 * (id, name, counts), the wave table (WAVE with `I` for an integration point,
 * FEATURES with ✓ completed, » active, ✗ failed, AFTER = prerequisite waves
 * as ranges (`1-3,5`),
 * DONE = completed/total), a legend, the critical path and the first
 * serialized conflicts (`a -> b` when a goes first, `a <> b` in either order).
 */
export function renderWavesTable(plan: StoredPlan, opts: WavesViewOptions = {}): string {
  const w = opts.width ?? DEFAULT_WIDTH;
  const colors = opts.colors ?? colorsFor(false);
  const progress = opts.progress;
  const maxLines = opts.maxLinesPerWave ?? 6;
  const name = plan.name ? ` "${plan.name}"` : "";
  const title = sectionTitle(
    "WAVES",
    `${plan.plan_id}${name} · ${plan.feature_count} features · ${plan.waves.length} waves · ${plan.created_at.slice(0, 16).replace("T", " ")}`,
    w,
    colors,
  );

  const waveCol = Math.max(4, ...plan.waves.map((wv) => displayWidth(`${wv.wave_number}${wv.integration_point ? " I" : ""}`)));
  const afterText = plan.waves.map((wv) => (wv.prerequisites.length === 0 ? "-" : waveRanges(wv.prerequisites)));
  const afterCol = Math.min(12, Math.max(5, ...afterText.map(displayWidth)));
  const doneText = plan.waves.map((wv) => `${wv.features.filter((f) => progress?.get(f)?.status === "completed").length}/${wv.features.length}`);
  const doneCol = Math.max(4, ...doneText.map(displayWidth));
  const featCol = Math.max(10, w - waveCol - afterCol - doneCol - 3);

  const rows: Cell[][] = plan.waves.map((wv, i) => {
    const items = wv.features.map((f) => mark(f, progress));
    const { lines, omitted } = packItems(items, featCol, maxLines, 2);
    let k = 0;
    const raw = lines.map((itemsOfLine) =>
      itemsOfLine
        .map((it) => {
          const id = wv.features[k++] as string;
          return colorOf(id, progress, colors)(it);
        })
        .join("  "),
    );
    if (omitted > 0) raw[raw.length - 1] = `${raw[raw.length - 1] ?? ""} ${colors.dim(`${ELLIPSIS} +${omitted}`)}`;
    const allDone = wv.features.length > 0 && wv.features.every((f) => progress?.get(f)?.status === "completed");
    return [
      { text: `${wv.wave_number}${wv.integration_point ? " I" : ""}`, color: wv.integration_point ? colors.magenta : undefined },
      { raw: raw.length > 0 ? raw : [""] },
      afterText[i] as string,
      { text: doneText[i] as string, color: allDone ? colors.green : undefined },
    ];
  });
  const table = renderTable(
    [
      { head: "WAVE", min: waveCol, max: waveCol },
      { head: "FEATURES", min: featCol, max: featCol },
      { head: "AFTER", min: afterCol, max: afterCol },
      { head: "DONE", min: doneCol, max: doneCol, right: true },
    ],
    rows,
    w,
    colors,
  );
  const legend = colors.dim(line("✓ completed  » active  ✗ failed  (others not started) · I: integration point", w));

  const cp = plan.critical_path;
  const critical = wrapList(`critical path (length ${cp.length}): `, cp.features, " -> ", w, 3);
  const conflictLines: string[] = [];
  if (plan.conflicts_total > 0) {
    const max = opts.maxConflicts ?? 10;
    conflictLines.push(line(`serialized conflicts: ${plan.conflicts_total}${plan.conflicts_total > max ? ` (first ${max})` : ""}`, w));
    for (const c of plan.conflicts.slice(0, max)) {
      const [x, y] = c.order === "b_first" ? [c.b, c.a] : [c.a, c.b];
      const arrow = c.order === "a_first" || c.order === "b_first" ? "->" : "<>";
      const reasons = c.reasons.filter((r) => r !== "dependency").join(", ");
      conflictLines.push(line(`  ${x} ${arrow} ${y}  ${reasons}`, w));
    }
  }
  return [title, table, legend, ...critical, ...conflictLines].join("\n");
}

/** Options of {@link renderPlanList}. */
export interface PlanListOptions {
  width?: number;
  colors?: Colors;
  /** Plans stored in all (for the title). */
  total?: number;
}

/** Stored plans (newest first, as given) as a table: PLAN, NAME, CREATED (UTC), WAVES, FEATURES. */
export function renderPlanList(plans: PlanSummary[], opts: PlanListOptions = {}): string {
  const w = opts.width ?? DEFAULT_WIDTH;
  const colors = opts.colors ?? colorsFor(false);
  const title = sectionTitle("PLANS", `${opts.total ?? plans.length} stored; newest first`, w, colors);
  if (plans.length === 0) return [title, colors.dim("none stored")].join("\n");
  const rows: Cell[][] = plans.map((p) => [
    p.plan_id,
    p.name ?? "-",
    { text: p.created_at.replace("T", " ").replace(/\.\d+Z$/, ""), color: colors.dim },
    String(p.wave_count),
    String(p.feature_count),
  ]);
  const table = renderTable(
    [
      { head: "PLAN", min: 8, cut: "middle" },
      { head: "NAME", min: 4 },
      { head: "CREATED (UTC)", min: 10 },
      { head: "WAVES", right: true },
      { head: "FEATURES", right: true },
    ],
    rows,
    w,
    colors,
  );
  return [title, table].join("\n");
}
