/**
 * The page's own files, built by `npm run build` (web/build.mjs) into
 * `dist/web/` of the package and served from memory: nothing comes from
 * another origin. Each file is read once, with a gzip copy and an ETag
 * (its SHA-256), and answered 304 when the browser has it already.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { SECURITY_HEADERS, sendText } from "./headers.js";

/** The files of the built page and their content types. */
export const ASSET_TYPES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
  "icon.svg": "image/svg+xml",
};

/** One file held in memory. */
interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

/**
 * `dist/web` of the package this module belongs to: the nearest folder above
 * it holding a package.json (from `dist/src/dashboard/` and from
 * `src/dashboard/` alike), then `dist/web`.
 */
export function defaultAssetsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return path.join(dir, "dist", "web");
}

/** The built page's files, loaded at construction. */
export class AssetStore {
  private readonly files = new Map<string, Asset>();
  /** Files of {@link ASSET_TYPES} missing from the folder (the page was not built). */
  readonly missing: string[] = [];

  /** Load every file of {@link ASSET_TYPES} from `dir` (default {@link defaultAssetsDir}); missing ones are listed in `missing`. */
  constructor(readonly dir: string = defaultAssetsDir()) {
    for (const [name, type] of Object.entries(ASSET_TYPES)) {
      let body: Buffer;
      try {
        body = fs.readFileSync(path.join(dir, name));
      } catch {
        this.missing.push(name);
        continue;
      }
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
      this.files.set(name, { type, body, gzip: gzipSync(body, { level: 9 }), etag });
    }
  }

  /** Whether `name` (e.g. `app.js`) is served. */
  has(name: string): boolean {
    return this.files.has(name);
  }

  /**
   * Answer a GET or HEAD of `name`: 200 (gzip when accepted), 304 when the
   * request's `If-None-Match` is its ETag, or 503 naming the build step when
   * the page was not built. Revalidated on every use (`no-cache`), since one
   * server may serve a newer build after a restart.
   */
  serve(req: IncomingMessage, res: ServerResponse, name: string, extra: Record<string, string> = {}): void {
    const asset = this.files.get(name);
    if (asset === undefined) {
      sendText(res, 503, `Service Unavailable: the dashboard was not built (${this.dir} lacks ${name}); run npm run build`);
      return;
    }
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      "Content-Type": asset.type,
      "Cache-Control": "no-cache",
      ETag: asset.etag,
      Vary: "Accept-Encoding",
      ...extra,
    };
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const body = gzip ? asset.gzip : asset.body;
    res.writeHead(200, { ...headers, ...(gzip ? { "Content-Encoding": "gzip" } : {}), "Content-Length": String(body.length) });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  /** Bytes of each file as served, plain and gzipped (the page weight, docs/dashboard.md). */
  weight(): { name: string; bytes: number; gzip: number }[] {
    return [...this.files].map(([name, a]) => ({ name, bytes: a.body.length, gzip: a.gzip.length }));
  }
}
