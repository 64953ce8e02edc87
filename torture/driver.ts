/**
 * A torture driver: one child process of the harness. It runs its own
 * signalbox server (respawned whenever the harness kills it) and plays
 * several agents on one SDK Client against a small set of hot keys, recording
 * everything it observes as a history (torture/history.ts discipline):
 * - a grant AFTER acquire_lock answered granted, a release BEFORE release_lock
 *   is sent, renewals with their send time and lease;
 * - one request event per acquire (sent, queued = first progress
 *   notification, answered, outcome, server waited_ms);
 * - one op event per renew/release/verify and lock, with the status the
 *   server gave (stale checks);
 * - every acknowledged decision with its seq and unique context text.
 * A call in flight when the server died is recorded as lost, with no grant.
 *
 * Usage (by the harness only): `node dist/torture/driver.js '<DriverConfig JSON>'` with an IPC channel.
 */
import { History, monoNow, type HistoryMode, type OpEvent, type RequestEvent } from "./history.js";
import type { DriverConfig, DriverMessage, DriverStats, HarnessMessage } from "./protocol.js";
import { makeRng, type Rng } from "./random.js";
import { callTool, findFaketimeLib, killServer, startServer, stopServer, type CallOutcome, type LiveServer } from "./server.js";

/** The hot keys: files, directories covering them, tables. */
export const HOT_KEYS = [
  "src/a.ts",
  "src/b.ts",
  "src/lib/c.ts",
  "src/lib/d.ts",
  "src/",
  "src/lib/",
  "table:users",
  "table:orders",
] as const;

interface Granted {
  key: string;
  mode: HistoryMode;
  lock_id: string;
  fencing_token: number;
  expires_at: string;
}
interface AcquireOut {
  granted: boolean;
  locks: Granted[];
  reason: string | null;
  waited_ms: number;
}
interface StaleEntry {
  lock_id: string;
  status: string;
}
interface ReleaseOut {
  released: { key: string; fencing_token: number }[];
  stale: StaleEntry[];
}
interface RenewOut {
  renewed: { lock_id: string }[];
  stale: StaleEntry[];
}
interface VerifyOut {
  valid: boolean;
  status: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function emptyStats(): DriverStats {
  return {
    requests: 0,
    grant_requests: 0,
    refusals: {},
    lost: 0,
    releases: 0,
    renewals: 0,
    verifies: 0,
    decisions: 0,
    respawns: 0,
    hung: 0,
    disk_refusals: 0,
    store_failures: 0,
    unexpected_errors: 0,
    stalls_seen: 0,
    max_gap_ms: 0,
    clock_shifts: [],
    grants_per_second: [],
  };
}

/** The driver's server, respawned on demand after it died. */
class ServerSlot {
  private current: LiveServer | null = null;
  private starting: Promise<LiveServer> | null = null;
  private generation = 0;
  stopping = false;

  constructor(
    private readonly cfg: DriverConfig,
    private readonly stats: DriverStats,
    private readonly errors: string[],
    private readonly send: (m: DriverMessage) => void,
  ) {}

  /** The live server, starting a new one if the last one died. */
  get(): Promise<LiveServer> {
    if (this.current?.alive) return Promise.resolve(this.current);
    if (!this.starting) {
      this.starting = this.spawn().finally(() => {
        this.starting = null;
      });
    }
    return this.starting;
  }

  private async spawn(): Promise<LiveServer> {
    const faketimeLib = this.cfg.faketime ? findFaketimeLib() : null;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new Error("driver stopping");
      try {
        const live = await startServer(
          { cli: this.cfg.cli, root: this.cfg.root, db: this.cfg.db, faketime: this.cfg.faketime, faketimeLib },
          `torture-${this.cfg.name}`,
        );
        this.generation++;
        if (this.generation > 1) this.stats.respawns++;
        this.current = live;
        this.send({ type: "server", pid: live.pid, generation: this.generation });
        return live;
      } catch (err) {
        // Killed during initialize (the kill fault) or a crash at start: try again.
        if (attempt % 20 === 0) this.errors.push(`${this.cfg.name}: server start failed ${attempt} times: ${(err as Error).message}`);
        await sleep(Math.min(200, 10 * attempt));
      }
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    const live = this.current ?? (await this.starting?.catch(() => null)) ?? null;
    if (live) await stopServer(live);
  }
}

/** One driver process: agents, server slot, history, counters. */
class Driver {
  readonly history = new History();
  readonly stats = emptyStats();
  readonly errors: string[] = [];
  readonly slot: ServerSlot;
  stopped = false;
  private readonly startT = monoNow();
  private calls = 0;
  private decisionN = 0;

  constructor(
    readonly cfg: DriverConfig,
    private readonly send: (m: DriverMessage) => void,
  ) {
    this.slot = new ServerSlot(cfg, this.stats, this.errors, send);
  }

