// Build the dashboard page into dist/web/ (served by src/dashboard/assets.ts):
// bundle web/src/main.tsx (Preact, dagre) with esbuild into app.js, minify
// app.css, copy index.html and icon.svg; then print the page weight.
// Run by `npm run build`, `prepare`, `pretest`, `demo` and `bench`.
import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, "../dist/web");
fs.mkdirSync(out, { recursive: true });

const common = { bundle: true, minify: true, logLevel: "warning", target: ["es2020", "chrome100", "firefox100", "safari15"] };
await build({
  ...common,
  entryPoints: [path.join(here, "src/main.tsx")],
  outfile: path.join(out, "app.js"),
  format: "esm",
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { "process.env.NODE_ENV": '"production"' },
});
await build({ ...common, entryPoints: [path.join(here, "app.css")], outfile: path.join(out, "app.css") });
for (const name of ["index.html", "icon.svg"]) fs.copyFileSync(path.join(here, name), path.join(out, name));

const page = ["index.html", "app.js", "app.css"];
let bytes = 0;
let gzip = 0;
for (const name of page) {
  const body = fs.readFileSync(path.join(out, name));
  bytes += body.length;
  gzip += gzipSync(body, { level: 9 }).length;
}
console.log(`dashboard page (dist/web: ${page.join(" + ")}): ${bytes} bytes, ${gzip} gzipped`);
