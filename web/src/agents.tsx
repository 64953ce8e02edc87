/** The Agents section: role, status, feature and progress, where each works, heartbeat age (stale ones stand out), pauses. */
import { tailPath } from "./format.js";
import { useElapsed } from "./live.js";
import type { AgentRow, DashboardState } from "./types.js";
import { Age, Empty, Section } from "./ui.js";

const STATUS_ICON: Record<string, string> = { working: "▶", blocked: "⊘", completed: "✓", error: "✗", paused: "‖" };

/** Paused agents first, then stale ones, then by id. */
function rank(a: AgentRow): number {
  if (a.paused_by.length > 0) return 0;
  return a.available ? 2 : 1;
}

export function AgentsSection(props: { state: DashboardState }) {
  const { agents, agents_omitted, heartbeat_ms } = props.state;
  const sorted = [...agents].sort((a, b) => rank(a) - rank(b) || a.agent_id.localeCompare(b.agent_id));
  return (
    <Section id="agents" title="Agents" count={agents.length + agents_omitted}>
      {agents.length === 0 ? (
        <Empty>No agent registered yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Status</th>
                <th scope="col">Feature and task</th>
                <th scope="col">Progress</th>
                <th scope="col">Branch and worktree</th>
                <th scope="col">Heartbeat</th>
                <th scope="col">Paused by</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((a) => (
                <AgentLine key={a.agent_id} a={a} heartbeatMs={heartbeat_ms} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {agents_omitted > 0 && <p class="meta">{agents_omitted} more agents not listed.</p>}
    </Section>
  );
}

function AgentLine(props: { a: AgentRow; heartbeatMs: number }) {
  const a = props.a;
  const elapsed = useElapsed();
  const stale = a.status !== "completed" && (!a.available || (a.silent_ms >= 0 && a.silent_ms + elapsed > props.heartbeatMs));
  const paused = a.paused_by.length > 0;
  return (
    <tr class={`${stale ? "stale" : ""} ${paused ? "paused" : ""}`} data-agent={a.agent_id}>
      <th scope="row">
        <div class="id">{a.agent_id}</div>
        <div class="meta">
          {a.role}
          {a.domain !== null ? ` · ${a.domain}` : ""}
        </div>
      </th>
      <td>
        <span class={`badge status-${a.status}`}>
          <span aria-hidden="true">{STATUS_ICON[a.status] ?? "•"}</span> {a.status}
        </span>
      </td>
      <td>
        {a.feature_id ?? <span class="muted">—</span>}
        {a.current_task !== null && <div class="meta">{a.current_task}</div>}
        {a.blocking_issues.length > 0 && <div class="warn">⚠ {a.blocking_issues.join("; ")}</div>}
      </td>
      <td>
        {a.progress === null ? (
          <span class="muted">—</span>
        ) : (
          <span class="progress">
            <progress max={100} value={a.progress} aria-label={`${a.agent_id} progress`} /> {a.progress}%
          </span>
        )}
      </td>
      <td>
        {a.branch ?? <span class="muted">—</span>}
        {a.head !== null && <span class="meta"> @ {a.head.slice(0, 8)}</span>}
        {a.worktree !== null && (
          <div class="meta" title={a.worktree}>
            {tailPath(a.worktree)}
          </div>
        )}
      </td>
      <td>
        {stale ? (
          <span class="badge stale-badge">
            <span aria-hidden="true">⚠</span> stale
          </span>
        ) : (
          <span class="badge fresh-badge">
            <span aria-hidden="true">●</span> live
          </span>
        )}{" "}
        <Age ms={a.silent_ms} />
      </td>
      <td>
        {paused ? (
          a.paused_by.map((p) => (
            <div key={p.signal_id} class="paused-by">
              <span aria-hidden="true">‖</span> {p.algedonic ? "ALGEDONIC " : ""}
              {p.level} {p.signal_id}
              {p.summary !== "" && <div class="meta">{p.summary}</div>}
            </div>
          ))
        ) : (
          <span class="muted">—</span>
        )}
      </td>
    </tr>
  );
}
