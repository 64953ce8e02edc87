/** The Radar section: predicted merge conflicts between active branches as a matrix; each cell opens its files and kinds of conflict. */
import { useState } from "preact/hooks";
import { clock, plural } from "./format.js";
import type { DashboardState, RadarPairRow } from "./types.js";
import { Empty, Section } from "./ui.js";

export function RadarSection(props: { state: DashboardState }) {
  const radar = props.state.radar;
  const [open, setOpen] = useState<string | null>(null);
  const conflicting = radar.pairs.filter((p) => p.status === "conflict").length;
  const pairOf = (a: string, b: string): RadarPairRow | undefined => radar.pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
  const chosen = open === null ? undefined : radar.pairs.find((p) => `${p.a}|${p.b}` === open);
  return (
    <Section id="radar" title="Conflict radar" count={radar.available ? `conflicting: ${conflicting} of ${plural(radar.pairs.length, "pair")}` : undefined}>
      {!radar.available ? (
        <Empty>{radar.reason}</Empty>
      ) : radar.branches.length < 2 ? (
        <Empty>Fewer than two active feature branches: nothing to compare (computed {clock(radar.computed_at)}).</Empty>
      ) : (
        <>
          <p class="meta">
            Predicted by git's three-way merge against {radar.target ?? "the target branch"}, computed {clock(radar.computed_at)}.
          </p>
          <div class="table-wrap">
            <table class="matrix">
              <thead>
                <tr>
                  <td />
                  {radar.branches.map((b) => (
                    <th scope="col" key={b.branch}>
                      {b.branch}
                      {b.agent_id !== null && <div class="meta">{b.agent_id}</div>}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {radar.branches.map((row) => (
                  <tr key={row.branch}>
                    <th scope="row">{row.branch}</th>
                    {radar.branches.map((col) => {
                      if (col.branch === row.branch) return <td key={col.branch} class="self">—</td>;
                      const p = pairOf(row.branch, col.branch);
                      if (!p) return <td key={col.branch} class="muted">?</td>;
                      const id = `${p.a}|${p.b}`;
                      const bad = p.status === "conflict";
                      return (
                        <td key={col.branch}>
                          <button
                            type="button"
                            class={bad ? "cell conflict" : "cell clean"}
                            aria-expanded={open === id}
                            aria-controls="radar-detail"
                            onClick={() => setOpen(open === id ? null : id)}
                          >
                            {bad ? `⚠ ${plural(p.conflicts.length, "file")}` : p.both_changed.length > 0 ? `◐ clean, ${p.both_changed.length} shared` : "✓ clean"}
                          </button>
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div id="radar-detail" aria-live="polite">
            {chosen !== undefined && (
              <div class="detail">
                <h3>
                  {chosen.a} × {chosen.b}: {chosen.status}
                </h3>
                {chosen.conflicts.length > 0 ? (
                  <ul class="plain">
                    {chosen.conflicts.map((c) => (
                      <li key={c.path}>
                        <code>{c.path}</code> <span class="badge kind">{c.kind}</span>
                      </li>
                    ))}
                  </ul>
                ) : (
                  <p>No conflicting file.</p>
                )}
                {chosen.both_changed.length > 0 && (
                  <p>
                    Both changed, merged cleanly (check the meaning): {chosen.both_changed.map((f) => f).join(", ")}
                  </p>
                )}
              </div>
            )}
          </div>
        </>
      )}
    </Section>
  );
}
