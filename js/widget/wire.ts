// The widget's `graph` trait as it arrives from the kernel (dflow_lab/widgets/_wire.py): a JSON value, or for a
// large graph (over 64 KiB of JSON) one binary buffer of its UTF-8 JSON text, which ipywidgets hands over as a
// DataView. The binary form spares JupyterLab's message decoding the parse of the whole graph; the widget decodes
// it here, in a task of its own (`useGraphTrait`): TextDecoder + JSON.parse, 10-30 ms for 10,000 tasks.
// Edits made on the canvas go back to the kernel as a JSON value, as before.
import { useEffect, useState } from "react";
import type { Graph } from "@dflow-lab/canvas/types";
import type { AnyModel } from "./model";

/** Whether a trait value is the binary form (a DataView from ipywidgets; any ArrayBuffer view or buffer). */
export function isBinary(value: unknown): value is ArrayBufferView | ArrayBuffer {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/** The graph of a trait value: binary JSON decoded and parsed, a JSON value as it is. Throws on a buffer that is
 * not UTF-8 JSON of an object. */
export function decodeGraph(value: unknown): Graph | null {
  if (!isBinary(value)) return (value as Graph | null) ?? null;
  const bytes =
    value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  const parsed: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new Error("dflow-lab widget: the graph from the kernel is not a JSON object");
  return parsed as Graph;
}

/** The `graph` trait as React state; `pending` while a binary graph waits for its decoding. A binary value is
 * decoded in a task of its own (not inside the one that delivered the kernel's message or rendered the widget),
 * the previous graph staying on screen meanwhile. */
export function useGraphTrait(model: AnyModel): { graph: Graph | null; pending: boolean } {
  const [state, setState] = useState(() => {
    const v = model.get("graph");
    return isBinary(v) ? { graph: null, pending: true } : { graph: (v as Graph | null) ?? null, pending: false };
  });
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const update = () => {
      clearTimeout(timer);
      const v = model.get("graph");
      if (!isBinary(v)) {
        setState({ graph: (v as Graph | null) ?? null, pending: false });
        return;
      }
      setState((s) => (s.pending ? s : { ...s, pending: true }));
      timer = setTimeout(() => {
        if (model.get("graph") !== v) return; // replaced meanwhile: its own update decodes the newer one
        let graph: Graph | null = null;
        try {
          graph = decodeGraph(v);
        } catch (e) {
          console.error(e);
        }
        setState({ graph, pending: false });
      }, 0);
    };
    model.on("change:graph", update);
    update();
    return () => {
      clearTimeout(timer);
      model.off("change:graph", update);
    };
  }, [model]);
  return state;
}
