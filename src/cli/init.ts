/**
 * `signalbox init`: write a `signalbox.config.json` inferred from the
 * repository (src/init/infer.ts), printing every rule with the reason it was
 * chosen. An existing config is never overwritten without `--force`;
 * `--dry-run` prints without writing. The file is checked by the same parser
 * the server uses before it is written, and written whole by a rename.
 */
import fs from "node:fs";
import path from "node:path";
import { CONFIG_FILE, parseConfig } from "../runtime/config.js";
import { inferConfig, type InferredConfig } from "../init/infer.js";
import { scanRepository } from "../init/scan.js";

/** Options of {@link runInit}. */
export interface InitOptions {
  root: string;
  force?: boolean;
  dryRun?: boolean;
  /** Where the lines go (default stdout). */
  out?: (line: string) => void;
}

/** The config object written: the rules without their reasons. */
export function configOf(inferred: InferredConfig): Record<string, unknown> {
  return {
    domains: inferred.domains.map(({ reason: _r, ...rule }) => rule),
    integration_points: inferred.integration_points.map(({ reason: _r, ...rule }) => rule),
  };
}

/**
 * Infer, print and (unless a dry run) write the config. Returns the exit code.
 * @throws Error `signalbox.config.json: exists at <path>; pass --force to replace it` when one exists and `force` is not set.
 */
export async function runInit(opts: InitOptions): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const file = path.join(opts.root, CONFIG_FILE);
  if (fs.existsSync(file) && !opts.force && !opts.dryRun) {
    throw new Error(`${CONFIG_FILE}: exists at ${file}; pass --force to replace it (or --dry-run to see what would be written)`);
  }
  const scan = await scanRepository(opts.root);
  const inferred = inferConfig(scan.files, scan.commits);
  out(`${scan.files.length} files${scan.git ? `, ${scan.commits.length} commits read` : " (not a git repository: no history)"}`);
  for (const d of inferred.domains) out(`domain ${d.domain}${d.parallel ? " (serialized)" : ""}  ${d.pattern}  - ${d.reason}`);
  for (const p of inferred.integration_points) out(`integration point ${p.tag}  ${p.pattern}  - ${p.reason}`);
  const config = configOf(inferred);
  parseConfig(config, CONFIG_FILE); // what the server will read must parse
  if (opts.dryRun) {
    out(`dry run: ${CONFIG_FILE} not written`);
    return 0;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`);
  fs.renameSync(tmp, file);
  out(`wrote ${file}: ${inferred.domains.length} domain rule(s), ${inferred.integration_points.length} integration point(s)`);
  return 0;
}
