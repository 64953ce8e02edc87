/**
 * Change detection across processes. LMDB has no cross-process change
 * notification; what every process can read is a transaction id that rises
 * when any process commits (`Store.lastTxnId()`; which id exactly matters,
 * see below). README, "Live notifications": a
 * subscriber learns of a commit by any process on the store within one second.
 *
 * Wake-up (docs/change-feed.md): every commit ends with a `pwrite` of the new
 * meta page into the data file `signalbox.mdb` (lmdb-js with the store's
 * ENV_OPTIONS writes pages with pwrite/writev, not through a writable map),
 * and on Linux each such write raises an inotify IN_MODIFY on the file when
 * it completes. The feed watches that file (`fs.watch`) and, on each event,
 * reads the transaction id again: the event is only a hint (events coalesce,
 * and one commit raises several, the first of them before the meta page is
 * written); a listener is called only when the id it reads has changed. An
 * event whose look finds no change is looked at again
 * {@link CHANGE_RECHECK_MS} after it (the committing process publishes the
 * id to readers just after its last write returns). A poll of the id stays as
 * the safety net ({@link CHANGE_SAFETY_POLL_MS} while the watch works) and
 * as the whole mechanism where watching fails ({@link CHANGE_POLL_MS}).
 *
 * The id must be the one a read transaction started now would see. LMDB's
 * meta page (what `mdb_env_info`, and so `Store.lastTxnId()`, reports) runs
 * ahead of it: the committing process writes the meta page with an O_DSYNC
 * `pwrite`, which the page cache shows at once, and lets new readers see the
 * commit only once that write returned from the disk. A listener called on
 * the meta page's id can read the snapshot before the change and, the id
 * being used up, not be called again until the next commit.
 *
 * The timer and the watch run only while there is at least one listener, so
 * an idle server with no subscriptions and no waiting lock request does no
 * work at all; neither keeps the process alive (`unref`, `persistent: false`).
 */
import fs from "node:fs";

/** Poll interval of {@link ChangeFeed} where the file cannot be watched, in ms: well inside the one-second promise. */
export const CHANGE_POLL_MS = 200;

/**
 * Poll interval of {@link ChangeFeed} while the watch works, in ms: a safety
 * net for an event the platform never delivers. When this poll finds a
 * change with no watch event since the previous poll, and no event follows
 * by the next one, the feed treats the watch as deaf and polls every
 * `pollMs` from then on (keeping the watch as a hint).
 */
export const CHANGE_SAFETY_POLL_MS = 1000;

/**
 * Delays of the looks after a watch event whose first look found no change,
 * in ms from the event: the committing process publishes the id to readers
 * microseconds after its last write returns, so the first is short.
 */
export const CHANGE_RECHECK_MS: readonly number[] = [1, 5];

/** Called with the new last transaction id after a commit by any process. */
export type ChangeListener = (txnId: number) => void;

/** A running watch on one file; `close` stops it for good (idempotent). */
export interface FileWatch {
  close(): void;
}

/**
 * Starts watching `file`: calls `onEvent` (with no payload: a hint only) when
 * the platform reports a change to it, and `onError` once if the watch
 * breaks afterwards. Must not keep the process alive.
 * @throws Error when the file cannot be watched at all (missing file, no
 *         inotify instance or watch left: ENOENT, ENOSPC, EMFILE, or an
 *         unsupported platform).
 */
export type WatchFile = (file: string, onEvent: () => void, onError: (err: unknown) => void) => FileWatch;

/**
 * The default {@link WatchFile}: Node's `fs.watch` with `persistent: false`
 * (inotify on Linux, kqueue on BSD and macOS, ReadDirectoryChangesW on
 * Windows). On Linux it follows the file's inode, so a rename of the store
 * folder (root.ts moves a store in one `rename`) leaves it watching the file
 * LMDB has open.
 */
export const watchWithFs: WatchFile = (file, onEvent, onError) => {
  const watcher = fs.watch(file, { persistent: false }, () => onEvent());
  watcher.on("error", onError);
  return { close: () => watcher.close() };
};

