// Pre-bundles the lab plugin (js/lab/src) with the shared canvas (@dflow-lab/canvas, a devDependency for
// that reason: it is bundled, not shared at run time) into lib/index.js and lib/index.css with esbuild;
// `jupyter labextension build` then turns lib/ into the prebuilt extension. JupyterLab's own packages and
// React stay external: the extension uses JupyterLab's copies (React 18, the one React of the workspaces).
import * as esbuild from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { workerText } from "../workerText.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dev = process.argv.includes("--dev");
// --profile: production React, not minified, so that a CPU profile names the functions (benchmarks --profile)
const profile = process.argv.includes("--profile");

await esbuild.build({
  entryPoints: { index: join(here, "src", "index.ts") },
  outdir: join(here, "lib"),
  bundle: true,
  format: "cjs", // CommonJS, so that require() of the shared packages inside bundled CommonJS code stays static for the builder
  target: "es2020",
  minify: !dev && !profile,
  sourcemap: dev ? "inline" : false,
  jsx: "automatic",
  loader: { ".css": "css" },
  external: ["@jupyterlab/*", "@lumino/*", "react", "react-dom", "react-dom/*", "react/*"],
  define: { "process.env.NODE_ENV": JSON.stringify(dev ? "development" : "production") },
  logLevel: "warning",
  plugins: [workerText({ minify: !dev && !profile })],
  legalComments: "eof",
});
console.log(`bundled ${join(here, "lib")}/index.js and index.css`);
