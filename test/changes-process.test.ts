/**
 * The change feed (src/runtime/changes.ts) on a real store written by
 * another real process: a commit there reaches a listener here through the
 * watch on the data file, with every poll 60 s away, so only the watch can
 * deliver it; a file that cannot be watched falls back to polling; close()
 * releases the watch; a process that listens can still exit. Bounds in this
 * file only stop a hang; speed is measured in bench/notify.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChangeFeed, type ChangeFeedOptions } from "../src/runtime/changes.js";
import { STORE_FILE } from "../src/runtime/root.js";
import { ENV_OPTIONS } from "../src/store/lmdb/layout.js";
import { openStore, type Store } from "../src/store/lmdb/store.js";
import { Wakeups } from "../src/locks/wait.js";
import { tempDir } from "./helpers/store.js";
import { until } from "./helpers/wait.js";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
/** Long enough that no poll runs during a test: what arrives came through the watch. */
const NEVER_MS = 60_000;


/**
 * Another process on the store: opens the data file with the store's
 * ENV_OPTIONS and, for each `commit` line on stdin, commits one write
 * transaction and prints the id it committed.
 */
const WRITER = `
import readline from "node:readline";
import { open } from "lmdb";
const env = open({ path: process.env.FEED_STORE_FILE, ...JSON.parse(process.env.FEED_ENV_OPTIONS) });
const db = env.openDB({ name: "feedTest" });
let n = 0;
process.stdout.write("ready\\n");
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line !== "commit") break;
  env.transactionSync(() => db.putSync("n", ++n));
  process.stdout.write(env.getStats().lastTxnId + "\\n");
}
await env.close();
`;

