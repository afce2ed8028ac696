// Turns lib/ into the prebuilt JupyterLab extension (dflow_lab/labextension) with `jupyter labextension
// build`, which needs the jupyterlab Python package. Without it (npm run before pip install), say so and
// leave the step to a later `npm run build` instead of failing the whole install.
import { spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dev = process.argv.includes("--dev");

const probe = spawnSync("jupyter", ["labextension", "--version"], { encoding: "utf8" });
if (probe.error || probe.status !== 0) {
  console.warn(
    "dflow-lab: JupyterLab is not installed yet, so the lab extension was not built; " +
      "run `npm run build:lab` again after `pip install jupyterlab`.",
  );
  process.exit(0);
}
const args = ["labextension", "build", ...(dev ? ["--development", "True"] : []), here];
const build = spawnSync("jupyter", args, { stdio: "inherit" });
process.exit(build.status ?? 1);
