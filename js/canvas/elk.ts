// elkjs, run in a Web Worker so that laying out a graph (a second or more of work for a large one) leaves the
// canvas responsive. elk is one script, elk's own worker build (elkjs/lib/elk-worker.min.js, 1.6 MB), and this
// module does not bundle it: the host hands it over with `setElkScript`, and it is asked for only when a layout
// is needed (a document whose nodes all have saved positions never loads elk). The lab extension bundles the
// script as text (`elkScript.ts`); the notebook widget asks the kernel for it (js/widget/elkFromKernel.ts), so
// that the widget's ES module, which reaches the page inside the kernel's message, stays small.
// The script is started as a worker from a Blob URL (the widget is one ES module, often loaded from a blob: URL by
// anywidget, so there is no worker file to point at). Fallback, as documented in docs/widgets.md: where no worker
// can be started (a Content-Security-Policy without `worker-src blob:`, or node running the unit tests), or a
// started one fails, the same script is evaluated on the main thread (`mainThreadElk`: a classic script from a Blob
// URL, else `Function`), where it provides elk's in-page "fake worker", and layouts run there, as before (one long
// task per layout).
import ELK, { type ELK as ElkApi, type ElkNode } from "elkjs/lib/elk-api.js";

/** Resolves to the text of elkjs/lib/elk-worker.min.js (asked for once, on the first layout). */
export type ElkScript = () => Promise<string>;

interface WorkerEngine {
  elk: ElkApi;
  failed: Promise<never>; // rejects when the worker itself fails (not when a layout does)
}

let script: ElkScript | undefined;
let text: Promise<string> | undefined;
let worker: WorkerEngine | null | undefined; // undefined: not tried yet; null: no worker here
let mainThread: Promise<ElkApi> | undefined;

class WorkerFailed extends Error {}

/** Where elk's script comes from; a host calls this before the canvas lays anything out. */
export function setElkScript(source: ElkScript): void {
  if (source === script) return; // the script asked for already stays
  script = source;
  text = undefined;
}

function elkText(): Promise<string> {
  if (!script)
    throw new Error(
      "dflow-lab canvas: elk's script was not provided (setElkScript), so a graph without saved positions cannot be laid out",
    );
  if (!text) {
    text = script();
    text.catch(() => (text = undefined)); // asked again by the next layout
  }
  return text;
}

function startWorker(source: string): WorkerEngine | null {
  if (typeof Worker === "undefined" || typeof Blob === "undefined" || typeof URL.createObjectURL !== "function")
    return null;
  try {
    const w = new Worker(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
    const failed = new Promise<never>((_, reject) => {
      w.addEventListener("error", (e) => reject(new WorkerFailed(e.message || "elk's worker failed")));
    });
    failed.catch(() => undefined); // observed by the layouts racing it
    return { elk: new ELK({ workerFactory: () => w }), failed };
  } catch {
    return null; // e.g. a SecurityError: the page's CSP forbids blob: workers
  }
}

type FakeWorker = new (url?: string) => Worker;
type ElkExports = { Worker?: FakeWorker } | undefined;

/** Runs `source` as a classic script from a Blob URL with a CommonJS `module` in scope; its exports, or undefined
 * where the page refuses the script. */
function runAsScript(source: string): Promise<ElkExports> {
  return new Promise((resolve) => {
    const key = `__dflowLabElk${Math.random().toString(36).slice(2)}`;
    const wrapped = `(function () { var module = { exports: {} }; var exports = module.exports;\n${source}\n;window[${JSON.stringify(key)}] = module.exports; })();`;
    const url = URL.createObjectURL(new Blob([wrapped], { type: "text/javascript" }));
    const script = document.createElement("script");
    const done = () => {
      URL.revokeObjectURL(url);
      script.remove();
      const slot = window as unknown as Record<string, ElkExports>;
      const exported = slot[key];
      delete slot[key];
      resolve(exported);
    };
    script.addEventListener("load", done);
    script.addEventListener("error", done);
    script.src = url;
    document.head.appendChild(script);
  });
}

/**
 * elk on the main thread, from the same script: evaluated with a CommonJS `module` in scope, elk-worker.min.js
 * exports its in-page worker (`{ Worker }`), which elk-api drives as it would a real one. The script runs from a
 * Blob URL (a page that shows the widget allows blob: scripts: anywidget imports the widget's module that way);
 * where that is refused (node, or a CSP without `script-src blob:`), it is compiled with `Function`.
 */
export async function mainThreadElk(source: string): Promise<ElkApi> {
  let exported: ElkExports;
  if (typeof Blob !== "undefined" && typeof document !== "undefined") exported = await runAsScript(source);
  if (!exported?.Worker) {
    const module = { exports: {} as ElkExports };
    new Function("module", "exports", source)(module, module.exports);
    exported = module.exports;
  }
  const Fake = exported?.Worker;
  if (!Fake) throw new Error("dflow-lab canvas: elk's script did not provide its in-page worker");
  return new ELK({ workerFactory: (url) => new Fake(url) });
}

/** Lay out `graph` with elk: in the worker when there is one, else on the main thread. */
export async function elkLayout(graph: ElkNode): Promise<ElkNode> {
  const source = await elkText();
  if (worker === undefined) worker = startWorker(source);
  if (worker) {
    try {
      return await Promise.race([worker.elk.layout(graph), worker.failed]);
    } catch (e) {
      if (!(e instanceof WorkerFailed)) throw e;
      worker.elk.terminateWorker();
      worker = null;
    }
  }
  mainThread ??= mainThreadElk(source);
  return (await mainThread).layout(graph);
}