/** Optional settings of {@link ChangeFeed}; without `watchFile` it only polls. */
export interface ChangeFeedOptions {
  /**
   * The file whose modification hints at a commit: the store's data file,
   * `<store dir>/signalbox.mdb` (root.ts `STORE_FILE`). Absent: poll only.
   */
  watchFile?: string;
  /** Poll interval in ms while the watch works (default {@link CHANGE_SAFETY_POLL_MS}). */
  safetyPollMs?: number;
  /** How to watch the file (default {@link watchWithFs}); tests pass failing or silent watches. */
  watch?: WatchFile;
}

/**
 * What drives the feed now: nothing (`idle`, no listener); the file watch,
 * with the safety poll behind it (`watching`); the poll every `pollMs`
 * (`polling`: no file to watch, the watch failed, or it missed a change; a
 * watch that runs still wakes the feed early).
 */
export type ChangeFeedMode = "idle" | "watching" | "polling";

/**
 * Calls every listener once per observed change of `lastTxnId()` (several
 * commits seen at one look are one call, with the latest id). While anyone
 * listens it looks when the watched file reports a change (again
 * {@link CHANGE_RECHECK_MS} after an event that showed none), and on a timer:
 * every `safetyPollMs` while the watch works, every `pollMs` otherwise
 * (watch unavailable, broken, or deaf). A failed watch is retried at each
 * poll. A listener that throws is reported to `onError` and does not stop
 * the others; the first failure to watch (per feed) is reported too, then
 * the feed polls silently.
 */
