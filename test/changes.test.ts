/**
 * The change feed (src/runtime/changes.ts) and the lock waiters' wake-ups
 * (src/locks/wait.ts `Wakeups`) on a stand-in watch and transaction id:
 * fake timers, no store, no processes. test/changes-process.test.ts runs the
 * same feed on a real store written by another process.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CHANGE_RECHECK_MS, ChangeFeed, type ChangeFeedOptions, type WatchFile } from "../src/runtime/changes.js";
import { Wakeups, type ChangeSignal } from "../src/locks/wait.js";

/** Watches handed out by {@link FakeWatches.watch}; each can report events or break. */
interface FakeWatch {
  file: string;
  event(): void;
  fail(err: unknown): void;
  closed: boolean;
}

/** A stand-in for fs.watch: records every watch, or throws while `failing`. */
class FakeWatches {
  readonly made: FakeWatch[] = [];
  failing = false;
  attempts = 0;
  readonly watch: WatchFile = (file, onEvent, onError) => {
    this.attempts++;
    if (this.failing) throw Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), { code: "ENOSPC" });
    const w: FakeWatch = { file, event: onEvent, fail: onError, closed: false };
    this.made.push(w);
    return { close: () => void (w.closed = true) };
  };
  /** The watch currently open (the last made, if not closed). */
  get open(): FakeWatch | undefined {
    const w = this.made.at(-1);
    return w && !w.closed ? w : undefined;
  }
}

const POLL = 200;
const SAFETY = 60_000;

