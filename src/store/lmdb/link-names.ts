/**
 * The store side of hard-link keys (paths.ts {@link LinkNames}): for each
 * file with several names, the name its locks are keyed by, in the `meta`
 * database under `link\0<dev>:<ino>`. The first name seen is recorded in a
 * write transaction, so two processes resolving two names of one file at once
 * agree; a recorded name that no longer leads to the file (renamed, deleted,
 * the inode reused) is replaced by the name being resolved.
 */
import type { LinkNames } from "../../paths.js";
import type { Store } from "./store.js";

/** The `meta` key holding the name recorded for file identity `id` (`<dev>:<ino>`). */
export function linkNameKey(id: string): string {
  return `link\0${id}`;
}

/** The registry a server uses: reads and records, in one write transaction per lookup of a linked file. */
export function storeLinkNames(store: Store): LinkNames {
  return {
    keyFor(id, key, stillNames) {
      return store.write(() => {
        const recorded = store.meta.get(linkNameKey(id)) as string | undefined;
        if (recorded !== undefined && (recorded === key || stillNames(recorded))) return recorded;
        store.meta.putSync(linkNameKey(id), key);
        return key;
      });
    },
  };
}

/**
 * A registry that only reads (the hooks open the store read-only): the
 * recorded name while it still leads to the file, else the name given.
 * `recordedName` reads `meta` under {@link linkNameKey} (undefined: none).
 */
export function readLinkNames(recordedName: (id: string) => string | undefined): LinkNames {
  return {
    keyFor(id, key, stillNames) {
      const recorded = recordedName(id);
      return recorded !== undefined && (recorded === key || stillNames(recorded)) ? recorded : key;
    },
  };
}
