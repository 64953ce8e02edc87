/**
 * Text helpers shared by the terminal views (README, "For people at a
 * terminal"): display width, truncation with an ellipsis, control-character
 * escaping, durations, colour, and a compact borderless table whose lines
 * never exceed a given width.
 *
 * Everything here is pure: data in, strings out. Widths count terminal
 * columns: ANSI colour codes take none, emoji (Unicode's RGI set) and East
 * Asian wide characters take two.
 */
import pc from "picocolors";

/** The colour functions of picocolors; with colour off each is the identity. */
export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colour functions, on or off. `enabled` defaults to picocolors' own
 * detection (NO_COLOR / FORCE_COLOR / `--color` / a TTY on stdout).
 */
export function colorsFor(enabled: boolean = pc.isColorSupported): Colors {
  return pc.createColors(enabled);
}

/** Width of the terminal the views are laid out for unless told otherwise (columns). */
export const DEFAULT_WIDTH = 80;

/** The ellipsis that marks truncated text (one column). */
export const ELLIPSIS = "…";

// SGR colour codes as picocolors and cli-table3 write them.
const ANSI_SGR = new RegExp(String.raw`\u001b\[[0-9;]*m`, "g");
// Emoji as one unit (a ZWJ family is one emoji), like emoji-regex in string-width 4.
const EMOJI = new RegExp("\\p{RGI_Emoji}", "gv");
const SEGMENTER = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** `s` without ANSI colour codes. */
export function stripAnsi(s: string): string {
  return s.replace(ANSI_SGR, "");
}

/** Is `cp` an East Asian wide or fullwidth code point (two columns)? The ranges of is-fullwidth-code-point, plus Tangut, Kana and Nushu extensions and the emoji blocks. */
function isWide(cp: number): boolean {
  return (
    cp >= 0x1100 &&
    (cp <= 0x115f ||
      cp === 0x2329 ||
      cp === 0x232a ||
      (cp >= 0x2e80 && cp <= 0x3247 && cp !== 0x303f) ||
      (cp >= 0x3250 && cp <= 0x4dbf) ||
      (cp >= 0x4e00 && cp <= 0xa4c6) ||
      (cp >= 0xa960 && cp <= 0xa97c) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe10 && cp <= 0xfe19) ||
      (cp >= 0xfe30 && cp <= 0xfe6b) ||
      (cp >= 0xff01 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      (cp >= 0x16fe0 && cp <= 0x16fe4) ||
      (cp >= 0x17000 && cp <= 0x18cd5) ||
      (cp >= 0x1aff0 && cp <= 0x1b2fb) ||
      (cp >= 0x1f300 && cp <= 0x1f64f) ||
      (cp >= 0x1f900 && cp <= 0x1f9ff) ||
      (cp >= 0x1f200 && cp <= 0x1f251) ||
      (cp >= 0x20000 && cp <= 0x3fffd))
  );
}

/**
 * Terminal columns `s` takes: ANSI codes none, control characters and
 * combining marks (U+0300-036F) none, emoji and wide characters two, else one.
 * Multi-line text: the widest line.
 */
export function displayWidth(s: string): number {
  let widest = 0;
  for (const line of stripAnsi(s).split("\n")) {
    let w = 0;
    for (const ch of line.replace(EMOJI, "  ")) {
      const cp = ch.codePointAt(0) as number;
      if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x300 && cp <= 0x36f)) continue;
      w += isWide(cp) ? 2 : 1;
    }
    widest = Math.max(widest, w);
  }
  return widest;
}

/**
 * Make untrusted text (agent ids, keys, summaries) safe to print on one line:
 * control characters become visible escapes (`\n`, `\t`, `\x1b`, `\u{85}`)
 * so no stored string can move the cursor or colour the terminal, and bidi
 * overrides (U+202A-202E, U+2066-2069) are escaped so text cannot reorder.
 */
