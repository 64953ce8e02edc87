/**
 * `signalbox decisions` (README, "For people at a terminal"): the append-only
 * decision log, newest first, as a table at most 80 columns wide. Each entry
 * shows its sequence number, when (UTC), type, who decided, and the decision
 * with its context on a second, dim line. Pure: decisions in, text out.
 */
import type { DecisionRecord } from "../../log/decision-record.js";
import { colorsFor, DEFAULT_WIDTH, renderTable, sectionTitle, type Cell, type Colors } from "./text.js";

/** Options of {@link renderDecisions}. */
export interface DecisionsViewOptions {
  width?: number;
  colors?: Colors;
  /** Entries in the whole log (for the title). */
  total?: number;
  /** Said in the title, e.g. `since 2026-01-01T10:00:00.000Z`. */
  filter?: string;
}

const TYPE_COLOR: Record<string, keyof Colors> = {
  lock_break: "red",
  dependency_violation: "red",
  conflict_resolution: "yellow",
  reallocation: "yellow",
  convention: "blue",
  interface_arbitration: "blue",
  integration: "magenta",
};

/** `2026-01-01T10:00:00.000Z` as `01-01 10:00:00` (UTC; the year is in --format json). */
function when(iso: string): string {
  const m = /^\d{4}-(\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? `${m[1]} ${m[2]}` : iso;
}

/**
 * Decisions (newest first, as given) as a table of at most `width` columns:
 * `#` (seq), `WHEN (UTC)`, TYPE, BY, and DECISION over its context (dim).
 * Every field is escaped and cut with `…`.
 */
export function renderDecisions(decisions: DecisionRecord[], opts: DecisionsViewOptions = {}): string {
  const w = opts.width ?? DEFAULT_WIDTH;
  const colors = opts.colors ?? colorsFor(false);
  const detail = [`${decisions.length} shown`, ...(opts.total !== undefined ? [`${opts.total} in the log`] : []), ...(opts.filter ? [opts.filter] : [])];
  const title = sectionTitle("DECISIONS", detail.join(" · "), w, colors);
  if (decisions.length === 0) return [title, colors.dim("no decisions recorded" + (opts.filter ? ` ${opts.filter}` : ""))].join("\n");
  const rows: Cell[][] = decisions.map((d) => {
    const color = TYPE_COLOR[d.type];
    const typeColor = color ? colors[color] : undefined;
    return [
      String(d.seq),
      { text: when(d.recorded_at), color: colors.dim },
      typeof typeColor === "function" ? { text: d.type, color: (s) => typeColor(s) } : d.type,
      d.decided_by,
      { lines: [d.decision, d.context], lineColors: [undefined, colors.dim] },
    ];
  });
  const table = renderTable(
    [
      { head: "#", right: true, min: 1 },
      { head: "WHEN (UTC)", min: 14 },
      { head: "TYPE", min: 6, max: 21 },
      { head: "BY", min: 6, cut: "middle" },
      { head: "DECISION / CONTEXT", min: 10 },
    ],
    rows,
    w,
    colors,
  );
  return [title, table].join("\n");
}
