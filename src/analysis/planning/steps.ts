/**
 * Time-sliced planning: the planners (check_parallel, plan_waves) are written
 * as generators that yield between units of work (one pair row); a driver
 * either runs them to the end at once ({@link runSteps}) or gives the event
 * loop back every few milliseconds ({@link runStepsSliced}), so a large plan
 * never keeps a server from answering its other calls (DESIGN.md: many agents
 * share one server process).
 *
 * Pure: no module-level mutable state.
 */

/** A computation that yields (no value) between units of work and returns a `T`. */
export type Steps<T> = Generator<void, T, void>;

/** Default longest slice of {@link runStepsSliced}, ms. */
export const DEFAULT_SLICE_MS = 8;

/** Run `steps` to the end synchronously and return its result (errors propagate). */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * Run `steps` to the end, yielding to the event loop (`setImmediate`) whenever
 * a slice has run `sliceMs` milliseconds or more, so other requests are served
 * meanwhile. One step is never interrupted: a slice lasts `sliceMs` plus at
 * most one step.
 *
 * @param sliceMs longest slice before giving the event loop back, ms (> 0).
 * @throws whatever the computation throws.
 */
export async function runStepsSliced<T>(steps: Steps<T>, sliceMs = DEFAULT_SLICE_MS): Promise<T> {
  let start = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    if (performance.now() - start >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      start = performance.now();
    }
  }
}
