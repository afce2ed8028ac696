// Bundles the canvas into the Python package: one anywidget ESM module (`widget.js`), its stylesheet
// (`widget.css`) and elk's worker script (`elk-worker.min.js`, sent by the kernel on demand) under
// dflow_lab/widgets/static/. Run by `npm run build`, and by hatch-jupyter-builder
// during `pip install .`; nothing here is needed at run time.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { workerText } from "./workerText.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, "dflow_lab", "widgets", "static");
const dev = process.argv.includes("--dev");
// --profile: production React, not minified, so that a CPU profile names the functions (benchmarks --profile)
const profile = process.argv.includes("--profile");

mkdirSync(outdir, { recursive: true });
await esbuild.build({
  entryPoints: { widget: join(root, "js", "widget", "index.tsx") },
  outdir,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !dev && !profile,
  sourcemap: dev ? "inline" : false,
  jsx: "automatic",
  loader: { ".css": "css" },
  define: { "process.env.NODE_ENV": JSON.stringify(dev ? "development" : "production") },
  logLevel: "warning",
  plugins: [workerText({ minify: !dev && !profile })],
  legalComments: "eof",
});
// elk's worker script, not in widget.js: the kernel sends it to the widget when a layout needs it
// (js/widget/elkFromKernel.ts, dflow_lab/widgets/base.py)
const require = createRequire(join(root, "js", "canvas", "package.json"));
copyFileSync(require.resolve("elkjs/lib/elk-worker.min.js"), join(outdir, "elk-worker.min.js"));
console.log(`built ${outdir}/widget.js and widget.css; copied elk-worker.min.js`);
