/**
 * The wait loop of `acquire_lock` with `wait_ms` > 0: once a request is
 * queued (FIFO per key, DESIGN.md "Lock"), look at the store again and again
 * until its decision step grants or refuses it, reporting its standing to
 * `onWaiting` as it goes.
 *
 * Every decision is taken in a store transaction by the caller's decision
 * step (src/locks/manager.ts, src/locks/commands.ts); this loop only decides
 * WHEN to take the next one. The loop polls with a cheap read-only look,
 * backing off from 1 ms to {@link POLL_MAX_MS}, and asks for a write
 * transaction only when what blocks the request changed (or its wait ended).
 * Changes made by this process wake its waiters at once ({@link Wakeups});
 * so do commits of other processes when the wake-ups follow a change signal
 * (the context's change feed, src/runtime/changes.ts). A wake-up only
 * shortens a sleep: the look and the decision step read the table again.
 */
import { EventEmitter } from "node:events";
import type { EngineTime as Clock } from "../store/port.js";
import { blockerAgents, type Blockers } from "./conflicts.js";
import type { AcquireRequest, AcquireResult } from "./types.js";
import { waitingInfo } from "./views.js";

/** Longest pause between two looks at the store while queued, ms. */
export const POLL_MAX_MS = 10;
/** Longest gap between two reports to a queued request's `onWaiting`, in ms. */
export const WAIT_REPORT_MS = 1000;

/**
 * The outcome of one decision step of an acquire: decided (granted or
 * refused), or queued as ticket `seq` behind the agents `blockerAgents`
 * (conflicts.ts `blockerAgents`).
 */
export type Attempt = { kind: "done"; result: AcquireResult } | { kind: "waiting"; seq: number; blockerAgents: string };

/**
 * A source of "something may have changed in the store" signals, such as
 * runtime/changes.ts `ChangeFeed` (a commit by any process, seen through a
 * watch on the data file or a poll). `subscribe` returns the function that
 * stops listening; a listener may be called for changes that do not concern
 * the lock table.
 */
export interface ChangeSignal {
  subscribe(listener: () => void): () => void;
}

/**
 * Wakes this process's queued requests early: at once when this process
 * changes the lock table ({@link notify}), and, given a {@link ChangeSignal},
 * when another process commits while at least one request of this process
 * waits ({@link hold}). Holds no state that decides a grant: a missed
 * wake-up only costs one poll interval.
 */
export class Wakeups {
  private readonly emitter = new EventEmitter();
  private holders = 0;
  private stopFollowing: (() => void) | null = null;

  /** @param changes commits of any process; followed only while some request waits (none: this process's own changes only) */
  constructor(private readonly changes?: ChangeSignal) {
    this.emitter.setMaxListeners(0);
  }

  /** The lock table changed (a lock ended or a waiter left): wake every sleeper. */
  notify(): void {
    this.emitter.emit("change");
  }

  /**
   * A request starts waiting: follow the change signal (if any) until every
   * holder has called the returned release (idempotent), so the signal's
   * watch and timer run only while someone waits. Never throws: when the
   * signal cannot be followed, waiters fall back on their polling.
   */
  hold(): () => void {
    if (this.holders === 0 && this.changes) {
      try {
        this.stopFollowing = this.changes.subscribe(() => this.notify());
      } catch {
        this.stopFollowing = null;
      }
    }
    this.holders++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holders--;
      if (this.holders > 0) return;
      const stop = this.stopFollowing;
      this.stopFollowing = null;
      try {
        stop?.();
      } catch {
        // Nothing to undo: the wait is over either way.
      }
    };
  }

  /** Sleep up to `ms` ms, waking early on {@link notify} or when `signal` aborts. Never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off("change", done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.once("change", done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** What the wait loop needs from the lock manager. */
export interface WaitSteps {
  /** The lease clock: monotonic ms for the deadline, the back-off and the report interval. */
  clock: Clock;
  /** This process's wake-ups; a sleeping waiter wakes at once when it changes the table (or another process commits, if they follow a change signal). */
  wakeups: Wakeups;
  /** The decision step for queued ticket `seq`, in a write transaction; resolves once durable. */
  attempt(seq: number): Promise<Attempt>;
  /** Read-only: what blocks ticket `seq` now, in a fresh read snapshot (the engine's `db.read`). */
  look(seq: number): Promise<Blockers>;
  /** Leave the queue (the wait was cancelled or failed), in a write transaction; resolves once durable. */
  dequeue(seq: number): Promise<void>;
}

/**
 * Wait for a queued request: `queued` is the decision step that queued it,
 * `start` and `deadline` are monotonic ms (the request's arrival and
 * arrival + `wait_ms`). Calls `req.onWaiting` once at once, again whenever
 * the agents it waits for change, and at least every {@link WAIT_REPORT_MS}
 * otherwise. Resolves with the decision that ended the wait (a grant, or a
 * `timeout` / `deadlock` / stop refusal).
 *
 * @throws Error `acquire_lock: cancelled by the client while waiting` when
 *         `req.signal` aborts; any error of a decision step. Either way the
 *         request leaves the queue first.
 */
export async function waitForGrant(
  steps: WaitSteps,
  req: Pick<AcquireRequest, "signal" | "onWaiting">,
  queued: { seq: number; blockerAgents: string },
  start: number,
  deadline: number,
): Promise<AcquireResult> {
  const { clock, wakeups } = steps;
  let seq = queued.seq;
  let lastBlockers = queued.blockerAgents;
  let lastReport = clock.monoMs();
  const report = async (b?: Blockers) => {
    if (!req.onWaiting) return;
    const blockers = b ?? (await steps.look(seq));
    lastReport = clock.monoMs();
    req.onWaiting(waitingInfo(seq, blockers, lastReport - start, clock));
  };
  let pollMs = 1;
  const release = wakeups.hold();
  try {
    await report();
    for (;;) {
      const remaining = deadline - clock.monoMs();
      await wakeups.sleep(Math.max(0, Math.min(pollMs, remaining)), req.signal);
      pollMs = Math.min(POLL_MAX_MS, pollMs * 1.5);
      if (req.signal?.aborted) throw new Error("acquire_lock: cancelled by the client while waiting");
      const now = clock.monoMs();
      if (now < deadline) {
        // Cheap read-only look first; a write transaction only when something changed.
        const b = await steps.look(seq);
        const agents = blockerAgents(b);
        if (agents !== "" && agents === lastBlockers) {
          if (now - lastReport >= WAIT_REPORT_MS) await report(b);
          continue;
        }
      }
      const attempt = await steps.attempt(seq);
      if (attempt.kind === "done") return attempt.result;
      seq = attempt.seq;
      lastBlockers = attempt.blockerAgents;
      await report();
    }
  } catch (err) {
    // Leave the queue, but let the wait's own failure be the answer: a failing dequeue must not
    // hide it (its waiter record is then dropped by the sweep once its process or deadline is gone).
    try {
      await steps.dequeue(seq);
    } catch {
      // The waiter stays queued until its deadline passes or its process ends (conflicts.ts waiterIsLive).
    }
    throw err;
  } finally {
    release();
  }
}
