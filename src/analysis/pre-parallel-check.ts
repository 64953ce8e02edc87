/**
 * The pre-parallel checkpoint of check_parallel: the `**S2 Pre-Parallel
 * Check**` block of coordination-skill.md ("S2: Parallel Execution
 * Coordination" > "Pre-Parallel Checkpoint") — shared files with a mitigation,
 * shared interfaces (integration points, artifacts passed between tasks), the
 * convention rule and the anticipated conflicts with their sequencing — both
 * as data and as the text an orchestrator emits before starting agents.
 *
 * Pure: no I/O, no module-level mutable state.
 */
import { endOfKeysBelow, type KeyEntry, type PairAnalysis } from "./pairs.js";
import { keyKind } from "../paths.js";
import { pairOrderOf, reasonTypesOf } from "./reasons.js";
import type { NormalizedTask } from "./task-input.js";
import type { PairOrder } from "./tasks.js";

/** Most ids listed per shared file (writers, readers). */
export const MAX_LISTED_IDS = 20;
/** Most shared files and anticipated conflicts listed in the checkpoint. */
export const MAX_CHECKPOINT_ITEMS = 50;

/** One shared key of the pre-parallel checkpoint. */
export interface SharedFile {
  key: string;
  /** Writer ids in input order, at most {@link MAX_LISTED_IDS}; `writer_count` has the full number. */
  writers: string[];
  /** Reader ids (tasks reading but not writing it) in input order, at most {@link MAX_LISTED_IDS}. */
  readers: string[];
  writer_count: number;
  reader_count: number;
  mitigation: string;
}

/** The pre-parallel checkpoint (coordination-skill.md "S2 Pre-Parallel Check"). */
export interface Checkpoint {
  /** Keys touched by >= 2 tasks with >= 1 writer (a directory key counts the keys below it), hottest first, at most {@link MAX_CHECKPOINT_ITEMS}. */
  shared_files: SharedFile[];
  /** The first SERIALIZE pairs in input order, at most {@link MAX_CHECKPOINT_ITEMS}. */
  anticipated_conflicts: { tasks: [string, string]; sequencing: string }[];
  /** The `**S2 Pre-Parallel Check**` block: a header and four lines. */
  text: string;
}

/** A shared key with its writers and readers (task indices, ascending). */
interface Shared {
  key: string;
  w: number[];
  r: number[];
  /** Conflicting pairs this key causes: C(writers, 2) + writers x readers. */
  heat: number;
}

