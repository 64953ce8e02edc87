/**
 * The first pairs of a kind in input order, met row by row: reports list at
 * most a few hundred pairs (check_parallel `pairs`, plan_waves `conflicts`)
 * but count them all, so only a bounded prefix is kept while the total stays
 * exact.
 *
 * Pure: no I/O, no module-level mutable state.
 */

/**
 * Collects the pair keys (`i * n + j`, i < j) of one kind in ascending order,
 * at most `cap` of them, and counts every pair offered. Rows must be visited
 * in ascending `i`; within a row, candidates may come in any order.
 */
export class FirstPairs {
  /** Every pair offered. */
  total = 0;
  /** The first pair keys in ascending order, at most `cap`. */
  readonly keys: number[] = [];
  /** The {@link PairBits} of each kept key, same positions. */
  readonly bits: number[] = [];
  private readonly pending: number[] = [];
  private readonly pendingBits = new Map<number, number>();

  /** @param cap most keys kept (integer >= 0). */
  constructor(readonly cap: number) {}

  /** Offer the pair (i, u) of the current row i, u > i, with its bits. */
  add(u: number, bits: number): void {
    this.total++;
    if (this.keys.length < this.cap) {
      this.pending.push(u);
      this.pendingBits.set(u, bits);
    }
  }

  /** Close row `i` of a list of `n` tasks: keep its smallest candidates while there is room. */
  endRow(i: number, n: number): void {
    const pending = this.pending;
    if (pending.length === 0) return;
    pending.sort((x, y) => x - y);
    for (const u of pending) {
      if (this.keys.length >= this.cap) break;
      this.keys.push(i * n + u);
      this.bits.push(this.pendingBits.get(u) as number);
    }
    pending.length = 0;
    this.pendingBits.clear();
  }
}
