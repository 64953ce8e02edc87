/** The Activity section: the log of coordination events, filtered by agent, feature and time, paged back through history. */
import { useEffect, useState } from "preact/hooks";
import { clock } from "./format.js";
import type { ActivityPageBody, DashboardState } from "./types.js";
import { Empty, Section } from "./ui.js";

const PAGE = 25;
const PERIODS: [string, string][] = [
  ["", "any time"],
  ["15m", "last 15 minutes"],
  ["1h", "last hour"],
  ["6h", "last 6 hours"],
  ["1d", "last day"],
  ["7d", "last week"],
];

interface Filter {
  agent_id: string;
  feature_id: string;
  since: string;
  until: string;
}
const NONE: Filter = { agent_id: "", feature_id: "", since: "", until: "" };

export function ActivitySection(props: { state: DashboardState }) {
  const [filter, setFilter] = useState<Filter>(NONE);
  const [draft, setDraft] = useState<Filter>(NONE);
  /** Cursors of the pages before this one: [] on the first page. */
  const [trail, setTrail] = useState<string[]>([]);
  const cursor = trail.length > 0 ? (trail[trail.length - 1] as string) : null;
  const [page, setPage] = useState<ActivityPageBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The first page follows the log live; older pages stay put.
  const head = cursor === null ? props.state.activity_head : null;

  useEffect(() => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (filter.agent_id) q.set("agent_id", filter.agent_id);
    if (filter.feature_id) q.set("feature_id", filter.feature_id);
    if (filter.since) q.set("since", filter.since);
    if (filter.until) q.set("until", new Date(filter.until).toISOString());
    if (cursor !== null) q.set("cursor", cursor);
    const abort = new AbortController();
    fetch(`/api/activity?${q}`, { signal: abort.signal, headers: { Accept: "application/json" } })
      .then(async (r) => {
        const body = (await r.json()) as ActivityPageBody & { error?: string };
        if (!r.ok) throw new Error(body.error ?? `HTTP ${r.status}`);
        setPage(body);
        setError(null);
      })
      .catch((e: Error) => {
        if (e.name !== "AbortError") setError(e.message);
      });
    return () => abort.abort();
  }, [filter, cursor, head]);

  const agents = props.state.agents.map((a) => a.agent_id);
  const features = props.state.plan?.features.map((f) => f.id) ?? [];
  const apply = (e: Event) => {
    e.preventDefault();
    setFilter(draft);
    setTrail([]);
  };
  return (
    <Section id="activity" title="Activity" count={page?.total ?? undefined}>
      <form class="filters" onSubmit={apply} aria-label="Filter the activity">
        <label>
          Agent
          <input list="agent-ids" value={draft.agent_id} onInput={(e) => setDraft({ ...draft, agent_id: e.currentTarget.value })} />
        </label>
        <datalist id="agent-ids">
          {agents.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <label>
          Feature
          <input list="feature-ids" value={draft.feature_id} onInput={(e) => setDraft({ ...draft, feature_id: e.currentTarget.value })} />
        </label>
        <datalist id="feature-ids">
          {features.map((f) => (
            <option key={f} value={f} />
          ))}
        </datalist>
        <label>
          Since
          <select value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.currentTarget.value })}>
            {PERIODS.map(([v, text]) => (
              <option key={v} value={v}>
                {text}
              </option>
            ))}
          </select>
        </label>
        <label>
          Until
          <input type="datetime-local" value={draft.until} onInput={(e) => setDraft({ ...draft, until: e.currentTarget.value })} />
        </label>
        <button type="submit">Apply</button>
        <button
          type="button"
          onClick={() => {
            setDraft(NONE);
            setFilter(NONE);
            setTrail([]);
          }}
        >
          Clear
        </button>
      </form>
      {error !== null && <p class="notice" role="alert">{error}</p>}
      {page !== null && page.items.length === 0 ? (
        <Empty>No activity matches.</Empty>
      ) : (
        <div class="table-wrap">
          <table class="activity">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Agent</th>
                <th scope="col">Feature</th>
                <th scope="col">What happened</th>
              </tr>
            </thead>
            <tbody>
              {(page?.items ?? []).map((e) => (
                <tr key={e.seq} data-seq={e.seq}>
                  <td class="nowrap">{clock(e.at)}</td>
                  <td>
                    <code>{e.kind}</code>
                  </td>
                  <td>{e.agent_id}</td>
                  <td>{e.feature_id ?? <span class="muted">—</span>}</td>
                  <td>{e.summary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Activity pages">
        <button type="button" disabled={trail.length === 0} onClick={() => setTrail(trail.slice(0, -1))}>
          ← Newer
        </button>
        <span class="meta">page {trail.length + 1}</span>
        <button type="button" disabled={!page?.next_cursor} onClick={() => page?.next_cursor && setTrail([...trail, page.next_cursor])}>
          Older →
        </button>
      </nav>
    </Section>
  );
}
