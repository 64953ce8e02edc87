/** Under the wave graph: a wave's integration report, and the plan's serialized conflicts. */
import { useState } from "preact/hooks";
import { clock, plural } from "./format.js";
import type { IntegrationRow, PlanGraph } from "./types.js";
import { Ids } from "./ui.js";

/** The latest integration report of a wave, open when it did not integrate. */
export function Integration(props: { r: IntegrationRow }) {
  const r = props.r;
  const ok = r.status === "integrated";
  return (
    <details class="integration" open={!ok}>
      <summary>
        <span class={`badge ${ok ? "state-completed" : "state-failed"}`}>
          <span aria-hidden="true">{ok ? "✓" : "✗"}</span> {r.status.replace("_", " ")}
        </span>{" "}
        integration report, attempt {r.attempt}, by {r.by} at {clock(r.at)}
      </summary>
      {r.reasons.length > 0 && (
        <ul class="plain">
          {r.reasons.map((x, i) => (
            <li key={i}>✗ {x}</li>
          ))}
        </ul>
      )}
      {r.undeclared_writes.length > 0 && (
        <p>
          <strong>Undeclared writes ({r.undeclared_writes_total}):</strong> {r.undeclared_writes.map((u) => `${u.file} (${u.feature_id})`).join(", ")}
        </p>
      )}
      {r.overlapping_changes.length > 0 && (
        <p>
          <strong>Overlapping changes ({r.overlapping_changes_total}):</strong> {r.overlapping_changes.map((o) => `${o.file} (${o.features.join(", ")})`).join("; ")}
        </p>
      )}
      {r.migration_collisions.length > 0 && (
        <p>
          <strong>Migration collisions:</strong> {r.migration_collisions.map((m) => `${m.kind} ${m.value}: ${m.paths.join(", ")}`).join("; ")}
        </p>
      )}
      {r.gates.length > 0 && (
        <p>
          <strong>Gates:</strong> {r.gates.map((g) => `${g.gate} ${g.status}${g.required ? " (required)" : ""}`).join(", ")}
        </p>
      )}
      {r.reviews.length > 0 && (
        <p>
          <strong>Reviews:</strong> {r.reviews.map((v) => `${v.feature_id} ${v.status}${v.reviewer ? ` (${v.reviewer})` : ""}`).join(", ")}
        </p>
      )}
      {r.merge !== null && (
        <p>
          <strong>Speculative merge:</strong> {r.merge.status}
          {r.merge.conflict_files.length > 0 && <> on <Ids ids={r.merge.conflict_files} /></>}
        </p>
      )}
      {r.actions.length > 0 && (
        <>
          <strong>Actions</strong>
          <ul class="plain">
            {r.actions.map((x, i) => (
              <li key={i}>→ {x}</li>
            ))}
          </ul>
        </>
      )}
    </details>
  );
}

/** The plan's serialized conflicts, listed when opened. */
export function Conflicts(props: { plan: PlanGraph }) {
  const { conflicts, conflicts_total } = props.plan;
  // The rows exist only while the list is open: hundreds of them would slow every live update.
  const [open, setOpen] = useState(false);
  if (conflicts_total === 0) return <p class="meta">No serialized conflict.</p>;
  return (
    <details class="conflicts" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        {plural(conflicts_total, "serialized conflict")}
        {conflicts.length < conflicts_total ? ` (the first ${conflicts.length} listed)` : ""}
      </summary>
      {open && (
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Features</th>
              <th scope="col">Reasons</th>
              <th scope="col">Placed</th>
            </tr>
          </thead>
          <tbody>
            {conflicts.map((c) => (
              <tr key={`${c.a}|${c.b}`}>
                <th scope="row">
                  {c.a} · {c.b}
                </th>
                <td>{c.reasons.join(", ")}</td>
                <td>{c.placed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      )}
    </details>
  );
}
