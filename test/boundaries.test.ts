/**
 * The boundaries `npm run lint` enforces (eslint.config.js), checked on
 * sample code at the paths it would live in: only src/store/lmdb/ talks to
 * LMDB, only the composition roots (runtime, CLI, hooks) open the LMDB
 * engine's modules, domain code makes no raw engine call, and the core
 * imports nothing from the MCP SDK.
 */
import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: path.resolve(import.meta.dirname, "..") });

/** The rule ids eslint reports for `code` as if it were the file at `file` (relative to the repository). */
async function violations(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.resolve(import.meta.dirname, "..", file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

const RAW_CALL = `export function f(store: { agents: { getRange(o: object): unknown[] } }): unknown[] {\n  return store.agents.getRange({ start: "A", end: "B" });\n}\n`;
const PUT_SYNC = `export function f(db: { putSync(k: string, v: number): void }): void {\n  db.putSync("k", 1);\n}\n`;
const ENGINE_IMPORT = `import { openStore } from "../store/lmdb/store.js";\nexport const open = openStore;\n`;
const LMDB_IMPORT = `import { open } from "lmdb";\nexport const o = open;\n`;
const SDK_IMPORT = `import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";\nexport const S = McpServer;\n`;

describe("lint boundaries", () => {
  it("refuses a raw engine call in domain code, tools and resources, and allows it in src/store/lmdb/", async () => {
    expect(await violations("src/control/sample.ts", RAW_CALL)).toContain("no-restricted-syntax");
    expect(await violations("src/locks/sample.ts", PUT_SYNC)).toContain("no-restricted-syntax");
    expect(await violations("tools/sample.ts", PUT_SYNC)).toContain("no-restricted-syntax");
    expect(await violations("resources/sample.ts", RAW_CALL)).toContain("no-restricted-syntax");
    expect(await violations("src/store/lmdb/sample.ts", RAW_CALL)).toEqual([]);
  });

  it("refuses the LMDB engine's modules outside the composition roots", async () => {
    expect(await violations("src/control/sample.ts", ENGINE_IMPORT)).toContain("no-restricted-imports");
    expect(await violations("src/locks/sample.ts", ENGINE_IMPORT)).toContain("no-restricted-imports");
    expect(await violations("src/store/sample.ts", `import type { Store } from "./lmdb/store.js";\nexport type S = Store;\n`)).toContain("no-restricted-imports");
    expect(await violations("src/runtime/sample.ts", ENGINE_IMPORT)).toEqual([]);
    expect(await violations("src/cli/sample.ts", ENGINE_IMPORT)).toEqual([]);
  });

  it("lets only src/store/lmdb/ import lmdb, and keeps the MCP SDK out of the core", async () => {
    expect(await violations("src/runtime/sample.ts", LMDB_IMPORT)).toContain("no-restricted-imports");
    expect(await violations("src/locks/sample.ts", LMDB_IMPORT)).toContain("no-restricted-imports");
    expect(await violations("src/store/lmdb/sample.ts", LMDB_IMPORT)).toEqual([]);
    expect(await violations("src/control/sample.ts", SDK_IMPORT)).toContain("no-restricted-imports");
    expect(await violations("src/runtime/sample.ts", SDK_IMPORT)).toEqual([]);
  });
});

describe("the control layer's layers", () => {
  it("keeps use cases out of the registry, and lets use cases build on the registry", async () => {
    const useCase = `import { createSignal } from "../signals.js";\nexport const f = createSignal;\n`;
    expect(await violations("src/control/registry/sample.ts", useCase)).toContain("no-restricted-imports");
    expect(await violations("src/control/registry/sample.ts", `import { nowIso } from "./env.js";\nimport { InvalidArgumentError } from "../../errors.js";\nexport const f = [nowIso, InvalidArgumentError];\n`)).toEqual([]);
    expect(await violations("src/control/sample.ts", `import { getAgent } from "./registry/agents.js";\nexport const f = getAgent;\n`)).toEqual([]);
  });
});
