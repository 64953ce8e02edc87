/**
 * A look at the store's data file BEFORE LMDB maps it. LMDB maps the file
 * and trusts it: a file cut short makes the process die of SIGBUS when a
 * page past its end is touched, zeroed or garbage meta pages make it die of
 * SIGSEGV, and an empty file is silently initialised as a new store. Here the
 * two meta pages are read with plain file reads (nothing is mapped) and
 * checked; any damage becomes a {@link StoreDamagedError} that names the file.
 *
 * The meta page layout is the one of the LMDB that lmdb-js 3.x bundles
 * (node_modules/lmdb/dependencies/lmdb/libraries/liblmdb/mdb.c, LMDB 0.9.90
 * with lmdb-js changes): `MDB_page_header` is `pgno` (8 bytes), `mh_txnid`
 * (8, an lmdb-js addition), `mh_pad` (2), `mh_flags` (2), `mh_pb` (4), so
 * PAGEHDRSZ is 24 and the `MDB_meta` follows it: `mm_magic` u32,
 * `mm_version` u32 (data version 2), `mm_address` 8, `mm_mapsize` 8,
 * `mm_dbs[2]` (48 bytes each: `md_pad` u32 = page size of the free DB, ...,
 * `md_root` at +40), `mm_last_pg` 8, `mm_txnid` 8, `boot_id` 8. A build
 * with LMDB_DATA_V1 (lmdb-data-v1, upstream 0.9 layout) has a 16-byte header
 * and data version 1; both are recognised by where the magic sits. Offsets
 * were checked on real files written by openStore (64-bit builds only).
 *
 * Next to the data file, a small side record (`signalbox.mdb-seen`, JSON)
 * keeps the last size and transaction id a process saw after a sound open,
 * so an emptied, cut or rolled-back file is recognised ({@link readSeenRecord},
 * {@link writeSeenRecord}).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** Error code of {@link StoreDamagedError}, for callers that branch on codes. */
export const STORE_DAMAGED = "store_damaged";

/**
 * The store's data file is damaged: opening it would crash the process or
 * silently lose data. `file` is the data file's path, `problem` what is
 * wrong (one line, no advice). The message is one line:
 * `store <file> is damaged: <problem>; <advice>`.
 */
export class StoreDamagedError extends Error {
  readonly code = STORE_DAMAGED;
  constructor(
    readonly file: string,
    readonly problem: string,
    advice = `restore it from a backup, or move it and ${path.basename(seenRecordOf(file))} aside to start an empty store`,
    options?: { cause?: unknown },
  ) {
    super(`store ${file} is damaged: ${problem}; ${advice}`, options);
    this.name = "StoreDamagedError";
  }
}

/**
 * An error's message on one line, cut to `max` characters (a decoder's
 * message may quote the record it choked on).
 */
