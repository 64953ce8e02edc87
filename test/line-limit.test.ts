/** The stdin line filter (src/runtime/line-limit.ts): whole lines pass, an oversized one is dropped and its id found. */
import { describe, expect, it } from "vitest";
import { LineLimit, trailingId } from "../src/runtime/line-limit.js";

/** Feed `chunks` through a LineLimit of `max` bytes; returns what passed and what was dropped. */
async function run(max: number, chunks: string[]): Promise<{ out: string; dropped: [number, string | number | null][] }> {
  const dropped: [number, string | number | null][] = [];
  const t = new LineLimit(max, (bytes, id) => dropped.push([bytes, id]));
  let out = "";
  t.on("data", (d: Buffer) => (out += d.toString("utf8")));
  const done = new Promise((r) => t.on("end", r));
  for (const c of chunks) t.write(Buffer.from(c));
  t.end();
  await done;
  return { out, dropped };
}

describe("LineLimit", () => {
  it("passes whole lines unchanged, across chunk boundaries and several per chunk", async () => {
    expect(await run(100, ['{"a":1}\n{"b"', ":2}\n", "\n{}\r\n"])).toEqual({ out: '{"a":1}\n{"b":2}\n\n{}\r\n', dropped: [] });
  });

  it("drops a line longer than the limit (newline counted) and keeps the lines around it, in one chunk or many", async () => {
    const big = `{"x":"${"y".repeat(50)}","id":7}`;
    expect(await run(40, [`{"a":1}\n${big}\n{"b":2}\n`])).toEqual({ out: '{"a":1}\n{"b":2}\n', dropped: [[big.length + 1, 7]] });
    const parts = [`{"a":1}\n${big.slice(0, 20)}`, big.slice(20, 45), `${big.slice(45)}\n{"b":2}\n`];
    expect(await run(40, parts)).toEqual({ out: '{"a":1}\n{"b":2}\n', dropped: [[big.length + 1, 7]] });
    // Exactly at the limit (content + newline) passes; one byte more is dropped.
    expect((await run(10, ["123456789\n"])).out).toBe("123456789\n");
    expect((await run(10, ["1234567890\n"])).dropped).toEqual([[11, null]]);
  });

  it("finds only a top-level trailing id, and never throws on a malformed one", () => {
    expect(trailingId('{"method":"x","params":{},"jsonrpc":"2.0","id":42}')).toBe(42);
    expect(trailingId('{"jsonrpc":"2.0","id":"r-\\"1"}')).toBe('r-"1');
    expect(trailingId('{"params":{"id":5}}')).toBeNull();
    expect(trailingId('{"jsonrpc":"2.0","id":"\\q"}')).toBeNull();
    expect(trailingId('{"jsonrpc":"2.0","id":"\\u12"}')).toBeNull();
  });
});
