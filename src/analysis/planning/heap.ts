/**
 * A binary min-heap of task indices, used by the layering (`layering.ts`) for
 * its deterministic processing orders (lowest index; longest remaining path).
 *
 * Pure: no I/O, no module-level mutable state.
 */

/** A binary min-heap of task indices under a strict total order `less`. */
export class Heap {
  private readonly items: number[] = [];
  constructor(private readonly less: (a: number, b: number) => boolean) {}

  /** Add `x`. */
  push(x: number): void {
    const h = this.items;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as number;
      if (!this.less(x, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = x;
  }
  /** Remove and return the least item; `undefined` when empty. */
  pop(): number | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0] as number;
    const last = h.pop() as number;
    const len = h.length;
    if (len > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= len) break;
        let m = l;
        if (l + 1 < len && this.less(h[l + 1] as number, h[l] as number)) m = l + 1;
        const child = h[m] as number;
        if (!this.less(child, last)) break;
        h[i] = child;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}
