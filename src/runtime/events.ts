/**
 * Coordination events inside one server process (README, "Live
 * notifications": MCP logging notifications for grants, refusals and
 * signals). Tool handlers publish what they decided after it committed;
 * every connected MCP session forwards the events to its client as
 * `notifications/message`, filtered by the level the client set with
 * `logging/setLevel`. Events of other processes are not carried here: they
 * reach clients through resource subscriptions (changes.ts).
 */

/** Severity, as in MCP logging (RFC 5424 names). */
export type EventLevel = "debug" | "info" | "notice" | "warning" | "error" | "critical" | "alert" | "emergency";

/** One coordination event: what happened, to whom, and a one-line summary. */
export interface CoordinationEvent {
  /** e.g. `lock_granted`, `lock_refused`, `lock_broken`, `signal_emitted`, `signal_resolved`. */
  kind: string;
  level: EventLevel;
  /** The agent whose call caused it. */
  agent_id: string;
  /** One line for a person reading a log. */
  summary: string;
  /** Structured details (keys, ids, reasons). */
  data: Record<string, unknown>;
}

/** Listener of {@link EventBus}. */
export type EventListener = (event: CoordinationEvent) => void;

/** A synchronous fan-out of {@link CoordinationEvent}s; a listener that throws does not stop the others. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  /** Listen; returns the function that stops listening. */
  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Deliver `event` to every listener. */
  emit(event: CoordinationEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A broken session must not stop the others from hearing the event.
      }
    }
  }
}
