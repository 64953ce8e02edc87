/**
 * The client configurations in README.md ("Adding it to an MCP client"),
 * checked as written: each block is read out of the README, the server is
 * started from it with `signalbox` on PATH (as `npm install -g .` puts it)
 * and the client's `${workspaceFolder}` filled in, and called through the
 * MCP Inspector CLI 0.15.0 (tools/list, a tools/call and a
 * resources/read).
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers/store.js";

const run = promisify(execFile);
const README = fs.readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
const CLI = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const INSPECTOR = fileURLToPath(new URL("../node_modules/@modelcontextprotocol/inspector/cli/build/cli.js", import.meta.url));
const INSPECTOR_NPX = "npx @modelcontextprotocol/inspector@0.15.0";

/** The fenced block after `<!-- client-config: name -->` in the README. */
function configBlock(name: string): { lang: string; body: string } {
  const m = new RegExp(`<!-- client-config: ${name} -->\\s*\\n\`\`\`(\\w+)\\n([\\s\\S]*?)\\n\`\`\``).exec(README);
  if (!m) throw new Error(`README.md has no client-config block "${name}"`);
  return { lang: m[1]!, body: m[2]! };
}

interface ServerEntry {
  type?: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

const shim = tempDir("signalbox-bin-");
const project = tempDir("signalbox-project-");
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  // What `npm install -g .` provides: a `signalbox` command on PATH.
  const bin = path.join(shim.dir, "signalbox");
  fs.writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(project.dir, ".git"));
  // The root comes from the configuration or the working folder, never from this test run's environment.
  env = { ...process.env, PATH: `${shim.dir}${path.delimiter}${process.env.PATH ?? ""}` };
  delete env.SIGNALBOX_ROOT;
  delete env.SIGNALBOX_DB;
});

afterAll(() => {
  shim.cleanup();
  project.cleanup();
});

/** Run the Inspector CLI with `args` in the project folder; its stdout parsed as JSON. */
async function inspector(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [INSPECTOR, ...args], { cwd: project.dir, env, timeout: 30_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** Start the server from `entry` (as the client would) and ask it for server_info. */
async function serverInfoVia(entry: ServerEntry): Promise<{ root: string; store: string }> {
  const file = path.join(project.dir, "inspector-config.json");
  const fill = (s: string) => s.replaceAll("${workspaceFolder}", project.dir);
  const server = { command: entry.command, args: (entry.args ?? []).map(fill), env: entry.env ?? {} };
  fs.writeFileSync(file, JSON.stringify({ mcpServers: { signalbox: server } }));
  const out = await inspector(["--cli", "--config", file, "--server", "signalbox", "--method", "tools/call", "--tool-name", "server_info"]);
  return out.structuredContent as { root: string; store: string };
}

describe("client configurations in the README", () => {
  const realProject = () => fs.realpathSync(project.dir);

  it("Claude Code's .mcp.json starts the server on the repository it runs in", async () => {
    const { lang, body } = configBlock("claude-code");
    expect(lang).toBe("json");
    const entry = (JSON.parse(body) as { mcpServers: Record<string, ServerEntry> }).mcpServers.signalbox!;
    expect(entry.command).toBe("signalbox");
    const info = await serverInfoVia(entry);
    expect(info.root).toBe(realProject());
    expect(info.store).toBe(path.join(realProject(), ".signalbox"));
  });

  it("Cursor's .cursor/mcp.json starts the server on the workspace folder", async () => {
    const entry = (JSON.parse(configBlock("cursor").body) as { mcpServers: Record<string, ServerEntry> }).mcpServers.signalbox!;
    expect((await serverInfoVia(entry)).root).toBe(realProject());
  });

  it("VS Code's .vscode/mcp.json (servers, type stdio) starts the server on the workspace folder", async () => {
    const entry = (JSON.parse(configBlock("vscode").body) as { servers: Record<string, ServerEntry> }).servers.signalbox!;
    expect(entry.type).toBe("stdio");
    expect((await serverInfoVia(entry)).root).toBe(realProject());
  });

  it("the Inspector lines list the tools, call acquire_lock, read the locks, and load .mcp.json", async () => {
    const { lang, body } = configBlock("inspector");
    expect(lang).toBe("sh");
    const lines = body.split("\n").filter((l) => l.startsWith(INSPECTOR_NPX));
    expect(lines).toHaveLength(4);
    const sh = async (line: string) => {
      const cmd = line.replace(INSPECTOR_NPX, `"${process.execPath}" "${INSPECTOR}"`);
      const { stdout } = await run("sh", ["-c", cmd], { cwd: project.dir, env, timeout: 30_000 });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const list = (await sh(lines[0]!)) as { tools: { name: string }[] };
    expect(list.tools.map((t) => t.name)).toContain("acquire_lock");
    const call = (await sh(lines[1]!)) as { structuredContent: { granted: boolean; locks: { key: string }[] } };
    expect(call.structuredContent.granted).toBe(true);
    expect(call.structuredContent.locks.map((l) => l.key)).toEqual(["src/a.ts"]);
    const read = (await sh(lines[2]!)) as { contents: { text: string }[] };
    const locks = JSON.parse(read.contents[0]!.text) as { locks: { key: string; agent_id: string }[] };
    expect(locks.locks).toEqual([expect.objectContaining({ key: "src/a.ts", agent_id: "alice" })]);

    // The last line opens the web UI; its --config/--server pair is checked in CLI mode on the Claude Code block.
    expect(lines[3]).toContain("--config .mcp.json --server signalbox");
    fs.writeFileSync(path.join(project.dir, ".mcp.json"), configBlock("claude-code").body);
    const viaConfig = await inspector(["--cli", "--config", ".mcp.json", "--server", "signalbox", "--method", "resources/read", "--uri", "signalbox://locks"]);
    expect((viaConfig.contents as { text: string }[])[0]!.text).toContain('"agent_id":"alice"');
  });
});