  private note(msg: string): void {
    if (this.errors.length < 50) this.errors.push(msg);
  }

  /** A call through the current server; a hung server is killed so a fresh one takes over. */
  async call<T>(name: string, args: Record<string, unknown>, waitMs: number, onprogress?: () => void): Promise<CallOutcome<T>> {
    let live: LiveServer;
    try {
      live = await this.slot.get();
    } catch {
      return { kind: "lost" };
    }
    this.calls++;
    const out = await callTool<T>(live, name, args, waitMs + this.cfg.call_slack_ms, onprogress);
    if (out.kind === "hung") {
      this.stats.hung++;
      this.note(`${this.cfg.name}: ${name} unanswered after ${waitMs + this.cfg.call_slack_ms} ms with server ${live.pid} alive; killed it`);
      killServer(live);
    } else if (out.kind === "lost") this.stats.lost++;
    else if (out.kind === "disk") this.stats.disk_refusals++;
    else if (out.kind === "store") {
      this.stats.store_failures++;
      this.note(`${this.cfg.name}: ${out.text.slice(0, 300)}`);
    }
    else if (out.kind === "error") {
      this.stats.unexpected_errors++;
      this.note(`${this.cfg.name}: ${out.text.slice(0, 300)}`);
    }
    return out;
  }

  private op(op: OpEvent["op"], agent: string, lockId: string, sent: number, answer: number, status: string, leaseMs?: number): void {
    const ev: OpEvent = { type: "op", t: answer, op, agent, proc: this.cfg.name, lock_id: lockId, sent_t: sent, answer_t: answer, status };
    if (leaseMs !== undefined) ev.lease_ms = leaseMs;
    this.history.events.push(ev);
  }

  private countGrant(t: number): void {
    const s = Math.floor((t - this.startT) / 1000);
    const g = this.stats.grants_per_second;
    while (g.length <= s) g.push(0);
    g[s] = (g[s] ?? 0) + 1;
  }

  private get running(): boolean {
    return !this.stopped && monoNow() < this.cfg.until;
  }

  /** One agent's loop: acquire, maybe renew and verify, hold, release; sometimes record a decision. */
  async agent(agent: string, rng: Rng): Promise<void> {
    const { cfg } = this;
    while (this.running) {
      const keys = rng.sample(HOT_KEYS, rng.int(1, 3));
      const mode: HistoryMode = rng.chance(0.5) ? "read" : "write";
      const lease = rng.int(cfg.lease_ms[0], cfg.lease_ms[1]);
      const wait = rng.chance(0.4) ? 0 : rng.int(1, cfg.max_wait_ms);
      const req: RequestEvent = { type: "request", t: 0, agent, proc: cfg.name, keys, mode, wait_ms: wait, lease_ms: lease, sent_t: 0, outcome: "lost" };
      this.stats.requests++;
      req.sent_t = monoNow();
      const a = await this.call<AcquireOut>(
        "acquire_lock",
        { agent_id: agent, paths: keys, mode, lease_ms: lease, wait_ms: wait },
        wait,
        () => {
          req.queued_t ??= monoNow();
        },
      );
      const answer = monoNow();
      req.t = answer;
      this.history.events.push(req);
      if (a.kind !== "ok") {
        req.outcome = a.kind === "lost" || a.kind === "hung" ? "lost" : "error";
        if (a.kind !== "lost" && a.kind !== "hung") req.answer_t = answer;
        await sleep(rng.int(5, 30));
        continue;
      }
      req.answer_t = answer;
      req.waited_ms = a.data.waited_ms;
      if (!a.data.granted) {
        const reason = a.data.reason ?? "null";
        req.outcome = (["conflict", "timeout", "deadlock", "paused", "checkpoint"].includes(reason) ? reason : "error") as RequestEvent["outcome"];
        this.stats.refusals[reason] = (this.stats.refusals[reason] ?? 0) + 1;
        await sleep(rng.int(0, 20));
        continue;
      }
      req.outcome = "granted";
      this.stats.grant_requests++;
      this.countGrant(answer);
      const locks = a.data.locks;
      this.history.grant(agent, locks, { t: answer, sent_t: req.sent_t, lease_ms: lease, proc: cfg.name });
      // Wall-clock shift of the server: its expires_at is its wall clock + lease at the grant.
      const shifts = this.stats.clock_shifts;
      if (shifts.length < 500 && locks[0]) shifts.push(Date.parse(locks[0].expires_at) - lease - Date.now());
      await this.useLocks(agent, rng, locks, lease);
      if (rng.chance(0.1)) await this.decide(agent, rng);
    }
  }

