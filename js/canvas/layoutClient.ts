// layered.ts's layout of a large DAG, run in a Web Worker so that the main thread stays free (10,000 nodes take
// 80-400 ms). The worker's script is bundled as text (js/workerText.mjs) and started from a Blob URL, as elk.ts
// does. Fallback, as documented in docs/widgets.md: where no worker can start (a Content-Security-Policy without
// `worker-src blob:`, or node running the unit tests), or the started one fails, the layout runs on the main
// thread, as before (one long task for a large graph). One worker serves every canvas of the page.
import type { LayeredNode, LayeredOptions } from "./layered";
import { type LayoutAnswer, answer, decodeAnswer, encodeRequest } from "./layoutProtocol";
import workerSource from "./layoutWorker.ts?worker";

interface Pending {
  resolve(a: LayoutAnswer): void;
  reject(e: Error): void;
}

class WorkerFailed extends Error {}

let worker: Worker | null | undefined; // undefined: not tried yet; null: no worker here
const pending = new Map<number, Pending>();
let nextId = 1;

function failAll(message: string): void {
  worker?.terminate();
  worker = null;
  for (const p of pending.values()) p.reject(new WorkerFailed(message));
  pending.clear();
}

function startWorker(): Worker | null {
  if (typeof Worker === "undefined" || typeof Blob === "undefined" || typeof URL.createObjectURL !== "function")
    return null;
  try {
    const w = new Worker(URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" })));
    w.addEventListener("message", (e: MessageEvent<LayoutAnswer>) => {
      const p = pending.get(e.data.id);
      if (!p) return;
      pending.delete(e.data.id);
      if (e.data.error) p.reject(new Error(e.data.error));
      else p.resolve(e.data);
    });
    w.addEventListener("error", (e) => failAll(e.message || "the layout worker failed"));
    return w;
  } catch {
    return null; // e.g. a SecurityError: the page's CSP forbids blob: workers
  }
}

/** Whether layouts run in a worker here (false once a worker was refused or failed). */
export const layoutInWorker = (): boolean => {
  if (worker === undefined) worker = startWorker();
  return worker !== null;
};

/** layered.ts's positions for `nodes`, computed in the worker when there is one, else on the main thread. */
export async function layeredPositions(
  nodes: LayeredNode[],
  edges: [string, string][],
  options: LayeredOptions,
): Promise<Record<string, { x: number; y: number }>> {
  const req = encodeRequest(nextId++, nodes, edges, options);
  if (layoutInWorker() && worker) {
    const w = worker;
    try {
      const a = await new Promise<LayoutAnswer>((resolve, reject) => {
        pending.set(req.id, { resolve, reject });
        w.postMessage(req);
      });
      return decodeAnswer(req.ids, a);
    } catch (e) {
      if (!(e instanceof WorkerFailed)) throw e;
    }
  }
  return decodeAnswer(req.ids, answer(req));
}
