/**
 * A read-only look at the lock table for the hooks (README, "Hooks: enforcement
 * where agents forget"): which live locks cover a file key. It opens the LMDB
 * environment read-only (no write transaction, no sweep, never creates a
 * store), reads one snapshot and closes it.
 *
 * Which live locks cover a key is the server's own lock view
 * (src/locks/views.ts `liveLocksCovering`), so a lock counts as held exactly
 * when the lock manager would count it: state `held`, written under this
 * boot id, and its lease not lapsed on the monotonic clock (DESIGN.md "Store
 * rules"; store/clock.ts). A lapsed lock nobody has swept yet is not held.
 *
 * Speed (bench/hook.ts): lmdb is loaded through `require` (its CommonJS
 * bundle), which costs a hook process about 15 ms less than its ES module
 * graph, and src/store/lmdb/store.ts (which imports the ES module) is not loaded:
 * the environment options, schema version and lease rule come from
 * src/store/lmdb/layout.ts, which the server's store uses too, and the view from
 * src/locks/views.ts, which loads neither.
 *
 * The data file is checked before LMDB maps it (src/store/lmdb/validate.ts, plain
 * file reads, no LMDB): a damaged file raises StoreDamagedError instead of
 * killing the hook with SIGBUS/SIGSEGV. The hooks' policy for a store they
 * cannot read applies (src/hooks/claude.ts: exit 1 and one line on stderr;
 * src/hooks/pre-commit.ts: the commit is refused).
 */
import { createRequire } from "node:module";
import type { Database, RootDatabase } from "lmdb";
import type { Clock } from "../clock.js";
import { dbOptionsOf, ENV_OPTIONS, SCHEMA_VERSION } from "./layout.js";
import { linkNameKey } from "./link-names.js";
import { databaseReader } from "./engine.js";
import { hostLiveness } from "./liveness.js";
import { LockTableView } from "../../locks/table.js";
import { ReadTxn } from "../txn.js";
import { reportUndecodable, validateStoreFile } from "./validate.js";
import { tableReader } from "../../locks/table-reader.js";
import { liveLocksCovering, type LiveLock } from "../../locks/views.js";
import { storeFileOf } from "../../hooks/settings.js";

export type { LiveLock };

/** One read-only snapshot of the lock table. */
export interface LockReader {
  /**
   * Live locks on file key `key` or on any folder key above it (`src/a.ts`
   * is covered by `src/a.ts`, `src/`), fencing token order per key.
   */
  locksCovering(key: string): LiveLock[];
  /** The name recorded for a hard-linked file's identity (store/lmdb/link-names.ts), or undefined. */
  linkName(id: string): string | undefined;
  /** Close the environment. */
  close(): Promise<void>;
}

/** The reader of a store that holds nothing yet. */
const NO_LOCKS: LockReader = { locksCovering: () => [], linkName: () => undefined, close: () => Promise.resolve() };

/**
 * Open the store in `storeDir` read-only. The caller has checked that its
 * data file exists ({@link storeFileOf}). A data file never initialised (a
 * store being created right now; validate.ts `empty`) holds no locks and is
 * not opened.
 * @throws StoreDamagedError (code `store_damaged`, message `store <file> is
 *         damaged: ...`) when the data file is damaged; Error `store: ...`
 *         when the store was written by a newer schema version, or LMDB
 *         cannot open it.
 */
export function openLockReader(storeDir: string, clock: Clock): LockReader {
  if (validateStoreFile(storeFileOf(storeDir)).state === "empty") return NO_LOCKS;
  let env: RootDatabase;
  try {
    const { open } = createRequire(import.meta.url)("lmdb") as typeof import("lmdb");
    env = open({ path: storeFileOf(storeDir), ...ENV_OPTIONS, readOnly: true });
  } catch (err) {
    throw new Error(`store: cannot open ${storeDir} read-only (${(err as Error).message})`);
  }
  try {
    const file = storeFileOf(storeDir);
    const meta = openNamed(env, file, "meta");
    const version = meta?.get("schema_version");
    if (version !== undefined && !(typeof version === "number" && version <= SCHEMA_VERSION)) {
      throw new Error(
        `store: ${storeDir} has schema version ${String(version)}; this signalbox understands up to ${SCHEMA_VERSION}. Upgrade signalbox.`,
      );
    }
    // A store no server of schema 3 has opened yet still holds ordered-binary keys (layout.ts STRING_KEYS).
    const db = openNamed(env, file, "lockTable", typeof version === "number" && version < 3);
    const snapshot = db ? new ReadTxn(databaseReader("lockTable", db)) : null;
    const reader = snapshot ? tableReader(new LockTableView(() => snapshot), hostLiveness(clock.bootId)) : null;
    return {
      locksCovering: (key) => (reader ? liveLocksCovering(reader, clock, key) : []),
      linkName: (id) => meta?.get(linkNameKey(id)) as string | undefined,
      close: () => env.close(),
    };
  } catch (err) {
    void env.close();
    throw err;
  }
}

/**
 * A named database of data file `file`, or null when the store has none of
 * that name yet (read-only opens cannot create it). An undecodable value
 * read from it raises StoreDamagedError (validate.ts `reportUndecodable`).
 */
function openNamed(env: RootDatabase, file: string, name: string, legacyKeys = false): Database<unknown, string> | null {
  try {
    return reportUndecodable(env.openDB<unknown, string>(legacyKeys ? { name } : dbOptionsOf(name)), file, name);
  } catch (err) {
    if ((err as Error).message.includes("Database not found")) return null;
    throw err;
  }
}
