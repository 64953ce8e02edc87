/**
 * Pagination for every list a tool or resource returns (DESIGN.md, "Lessons":
 * responses are paginated and compact). A cursor is the offset of the next
 * item as a decimal string; it is opaque to callers.
 */

import { InvalidArgumentError } from "../../errors.js";

/** One page of a list: the items, where to continue, and how many there are in all. */
export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
  total: number;
}

/**
 * Cut `all` into the page starting at `cursor` (default the first) of at most
 * `limit` items.
 * @throws Error naming `field` if the cursor is not one this function produced.
 */
export function paginate<T>(all: readonly T[], cursor: string | undefined | null, limit: number, field = "cursor"): Page<T> {
  let start = 0;
  if (cursor !== undefined && cursor !== null && cursor !== "") {
    if (!/^\d{1,9}$/.test(cursor)) throw new InvalidArgumentError(field, `expected a cursor returned by an earlier page, got "${cursor}"`);
    start = Number(cursor);
  }
  const items = all.slice(start, start + limit);
  const next = start + items.length;
  return { items, next_cursor: next < all.length ? String(next) : null, total: all.length };
}

/** Keep the first `limit` items and say how many were left out. */
export function cap<T>(all: readonly T[], limit: number): { items: T[]; omitted: number } {
  return { items: all.slice(0, limit), omitted: Math.max(0, all.length - limit) };
}
