/**
 * `signalbox waves --format mermaid` (README, "For people at a terminal"): a
 * stored wave plan as a Mermaid `flowchart` to paste into a pull request. One
 * subgraph per wave (parallel-execution-protocol §2.1), a solid edge per
 * `blocked_by` dependency, a dotted labelled edge per serialized conflict (from
 * the feature placed first), critical-path nodes in class `critical`,
 * integration points as hexagons, started features in classes `done`, `active`,
 * `failed`.
 *
 * Ids: a feature id may hold any character, so node ids are generated
 * (`f<n>_` plus the id's letters, digits and `_`, at most 24 of them) and
 * every label is a quoted string with `"`, `#`, `%`, `&`, `:`, `<`, `>`,
 * backslash and backtick written as Mermaid entity codes (`#34;` ...);
 * control characters are escaped. Pure: plan data in, text out.
 */
import type { StoredPlan } from "../../analysis/plans.js";
import type { FeatureProgress } from "./waves.js";
import { oneLine } from "./text.js";

/** Options of {@link renderMermaid}. */
export interface MermaidOptions {
  /** feature id -> its `blocked_by` (the plan's stored spec); without it, waves are linked by their prerequisites. */
  dependencies?: ReadonlyMap<string, { blocked_by: readonly string[] }>;
  /** Started features by id: nodes get class `done`, `active` or `failed`. */
  progress?: ReadonlyMap<string, FeatureProgress>;
  /** Flowchart direction (default `TB`). */
  direction?: "TB" | "LR";
}

/** Characters written as entity codes inside a quoted label. */
const ENTITIES: Record<string, string> = {
  '"': "#34;",
  "#": "#35;",
  "%": "#37;",
  "&": "#38;",
  ":": "#58;",
  "<": "#60;",
  ">": "#62;",
  "\\": "#92;",
  "`": "#96;",
};

/**
 * `text` as a quoted Mermaid label: one line, control characters escaped,
 * `"#%&:<>\` and backtick as entity codes, so no id can end the string,
 * inject HTML, start a markdown string, look like a `%%{...}%%` directive,
 * trip Mermaid's `style ...:#...;` pre-processing, or turn an escaped
 * newline (`\n`) into a line break.
 */
export function mermaidLabel(text: string): string {
  return `"${oneLine(text).replace(/["#%&:<>\\`]/g, (c) => ENTITIES[c] as string)}"`;
}

/** A node id Mermaid accepts for the `n`-th feature: `f<n>_` and up to 24 of the id's [A-Za-z0-9_]. */
export function mermaidNodeId(n: number, featureId: string): string {
  const tail = featureId.replace(/[^A-Za-z0-9_]/g, "").slice(0, 24);
  return tail === "" ? `f${n}` : `f${n}_${tail}`;
}

/**
 * The plan as Mermaid flowchart source (ends with a newline). Every feature
 * is declared exactly once, inside its wave's subgraph (`wave<k>`); edges
 * only join declared nodes. A `%%` comment heads it; conflicts beyond the
 * stored ones (`conflicts_total` > listed) are counted in a comment.
 */
export function renderMermaid(plan: StoredPlan, opts: MermaidOptions = {}): string {
  const ids = new Map<string, string>();
  let n = 0;
  for (const wave of plan.waves) for (const f of wave.features) if (!ids.has(f)) ids.set(f, mermaidNodeId(++n, f));
  const critical = new Set(plan.critical_path.features);
  const out: string[] = [];
  // In a comment: no `%` or braces, so the name cannot form a %%{...}%% directive.
  const name = plan.name ? ` ${oneLine(plan.name).replace(/[%{}]/g, "_")}` : "";
  out.push(
    `%% signalbox wave plan ${plan.plan_id}${name}: ${plan.feature_count} features, ${plan.waves.length} waves, ${plan.conflicts_total} serialized conflicts`,
  );
  out.push(`flowchart ${opts.direction ?? "TB"}`);

  const declared = new Set<string>();
  for (const wave of plan.waves) {
    const kind = wave.integration_point ? " · integration point" : wave.can_parallelize ? ` · ${wave.features.length} in parallel` : "";
    out.push(`  subgraph wave${wave.wave_number}[${mermaidLabel(`Wave ${wave.wave_number}${kind}`)}]`);
    for (const f of wave.features) {
      const id = ids.get(f) as string;
      if (declared.has(id)) continue;
      declared.add(id);
      const label = mermaidLabel(f);
      out.push(wave.integration_point ? `    ${id}{{${label}}}` : `    ${id}[${label}]`);
    }
    out.push("  end");
  }

  const edges = new Set<string>();
  if (opts.dependencies) {
    for (const wave of plan.waves) {
      for (const f of wave.features) {
        for (const dep of opts.dependencies.get(f)?.blocked_by ?? []) {
          const from = ids.get(dep);
          const to = ids.get(f);
          if (!from || !to) continue;
          const edge = `  ${from} --> ${to}`;
          if (!edges.has(edge)) out.push(edge);
          edges.add(edge);
        }
      }
    }
  } else {
    for (const wave of plan.waves) for (const p of wave.prerequisites) out.push(`  wave${p} --> wave${wave.wave_number}`);
  }

  for (const c of plan.conflicts) {
    const [x, y] = c.order === "b_first" ? [c.b, c.a] : [c.a, c.b];
    const from = ids.get(x);
    const to = ids.get(y);
    if (!from || !to) continue;
    const reasons = c.reasons.filter((r) => r !== "dependency");
    out.push(`  ${from} -.->|${mermaidLabel(reasons.length > 0 ? reasons.join(", ") : "conflict")}| ${to}`);
  }
  if (plan.conflicts_total > plan.conflicts.length) {
    out.push(`  %% ${plan.conflicts_total - plan.conflicts.length} more serialized conflicts are not stored with the plan`);
  }

  out.push("  classDef critical stroke:#c92a2a,stroke-width:3px");
  out.push("  classDef done fill:#d3f9d8,stroke:#2b8a3e");
  out.push("  classDef active fill:#fff3bf,stroke:#e67700");
  out.push("  classDef failed fill:#ffe3e3,stroke:#c92a2a,stroke-dasharray:4 2");
  const byClass = (pick: (f: string) => boolean) => [...ids].filter(([f]) => pick(f)).map(([, id]) => id);
  const assign = (cls: string, members: string[]) => {
    // Long class lists are split so no line grows without bound.
    for (let i = 0; i < members.length; i += 50) out.push(`  class ${members.slice(i, i + 50).join(",")} ${cls}`);
  };
  const statusOf = (f: string) => opts.progress?.get(f)?.status;
  assign("done", byClass((f) => statusOf(f) === "completed"));
  assign("active", byClass((f) => statusOf(f) === "active"));
  assign("failed", byClass((f) => statusOf(f) === "failed"));
  assign("critical", byClass((f) => critical.has(f)));
  return `${out.join("\n")}\n`;
}
