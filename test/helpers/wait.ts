/** Waiting in tests for something that lands asynchronously (a notification, a redraw, a closed stream). */

/**
 * Resolve once `check()` holds, polling every 20 ms; reject after `limitMs`
 * naming `what`. A bound, not a timing assertion: speed is measured in bench/.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 5000): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > limitMs) throw new Error(`not within ${limitMs} ms: ${what}`);
    await sleep(20);
  }
}

/** Wait `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
