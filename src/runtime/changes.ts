/**
 * Change detection across processes (DESIGN.md, "Store rules": there are no
 * cross-process change notifications; the last transaction id rises when any
 * process commits, so poll it). README, "Live notifications": a subscriber
 * learns of a commit by any process on the store within one poll interval.
 *
 * The poll timer runs only while there is at least one listener, so an idle
 * server with no subscriptions does no work at all; it is `unref`'d and
 * never keeps the process alive.
 */

/** Default poll interval of {@link ChangeFeed}, in ms: well inside the one-second promise. */
export const CHANGE_POLL_MS = 200;

/** Called with the new last transaction id after a commit by any process. */
export type ChangeListener = (txnId: number) => void;

/**
 * Polls `lastTxnId()` every `pollMs` while anyone listens and calls every
 * listener once per observed change (several commits inside one interval
 * are one call). A listener that throws is reported to `onError` and does
 * not stop the others.
 */
export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private timer: NodeJS.Timeout | null = null;
  private last = 0;

  /**
   * @param lastTxnId reads the store's last committed transaction id (Store.lastTxnId)
   * @param pollMs poll interval in ms (default {@link CHANGE_POLL_MS})
   * @param onError receives errors of `lastTxnId` or of a listener
   */
  constructor(
    private readonly lastTxnId: () => number,
    private readonly pollMs = CHANGE_POLL_MS,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Listen for changes; returns the function that stops listening. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (this.timer === null) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Number of current listeners. */
  get size(): number {
    return this.listeners.size;
  }

  /** Stop polling and drop every listener. */
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
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private poll(): void {
    let id: number;
    try {
      id = this.lastTxnId();
    } catch (err) {
      this.onError(err);
      return;
    }
    if (id === this.last) return;
    this.last = id;
    for (const listener of [...this.listeners]) {
      try {
        listener(id);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
