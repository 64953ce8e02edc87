/**
 * The key index of a task list (key -> writers and readers) and the directory
 * relation between its keys: a directory key conflicts with every key below
 * it (DESIGN.md "Resource key"; parallelism-framework.md Level 2). Shared by
 * the pair rows (`pair-rows.ts`) and the pre-parallel checkpoint.
 *
 * Pure: no I/O, no module-level mutable state.
 */
import { keyKind } from "../../paths.js";
import type { NormalizedTask } from "../task-input.js";

/** Writers and readers (task indices, ascending) of one key. */
export interface KeyEntry {
  w: number[];
  r: number[];
}

/** The key index and the directory relation of a task list. */
export interface KeyIndex {
  /** Key -> writers and readers, keys in first-seen order (writes of a task before its reads). */
  keyIndex: Map<string, KeyEntry>;
  /**
   * Every key; sorted by UTF-16 code units (so every key below a directory key
   * follows it) when there is at least one directory key, else in index order.
   */
  sortedKeys: string[];
  /** Directory key entry -> the entries of the keys below it (absent: none). */
  below: Map<KeyEntry, KeyEntry[]>;
  /** Key entry -> the entries of the directory keys above it (absent: none). */
  above: Map<KeyEntry, KeyEntry[]>;
}

/**
 * End (exclusive) of the keys below the directory key `sortedKeys[d]`: in a
 * sorted key list they are exactly `sortedKeys[d + 1 .. end)`. None of them is
 * a `table:` or `resource:` key (such a key never starts with a directory key).
 */
export function endOfKeysBelow(sortedKeys: readonly string[], d: number): number {
  const dirKey = sortedKeys[d] as string;
  let end = d + 1;
  while (end < sortedKeys.length && (sortedKeys[end] as string).startsWith(dirKey)) end++;
  return end;
}

/**
 * Index the written and read keys of `tasks` and relate every directory key
 * to the keys below it (by prefix over the sorted key list, never by
 * comparing every pair of keys). Cost O(keys log keys + sum of directory spans).
 */
export function keyIndexOf(tasks: readonly NormalizedTask[]): KeyIndex {
  const keyIndex = new Map<string, KeyEntry>();
  for (const t of tasks) {
    for (const k of t.writes) {
      const e = keyIndex.get(k);
      if (e === undefined) keyIndex.set(k, { w: [t.index], r: [] });
      else e.w.push(t.index);
    }
    for (const k of t.reads) {
      const e = keyIndex.get(k);
      if (e === undefined) keyIndex.set(k, { w: [], r: [t.index] });
      else e.r.push(t.index);
    }
  }
  let hasDir = false;
  for (const k of keyIndex.keys()) {
    if (k.endsWith("/") && keyKind(k) === "dir") {
      hasDir = true;
      break;
    }
  }
  const sortedKeys = hasDir ? [...keyIndex.keys()].sort() : [...keyIndex.keys()];
  const below = new Map<KeyEntry, KeyEntry[]>();
  const above = new Map<KeyEntry, KeyEntry[]>();
  for (let d = 0; hasDir && d < sortedKeys.length; d++) {
    const dirKey = sortedKeys[d] as string;
    if (keyKind(dirKey) !== "dir") continue;
    const eD = keyIndex.get(dirKey) as KeyEntry;
    const end = endOfKeysBelow(sortedKeys, d);
    if (end === d + 1) continue;
    const list: KeyEntry[] = [];
    for (let k = d + 1; k < end; k++) {
      const eK = keyIndex.get(sortedKeys[k] as string) as KeyEntry;
      list.push(eK);
      const up = above.get(eK);
      if (up === undefined) above.set(eK, [eD]);
      else up.push(eD);
    }
    below.set(eD, list);
  }
  return { keyIndex, sortedKeys, below, above };
}

/** name -> task indices (ascending) of every name `select` gives a task (artifacts, tables, domains, resources). */
export function groupBy(tasks: readonly NormalizedTask[], select: (t: NormalizedTask) => readonly string[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const t of tasks) {
    for (const name of select(t)) {
      const list = m.get(name);
      if (list === undefined) m.set(name, [t.index]);
      else list.push(t.index);
    }
  }
  return m;
}
