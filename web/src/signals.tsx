/** Open audit signals at the top of the page, and the Messages section: checkpoints, incidents, handoffs, recent signals. */
import { clock, plural } from "./format.js";
import type { DashboardState, SignalRow } from "./types.js";
import { Empty, Ids, LevelBadge, Section } from "./ui.js";

/** The open pausing signals (algedonic first, then RED, oldest first): the first thing on the page. */
export function SignalBanner(props: { state: DashboardState }) {
  const { open, open_omitted } = props.state.signals;
  if (open.length === 0) {
    return (
      <section class="banner calm" aria-labelledby="banner-h" id="signals">
        <h2 id="banner-h" class="banner-title">
          <span aria-hidden="true">✓</span> No open audit signals
        </h2>
      </section>
    );
  }
  return (
    <section class="banner alarm" aria-labelledby="banner-h" id="signals">
      <h2 id="banner-h" class="banner-title">
        <span aria-hidden="true">⚠</span> {plural(open.length + open_omitted, "open audit signal")} pausing work
      </h2>
      <ul class="signal-list">
        {open.map((s) => (
          <SignalItem key={s.signal_id} s={s} />
        ))}
      </ul>
      {open_omitted > 0 && <p>{open_omitted} more not shown.</p>}
    </section>
  );
}

function SignalItem(props: { s: SignalRow }) {
  const s = props.s;
  return (
    <li class={s.algedonic ? "signal algedonic" : `signal level-${s.level.toLowerCase()}`} data-signal={s.signal_id}>
      <LevelBadge level={s.level} algedonic={s.algedonic} /> <strong>{s.summary}</strong>
      <span class="meta">
        {" "}
        {s.signal_id} · {s.feature_id !== null ? `feature ${s.feature_id} · ` : ""}by {s.emitted_by} at {clock(s.emitted_at)}
        {s.pauses.length > 0 && (
          <>
            {" "}
            · pauses <Ids ids={s.pauses} />
          </>
        )}
      </span>
      {s.files.length > 0 && <div class="files">files: <Ids ids={s.files} max={5} /></div>}
    </li>
  );
}

/** Checkpoints, incidents, unacknowledged handoffs and the newest signals. */
export function MessagesSection(props: { state: DashboardState }) {
  const { checkpoints, incidents, handoffs, audit_handoffs, signals } = props.state;
  const waiting = checkpoints.length + incidents.open_total + handoffs.length + audit_handoffs.length;
  return (
    <Section id="messages" title="Messages" count={waiting}>
      <div class="columns">
        <div>
          <h3>Open checkpoints</h3>
          {checkpoints.length === 0 ? (
            <Empty>No open checkpoint.</Empty>
          ) : (
            <ul class="plain">
              {checkpoints.map((c) => (
                <li key={c.name}>
                  <strong>{c.name}</strong> <span class="meta">by {c.requested_by} at {clock(c.requested_at)}</span>
                  <div>{c.reason}</div>
                  <div class="meta">
                    arrived {c.arrived.length}/{c.expected}; waiting for <Ids ids={c.missing} />
                  </div>
                </li>
              ))}
            </ul>
          )}
          <h3>Incidents</h3>
          {incidents.open.length === 0 ? (
            <Empty>No open incident{incidents.closed_total > 0 ? ` (${incidents.closed_total} closed)` : ""}.</Empty>
          ) : (
            <ul class="plain">
              {incidents.open.map((i) => (
                <li key={i.incident_id} class="incident">
                  <span class="badge level-red"><span aria-hidden="true">●</span> OPEN</span> <strong>{i.type.replace(/_/g, " ")}</strong>{" "}
                  <span class="meta">
                    {i.incident_id} · by {i.reported_by} at {clock(i.reported_at)}
                  </span>
                  <div>{i.description}</div>
                  {i.temporary_measures !== null && <div class="meta">measures: {i.temporary_measures}</div>}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3>Handoffs awaiting acknowledgement</h3>
          {handoffs.length === 0 && audit_handoffs.length === 0 ? (
            <Empty>Every handoff is acknowledged.</Empty>
          ) : (
            <ul class="plain">
              {handoffs.map((h) => (
                <li key={h.message_id}>
                  <span class="badge kind">cross-agent</span> <strong>{h.discovery}</strong>{" "}
                  <span class="meta">
                    {h.message_id} · from {h.from} at {clock(h.created_at)}
                    {h.delayed && <span class="warn"> · ⚠ delayed</span>}
                  </span>
                  <div>
                    affects {h.affects}: {h.impact}
                  </div>
                  <div class="meta">
                    not yet acknowledged by <Ids ids={h.waiting_on} />
                  </div>
                </li>
              ))}
              {audit_handoffs.map((h) => (
                <li key={h.handoff_id}>
                  <span class="badge kind">audit → test</span> <strong>{h.feature_id}</strong>{" "}
                  <span class="meta">
                    {h.handoff_id} · from {h.from_agent} at {clock(h.created_at)} · {plural(h.concerns, "concern")}
                  </span>
                  <div class="meta">
                    delivered to <Ids ids={h.delivered_to} />; no test engineer has acknowledged it
                  </div>
                </li>
              ))}
            </ul>
          )}
          <h3>Newest signals</h3>
          {signals.recent.length === 0 ? (
            <Empty>No audit signal yet.</Empty>
          ) : (
            <ul class="plain">
              {signals.recent.slice(0, 8).map((s) => (
                <li key={s.signal_id}>
                  <LevelBadge level={s.level} algedonic={s.algedonic} /> {s.summary}{" "}
                  <span class="meta">
                    {s.signal_id} · {s.status} · {clock(s.emitted_at)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </Section>
  );
}
