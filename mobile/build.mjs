// Builds the citizen entrance (/m/) into chalicelib/mobile/static/ (or --outdir DIR).
//
// The output is deterministic: the same sources and the same locked esbuild give the
// same bytes, which tests/e2e/test_mobile.py checks by rebuilding into a temporary folder.
// Asset names carry a content hash, so the app serves them as immutable.
import { build } from "esbuild";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf("--outdir");
const outdir = resolve(at >= 0 ? args[at + 1] : join(here, "..", "chalicelib", "mobile", "static"));

const staging = mkdtempSync(join(tmpdir(), "fzt-mobile-"));
try {
  const result = await build({
    entryPoints: [join(here, "src", "main.ts")],
    bundle: true,
    minify: true,
    format: "iife",
    // Phones: WeChat's built-in browser and a few years of Android WebView and iOS Safari.
    target: ["es2019", "chrome80", "safari14.1", "ios14.5", "firefox78"],
    charset: "utf8",
    legalComments: "eof",
    sourcemap: false,
    entryNames: "app-[hash]",
    outdir: staging,
    metafile: true,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((n) => n.endsWith(".js"));
  const css = outputs.find((n) => n.endsWith(".css"));
  if (!js || !css) throw new Error(`expected one .js and one .css output, got ${outputs.join(", ")}`);

  mkdirSync(outdir, { recursive: true });
  for (const name of readdirSync(outdir)) {
    if (/^app-[A-Z0-9]+\.(js|css)$/.test(name) || name === "index.html") rmSync(join(outdir, name));
  }
  for (const name of [js, css]) copyFileSync(join(staging, name), join(outdir, name));
  const page = readFileSync(join(here, "index.html"), "utf8").replace("{{js}}", js).replace("{{css}}", css);
  writeFileSync(join(outdir, "index.html"), page);
  const sizes = [js, css, "index.html"].map((n) => `${n} ${readFileSync(join(outdir, n)).length} B`);
  const total = [js, css, "index.html"].reduce((n, f) => n + readFileSync(join(outdir, f)).length, 0);
  console.log(`citizen entrance built into ${outdir}: ${sizes.join(", ")}; first load ${total} B`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