/** A feed on a transaction id the test sets, watching a fake file with the safety poll 60 s apart. */
function feedOn(watches: FakeWatches, options: Partial<ChangeFeedOptions> = {}) {
  const txn = { id: 1, reads: 0 };
  const errors: unknown[] = [];
  const feed = new ChangeFeed(
    () => {
      txn.reads++;
      return txn.id;
    },
    POLL,
    (err) => errors.push(err),
    { watchFile: "/store/signalbox.mdb", safetyPollMs: SAFETY, watch: watches.watch, ...options },
  );
  return { feed, txn, errors };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ChangeFeed with a watch", () => {
  it("looks on each watch event and calls each listener once per change: events without a change call nobody", () => {
    const watches = new FakeWatches();
    const { feed, txn } = feedOn(watches);
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    expect(feed.mode).toBe("watching");
    expect(watches.open?.file).toBe("/store/signalbox.mdb");

    // Spurious events (a reader, the first write of a commit before its meta page): nothing changed.
    for (let i = 0; i < 5; i++) watches.open?.event();
    expect(heard).toEqual([]);

    // One commit raises several events: one call.
    txn.id = 2;
    watches.open?.event();
    watches.open?.event();
    watches.open?.event();
    expect(heard).toEqual([2]);

    // Events coalesced over several commits: one call with the latest id.
    txn.id = 5;
    watches.open?.event();
    expect(heard).toEqual([2, 5]);
    feed.close();
  });

  it("needs no timer to deliver: the change arrives with the event, the safety poll still 60 s away", () => {
    const watches = new FakeWatches();
    const { feed, txn } = feedOn(watches);
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    txn.id = 9;
    expect(vi.getTimerCount()).toBe(1);
    watches.open?.event();
    expect(heard).toEqual([9]);
    feed.close();
  });

  it("looks again 1 ms and 5 ms after an event whose look found no change, counting from the latest event", () => {
    const watches = new FakeWatches();
    const { feed, txn } = feedOn(watches);
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    expect(CHANGE_RECHECK_MS).toEqual([1, 5]);
    const reads = txn.reads;
    watches.open?.event(); // t=0: a commit's first event (data pages), nothing to see yet
    expect(txn.reads).toBe(reads + 1);
    vi.advanceTimersByTime(1); // t=1: its first recheck
    expect(txn.reads).toBe(reads + 2);
    vi.advanceTimersByTime(1);
    watches.open?.event(); // t=2: its last event (meta page), looked at just before the id is published
    expect(txn.reads).toBe(reads + 3);
    expect(vi.getTimerCount()).toBe(2); // the safety poll and one recheck: the rechecks restarted, none stacked
    txn.id = 2;
    vi.advanceTimersByTime(1); // t=3: 1 ms after the latest event
    expect(heard).toEqual([2]);
    expect(txn.reads).toBe(reads + 4);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(100);
    expect(txn.reads).toBe(reads + 4);
    // No change at 1 ms: once more at 5 ms, then no more.
    watches.open?.event();
    vi.advanceTimersByTime(1);
    txn.id = 3;
    vi.advanceTimersByTime(3);
    expect(heard).toEqual([2]);
    vi.advanceTimersByTime(1);
    expect(heard).toEqual([2, 3]);
    // An event whose look finds the change schedules nothing more.
    txn.id = 4;
    watches.open?.event();
    expect(heard).toEqual([2, 3, 4]);
    expect(vi.getTimerCount()).toBe(1);
    feed.close();
  });

  it("does not hold an event whose looks came too early against the watch", () => {
    const watches = new FakeWatches();
    const { feed, txn } = feedOn(watches, { safetyPollMs: 1000 });
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    watches.open?.event();
    vi.advanceTimersByTime(5);
    txn.id = 2; // visible only after every look the event caused
    vi.advanceTimersByTime(995);
    expect(heard).toEqual([2]);
    vi.advanceTimersByTime(2000); // no event since: the store is quiet, not the watch deaf
    expect(feed.mode).toBe("watching");
    feed.close();
  });

  it("the safety poll finds a change whose event never came, and then polls every pollMs (a deaf watch)", () => {
    const watches = new FakeWatches();
    const { feed, txn } = feedOn(watches, { safetyPollMs: 1000 });
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    txn.id = 2;
    vi.advanceTimersByTime(1000);
    expect(heard).toEqual([2]);
    expect(feed.mode).toBe("watching");
    // No event by the next safety poll: the watch misses changes.
    vi.advanceTimersByTime(1000);
    expect(feed.mode).toBe("polling");
    txn.id = 3;
    vi.advanceTimersByTime(POLL);
    expect(heard).toEqual([2, 3]);
    // The watch still runs and still wakes the feed early.
    txn.id = 4;
    watches.open?.event();
    expect(heard).toEqual([2, 3, 4]);
    feed.close();
  });

  it("is not judged deaf when the event follows a change the safety poll saw first", () => {
    const watches = new FakeWatches();
    const { feed, txn } = feedOn(watches, { safetyPollMs: 1000 });
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    txn.id = 2;
    vi.advanceTimersByTime(1000);
    watches.open?.event(); // the commit's event, read after the timer
    vi.advanceTimersByTime(1000);
    expect(feed.mode).toBe("watching");
    expect(heard).toEqual([2]);
    feed.close();
  });

  it("a listener that throws is reported and the others are still called; one that leaves meanwhile is not", () => {
    const watches = new FakeWatches();
    const { feed, txn, errors } = feedOn(watches);
    const heard: string[] = [];
    let stopLast = () => undefined as void;
    feed.subscribe(() => {
      throw new Error("boom");
    });
    feed.subscribe((id) => {
      heard.push(`second ${id}`);
      stopLast();
    });
    stopLast = feed.subscribe((id) => heard.push(`third ${id}`));
    txn.id = 2;
    watches.open?.event();
    expect(heard).toEqual(["second 2"]);
    expect(errors).toEqual([new Error("boom")]);
    feed.close();
  });

  it("watches and polls only while anyone listens, and close() ends both: later events call nobody", () => {
    const watches = new FakeWatches();
    const { feed, txn } = feedOn(watches);
    expect(feed.mode).toBe("idle");
    expect(watches.made).toHaveLength(0);
    const heard: number[] = [];
    const stop = feed.subscribe((id) => heard.push(id));
    const first = watches.open;
    stop();
    stop(); // idempotent
    expect(first?.closed).toBe(true);
    expect(feed.mode).toBe("idle");
    expect(vi.getTimerCount()).toBe(0);

    feed.subscribe((id) => heard.push(id));
    expect(watches.made).toHaveLength(2);
    feed.close();
    expect(watches.made[1]?.closed).toBe(true);
    expect(feed.size).toBe(0);
    expect(feed.mode).toBe("idle");
    expect(vi.getTimerCount()).toBe(0);
    // An event already on its way when the watch closed.
    txn.id = 2;
    watches.made[1]?.event();
    watches.made[1]?.fail(new Error("late"));
    vi.advanceTimersByTime(10 * SAFETY);
    expect(heard).toEqual([]);
  });

  it("reads the id of a store written while nobody listened as the start: no call for the past", () => {
    const watches = new FakeWatches();
    const { feed, txn } = feedOn(watches);
    txn.id = 40;
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    watches.open?.event();
    expect(heard).toEqual([]);
    feed.close();
  });
});

