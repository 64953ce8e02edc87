/** Small shared pieces of the dashboard: sections, badges with text and icon, live countdowns. */
import type { ComponentChildren } from "preact";
import { duration } from "./format.js";
import { useElapsed } from "./live.js";
import type { FeatureState } from "./types.js";

/** A titled section reachable from the navigation (`#id`). */
export function Section(props: { id: string; title: string; count?: number | string; children: ComponentChildren }) {
  return (
    <section id={props.id} class="card" aria-labelledby={`${props.id}-h`}>
      <h2 id={`${props.id}-h`} tabIndex={-1}>
        {props.title}
        {props.count !== undefined && <span class="count">{props.count}</span>}
      </h2>
      {props.children}
    </section>
  );
}

/** What a section says when it has nothing to show. */
export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/** Time left from `ms` (at the state's arrival) counting down every second; `expired` at zero. */
export function Countdown(props: { ms: number; warnBelowMs?: number }) {
  const left = props.ms - useElapsed();
  if (left <= 0) return <span class="countdown expired">✗ expired</span>;
  const low = left < (props.warnBelowMs ?? 30_000);
  return <span class={low ? "countdown low" : "countdown"}>{low ? "⚠ " : ""}{duration(left)}</span>;
}

/** Time since something happened `ms` before the state arrived, counting up. */
export function Age(props: { ms: number }) {
  const elapsed = useElapsed();
  if (props.ms < 0) return <span>unknown</span>;
  return <span>{duration(props.ms + elapsed)} ago</span>;
}

/** Icon and words of each feature state: colour is never the only signal. */
export const FEATURE_STATES: Record<FeatureState, { icon: string; label: string }> = {
  completed: { icon: "✓", label: "completed" },
  active: { icon: "▶", label: "active" },
  failed: { icon: "✗", label: "failed" },
  blocked: { icon: "⊘", label: "blocked" },
  ready: { icon: "◎", label: "ready" },
  pending: { icon: "○", label: "pending" },
};

/** A feature state as a badge: icon, word, colour. */
export function StateBadge(props: { state: FeatureState }) {
  const s = FEATURE_STATES[props.state];
  return (
    <span class={`badge state-${props.state}`}>
      <span aria-hidden="true">{s.icon}</span> {s.label}
    </span>
  );
}

/** An audit signal level as a badge; algedonic (security, ethics) above all. */
export function LevelBadge(props: { level: string; algedonic: boolean }) {
  if (props.algedonic) {
    return (
      <span class="badge level-algedonic">
        <span aria-hidden="true">⚡</span> ALGEDONIC {props.level}
      </span>
    );
  }
  const icon = props.level === "RED" ? "●" : props.level === "YELLOW" ? "▲" : "✓";
  return (
    <span class={`badge level-${props.level.toLowerCase()}`}>
      <span aria-hidden="true">{icon}</span> {props.level}
    </span>
  );
}

/** A comma-separated list of ids, or a dash. */
export function Ids(props: { ids: readonly string[]; max?: number }) {
  if (props.ids.length === 0) return <span class="muted">—</span>;
  const max = props.max ?? 8;
  const more = props.ids.length - max;
  return (
    <span>
      {props.ids.slice(0, max).join(", ")}
      {more > 0 && <span class="muted"> and {more} more</span>}
    </span>
  );
}
