// elkjs, run in a Web Worker so that laying out a large graph (a second or more of work) leaves the canvas
// responsive. The widget is one ES module, often loaded from a blob: URL by anywidget, so there is no worker
// file to point at: elk's worker script is bundled here as text and started from a Blob URL.
// Where no worker can be started (a Content-Security-Policy without `worker-src blob:`, or node running the
// unit tests), or a started one fails, layouts run on the main thread with elk's bundled build, as before.
import ELK, { type ELK as ElkApi, type ElkNode } from "elkjs/lib/elk-api.js";
import workerSource from "elkjs/lib/elk-worker.min.js" with { type: "text" };

interface WorkerEngine {
  elk: ElkApi;
  failed: Promise<never>; // rejects when the worker itself fails (not when a layout does)
}

let worker: WorkerEngine | null | undefined; // undefined: not tried yet; null: no worker here
let mainThread: ElkApi | undefined;

class WorkerFailed extends Error {}

function startWorker(): WorkerEngine | null {
  if (typeof Worker === "undefined" || typeof Blob === "undefined") return null;
  try {
    const w = new Worker(URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" })));
    const failed = new Promise<never>((_, reject) => {
      w.addEventListener("error", (e) => reject(new WorkerFailed(e.message || "elk's worker failed")));
    });
    failed.catch(() => undefined); // observed by the layouts racing it
    return { elk: new ELK({ workerFactory: () => w }), failed };
  } catch {
    return null; // e.g. a SecurityError: the page's CSP forbids blob: workers
  }
}

async function onMainThread(graph: ElkNode): Promise<ElkNode> {
  // a dynamic import in one bundle: elk's main-thread build is evaluated only when first needed
  const { default: Bundled } = await import("elkjs/lib/elk.bundled.js");
  mainThread ??= new Bundled();
  return mainThread.layout(graph);
}

/** Lay out `graph` with elk: in the worker when there is one, else on the main thread. */
export async function elkLayout(graph: ElkNode): Promise<ElkNode> {
  if (worker === undefined) worker = startWorker();
  if (worker) {
    try {
      return await Promise.race([worker.elk.layout(graph), worker.failed]);
    } catch (e) {
      if (!(e instanceof WorkerFailed)) throw e;
      worker.elk.terminateWorker();
      worker = null;
    }
  }
  return onMainThread(graph);
}
