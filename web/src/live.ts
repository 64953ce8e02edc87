/**
 * The live connection to the server: an EventSource on `/api/events` that
 * delivers the whole state on every change of the store, and a once-a-second
 * ticker for countdowns (they move between pushes on the page's own
 * monotonic clock).
 */
import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import type { DashboardState } from "./types.js";

/** How the page is connected: waiting for the first state, live, reconnecting, no store shown yet, or signed out (the stream was refused). */
export type Connection = "connecting" | "live" | "reconnecting" | "waiting" | "signed-out";

/** The latest state and when it arrived (`performance.now()` ms). */
export interface Live {
  state: DashboardState | null;
  receivedAt: number;
  connection: Connection;
  /** Why the server could not assemble the state, if it said so. */
  failure: string | null;
}

/** Follow `/api/events` for plan `planId` (null: the newest plan); reconnects when the plan changes. */
export function useLive(planId: string | null): Live {
  const [live, setLive] = useState<Live>({ state: null, receivedAt: 0, connection: "connecting", failure: null });
  /** Bumped to open a new stream after the browser gave one up. */
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const es = new EventSource(planId === null ? "/api/events" : `/api/events?plan=${encodeURIComponent(planId)}`);
    let retry: number | null = null;
    es.addEventListener("state", (e) => {
      const state = JSON.parse((e as MessageEvent<string>).data) as DashboardState;
      setLive({ state, receivedAt: performance.now(), connection: "live", failure: null });
    });
    es.addEventListener("failure", (e) => {
      const { error } = JSON.parse((e as MessageEvent<string>).data) as { error: string };
      setLive((l) => ({ ...l, failure: error }));
    });
    es.addEventListener("waiting", () => setLive((l) => ({ ...l, connection: "waiting" })));
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) {
        // Dropped: the browser reconnects by itself.
        setLive((l) => ({ ...l, connection: l.connection === "waiting" ? "waiting" : "reconnecting" }));
        return;
      }
      // Refused: signed out (401: the session ended, or the server restarted), else try again shortly.
      fetch("/api/state", { method: "HEAD" })
        .then((r) => {
          if (r.status === 401) setLive((l) => ({ ...l, connection: "signed-out" }));
          else throw new Error(`HTTP ${r.status}`);
        })
        .catch(() => {
          setLive((l) => ({ ...l, connection: "reconnecting" }));
          retry = window.setTimeout(() => setAttempt((n) => n + 1), 2000);
        });
    };
    return () => {
      es.close();
      if (retry !== null) window.clearTimeout(retry);
    };
  }, [planId, attempt]);
  return live;
}

/** Calls its listeners once a second while any listens. */
export class Ticker {
  private readonly listeners = new Set<() => void>();
  private timer: number | null = null;

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    if (this.timer === null) this.timer = window.setInterval(() => this.listeners.forEach((l) => l()), 1000);
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0 && this.timer !== null) {
        window.clearInterval(this.timer);
        this.timer = null;
      }
    };
  }
}

/** The page's ticker and when the shown state arrived. */
export interface Clock {
  ticker: Ticker;
  receivedAt: number;
}

export const ClockContext = createContext<Clock>({ ticker: new Ticker(), receivedAt: 0 });

/** Milliseconds since the shown state arrived, re-rendering the caller every second. */
export function useElapsed(): number {
  const { ticker, receivedAt } = useContext(ClockContext);
  const [, setTick] = useState(0);
  useEffect(() => ticker.subscribe(() => setTick((t) => t + 1)), [ticker]);
  return Math.max(0, performance.now() - receivedAt);
}
