/** The dashboard page: header with the live status and the section links, open signals first, then every section. */
import { useMemo, useState } from "preact/hooks";
import { ActivitySection } from "./activity.js";
import { AgentsSection } from "./agents.js";
import { clock, tailPath } from "./format.js";
import { ClockContext, Ticker, useLive, type Connection } from "./live.js";
import { LocksSection } from "./locks.js";
import { RadarSection } from "./radar.js";
import { MessagesSection, SignalBanner } from "./signals.js";
import type { DashboardState } from "./types.js";
import { WavesSection } from "./waves.js";

const CONNECTION: Record<Connection, { icon: string; text: string }> = {
  connecting: { icon: "○", text: "connecting" },
  live: { icon: "●", text: "live" },
  reconnecting: { icon: "↻", text: "reconnecting" },
  waiting: { icon: "○", text: "waiting for a store" },
  "signed-out": { icon: "✗", text: "signed out" },
};

export function App() {
  const [planId, setPlanId] = useState<string | null>(null);
  const live = useLive(planId);
  const ticker = useMemo(() => new Ticker(), []);
  const clockValue = useMemo(() => ({ ticker, receivedAt: live.receivedAt }), [ticker, live.receivedAt]);
  const state = live.state;
  const conn = CONNECTION[live.connection];
  return (
    <ClockContext.Provider value={clockValue}>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <div class="brand">
          <img src="/assets/icon.svg" alt="" width={28} height={28} />
          <h1>signalbox</h1>
          {state !== null && (
            <span class="meta" title={state.root}>
              {tailPath(state.root, 3)}
            </span>
          )}
        </div>
        <p class={`conn conn-${live.connection}`} role="status">
          <span aria-hidden="true">{conn.icon}</span> {conn.text}
          {state !== null && <span class="meta"> · updated {clock(state.generated_at)}</span>}
        </p>
        {state !== null && <SectionLinks state={state} />}
      </header>
      <main id="main" tabIndex={-1}>
        {live.connection === "signed-out" && (
          <p class="notice" role="alert">
            The server refused the live feed: the session ended or the server restarted. Open a new one-time link (run signalbox dashboard again) or sign in at <a href="/login">/login</a>.
          </p>
        )}
        {live.failure !== null && (
          <p class="notice" role="alert">
            The server could not read the store: {live.failure}
          </p>
        )}
        {state === null ? (
          <p>Waiting for the coordination state…</p>
        ) : (
          <>
            <SignalBanner state={state} />
            <MessagesSection state={state} />
            <AgentsSection state={state} />
            <LocksSection state={state} />
            <WavesSection state={state} planId={planId} onPlan={setPlanId} />
            <RadarSection state={state} />
            <ActivitySection state={state} />
          </>
        )}
      </main>
      {state !== null && (
        <footer>
          Read-only view of the store <code>{state.store}</code>. Nothing on this page changes it.
        </footer>
      )}
    </ClockContext.Provider>
  );
}

function SectionLinks(props: { state: DashboardState }) {
  const s = props.state;
  const links: [string, string, number | null][] = [
    ["signals", "Signals", s.signals.open.length + s.signals.open_omitted],
    ["messages", "Messages", s.checkpoints.length + s.incidents.open_total + s.handoffs.length + s.audit_handoffs.length],
    ["agents", "Agents", s.agents.length + s.agents_omitted],
    ["locks", "Locks", s.locks.length + s.locks_omitted],
    ["waves", "Waves", s.plans.length],
    ["radar", "Radar", s.radar.pairs.filter((p) => p.status === "conflict").length],
    ["activity", "Activity", null],
  ];
  return (
    <nav aria-label="Sections">
      <ul>
        {links.map(([id, text, n]) => (
          <li key={id}>
            <a href={`#${id}`}>
              {text}
              {n !== null && <span class="count">{n}</span>}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