  private async useLocks(agent: string, rng: Rng, locks: Granted[], lease: number): Promise<void> {
    const ids = locks.map((l) => l.lock_id);
    if (rng.chance(0.3)) {
      const newLease = rng.int(this.cfg.lease_ms[0], this.cfg.lease_ms[1]);
      const sent = monoNow();
      const r = await this.call<RenewOut>("renew_lease", { agent_id: agent, lock_ids: ids, lease_ms: newLease }, 0);
      const t = monoNow();
      this.stats.renewals++;
      if (r.kind === "ok") {
        const renewed = new Set(r.data.renewed.map((x) => x.lock_id));
        this.history.renew(agent, [...renewed], sent, newLease, t);
        const stale = new Map(r.data.stale.map((s) => [s.lock_id, s.status]));
        for (const id of ids) this.op("renew", agent, id, sent, t, renewed.has(id) ? "current" : (stale.get(id) ?? "missing"), newLease);
        lease = newLease;
      } else {
        for (const id of ids) this.op("renew", agent, id, sent, t, r.kind === "lost" || r.kind === "hung" ? "lost" : "error", newLease);
      }
    }
    if (rng.chance(0.3)) {
      const l = rng.pick(locks);
      const sent = monoNow();
      const v = await this.call<VerifyOut>("verify_lock", { lock_id: l.lock_id, fencing_token: l.fencing_token }, 0);
      const t = monoNow();
      this.stats.verifies++;
      const status = v.kind === "ok" ? (v.data.valid ? "current" : v.data.status) : v.kind === "lost" || v.kind === "hung" ? "lost" : "error";
      this.op("verify", agent, l.lock_id, sent, t, status);
    }
    // Hold a little (usually well inside the lease; sometimes past it, to exercise stale answers).
    await sleep(rng.chance(0.05) ? lease + rng.int(10, 100) : rng.int(0, Math.min(60, lease / 4)));
    this.history.release(agent, ids);
    const sent = monoNow();
    const r = await this.call<ReleaseOut>("release_lock", { agent_id: agent, lock_ids: ids }, 0);
    const t = monoNow();
    this.stats.releases++;
    if (r.kind === "ok") {
      const released = new Set(r.data.released.map((x) => x.fencing_token));
      const stale = new Map(r.data.stale.map((s) => [s.lock_id, s.status]));
      for (const l of locks) {
        this.op("release", agent, l.lock_id, sent, t, released.has(l.fencing_token) ? "current" : (stale.get(l.lock_id) ?? "missing"));
      }
    } else {
      for (const id of ids) this.op("release", agent, id, sent, t, r.kind === "lost" || r.kind === "hung" ? "lost" : "error");
    }
  }

  private async decide(agent: string, rng: Rng): Promise<void> {
    const content = `${agent} decision ${++this.decisionN} ${rng.int(0, 1e9)}`;
    const r = await this.call<{ seq: number }>(
      "record_decision",
      { type: "other", decided_by: agent, context: content, decision: "carry on" },
      0,
    );
    if (r.kind === "ok") {
      this.stats.decisions++;
      this.history.events.push({ type: "decision", t: monoNow(), agent, seq: r.data.seq, content });
    }
  }

  /** Run the agents to the end, then stop the server. */
  async run(): Promise<void> {
    const gapTimer = this.gapMonitor();
    const progress = setInterval(() => {
      this.send({ type: "progress", grants: this.stats.grant_requests, calls: this.calls, t: monoNow() });
    }, 500);
    try {
      await this.slot.get();
      await Promise.all(
        Array.from({ length: this.cfg.agents }, (_, j) => this.agent(`${this.cfg.name}-a${j}`, makeRng(this.cfg.seed * 1000 + j))),
      );
    } finally {
      clearInterval(progress);
      clearInterval(gapTimer);
      await this.slot.close();
    }
  }

  /** Event-loop gap monitor: a SIGSTOP shows up as a gap far longer than the tick. */
  private gapMonitor(): NodeJS.Timeout {
    let last = monoNow();
    return setInterval(() => {
      const now = monoNow();
      const gap = now - last;
      last = now;
      this.stats.max_gap_ms = Math.max(this.stats.max_gap_ms, Math.round(gap));
      if (gap > this.cfg.stall_gap_ms) this.stats.stalls_seen++;
    }, 20);
  }
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? "{}") as DriverConfig;
  if (!process.send) throw new Error("driver: must be started by the torture harness with an IPC channel");
  const send = (m: DriverMessage) => {
    // A callback keeps a channel closed by the harness (which has finished
    // with this driver) from surfacing as an uncaught `error` event.
    if (process.connected) process.send?.(m, undefined, {}, () => undefined);
  };
  const driver = new Driver(cfg, send);
  process.on("message", (m: HarnessMessage) => {
    if (m.type === "stop") driver.stopped = true;
  });
  await driver.run();
  const done: DriverMessage = { type: "done", stats: driver.stats, events: driver.history.events, errors: driver.errors };
  await new Promise<void>((resolve) => process.send?.(done, undefined, {}, () => resolve()));
  process.disconnect();
}

main().catch((err: unknown) => {
  process.stderr.write(`torture driver: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
