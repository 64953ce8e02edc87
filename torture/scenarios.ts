/**
 * Deadlock scenarios across separate server processes (RELIABILITY.md, promise
 * 6: deadlocks are refused, not waited out): agents in a wait-for cycle, each
 * behind its own server on the shared store.
 *
 * With n agents A0..A(n-1): Ai holds key i; A0..A(n-2) each queue for key
 * i+1 with a long wait_ms; then A(n-1) asks for key 0, closing the cycle.
 * That request must come back `granted: false`, reason "deadlock", with
 * `cycle` = [A(n-1), A0, ..., A(n-2), A(n-1)] (wait-for order), within one
 * second both as the client measured it and as the server's waited_ms says.
 * Then everything is released and every queued request is drained.
 */
import { monoNow } from "./history.js";
import { callTool, startServer, stopServer, type LiveServer, type ServerSpec } from "./server.js";

/** The outcome of one scenario. */
export interface DeadlockResult {
  /** "start" or "end" of the run. */
  phase: string;
  agents: number;
  ok: boolean;
  /** Client-measured latency of the request closing the cycle, ms. */
  latency_ms: number | null;
  /** Server-measured waited_ms of that request. */
  waited_ms: number | null;
  cycle: string[] | null;
  expected: string[];
  /** What went wrong, if anything. */
  problem: string | null;
}

/** A deadlock must be refused within this, ms (RELIABILITY.md, promise 6: deadlocks are refused, not waited out). */
export const DEADLOCK_LIMIT_MS = 1000;
const LONG_WAIT_MS = 8000;
const CALL_TIMEOUT_MS = 20_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface AcquireOut {
  granted: boolean;
  reason: string | null;
  cycle: string[] | null;
  waited_ms: number;
  message: string;
}

async function ok<T>(srv: LiveServer, name: string, args: Record<string, unknown>): Promise<T> {
  const r = await callTool<T>(srv, name, args, CALL_TIMEOUT_MS);
  if (r.kind !== "ok") throw new Error(`${name}: ${r.kind}${"text" in r ? ` ${r.text}` : ""}`);
  return r.data;
}

/** Wait until `agent` shows as a waiter in signalbox://locks (the queue entry is committed). */
async function untilQueued(srv: LiveServer, agent: string): Promise<void> {
  const deadline = monoNow() + 5000;
  while (monoNow() < deadline) {
    const r = await srv.client.readResource({ uri: "signalbox://locks" });
    const body = JSON.parse((r.contents[0] as { text: string }).text) as { waiters: { agent_id: string }[] };
    if (body.waiters.some((w) => w.agent_id === agent)) return;
    await sleep(10);
  }
  throw new Error(`${agent} never showed as queued`);
}

/** Run one cycle of `n` agents (n >= 2) on fresh keys; never throws. */
export async function deadlockScenario(spec: Omit<ServerSpec, "faketime">, n: number, phase: string): Promise<DeadlockResult> {
  const tag = `${phase}-${n}-${Math.round(monoNow())}`;
  const agents = Array.from({ length: n }, (_, i) => `dl-${tag}-${String.fromCharCode(65 + i)}`);
  const keys = agents.map((_, i) => `resource:deadlock-${tag}-k${i}`);
  const closer = agents[n - 1] as string;
  const expected = [closer, ...agents.slice(0, n - 1), closer];
  const result: DeadlockResult = { phase, agents: n, ok: false, latency_ms: null, waited_ms: null, cycle: null, expected, problem: null };
  const servers: LiveServer[] = [];
  const pending: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await startServer({ ...spec, faketime: null }, `torture-deadlock-${i}`));
    const srv = (i: number) => servers[i] as LiveServer;
    for (let i = 0; i < n; i++) {
      const a = await ok<AcquireOut>(srv(i), "acquire_lock", { agent_id: agents[i], paths: [keys[i]], mode: "write", wait_ms: 0, lease_ms: 30_000 });
      if (!a.granted) throw new Error(`${agents[i]} could not take ${keys[i]}: ${a.message}`);
    }
    for (let i = 0; i < n - 1; i++) {
      pending.push(
        callTool(srv(i), "acquire_lock", { agent_id: agents[i], paths: [keys[i + 1]], mode: "write", wait_ms: LONG_WAIT_MS, lease_ms: 30_000 }, CALL_TIMEOUT_MS),
      );
      await untilQueued(srv(i), agents[i] as string);
    }
    const sent = monoNow();
    const c = await ok<AcquireOut>(srv(n - 1), "acquire_lock", { agent_id: closer, paths: [keys[0]], mode: "write", wait_ms: LONG_WAIT_MS, lease_ms: 30_000 });
    result.latency_ms = Math.round(monoNow() - sent);
    result.waited_ms = c.waited_ms;
    result.cycle = c.cycle;
    const problems: string[] = [];
    if (c.granted || c.reason !== "deadlock") problems.push(`closing request answered ${c.granted ? "granted" : c.reason}: ${c.message}`);
    if (JSON.stringify(c.cycle) !== JSON.stringify(expected)) problems.push(`cycle ${JSON.stringify(c.cycle)}, expected ${JSON.stringify(expected)}`);
    if (result.latency_ms > DEADLOCK_LIMIT_MS) problems.push(`refused after ${result.latency_ms} ms (client)`);
    if (c.waited_ms > DEADLOCK_LIMIT_MS) problems.push(`server waited_ms ${c.waited_ms}`);
    result.problem = problems.length ? problems.join("; ") : null;
    result.ok = problems.length === 0;
  } catch (err) {
    result.problem = (err as Error).message;
  } finally {
    // Release in reverse: each release lets the previous waiter in; then drain and release again.
    for (let i = servers.length - 1; i >= 0; i--) {
      await callTool(servers[i] as LiveServer, "release_lock", { agent_id: agents[i], all: true }, CALL_TIMEOUT_MS);
    }
    await Promise.all(pending);
    for (let i = 0; i < servers.length; i++) {
      await callTool(servers[i] as LiveServer, "release_lock", { agent_id: agents[i], all: true }, CALL_TIMEOUT_MS);
    }
    await Promise.all(servers.map((s) => stopServer(s)));
  }
  return result;
}

/** The two- and three-agent cycles, one after the other. */
export async function runDeadlockScenarios(spec: Omit<ServerSpec, "faketime">, phase: string): Promise<DeadlockResult[]> {
  return [await deadlockScenario(spec, 2, phase), await deadlockScenario(spec, 3, phase)];
}