export function oneLine(s: string): string {
  return s.replace(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    const cp = c.codePointAt(0) as number;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u{${cp.toString(16)}}`;
  });
}

/** Where {@link truncate} cuts: keep the start (`end`), the end (`start`, for paths), or both ends (`middle`, for ids). */
export type CutAt = "end" | "start" | "middle";

function graphemes(s: string): string[] {
  return [...SEGMENTER.segment(s)].map((g) => g.segment);
}

/** The longest run of graphemes from the front of `gs` that fits in `width` columns. */
function takeFront(gs: string[], width: number): string {
  let out = "";
  let w = 0;
  for (const g of gs) {
    const gw = displayWidth(g);
    if (w + gw > width) break;
    out += g;
    w += gw;
  }
  return out;
}

/** The longest run of graphemes from the back of `gs` that fits in `width` columns. */
function takeBack(gs: string[], width: number): string {
  let out = "";
  let w = 0;
  for (let i = gs.length - 1; i >= 0; i--) {
    const g = gs[i] as string;
    const gw = displayWidth(g);
    if (w + gw > width) break;
    out = g + out;
    w += gw;
  }
  return out;
}

/**
 * `s` (plain text, one line, see {@link oneLine}) cut to at most `width`
 * columns, with {@link ELLIPSIS} where text was removed; never splits a
 * grapheme (an emoji or a letter with its accents). Text that fits is
 * returned unchanged. @throws Error naming `width` if it is not an integer >= 1.
 */
export function truncate(s: string, width: number, at: CutAt = "end"): string {
  if (!Number.isInteger(width) || width < 1) throw new Error(`width: expected an integer >= 1, got ${String(width)}`);
  if (displayWidth(s) <= width) return s;
  const gs = graphemes(s);
  const room = width - 1;
  if (at === "start") return ELLIPSIS + takeBack(gs, room);
  if (at === "middle" && room >= 3) {
    const front = takeFront(gs, Math.ceil(room / 2));
    return front + ELLIPSIS + takeBack(gs, room - displayWidth(front));
  }
  return takeFront(gs, room) + ELLIPSIS;
}

/**
 * Pack `items` into lines of at most `width` columns, `sep` columns apart,
 * each item made one-line safe and cut to a line's width. At most
 * `maxLines` lines; when items are left out, `omitted` says how many and the
 * last line leaves room for a ` … +N` marker (`reserve` columns are kept
 * free while packing it).
 * Returns the items of each line (the caller joins and colours them).
 */
export function packItems(items: string[], width: number, maxLines = Infinity, sep = 1, reserve = 8): { lines: string[][]; omitted: number } {
  const lines: string[][] = [];
  let current: string[] = [];
  let used = 0;
  const safe = items.map((it) => truncate(oneLine(it), width));
  let i = 0;
  for (; i < safe.length; i++) {
    const item = safe[i] as string;
    const w = displayWidth(item);
    const lastLine = lines.length + 1 >= maxLines;
    // On the last allowed line, keep room for the marker unless this is the last item.
    const room = lastLine && i < safe.length - 1 ? width - reserve : width;
    const need = current.length === 0 ? w : used + sep + w;
    if (need <= room) {
      current.push(item);
      used = need;
      continue;
    }
    if (lastLine) break;
    if (current.length > 0) lines.push(current);
    current = [item];
    used = w;
  }
  if (current.length > 0) lines.push(current);
  let omitted = safe.length - i;
  const last = lines[lines.length - 1];
  if (omitted > 0 && last) {
    // The marker ` … +N` must fit after the last line: drop its last items, or cut a lone one.
    const lineWidth = () => last.reduce((n, it, k) => n + displayWidth(it) + (k > 0 ? sep : 0), 0);
    const marker = () => displayWidth(` ${ELLIPSIS} +${omitted}`);
    while (last.length > 1 && lineWidth() + marker() > width) {
      last.pop();
      omitted++;
    }
    if (lineWidth() + marker() > width) last[0] = truncate(last[0] as string, Math.max(1, width - marker()));
  }
  return { lines, omitted };
}

/**
 * A duration in ms as a person reads it at a glance, in whole seconds and
 * up: `0s`, `42s`, `4m05s`, `3h12m`, `2d03h`. Negative values get a leading `-`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  if (ms < 0) return `-${formatDuration(-ms)}`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const two = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor((s % 86_400) / 3600))}h`;
}

/** A column of a {@link renderTable} table. */
export interface Column {
  /** Header text (shown bold). */
  head: string;
  /** Fewest columns the column shrinks to (default: the header's width, at least 3). */
  min?: number;
  /** Most columns it grows to (default: no cap). */
  max?: number;
  /** Where long cells are cut (default `end`). */
  cut?: CutAt;
  /** Right-align (numbers, ages). */
  right?: boolean;
}

/**
 * A cell: one line of plain text, or `{ text }` / `{ lines }` with a colour
 * applied after truncation; `lineColors[i]`, when given, colours line `i`
 * instead of `color`. Text is escaped with {@link oneLine}: a newline in
 * stored data never breaks a row, only `lines` makes a cell taller.
 */
export type Cell =
  | string
  | { text?: string; lines?: string[]; color?: (s: string) => string; lineColors?: (((s: string) => string) | undefined)[] }
  | RawCell;

/**
 * Lines already escaped, coloured and cut by the caller to fit the column
 * (give the column `min` = `max`): printed as they are.
 */
export interface RawCell {
  raw: string[];
}

function isRaw(c: Cell): c is RawCell {
  return typeof c !== "string" && "raw" in c;
}

function cellLines(c: Cell): string[] {
  if (typeof c === "string") return [oneLine(c)];
  if (isRaw(c)) return c.raw;
  return (c.lines ?? [c.text ?? ""]).map(oneLine);
}

/**
 * Column widths that fit `total` columns with one space between columns.
 * Each column starts at its widest cell, kept within `min`..`max` (`rows`
 * hold display-safe text, see {@link oneLine}); while the table is too wide,
 * the widest column above its minimum gives up one column.
 */
export function fitColumns(columns: Column[], rows: string[][], total: number): number[] {
  const widths = columns.map((col, i) => {
    const min = col.min ?? Math.max(3, displayWidth(col.head));
    let want = displayWidth(col.head);
    for (const r of rows) want = Math.max(want, displayWidth(r[i] ?? ""));
    return Math.max(min, Math.min(col.max ?? Infinity, want));
  });
  const mins = columns.map((col) => col.min ?? Math.max(3, displayWidth(col.head)));
  let excess = widths.reduce((a, b) => a + b, 0) + (columns.length - 1) - total;
  while (excess > 0) {
    let pick = -1;
    for (let i = 0; i < widths.length; i++) {
      if ((widths[i] as number) > (mins[i] as number) && (pick < 0 || (widths[i] as number) > (widths[pick] as number))) pick = i;
    }
    if (pick < 0) break;
    widths[pick] = (widths[pick] as number) - 1;
    excess--;
  }
  return widths;
}

/**
 * A compact, borderless table at most `width` columns wide: bold headers,
 * one space between columns, every cell line made safe ({@link oneLine}),
 * cut with an ellipsis where the column cuts (ids in the middle, paths at
 * the start), then coloured and padded. Trailing spaces are trimmed.
 *
 * Laid out here rather than by cli-table3: cli-table3 measures with
 * string-width 4, whose emoji list predates Unicode 13 (🪱 counts one
 * column, a terminal shows two), and its own truncation splits surrogate
 * pairs; padding by a different measure than the one that cut the text
 * would break both the alignment and the width limit.
 */
export function renderTable(columns: Column[], rows: Cell[][], width: number, colors: Colors): string {
  const safe = rows.map((r) => r.map((c) => cellLines(c).join("\n")));
  const widths = fitColumns(columns, safe, width);
  const pad = (text: string, ci: number) => {
    const gap = " ".repeat(Math.max(0, (widths[ci] as number) - displayWidth(text)));
    return columns[ci]?.right ? gap + text : text + gap;
  };
  const out: string[] = [columns.map((c, ci) => pad(colors.bold(truncate(c.head, widths[ci] as number)), ci)).join(" ").trimEnd()];
  rows.forEach((r, ri) => {
    const cells = columns.map((col, ci) => {
      const cell = r[ci] ?? "";
      if (isRaw(cell)) return cell.raw;
      const lines = (safe[ri]?.[ci] ?? "").split("\n").map((l) => truncate(l, widths[ci] as number, col.cut ?? "end"));
      return lines.map((l, li) => {
        const color = typeof cell === "string" ? undefined : (cell.lineColors?.[li] ?? cell.color);
        return color && l !== "" ? color(l) : l;
      });
    });
    const height = Math.max(...cells.map((c) => c.length));
    for (let li = 0; li < height; li++) out.push(cells.map((c, ci) => pad(c[li] ?? "", ci)).join(" ").trimEnd());
  });
  return out.join("\n");
}

/** A section title line: `TITLE  detail`, cut to `width`. */
export function sectionTitle(title: string, detail: string, width: number, colors: Colors): string {
  const d = detail === "" ? "" : `  ${truncate(oneLine(detail), Math.max(1, width - displayWidth(title) - 2))}`;
  return colors.bold(colors.cyan(title)) + (d === "" ? "" : colors.dim(d));
}

/** `text` (one line, made safe) cut to `width` columns. */
export function line(text: string, width: number, at: CutAt = "end"): string {
  return truncate(oneLine(text), width, at);
}
