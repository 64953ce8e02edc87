/** Formatting of times, durations and paths for the dashboard (pure functions). */

/** A duration in ms as `4s`, `3m 05s`, `2h 07m` or `3d 4h`; `—` when negative (unknown). */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** An ISO time as the local clock time (`14:03:07`), with the date when not today. */
export function clock(iso: string | null): string {
  if (iso === null) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

/** The last `keep` path segments of a path, with an ellipsis when cut. */
export function tailPath(p: string, keep = 2): string {
  const parts = p.split("/").filter((x) => x !== "");
  return parts.length <= keep ? p : `…/${parts.slice(-keep).join("/")}`;
}

/** `n thing` or `n things`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
