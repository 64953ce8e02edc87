/**
 * Property-based bad-input tests (RELIABILITY.md, "Bad input and misuse"): for
 * EVERY tool the server lists, at least 1,000 generated calls (about half
 * valid, half with exactly one broken field; test/helpers/arbitraries.ts)
 * through a real SDK Client over InMemoryTransport against a real context (LMDB
 * in a temp dir). Each call must answer within CALL_TIMEOUT_MS; an invalid call
 * must be refused naming the broken field; a valid call must succeed with
 * structuredContent matching the tool's full output schema or be refused by the
 * domain, never fail internally. After each tool the server must still answer
 * server_info.
 *
 * Env: SIGNALBOX_FUZZ_SEED (replay a run; fast-check prints the seed and path
 * of any failure), SIGNALBOX_FUZZ_RUNS (calls per tool, default 1000),
 * SIGNALBOX_FUZZ_REPORT (file to write the per-tool summary to, as JSON).
 */
import fs from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import Table from "cli-table3";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext, type Context } from "../src/runtime/context.js";
import { silentLogger } from "../src/runtime/logger.js";
import { createServer } from "../src/server.js";
import {
  callWithin,
  internalErrorMark,
  invalidArgs,
  listFullToolSchemas,
  namesField,
  resultText,
  showPath,
  validArgs,
  type FieldPath,
  type ToolSchema,
} from "./helpers/arbitraries.js";
import { undeclaredFields } from "./helpers/client.js";
import { tempDir } from "./helpers/store.js";
import { TOOLSET_NAMES } from "../tools/toolsets.js";

const RUNS = Number(process.env.SIGNALBOX_FUZZ_RUNS ?? 1000);
const SEED = process.env.SIGNALBOX_FUZZ_SEED !== undefined ? Number(process.env.SIGNALBOX_FUZZ_SEED) : undefined;
/** A call with no answer after this long counts as a hang. */
const CALL_TIMEOUT_MS = 10_000;

/** What happened to one tool's generated calls. */
interface Tally {
  tool: string;
  calls: number;
  valid: number;
  valid_succeeded: number;
  valid_refused: number;
  invalid: number;
  invalid_rejected: number;
}

/** One generated call: valid arguments, or a mutation with the path of the field it broke. */
type Case = { valid: true; args: Record<string, unknown> } | { valid: false; args: Record<string, unknown>; path: FieldPath; kind: string };

// Tools are listed once at collection time so each gets its own test; tools added later are covered automatically.
const TOOLS = await listFullToolSchemas();

