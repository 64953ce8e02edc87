/**
 * The live part of the dashboard: `/api/events`, a Server-Sent Events stream
 * per open page, driven by the store's change feed (runtime/changes.ts,
 * through its public `subscribe` only). On each change, coalesced (at most
 * one push per `minIntervalMs`, never overlapping), the new state goes to
 * every stream, assembled once per plan the streams look at. A stream also
 * gets the state when it opens, a refresh every `refreshMs` (heartbeat ages
 * and leases move without commits) and a comment line every `pingMs` so
 * proxies keep it open.
 *
 * One StateFeed per served Context. It listens to the change feed only while
 * a stream is open: an unwatched dashboard costs nothing.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { activityPage } from "./activity.js";
import { SECURITY_HEADERS } from "./headers.js";
import { dashboardState, type DashboardContext } from "./state.js";
import type { ActivityPageBody, DashboardState } from "./types.js";

/** Timings of a {@link StateFeed}, in ms; everything has a default. */
export interface StateFeedOptions {
  /** Wait after a change before pushing, so a burst of commits is one push (default 40). */
  coalesceMs?: number;
  /** Least time between two pushes (default 250). */
  minIntervalMs?: number;
  /** Push the state this often even without a change (default 10 s). */
  refreshMs?: number;
  /** Send a comment line this often (default 15 s). */
  pingMs?: number;
}

/** A stream whose unsent bytes pass this is too slow to follow and is ended (bytes). */
const MAX_BUFFERED = 8 * 1024 * 1024;

/** One open `/api/events` stream. */
interface Stream {
  readonly res: ServerResponse;
  readonly planId: string | null;
}

/** The state of one Context as JSON and as a live SSE feed. */
export class StateFeed {
  private readonly streams = new Set<Stream>();
  private readonly coalesceMs: number;
  private readonly minIntervalMs: number;
  private readonly refreshMs: number;
  private readonly pingMs: number;
  private unsubscribe: (() => void) | null = null;
  private pending: NodeJS.Timeout | null = null;
  private timers: NodeJS.Timeout[] = [];
  private lastPush = 0;
  private pushing = false;
  private again = false;
  private closed = false;

  constructor(
    readonly ctx: DashboardContext,
    opts: StateFeedOptions = {},
  ) {
    this.coalesceMs = opts.coalesceMs ?? 40;
    this.minIntervalMs = opts.minIntervalMs ?? 250;
    this.refreshMs = opts.refreshMs ?? 10_000;
    this.pingMs = opts.pingMs ?? 15_000;
  }

  /** The state now, with the graph of plan `planId` (the newest when null or unknown). */
  state(planId: string | null): Promise<DashboardState> {
    return dashboardState(this.ctx, planId);
  }

  /** A page of the activity log for the query `params` (see activity.ts `activityPage`). */
  activity(params: URLSearchParams): ActivityPageBody {
    return activityPage(this.ctx, params);
  }

  /** Open streams now. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * Turn `res` into an event stream following plan `planId`: `retry: 1000`,
   * the state now, then a `state` event per (coalesced) change until the
   * request closes or {@link close} is called.
   */
  attach(req: IncomingMessage, res: ServerResponse, planId: string | null): void {
    if (this.closed) {
      res.writeHead(503, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" }).end("Service Unavailable: the dashboard is closing\n");
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    });
    res.write("retry: 1000\n\n");
    const stream: Stream = { res, planId };
    this.streams.add(stream);
    req.socket.setNoDelay(true);
    res.once("close", () => this.detach(stream));
    if (this.unsubscribe === null) this.listen();
    void this.sendTo([stream]);
  }

  /** End every stream and stop listening; later streams are refused 503. */
  close(): void {
    this.closed = true;
    this.stopListening();
    for (const s of this.streams) s.res.end();
    this.streams.clear();
  }

  private listen(): void {
    this.unsubscribe = this.ctx.changes.subscribe(() => this.schedule());
    const refresh = setInterval(() => this.schedule(), this.refreshMs);
    const ping = setInterval(() => {
      for (const s of this.streams) s.res.write(": ping\n\n");
    }, this.pingMs);
    refresh.unref();
    ping.unref();
    this.timers = [refresh, ping];
  }

  private stopListening(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.pending !== null) clearTimeout(this.pending);
    this.pending = null;
  }

  private detach(stream: Stream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0) this.stopListening();
  }

  /** Push soon: after `coalesceMs`, and no sooner than `minIntervalMs` after the last push. */
  private schedule(): void {
    if (this.closed || this.streams.size === 0) return;
    if (this.pushing) {
      this.again = true;
      return;
    }
    if (this.pending !== null) return;
    const delay = Math.max(this.coalesceMs, this.lastPush + this.minIntervalMs - performance.now());
    this.pending = setTimeout(() => {
      this.pending = null;
      void this.push();
    }, delay);
    this.pending.unref();
  }

  private async push(): Promise<void> {
    this.pushing = true;
    try {
      await this.sendTo([...this.streams]);
    } finally {
      this.pushing = false;
      this.lastPush = performance.now();
    }
    if (this.again) {
      this.again = false;
      this.schedule();
    }
  }

  /** Assemble the state once per plan followed by `streams` and send each its own. */
  private async sendTo(streams: Stream[]): Promise<void> {
    const byPlan = new Map<string | null, string>();
    for (const s of streams) {
      if (!this.streams.has(s)) continue;
      let data = byPlan.get(s.planId);
      if (data === undefined) {
        try {
          data = `event: state\ndata: ${JSON.stringify(await this.state(s.planId))}\n\n`;
        } catch (err) {
          this.ctx.logger.log("warn", "dashboard state failed", { error: (err as Error).message });
          data = `event: failure\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`;
        }
        byPlan.set(s.planId, data);
      }
      if (!this.streams.has(s)) continue;
      if (s.res.writableLength > MAX_BUFFERED) {
        this.ctx.logger.log("warn", "dashboard stream too slow: ended", { buffered: s.res.writableLength });
        s.res.end();
        this.detach(s);
        continue;
      }
      s.res.write(data);
    }
  }
}
