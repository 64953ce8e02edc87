import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The nearest package.json above this file: `src/` when run from source, `dist/src/` when built. */
function readVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
    const up = path.dirname(dir);
    if (up === dir) return "0.0.0";
    dir = up;
  }
}

/** The package version, from package.json. */
export const VERSION: string = readVersion();
