/**
 * Per-agent admission in one server process (config `limits`; RELIABILITY.md,
 * "Bad input and misuse": a flood of requests from one agent cannot starve the
 * others).
 *
 * Counts the calls each agent has in flight here; a call past
 * `limits.requests_in_flight_per_agent` is refused at once. It decides no
 * grant (grants are decided in LMDB transactions); it only bounds how much of
 * this process's time one agent can occupy, so one agent's thousand queued
 * acquires cannot crowd out another agent's single call.
 */
import { LimitError } from "../errors.js";

export class Admission {
  private readonly inFlight = new Map<string, number>();

  /** @param limit calls one agent may have in flight at once */
  constructor(private readonly limit: number) {}

  /**
   * Admit one call of `agent`; returns the function that ends it (call it
   * exactly once, when the call has answered).
   * @throws Error naming `agent_id` and `limits.requests_in_flight_per_agent` when the agent is at the limit.
   */
  enter(agent: string): () => void {
    const n = this.inFlight.get(agent) ?? 0;
    if (n >= this.limit) {
      throw new LimitError(
        "agent_id",
        "limits.requests_in_flight_per_agent",
        `agent_id: agent "${agent}" already has ${n} calls in flight in this server, ` +
          `limits.requests_in_flight_per_agent (${this.limit}); wait for their answers before sending more.`,
      );
    }
    this.inFlight.set(agent, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.inFlight.get(agent) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(agent);
      else this.inFlight.set(agent, left);
    };
  }

  /** Calls `agent` has in flight now. */
  count(agent: string): number {
    return this.inFlight.get(agent) ?? 0;
  }
}