export function shortMessage(err: unknown, max = 120): string {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ");
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The part of an lmdb-js database this module touches: its value decoder (lmdb-js `Database.decoder`). */
interface Decoding {
  decoder?: { decode(bytes: Uint8Array, options?: unknown): unknown } | null;
}

/**
 * Make every value decoding of database `name` (a handle of data file
 * `file`) that fails raise a StoreDamagedError naming the file and the
 * database, instead of the decoder's bare message ("Unexpected end of
 * buffer"): bytes that are no msgpack value are damage inside a page. The
 * decoder's own error is the `cause`. Returns `db` (null/undefined, lmdb-js's
 * answer for a database that does not exist, unchanged).
 */
export function reportUndecodable<T>(db: T, file: string, name: string): T {
  if (db === null || db === undefined) return db;
  const handle = db as Decoding;
  const inner = handle.decoder;
  if (!inner) return db;
  handle.decoder = {
    decode(bytes, options) {
      try {
        return inner.decode(bytes, options);
      } catch (err) {
        const why = shortMessage(err);
        throw new StoreDamagedError(
          file,
          `a record of database ${name} cannot be decoded (${why})`,
          "`signalbox check` lists the damaged records; restore the store from a backup",
          { cause: err },
        );
      }
    },
  };
  return db;
}

/** Whether `err` is a {@link StoreDamagedError} (by its `code`, so it holds across module copies). */
export function isStoreDamaged(err: unknown): err is StoreDamagedError {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === STORE_DAMAGED;
}

/** The side record's path for data file `file`: `<file>-seen`. */
export function seenRecordOf(file: string): string {
  return `${file}-seen`;
}

/** What the newest sound meta page says. Sizes in bytes; ids are LMDB transaction ids. */
export interface MetaFacts {
  /** Page size (bytes) from the meta page (`mm_dbs[FREE_DBI].md_pad`). */
  pageSize: number;
  /** `mm_last_pg`: the highest page number in use. */
  lastPage: bigint;
  /** `mm_txnid` of the newer meta page: the last committed transaction. */
  txnId: bigint;
  /** The data file's size when it was checked. */
  fileBytes: number;
}

/**
 * The side record: what a process saw of the data file after a sound open
 * (or at a periodic refresh, or at close). `bytes` the file's size, `txn_id`
 * the last committed transaction, `at` ISO time of writing, `pid` the writer.
 */
export interface SeenRecord {
  bytes: number;
  txn_id: number;
  at: string;
  pid: number;
}

/**
 * The state of a data file: `missing` (no file), `empty` (never
 * initialised, or being initialised right now by another process: 0 bytes,
 * or less than two pages with meta page 0 at transaction 0; without a side
 * record an emptied store looks the same), `other` (not a regular file:
 * left to LMDB to refuse), or `sound` with its meta facts. `seen` is the
 * side record, read before the file.
 */
export type StoreFileState =
  | { state: "missing" | "empty" | "other"; seen: SeenRecord | null }
  | { state: "sound"; meta: MetaFacts; seen: SeenRecord | null };

/** LMDB mdb.c: `MDB_MAGIC`, `P_META`, `P_INVALID`, `NUM_METAS`; `MIN/MAX_PAGESIZE` bounds lmdb-js accepts. */
const MDB_MAGIC = 0xbeefc0de;
const P_META = 0x08;
const P_INVALID = 0xffffffffffffffffn;
const MIN_PAGESIZE = 512;
const MAX_PAGESIZE = 0x10000;
/** Bytes read from the start of each meta page: the largest page header (24) plus `MDB_meta` (160 with `boot_id`), rounded up. */
const META_READ = 256;
/** Looks at a file that seems damaged before it is called damaged (a meta page read mid-rewrite; 1 then 2 ms apart). */
const TORN_READ_LOOKS = 3;

/** One of the two page layouts (see the module comment): where the meta sits and which data version it carries. */
interface Layout {
  header: number;
  version: number;
}
const LAYOUTS: readonly Layout[] = [
  { header: 24, version: 2 },
  { header: 16, version: 1 },
];
/** `MDB_meta` field offsets from its start (after the page header). */
const META = { magic: 0, version: 4, psize: 24, freeRoot: 24 + 40, mainRoot: 72 + 40, lastPg: 120, txnid: 128, end: 136 } as const;

interface Meta {
  pgno: bigint;
  flags: number;
  magic: number;
  version: number;
  psize: number;
  freeRoot: bigint;
  mainRoot: bigint;
  lastPg: bigint;
  txnid: bigint;
}

function parseMeta(page: Buffer, layout: Layout): Meta {
  const m = layout.header;
  return {
    pgno: page.readBigUInt64LE(0),
    flags: page.readUInt16LE(layout.header - 6),
    magic: page.readUInt32LE(m + META.magic),
    version: page.readUInt32LE(m + META.version) & 0xffff,
    psize: page.readUInt32LE(m + META.psize),
    freeRoot: page.readBigUInt64LE(m + META.freeRoot),
    mainRoot: page.readBigUInt64LE(m + META.mainRoot),
    lastPg: page.readBigUInt64LE(m + META.lastPg),
    txnid: page.readBigUInt64LE(m + META.txnid),
  };
}

/** What is wrong with meta page `n` (0 or 1), or null when it is sound. */
function metaProblem(meta: Meta, n: number, layout: Layout, pageSize: number): string | null {
  const hex = (v: number) => `0x${v.toString(16).padStart(8, "0").toUpperCase()}`;
  if (meta.magic !== MDB_MAGIC) return `meta page ${n} has magic ${hex(meta.magic)}, not LMDB's 0xBEEFC0DE (zeroed or overwritten?)`;
  if ((meta.flags & P_META) === 0 || meta.pgno !== BigInt(n)) return `page ${n} is not marked as LMDB meta page ${n} (overwritten?)`;
  if (meta.version !== layout.version) return `meta page ${n} has LMDB data version ${meta.version}, expected ${layout.version}`;
  if (meta.psize !== pageSize) return `meta page ${n} says page size ${meta.psize}, meta page 0 says ${pageSize}`;
  for (const [what, root] of [["free-space", meta.freeRoot], ["main", meta.mainRoot]] as const) {
    if (root !== P_INVALID && (root < 2n || root > meta.lastPg)) {
      return `meta page ${n} puts the ${what} tree's root at page ${root}, outside pages 2..${meta.lastPg}`;
    }
  }
  return null;
}

/**
 * Check data file `file` without mapping it. Order matters for processes
 * writing meanwhile: the side record first, then the meta pages, then the
 * size (LMDB writes data pages before the meta page that names them, and a
 * record is written after the commit it names, so a live store never looks
 * short).
 *
 * Damage (LMDB mdb.c `mdb_env_read_header`, `MDB_meta`, `mm_last_pg`):
 * a file shorter than its meta pages, a meta page without LMDB's magic,
 * marker, data version or the same page size, a tree root outside the
 * file's pages, a file shorter than `(mm_last_pg + 1) * page size` of the
 * newer meta page; and, against the side record: an empty or missing file,
 * a file smaller than the record's `bytes`, a last transaction below the
 * record's `txn_id`.
 *
 * @returns the file's state ({@link StoreFileState}); `empty`/`missing`
 *          only without a side record saying otherwise.
 * @throws StoreDamagedError naming `file` and the problem; an Error from
 *         the file system for an unreadable file (permissions).
 */
export function validateStoreFile(file: string): StoreFileState {
  const seen = readSeenRecord(file);
  const record = path.basename(seenRecordOf(file));
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    if (seen && seen.bytes > 0) {
      throw new StoreDamagedError(file, `the file is missing but ${record} saw it at ${seen.bytes} bytes, transaction ${seen.txn_id}, on ${seen.at} (deleted?)`);
    }
    return { state: "missing", seen };
  }
  try {
    // A meta page read while LMDB rewrites it in place can mix old and new fields (a torn read):
    // look again before calling the file damaged; damage stays damage on every look.
    for (let look = 1; ; look++) {
      try {
        return inspect(fd, file, seen, record);
      } catch (err) {
        if (!(err instanceof StoreDamagedError) || look >= TORN_READ_LOOKS) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, look);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One look at an open data file (see {@link validateStoreFile}).
 * @throws StoreDamagedError naming the problem.
 */
function inspect(fd: number, file: string, seen: SeenRecord | null, record: string): StoreFileState {
  if (!fs.fstatSync(fd).isFile()) return { state: "other", seen };
  // Only the start of each meta page is read: the page header and MDB_meta fit in META_READ bytes.
  const head = Buffer.alloc(META_READ);
  const got = fs.readSync(fd, head, 0, META_READ, 0);
  if (got === 0) {
    if (seen && seen.bytes > 0) {
      throw new StoreDamagedError(file, `the file is empty (0 bytes) but ${record} saw it at ${seen.bytes} bytes, transaction ${seen.txn_id}, on ${seen.at} (emptied?)`);
    }
    return { state: "empty", seen };
  }
  const layout = LAYOUTS.find((l) => got >= l.header + META.end && head.readUInt32LE(l.header + META.magic) === MDB_MAGIC);
  if (!layout) {
    if (got < LAYOUTS[0]!.header + META.end) throw new StoreDamagedError(file, `the file is ${got} bytes, too short for an LMDB meta page (cut short?)`);
    throw new StoreDamagedError(file, metaProblem(parseMeta(head, LAYOUTS[0]!), 0, LAYOUTS[0]!, 0) ?? "meta page 0 is not an LMDB meta page");
  }
  const meta0 = parseMeta(head, layout);
  const pageSize = meta0.psize;
  if (pageSize < MIN_PAGESIZE || pageSize > MAX_PAGESIZE || (pageSize & (pageSize - 1)) !== 0) {
    throw new StoreDamagedError(file, `meta page 0 says page size ${pageSize}, not a power of two from ${MIN_PAGESIZE} to ${MAX_PAGESIZE}`);
  }
  const second = Buffer.alloc(META_READ);
  const got1 = fs.readSync(fd, second, 0, META_READ, pageSize);
  if (got1 < layout.header + META.end) {
    // LMDB writes both meta pages of a new file in one write; a reader racing it may see the first page only.
    if (!seen && meta0.txnid === 0n) return { state: "empty", seen };
    throw new StoreDamagedError(file, `the file is ${fs.fstatSync(fd).size} bytes, shorter than its two ${pageSize}-byte meta pages (cut short?)`);
  }
  const meta1 = parseMeta(second, layout);
  const bytes = fs.fstatSync(fd).size;
  const problem = metaProblem(meta0, 0, layout, pageSize) ?? metaProblem(meta1, 1, layout, pageSize);
  if (problem) throw new StoreDamagedError(file, problem);
  const newer = meta1.txnid > meta0.txnid ? meta1 : meta0;
  const need = (newer.lastPg + 1n) * BigInt(pageSize);
  if (BigInt(bytes) < need) {
    throw new StoreDamagedError(file, `the file is ${bytes} bytes but its meta page says ${need} (pages 0..${newer.lastPg} of ${pageSize} bytes; cut short?)`);
  }
  if (seen && seen.bytes > bytes) {
    throw new StoreDamagedError(file, `the file is ${bytes} bytes but ${record} saw it at ${seen.bytes} bytes on ${seen.at} (cut short or replaced by an older copy?)`, rolledBackAdvice(record));
  }
  if (seen && BigInt(seen.txn_id) > newer.txnid) {
    throw new StoreDamagedError(
      file,
      `its last transaction is ${newer.txnid} but ${record} saw transaction ${seen.txn_id} on ${seen.at} (rolled back to an older copy?)`,
      rolledBackAdvice(record),
    );
  }
  return { state: "sound", meta: { pageSize, lastPage: newer.lastPg, txnId: newer.txnid, fileBytes: bytes }, seen };
}

function rolledBackAdvice(record: string): string {
  return `restore the newest copy from a backup; if this older copy was put back on purpose, delete ${record} next to it`;
}

/**
 * Read the side record of data file `file`; null when there is none or it
 * cannot be read or parsed (it is advisory: a broken record is ignored,
 * never taken as damage of the store).
 */
export function readSeenRecord(file: string): SeenRecord | null {
  let text: string;
  try {
    text = fs.readFileSync(seenRecordOf(file), "utf8");
  } catch {
    return null;
  }
  try {
    const r = JSON.parse(text) as Partial<SeenRecord>;
    const count = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
    if (!count(r.bytes) || !count(r.txn_id)) return null;
    return { bytes: r.bytes, txn_id: r.txn_id, at: typeof r.at === "string" ? r.at : "?", pid: count(r.pid) ? r.pid : 0 };
  } catch {
    return null;
  }
}

/**
 * Write the side record of data file `file`: `txnId` is the last committed
 * transaction the caller's environment sees (LMDB `mdb_env_info`), the
 * size is taken from the file now, after it. Written to a temporary file and
 * renamed over the record, so readers never see half a record and
 * concurrent writers leave one whole record (the last rename wins; an older
 * value only weakens the check, it never raises a false alarm, because a
 * data file never shrinks and its transaction id never goes back).
 * Never throws: a failure (read-only folder, full disk) returns false.
 */
export function writeSeenRecord(file: string, txnId: number): boolean {
  const target = seenRecordOf(file);
  const tmp = `${target}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  try {
    const bytes = fs.statSync(file).size;
    const record: SeenRecord = { bytes, txn_id: txnId, at: new Date().toISOString(), pid: process.pid };
    fs.writeFileSync(tmp, `${JSON.stringify(record)}\n`);
    fs.renameSync(tmp, target);
    return true;
  } catch {
    fs.rmSync(tmp, { force: true });
    return false;
  }
}
