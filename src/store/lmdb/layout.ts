/**
 * The store facts every opener of the environment must share, kept free of
 * imports so that a read-only reader (the hooks, src/store/lmdb/lock-reader.ts)
 * can use them without loading the server's store module.
 */

/**
 * Version of the layout documented in store/lmdb/store.ts; a store written by a
 * newer layout is refused. 3: string keys are stored as plain UTF-8 bytes
 * ({@link STRING_KEYS}); stores of version 1 and 2 are rewritten at open.
 */
export const SCHEMA_VERSION = 3;

/** Options every process opens the environment with (DESIGN.md "Store rules": same options everywhere). */
export const ENV_OPTIONS = {
  overlappingSync: false,
  maxDbs: 32,
  maxReaders: 254,
} as const;


/** The databases keyed by numbers (lmdb-js's default ordered-binary key encoding); every other database is keyed by strings. */
export const NUMBER_KEYED: ReadonlySet<string> = new Set(["decisions", "planIndex"]);

/** Node's Buffer writes UTF-8 in place; lmdb-js hands Buffers to key encoders. */
type KeyBuffer = Uint8Array & { utf8Write?: (s: string, offset: number, length: number) => number; utf8Slice?: (start: number, end: number) => string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The key encoding of every string-keyed database: a key's bytes are its
 * UTF-8, nothing more, so keys sort by UTF-8 bytes and a NUL separator is
 * the lowest byte whatever the key's length.
 *
 * Why not lmdb-js's default (ordered-binary): it writes a string under 64
 * characters with each character <= 0x04 escaped (`\0` as bytes 04 00) and a
 * longer string raw (`\0` as 00), and reads a long key holding NUL back as an
 * array. A composite key like `lock index \0 token` then sorts differently
 * depending on its length, and a prefix range (`key\0` .. `key\x01`) missed
 * the index entries of keys around 50-64 characters: two write locks on one
 * long path were granted (found by test/store-keys.test.ts).
 *
 * @throws RangeError when a key does not fit in lmdb-js's key buffer (its
 *         maximum key size), TypeError when a key is not a string.
 */
export const STRING_KEYS = {
  writeKey(key: unknown, target: KeyBuffer, start: number): number {
    if (key instanceof Uint8Array) {
      // lmdb-js's own range bounds (its default first key) arrive as bytes.
      target.set(key, start);
      return start + key.length;
    }
    if (typeof key !== "string") throw new TypeError(`store key: expected a string, got ${typeof key}`);
    const room = target.length - start;
    const written = target.utf8Write ? target.utf8Write(key, start, room) : encoder.encodeInto(key, target.subarray(start)).written;
    if (written >= room && Buffer.byteLength(key, "utf8") > written) {
      throw new RangeError(`store key: ${Buffer.byteLength(key, "utf8")} bytes do not fit in the ${room} bytes LMDB allows`);
    }
    return start + written;
  },
  readKey(source: KeyBuffer, start: number, end: number): string {
    return source.utf8Slice ? source.utf8Slice(start, end) : decoder.decode(source.subarray(start, end));
  },
};

/** The options to open database `name` with, the same in every process (the server's store and the hooks' reader). */
export function dbOptionsOf(name: string): { name: string; keyEncoder?: typeof STRING_KEYS } {
  return NUMBER_KEYED.has(name) ? { name } : { name, keyEncoder: STRING_KEYS };
}

/**
 * A key as ordered-binary (schema versions 1 and 2) stored it, as the plain
 * UTF-8 bytes of version 3: drop the leading escape byte 27 and unescape each
 * `04 c` pair (c <= 4). Keys of 64 characters and more were stored raw and
 * come back unchanged. signalbox keys never hold characters 0x01-0x04, so no
 * raw byte pair is mistaken for an escape.
 */
export function unescapeLegacyKey(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = bytes[0] === 27 ? 1 : 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const next = bytes[i + 1];
    if (b === 4 && next !== undefined && next <= 4) {
      out.push(next);
      i += 2;
    } else {
      out.push(b);
      i += 1;
    }
  }
  return Uint8Array.from(out);
}
