// Runs the canvas unit tests: each js/test/*.test.ts is bundled by esbuild and run by node's test runner.
import * as esbuild from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { workerText } from "../workerText.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const tests = readdirSync(here).filter(
  (f) => f.endsWith(".test.ts") && (!only.length || only.some((o) => f.includes(o))),
);
const out = mkdtempSync(join(tmpdir(), "dflow-lab-js-tests-"));
try {
  await esbuild.build({
    entryPoints: tests.map((f) => join(here, f)),
    outdir: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    jsx: "automatic",
    logLevel: "warning",
    plugins: [workerText({ minify: false })],
  });
  const files = readdirSync(out)
    .filter((f) => f.endsWith(".mjs"))
    .map((f) => join(out, f));
  const r = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
