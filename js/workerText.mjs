// An esbuild plugin for the canvas's own Web Workers: `import source from "./layoutWorker.ts?worker"` bundles
// that module (and what it imports) into one script and imports its text, which the canvas starts from a Blob
// URL (layoutClient.ts), as elk.ts does with elk's worker: the widget is one ES module, often loaded from a blob:
// URL by anywidget, so there is no worker file to point at. Used by js/build.mjs, js/lab/bundle.mjs and the unit
// tests' js/test/run.mjs.
import * as esbuild from "esbuild";
import { isAbsolute, join } from "node:path";

export function workerText({ minify = false } = {}) {
  return {
    name: "worker-text",
    setup(build) {
      build.onResolve({ filter: /\?worker$/ }, (args) => {
        const file = args.path.replace(/\?worker$/, "");
        return { path: isAbsolute(file) ? file : join(args.resolveDir, file), namespace: "worker-text" };
      });
      build.onLoad({ filter: /.*/, namespace: "worker-text" }, async (args) => {
        const r = await esbuild.build({
          entryPoints: [args.path],
          bundle: true,
          write: false,
          format: "iife",
          target: "es2020",
          minify,
          metafile: true,
          logLevel: "warning",
        });
        return {
          contents: r.outputFiles[0].text,
          loader: "text",
          watchFiles: Object.keys(r.metafile.inputs),
        };
      });
    },
  };
}