describe("ChangeFeed when watching fails", () => {
  it("falls back to polling every pollMs when the file cannot be watched, reports it once, and retries the watch at each poll", () => {
    const watches = new FakeWatches();
    watches.failing = true;
    const { feed, txn, errors } = feedOn(watches);
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    expect(feed.mode).toBe("polling");
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/change feed: cannot watch \/store\/signalbox\.mdb \(ENOSPC.*\); polling every 200 ms instead/);

    txn.id = 2;
    vi.advanceTimersByTime(POLL);
    expect(heard).toEqual([2]);
    expect(watches.attempts).toBe(2);
    vi.advanceTimersByTime(POLL);
    expect(errors).toHaveLength(1);

    // The watch works again (an inotify instance was freed): the next poll takes it up.
    watches.failing = false;
    vi.advanceTimersByTime(POLL);
    expect(feed.mode).toBe("watching");
    txn.id = 3;
    watches.open?.event();
    expect(heard).toEqual([2, 3]);
    feed.close();
  });

  it("a watch that breaks after it started: the feed looks at once, then polls", () => {
    const watches = new FakeWatches();
    const { feed, txn, errors } = feedOn(watches);
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    const w = watches.open;
    watches.failing = true;
    txn.id = 2;
    w?.fail(new Error("EACCES"));
    expect(w?.closed).toBe(true);
    expect(heard).toEqual([2]);
    expect(feed.mode).toBe("polling");
    expect(String(errors[0])).toMatch(/cannot watch .*EACCES/);
    txn.id = 3;
    vi.advanceTimersByTime(POLL);
    expect(heard).toEqual([2, 3]);
    feed.close();
  });

  it("without a file to watch it only polls, every pollMs (the feed before watching existed)", () => {
    const txn = { id: 1 };
    const feed = new ChangeFeed(() => txn.id, 50);
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    expect(feed.mode).toBe("polling");
    txn.id = 2;
    vi.advanceTimersByTime(49);
    expect(heard).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(heard).toEqual([2]);
    feed.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reports a failing lastTxnId and keeps going", () => {
    const watches = new FakeWatches();
    let broken = true;
    const errors: unknown[] = [];
    const feed = new ChangeFeed(
      () => {
        if (broken) throw new Error("store closed");
        return 7;
      },
      POLL,
      (err) => errors.push(err),
      { watchFile: "/f", safetyPollMs: SAFETY, watch: watches.watch },
    );
    const heard: number[] = [];
    feed.subscribe((id) => heard.push(id));
    watches.open?.event();
    expect(errors.map(String)).toEqual(["Error: store closed", "Error: store closed"]);
    broken = false;
    watches.open?.event();
    expect(heard).toEqual([7]);
    feed.close();
  });
});

describe("Wakeups following a change signal", () => {
  /** A change signal the test fires by hand, counting its listeners. */
  function signal() {
    const listeners = new Set<() => void>();
    const s: ChangeSignal & { fire(): void; listeners: Set<() => void> } = {
      listeners,
      subscribe(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      fire: () => [...listeners].forEach((l) => l()),
    };
    return s;
  }

  it("follows the signal only while a request waits: one subscription for many holders, none after the last release", () => {
    const s = signal();
    const w = new Wakeups(s);
    expect(s.listeners.size).toBe(0);
    const a = w.hold();
    const b = w.hold();
    expect(s.listeners.size).toBe(1);
    a();
    a(); // idempotent
    expect(s.listeners.size).toBe(1);
    b();
    expect(s.listeners.size).toBe(0);
  });

  it("a change of another process wakes a sleeper early", async () => {
    const s = signal();
    const w = new Wakeups(s);
    const release = w.hold();
    let woke = false;
    const sleeping = w.sleep(60_000).then(() => (woke = true));
    await Promise.resolve();
    expect(woke).toBe(false);
    s.fire();
    await sleeping;
    expect(woke).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    release();
  });

  it("a signal that cannot be followed leaves the sleepers to their timeout", async () => {
    const w = new Wakeups({
      subscribe: () => {
        throw new Error("no watch");
      },
    });
    const release = w.hold();
    let woke = false;
    const sleeping = w.sleep(10).then(() => (woke = true));
    vi.advanceTimersByTime(10);
    await sleeping;
    expect(woke).toBe(true);
    release();
  });

  it("without a signal, only notify() wakes (this process's own changes)", async () => {
    const w = new Wakeups();
    const release = w.hold();
    const sleeping = w.sleep(60_000);
    w.notify();
    await sleeping;
    release();
  });
});