export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private readonly watchFile: string | undefined;
  private readonly safetyPollMs: number;
  private readonly watch: WatchFile;
  private timer: NodeJS.Timeout | null = null;
  private timerMs = 0;
  private recheck: NodeJS.Timeout | null = null;
  private watcher: FileWatch | null = null;
  private last = 0;
  /** The safety poll found a change with no watch event in its interval: the next poll judges whether one followed. */
  private suspect = false;
  /** A watch event arrived since the last safety poll. */
  private heard = false;
  /** The watch missed a change: poll every `pollMs` although it runs. */
  private deaf = false;
  private watchFailureReported = false;

  /**
   * @param lastTxnId reads the id of the last commit a read transaction started now would see (see the
   *        module comment: not the meta page's, when the file is watched); may throw (reported to `onError`)
   * @param pollMs poll interval in ms when the file is not watched (default {@link CHANGE_POLL_MS})
   * @param onError receives errors of `lastTxnId`, of a listener, and the first failure to watch
   * @param options the file to watch and the safety poll ({@link ChangeFeedOptions}); none: poll only
   */
  constructor(
    private readonly lastTxnId: () => number,
    private readonly pollMs = CHANGE_POLL_MS,
    private readonly onError: (err: unknown) => void = () => undefined,
    options: ChangeFeedOptions = {},
  ) {
    this.watchFile = options.watchFile;
    this.safetyPollMs = options.safetyPollMs ?? CHANGE_SAFETY_POLL_MS;
    this.watch = options.watch ?? watchWithFs;
  }

  /** Listen for changes; returns the function that stops listening (idempotent). */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (this.timer === null) this.start();
    return () => {
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Number of current listeners. */
  get size(): number {
    return this.listeners.size;
  }

  /** What wakes the feed now ({@link ChangeFeedMode}). */
  get mode(): ChangeFeedMode {
    if (this.timer === null) return "idle";
    return this.watcher !== null && !this.deaf ? "watching" : "polling";
  }

  /** Stop the watch and the timer and drop every listener; no listener is called after it returns. */
  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    try {
      this.last = this.lastTxnId();
    } catch (err) {
      this.onError(err);
    }
    this.suspect = this.heard = this.deaf = false;
    this.arm();
    this.setTimer();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.recheck !== null) clearTimeout(this.recheck);
    this.recheck = null;
    this.disarm();
  }

  /** Start watching if a file is configured and it is not watched yet; returns whether it is watched. */
  private arm(): boolean {
    if (this.watcher !== null) return true;
    if (this.watchFile === undefined) return false;
    // Events and errors of a watch that was closed or replaced are ignored.
    let current = true;
    try {
      const watcher = this.watch(
        this.watchFile,
        () => {
          if (current) this.onWatchEvent();
        },
        (err) => {
          if (!current) return;
          current = false;
          this.watchFailed(err);
        },
      );
      const close = watcher.close.bind(watcher);
      this.watcher = {
        close: () => {
          current = false;
          close();
        },
      };
      return true;
    } catch (err) {
      current = false;
      this.reportWatchFailure(err);
      return false;
    }
  }

  private disarm(): void {
    const w = this.watcher;
    this.watcher = null;
    if (w === null) return;
    try {
      w.close();
    } catch (err) {
      this.onError(err);
    }
  }

  /** Run the poll at the interval the current mode needs (no-op when it already does). */
  private setTimer(): void {
    const ms = this.watcher !== null && !this.deaf ? this.safetyPollMs : this.pollMs;
    if (this.timer !== null && this.timerMs === ms) return;
    if (this.timer !== null) clearInterval(this.timer);
    this.timerMs = ms;
    this.timer = setInterval(() => this.poll(), ms);
    this.timer.unref();
  }

  private onWatchEvent(): void {
    this.heard = true;
    const changed = this.look();
    // The rechecks count from the latest event: a commit's last event (its meta page written)
    // can come while the rechecks of its first (the data pages) are still pending.
    if (this.recheck !== null) clearTimeout(this.recheck);
    this.recheck = null;
    if (!changed) this.scheduleRecheck(0, 0);
  }

  /** Look again at `CHANGE_RECHECK_MS[step]` ms after the event (`after` ms have passed), until a look finds a change. */
  private scheduleRecheck(step: number, after: number): void {
    const at = CHANGE_RECHECK_MS[step];
    if (at === undefined || this.timer === null) return;
    this.recheck = setTimeout(() => {
      this.recheck = null;
      if (!this.look()) this.scheduleRecheck(step + 1, at);
    }, at - after);
    this.recheck.unref();
  }

  /** The watch broke after it started: poll from now on (retrying the watch at each poll), and look at once. */
  private watchFailed(err: unknown): void {
    this.disarm();
    this.reportWatchFailure(err);
    if (this.timer === null) return;
    this.setTimer();
    this.look();
  }

  private reportWatchFailure(err: unknown): void {
    if (this.watchFailureReported) return;
    this.watchFailureReported = true;
    const reason = err instanceof Error ? err.message : String(err);
    this.onError(new Error(`change feed: cannot watch ${this.watchFile} (${reason}); polling every ${this.pollMs} ms instead`));
  }

  private poll(): void {
    if (this.watcher !== null && !this.deaf) {
      // Every commit raises a watch event when its last write completes. A change this poll finds
      // with no event in this interval, and still none by the next poll, means the platform does
      // not deliver them. (An event whose looks came too early is not held against the watch.)
      const heard = this.heard;
      this.heard = false;
      if (this.suspect && !heard) this.deaf = true;
      this.suspect = this.look() && !heard;
    } else {
      if (this.watcher === null) this.arm();
      this.look();
    }
    if (this.timer !== null) this.setTimer();
  }

  /** Read the last transaction id; on a change call every listener once. Returns whether it changed. */
  private look(): boolean {
    let id: number;
    try {
      id = this.lastTxnId();
    } catch (err) {
      this.onError(err);
      return false;
    }
    if (id === this.last) return false;
    this.last = id;
    for (const listener of [...this.listeners]) {
      // One that left while an earlier one ran is not called.
      if (!this.listeners.has(listener)) continue;
      try {
        listener(id);
      } catch (err) {
        this.onError(err);
      }
    }
    return true;
  }
}