/** Keys touched by >= 2 tasks with >= 1 writer; a directory key also counts the tasks on keys below it. Hottest first. */
function sharedFiles(analysis: PairAnalysis): Shared[] {
  const { keyIndex, sortedKeys } = analysis;
  const out: Shared[] = [];
  for (let d = 0; d < sortedKeys.length; d++) {
    const key = sortedKeys[d] as string;
    const e = keyIndex.get(key) as KeyEntry;
    let w = e.w;
    let r = e.r;
    if (keyKind(key) === "dir") {
      const ws = new Set(w);
      const rs = new Set(r);
      for (let k = d + 1, end = endOfKeysBelow(sortedKeys, d); k < end; k++) {
        const eK = keyIndex.get(sortedKeys[k] as string) as KeyEntry;
        for (const x of eK.w) ws.add(x);
        for (const x of eK.r) rs.add(x);
      }
      for (const x of ws) rs.delete(x);
      w = [...ws].sort((x, y) => x - y);
      r = [...rs].sort((x, y) => x - y);
    } else if (w.length > 0 && r.length > 0) {
      r = r.filter((x) => !w.includes(x));
    }
    if (w.length === 0 || w.length + r.length < 2) continue;
    out.push({ key, w, r, heat: (w.length * (w.length - 1)) / 2 + w.length * r.length });
  }
  out.sort((x, y) => y.heat - x.heat || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return out;
}

/** `items` joined by `; `, with `; +N more` when `total` exceeds them. */
function andMore(items: string[], total: number): string {
  return total > items.length ? `${items.join("; ")}; +${total - items.length} more` : items.join("; ");
}

/** How to sequence the two tasks of a SERIALIZE pair, e.g. `a before b (write_read)`. */
function sequencing(a: string, b: string, order: PairOrder, reasons: string): string {
  if (order === "a_first") return `${a} before ${b} (${reasons})`;
  if (order === "b_first") return `${b} before ${a} (${reasons})`;
  return `${a} and ${b} one at a time (${reasons})`;
}

/**
 * The pre-parallel checkpoint of an analysis (coordination-skill.md "S2
 * Pre-Parallel Check"); `serializeSorted` holds the pair keys of the SERIALIZE
 * pairs in input order.
 */
export function preParallelCheckpoint(analysis: PairAnalysis, serializeSorted: readonly number[]): Checkpoint {
  const { tasks, n } = analysis;
  const idOf = (i: number): string => (tasks[i] as NormalizedTask).id;
  const shared = sharedFiles(analysis);
  const sharedOut: SharedFile[] = shared.slice(0, MAX_CHECKPOINT_ITEMS).map((s) => ({
    key: s.key,
    writers: s.w.slice(0, MAX_LISTED_IDS).map(idOf),
    readers: s.r.slice(0, MAX_LISTED_IDS).map(idOf),
    writer_count: s.w.length,
    reader_count: s.r.length,
    mitigation:
      s.w.length >= 2
        ? `${s.w.length} writers: sequence them or assign section boundaries; each takes a write lock`
        : `${idOf(s.w[0] as number)} writes it first (write lock); its ${s.r.length} reader(s) wait`,
  }));

  const anticipated = serializeSorted.slice(0, MAX_CHECKPOINT_ITEMS).map((pk) => {
    const bits = analysis.pairs.get(pk);
    const i = Math.floor(pk / n);
    const a = idOf(i);
    const b = idOf(pk - i * n);
    const reasons = reasonTypesOf(bits)
      .filter((r) => r !== "resource_contention")
      .join(", ");
    return { tasks: [a, b] as [string, string], sequencing: sequencing(a, b, pairOrderOf(bits), reasons) };
  });

  // Shared interfaces: integration points, and artifacts passed from one task to another.
  const interfaces: string[] = [];
  let interfaceTotal = 0;
  for (const t of tasks) {
    if (!t.integrationPoint) continue;
    interfaceTotal++;
    if (interfaces.length < 3) interfaces.push(`integration point ${t.id} [${t.tags.join(", ")}]`);
  }
  const consumers = new Map<string, string[]>();
  for (const t of tasks) {
    for (const x of t.inputs) {
      const list = consumers.get(x);
      if (list === undefined) consumers.set(x, [t.id]);
      else list.push(t.id);
    }
  }
  const seenArtifacts = new Set<string>();
  for (const t of tasks) {
    for (const x of t.outputs) {
      const users = consumers.get(x);
      if (users === undefined || seenArtifacts.has(x)) continue;
      seenArtifacts.add(x);
      interfaceTotal++;
      if (interfaces.length < 6) interfaces.push(`"${x}" from ${t.id} to ${users.slice(0, 3).join(", ")}`);
    }
  }

  const filesLine =
    shared.length === 0
      ? "none"
      : `${andMore(
          shared.slice(0, 3).map((s) => `${s.key} (${s.w.length} writer(s), ${s.r.length} reader(s))`),
          shared.length,
        )}: sequence writers or assign section boundaries`;
  const conflictsLine =
    serializeSorted.length === 0
      ? "none"
      : andMore(
          anticipated.slice(0, 3).map((c) => c.sequencing),
          serializeSorted.length,
        );
  const text = [
    "**S2 Pre-Parallel Check**:",
    `- Shared files: ${filesLine}`,
    `- Shared interfaces: ${interfaces.length === 0 ? "none" : andMore(interfaces, interfaceTotal)}`,
    "- Conventions: first agent establishes; the others follow it",
    `- Anticipated conflicts: ${conflictsLine}`,
  ].join("\n");

  return { shared_files: sharedOut, anticipated_conflicts: anticipated, text };
}
