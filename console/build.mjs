// Builds the operator console into chalicelib/console/static/ (or --outdir DIR).
//
// The output is deterministic: the same sources and the same locked esbuild give the
// same bytes, which tests/e2e/test_console.py checks by rebuilding into a temporary folder.
// Asset names carry a content hash, so the app serves them as immutable.
import { build } from "esbuild";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf("--outdir");
const outdir = resolve(at >= 0 ? args[at + 1] : join(here, "..", "chalicelib", "console", "static"));

const staging = mkdtempSync(join(tmpdir(), "fzt-console-"));
try {
  const result = await build({
    entryPoints: [join(here, "src", "main.ts")],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020", "chrome100", "safari15", "firefox100"],
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
  console.log(`console built into ${outdir}: ${sizes.join(", ")}`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