describe("fuzz: every tool's arguments through the in-memory MCP client", () => {
  const root = tempDir("signalbox-fuzz-root-");
  const store = tempDir("signalbox-fuzz-store-");
  const tallies: Tally[] = [];
  let ctx: Context;
  let client: Client;
  let close: () => Promise<void>;
  let outputSchemas: Map<string, Parameters<typeof undeclaredFields>[1]>;

  beforeAll(async () => {
    ctx = createContext({ root: root.dir, storeDir: store.dir, logger: silentLogger, sweepMs: 0 });
    // Uncompacted listing: the client then checks every structuredContent against the full output schema.
    const { server } = createServer(ctx, { listing: "full", toolsets: TOOLSET_NAMES });
    const [a, b] = InMemoryTransport.createLinkedPair();
    client = new Client({ name: "signalbox-fuzz", version: "0.0.0" });
    await Promise.all([server.connect(b), client.connect(a)]);
    const { tools } = await client.listTools();
    outputSchemas = new Map(tools.map((t) => [t.name, t.outputSchema as Parameters<typeof undeclaredFields>[1]]));
    close = async () => {
      await client.close();
      await server.close();
    };
  });

  afterAll(async () => {
    await close();
    await ctx.close();
    root.cleanup();
    store.cleanup();
    const table = new Table({ head: ["tool", "calls", "valid", "valid ok", "valid refused", "invalid", "invalid rejected"] });
    for (const t of tallies) table.push([t.tool, t.calls, t.valid, t.valid_succeeded, t.valid_refused, t.invalid, t.invalid_rejected]);
    console.log(`fuzz summary (in-memory)\n${table.toString()}`);
    if (process.env.SIGNALBOX_FUZZ_REPORT) fs.writeFileSync(process.env.SIGNALBOX_FUZZ_REPORT, `${JSON.stringify(tallies, null, 2)}\n`);
  });

  it("lists tools to fuzz", () => {
    expect(TOOLS.length).toBeGreaterThan(0);
  });

  for (const tool of TOOLS) {
    it(`${tool.name}: ${RUNS} generated calls, none crashes, hangs or passes bad input`, { timeout: 600_000 }, async () => {
      const tally = newTally(tool.name);
      tallies.push(tally);
      await fc.assert(
        fc.asyncProperty(casesFor(tool), (c) => judge(tool.name, c, tally)),
        { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
      );
      const info = await callWithin(client, "server_info", {}, CALL_TIMEOUT_MS);
      expect(info.isError, resultText(info.content)).toBeFalsy();
    });
  }

  // Per tool, the calls of one tool meet only what earlier tools left behind; interleaved, a feature
  // can be planned, started, reassigned and failed, and a lock acquired, renewed and released, in one run.
  it(`all tools interleaved: ${RUNS} generated calls`, { timeout: 600_000 }, async () => {
    const tally = newTally("(all tools interleaved)");
    tallies.push(tally);
    const calls = fc.oneof(...TOOLS.map((tool) => casesFor(tool).map((c) => ({ tool: tool.name, c }))));
    await fc.assert(
      fc.asyncProperty(calls, ({ tool, c }) => judge(tool, c, tally)),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );
    const info = await callWithin(client, "server_info", {}, CALL_TIMEOUT_MS);
    expect(info.isError, resultText(info.content)).toBeFalsy();
  });

  /** Valid and invalid calls of one tool, about half each (valid only when nothing can be broken). */
  function casesFor(tool: ToolSchema): fc.Arbitrary<Case> {
    const valid = validArgs(tool.inputSchema).map((args): Case => ({ valid: true, args }));
    const invalid = invalidArgs(tool.inputSchema)?.map((m): Case => ({ valid: false, ...m }));
    return invalid ? fc.oneof(valid, invalid) : valid;
  }

  /** Make one call and check its answer (see the file header); throws what went wrong, counts what happened. */
  async function judge(tool: string, c: Case, tally: Tally): Promise<void> {
    tally.calls++;
    const r = await callWithin(client, tool, c.args, CALL_TIMEOUT_MS);
    const text = resultText(r.content);
    const mark = r.isError ? internalErrorMark(text) : undefined;
    if (mark) throw new Error(`internal error (${mark}): ${text.slice(0, 500)}`);
    if (!c.valid) {
      tally.invalid++;
      if (!r.isError) throw new Error(`invalid call (${c.kind} at ${showPath(c.path)}) accepted: ${JSON.stringify(r.structuredContent).slice(0, 300)}`);
      if (!namesField(text, c.path)) throw new Error(`error does not name ${showPath(c.path)} (${c.kind}): ${text.slice(0, 500)}`);
      tally.invalid_rejected++;
      return;
    }
    tally.valid++;
    if (r.isError) {
      // A call the listed schema admits but zod refuses means the listing does not say what the server enforces.
      if (text.includes("Input validation error")) throw new Error(`valid call refused by input validation: ${text.slice(0, 500)}`);
      tally.valid_refused++;
      return;
    }
    if (r.structuredContent === undefined) throw new Error("success without structuredContent");
    const extra = undeclaredFields(r.structuredContent, outputSchemas.get(tool));
    if (extra.length > 0) throw new Error(`structuredContent has undeclared fields ${extra.join(", ")}`);
    tally.valid_succeeded++;
  }
});

function newTally(tool: string): Tally {
  return { tool, calls: 0, valid: 0, valid_succeeded: 0, valid_refused: 0, invalid: 0, invalid_rejected: 0 };
}