/** The writer process and a way to make it commit. */
class Writer {
  private readonly lines: string[] = [];
  private waiting: (() => void) | null = null;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on("line", (l) => {
      this.lines.push(l);
      this.waiting?.();
    });
  }

  static async start(storeDir: string): Promise<Writer> {
    const child = spawn(process.execPath, ["--input-type=module", "-e", WRITER], {
      cwd: PACKAGE,
      env: { ...process.env, FEED_STORE_FILE: path.join(storeDir, STORE_FILE), FEED_ENV_OPTIONS: JSON.stringify(ENV_OPTIONS) },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const w = new Writer(child);
    const line = await w.next();
    if (line !== "ready") throw new Error(`writer did not start: ${line} ${stderr}`);
    return w;
  }

  /** The next line the writer prints (null if it exited). */
  private next(): Promise<string | null> {
    return new Promise((resolve) => {
      const take = () => {
        if (this.lines.length > 0) {
          this.waiting = null;
          this.child.off("exit", take);
          resolve(this.lines.shift() as string);
        } else if (this.child.exitCode !== null) resolve(null);
      };
      this.waiting = take;
      this.child.once("exit", take);
      take();
    });
  }

  /** Commit one transaction in the writer process; resolves with its id once committed. */
  async commit(): Promise<number> {
    this.child.stdin.write("commit\n");
    const line = await this.next();
    if (line === null) throw new Error("writer exited");
    return Number(line);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.stdin.end();
    await exited;
  }
}

let store: Store | undefined;
let writer: Writer | undefined;
let tmp: { dir: string; cleanup: () => void } | undefined;
const feeds: ChangeFeed[] = [];

beforeEach(async () => {
  tmp = tempDir("signalbox-changes-");
  store = openStore(tmp.dir);
  writer = await Writer.start(tmp.dir);
});

afterEach(async () => {
  for (const f of feeds.splice(0)) f.close();
  await writer?.stop();
  await store?.close();
  tmp?.cleanup();
  writer = store = tmp = undefined;
});

/** A feed on this process's store (reader-visible ids), watching its data file, both polls 60 s apart unless `options` say otherwise. */
function feed(options: Partial<ChangeFeedOptions> & { pollMs?: number } = {}): { feed: ChangeFeed; errors: unknown[] } {
  const s = store as Store;
  const errors: unknown[] = [];
  const { pollMs = NEVER_MS, ...rest } = options;
  const f = new ChangeFeed(() => s.lastTxnId(), pollMs, (err) => errors.push(err), {
    watchFile: path.join(s.dir, STORE_FILE),
    safetyPollMs: NEVER_MS,
    ...rest,
  });
  feeds.push(f);
  return { feed: f, errors };
}

describe("a commit by another process", () => {
  it("reaches a listener through the watch on the data file, once per commit, with every poll 60 s away; the listener reads it", async () => {
    const { feed: f, errors } = feed();
    const s = store as Store;
    const written = s.env.openDB<number, string>({ name: "feedTest" });
    const heard: number[] = [];
    const read: (number | undefined)[] = [];
    f.subscribe((id) => {
      heard.push(id);
      s.env.resetReadTxn();
      read.push(written.get("n"));
    });
    expect(f.mode).toBe("watching");
    const committed: number[] = [];
    for (let i = 0; i < 10; i++) {
      const id = await (writer as Writer).commit();
      committed.push(id);
      await until(`listener hears transaction ${id}`, () => heard.includes(id));
    }
    expect(heard).toEqual(committed);
    // The writer's n-th commit writes n: what a woken subscriber reads is that commit, never the one before.
    expect(read).toEqual(committed.map((_, i) => i + 1));
    expect(errors).toEqual([]);
    expect(f.mode).toBe("watching");
  });

  it("with the meta page's id (Store.lastTxnId) too, each commit is one call (what a listener reads may lag: docs/change-feed.md)", async () => {
    const { feed: f } = feed();
    const s = store as Store;
    const meta = new ChangeFeed(() => s.lastTxnId(), NEVER_MS, undefined, { watchFile: path.join(s.dir, STORE_FILE), safetyPollMs: NEVER_MS });
    feeds.push(meta);
    const heard: number[] = [];
    const visible: number[] = [];
    meta.subscribe((id) => heard.push(id));
    f.subscribe((id) => visible.push(id));
    const committed: number[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await (writer as Writer).commit();
      committed.push(id);
      await until(`both feeds hear transaction ${id}`, () => heard.includes(id) && visible.includes(id));
    }
    expect(heard).toEqual(committed);
  });

  it("wakes a lock waiter's 60 s sleep in this process (Wakeups following the feed)", async () => {
    const { feed: f } = feed();
    const wakeups = new Wakeups(f);
    const release = wakeups.hold();
    expect(f.size).toBe(1);
    let woke = false;
    const sleeping = wakeups.sleep(NEVER_MS).then(() => (woke = true));
    await (writer as Writer).commit();
    await until("the sleeper wakes", () => woke);
    await sleeping;
    release();
    expect(f.size).toBe(0);
    expect(f.mode).toBe("idle");
  });

  it("falls back to polling where the file cannot be watched (no such file), and the poll delivers", async () => {
    const { feed: f, errors } = feed({ watchFile: path.join((tmp as { dir: string }).dir, "missing", STORE_FILE), pollMs: 20 });
    const heard: number[] = [];
    f.subscribe((id) => heard.push(id));
    expect(f.mode).toBe("polling");
    expect(String(errors[0])).toMatch(/change feed: cannot watch .*missing.*ENOENT.*polling every 20 ms instead/);
    const id = await (writer as Writer).commit();
    await until(`the poll finds transaction ${id}`, () => heard.includes(id));
    expect(heard).toEqual([id]);
  });

  it("is not heard by a closed feed, while an open one watching the same file hears it", async () => {
    const closed = feed().feed;
    const open = feed().feed;
    const heardClosed: number[] = [];
    const heardOpen: number[] = [];
    closed.subscribe((id) => heardClosed.push(id));
    open.subscribe((id) => heardOpen.push(id));
    closed.close();
    expect(closed.mode).toBe("idle");
    const id = await (writer as Writer).commit();
    // Both watches share one inotify watch on the file: the open feed hearing it means the event was read.
    await until("the open feed hears it", () => heardOpen.includes(id));
    expect(heardClosed).toEqual([]);
  });
});

describe("a process whose feed watches", () => {
  /** changes.ts compiled on its own (it imports only node:fs), for a plain node child. */
  function compiledFeed(dir: string): string {
    const source = fs.readFileSync(path.join(PACKAGE, "src/runtime/changes.ts"), "utf8");
    const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const file = path.join(dir, "changes.mjs");
    fs.writeFileSync(file, out.outputText);
    return file;
  }

  /** Run `body` (module code with `ChangeFeed` and `file` in scope) in a child; resolves with its stdout and exit code. */
  function runChild(body: string): Promise<{ out: string; code: number | null }> {
    const dir = (tmp as { dir: string }).dir;
    const mod = compiledFeed(dir);
    const code = `import { ChangeFeed } from ${JSON.stringify(mod)};\nconst file = ${JSON.stringify(path.join(dir, STORE_FILE))};\n${body}`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], { cwd: PACKAGE });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const limit = setTimeout(() => child.kill("SIGKILL"), 30_000);
    return new Promise((resolve) => {
      child.on("exit", (code) => {
        clearTimeout(limit);
        resolve({ out, code });
      });
    });
  }

  it("exits on its own while a listener is subscribed (watch and timer never keep it alive)", async () => {
    const r = await runChild(`
      const feed = new ChangeFeed(() => 0, 60000, (e) => console.log("error", String(e)), { watchFile: file, safetyPollMs: 60000 });
      feed.subscribe(() => {});
      console.log(feed.mode);
    `);
    expect(r).toEqual({ out: "watching\n", code: 0 });
  });

  it("exits after close() with the watch released", async () => {
    const r = await runChild(`
      const feed = new ChangeFeed(() => 0, 60000, (e) => console.log("error", String(e)), { watchFile: file, safetyPollMs: 60000 });
      feed.subscribe(() => {});
      feed.close();
      console.log(feed.mode, feed.size);
    `);
    expect(r).toEqual({ out: "idle 0\n", code: 0 });
  });
});
