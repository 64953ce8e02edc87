/**
 * The prerequisites of each execution wave (parallel-execution-protocol.md
 * §2.1 "Execution Waves": a wave starts after the waves it depends on): the
 * earlier waves holding a `blocked_by` predecessor or a conflicting feature
 * of one of its features. Counted exactly; listed up to a cap, the latest
 * (closest) waves first kept.
 *
 * Pure: no I/O, no module-level mutable state.
 */
import type { PairAnalysis } from "../pairs.js";
import { isConflict } from "../reasons.js";
import type { NormalizedTask } from "../task-input.js";
import type { Steps } from "./steps.js";

/** The prerequisites of one wave: wave indices (0-based, ascending), and how many more were left out. */
export interface WavePrerequisites {
  waves: number[];
  omitted: number;
}

/**
 * Prerequisites of every wave: for wave w, the distinct waves < w holding a
 * direct `blocked_by` predecessor or a non-PARALLEL partner of one of its
 * members. At most `cap` listed per wave: the `cap` highest (the waves just
 * before w), ascending; `omitted` counts the rest. One pass over the rows of
 * all tasks (O(pair work)); memory O(tasks + waves). Yields after every row.
 *
 * @param waveOf 0-based wave of each task.
 * @param members the tasks of each wave.
 * @param cap most waves listed per wave (integer >= 0).
 */
export function* wavePrerequisites(
  analysis: PairAnalysis,
  waveOf: Int32Array,
  members: readonly (readonly NormalizedTask[])[],
  cap: number,
): Steps<WavePrerequisites[]> {
  const { rows } = analysis;
  const { touched, bits } = rows;
  const stamp = new Int32Array(members.length).fill(-1);
  const out: WavePrerequisites[] = [];
  for (let w = 0; w < members.length; w++) {
    const found: number[] = []; // the first `cap + 1` distinct waves met (enough to know whether to scan)
    let count = 0;
    const see = (x: number): void => {
      if (x >= w || stamp[x] === w) return;
      stamp[x] = w;
      count++;
      if (found.length <= cap) found.push(x);
    };
    for (const t of members[w] as readonly NormalizedTask[]) {
      for (const p of t.blockedBy) see(waveOf[p] as number);
      const cnt = rows.row(t.index);
      for (let k = 0; k < cnt; k++) {
        const u = touched[k] as number;
        if (isConflict(bits[u] as number)) see(waveOf[u] as number);
      }
      yield;
    }
    if (count <= cap) {
      out.push({ waves: found.sort((x, y) => x - y), omitted: 0 });
      continue;
    }
    // More than `cap`: keep the highest, scanning down from w - 1 (stops after `cap` hits).
    const kept: number[] = [];
    for (let x = w - 1; x >= 0 && kept.length < cap; x--) if (stamp[x] === w) kept.push(x);
    out.push({ waves: kept.reverse(), omitted: count - kept.length });
  }
  return out;
}
