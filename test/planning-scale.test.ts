/**
 * Planning at scale, through a real MCP client: 10,000 tasks all writing one
 * file (50 million conflicting pairs) get an exact answer (never an internal
 * error such as "Map maximum size exceeded"), other calls to the same server
 * are answered while such a check runs, and pair work beyond
 * `limits.pair_visits_per_check` is refused naming the field and the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/runtime/config.js";
import { connect, type Harness } from "./helpers/client.js";

const N = 10_000;
const PAIRS = (N * (N - 1)) / 2;
const oneFile = (n: number, field = "T") => Array.from({ length: n }, (_, i) => ({ id: `${field}${i}`, writes: ["app/shared.ts"] }));
const text = (r: { content?: unknown }) => ((r.content ?? []) as { text?: string }[]).map((c) => c.text ?? "").join("\n");

describe("planning 10,000 tasks that all write one file", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connect();
  });
  afterAll(async () => {
    await h.close();
  });

  it("check_parallel: SERIALIZE with exact counts, a capped pair list and one task per group", async () => {
    const r = await h.call("check_parallel", { tasks: oneFile(N) });
    expect(text(r)).not.toMatch(/Map maximum size|RangeError|internal/i);
    expect(r.isError, text(r)).toBeFalsy();
    const s = r.structuredContent as {
      verdict: string;
      summary: { pairs_total: number; serialize_pairs: number; parallel_pairs: number; by_reason: Record<string, number> };
      pairs: { a: string; b: string }[];
      pairs_truncated: number;
      groups: string[][];
      groups_omitted: number;
    };
    expect(s.verdict).toBe("SERIALIZE");
    expect(s.summary.pairs_total).toBe(PAIRS);
    expect(s.summary.serialize_pairs).toBe(PAIRS);
    expect(s.summary.parallel_pairs).toBe(0);
    expect(s.summary.by_reason.same_file).toBe(PAIRS);
    expect(s.pairs).toHaveLength(500);
    expect(s.pairs[0]).toMatchObject({ a: "T0", b: "T1" });
    expect(s.pairs_truncated).toBe(PAIRS - 500);
    expect(s.groups).toHaveLength(500);
    expect(s.groups_omitted).toBe(N - 500);
    expect(s.groups.every((g) => g.length === 1)).toBe(true);
  }, 120_000);

  it("plan_waves: 10,000 serial waves, every conflict counted", async () => {
    const r = await h.call("plan_waves", { features: oneFile(N, "F") });
    expect(text(r)).not.toMatch(/Map maximum size|RangeError|internal/i);
    expect(r.isError, text(r)).toBeFalsy();
    const p = r.structuredContent as {
      plan_id: string;
      waves: { wave_number: number; features: string[]; prerequisites: number[]; prerequisites_omitted?: number }[];
      waves_omitted: number;
      conflicts: unknown[];
      conflicts_total: number;
      critical_path: { length: number };
    };
    expect(p.waves).toHaveLength(200);
    expect(p.waves_omitted).toBe(N - 200);
    expect(p.waves.map((w) => w.features)).toEqual(Array.from({ length: 200 }, (_, i) => [`F${i}`]));
    expect(p.waves[1]?.prerequisites).toEqual([1]);
    expect(p.waves[199]?.prerequisites).toHaveLength(100);
    expect(p.waves[199]?.prerequisites_omitted).toBe(99);
    expect(p.conflicts).toHaveLength(500);
    expect(p.conflicts_total).toBe(PAIRS);
    const stored = await h.readJson<{ waves: unknown[] }>(`signalbox://waves/${p.plan_id}`);
    expect(stored.waves).toHaveLength(N);
  }, 120_000);

  it("answers server_info while a big check_parallel runs on the same connection", async () => {
    const order: string[] = [];
    const big = h.call("check_parallel", { tasks: oneFile(N) }).then((r) => {
      order.push("check_parallel");
      return r;
    });
    // Let the big call reach the server and start planning, then send the cheap one.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const t0 = performance.now();
    const info = await h.call("server_info", {});
    const infoMs = performance.now() - t0;
    order.push("server_info");
    expect(info.isError).toBeFalsy();
    expect(infoMs).toBeLessThan(1000);
    const r = await big;
    expect(r.isError, text(r)).toBeFalsy();
    expect(order).toEqual(["server_info", "check_parallel"]);
  }, 120_000);
});

describe("limits.pair_visits_per_check", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connect({ config: parseConfig({ limits: { pair_visits_per_check: 10_000 } }) });
  });
  afterAll(async () => {
    await h.close();
  });

  it("refuses pair work beyond the limit naming the field and the limit, for both tools", async () => {
    const cp = await h.fails("check_parallel", { tasks: oneFile(500) });
    expect(cp).toMatch(/^tasks: /);
    expect(cp).toContain("limits.pair_visits_per_check = 10000");
    const pw = await h.fails("plan_waves", { features: oneFile(500, "F") });
    expect(pw).toMatch(/^features: /);
    expect(pw).toContain("limits.pair_visits_per_check = 10000");
  });

  it("answers below the limit", async () => {
    const s = await h.ok<{ summary: { serialize_pairs: number } }>("check_parallel", { tasks: oneFile(50) });
    expect(s.summary.serialize_pairs).toBe(1225);
  });
});
