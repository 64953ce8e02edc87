/**
 * A stdin filter that keeps one oversized JSON-RPC line from ending the
 * server (DESIGN.md, "Errors and bad input": nothing a caller sends may
 * crash the process).
 *
 * The SDK's stdio reader holds at most 10 MiB of one unfinished line
 * (`STDIO_DEFAULT_MAX_BUFFER_SIZE`) and closes the transport past it, which
 * would stop the server. This transform passes whole lines on while they stay
 * within `maxLineBytes` (counting its newline); a longer line is dropped up to its newline and
 * reported through `onDropped` with its length and, when the line ends with
 * a top-level `"id"` member (as the SDK's client writes requests), that id,
 * so the caller can be answered with an error instead of waiting.
 */
import { Transform, type TransformCallback } from "node:stream";

/** Longest line passed to the SDK: under its 10 MiB buffer, leaving room for one read chunk. */
export const MAX_LINE_BYTES = 10 * 1024 * 1024 - 256 * 1024;

/** Bytes of a dropped line's end kept to find its id. */
const TAIL_BYTES = 512;
/** A top-level `"id"` as the last member of the line's object (a nested one would be followed by another `}`). */
const TRAILING_ID = /"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*")\s*}\s*$/;

/** The id of a JSON-RPC request whose line ends with `"id": <id>}`, or null. */
export function trailingId(tail: string): string | number | null {
  const m = TRAILING_ID.exec(tail);
  if (!m) return null;
  try {
    return JSON.parse(m[1] as string) as string | number;
  } catch {
    return null;
  }
}

/** The transform; `onDropped` is called once per dropped line. */
export class LineLimit extends Transform {
  private pieces: Buffer[] = [];
  private lineBytes = 0;
  /** While dropping a line: its last bytes (for the id); null when not dropping. */
  private tail: Buffer | null = null;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onDropped: (bytes: number, id: string | number | null) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl + 1;
      const piece = chunk.subarray(start, end);
      this.lineBytes += piece.length;
      if (this.tail === null && this.lineBytes > this.maxLineBytes) {
        this.tail = Buffer.concat(this.pieces).subarray(-TAIL_BYTES);
        this.pieces = [];
      }
      if (this.tail !== null) this.tail = Buffer.concat([this.tail, piece]).subarray(-TAIL_BYTES);
      else this.pieces.push(piece);
      if (nl !== -1) {
        if (this.tail !== null) this.onDropped(this.lineBytes, trailingId(this.tail.toString("utf8")));
        else this.push(Buffer.concat(this.pieces));
        this.pieces = [];
        this.lineBytes = 0;
        this.tail = null;
      }
      start = end;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.tail === null && this.pieces.length > 0) this.push(Buffer.concat(this.pieces));
    done();
  }
}
