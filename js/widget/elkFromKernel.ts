// The notebook widget's elk (js/canvas/elk.ts): the widget's ES module does not carry elk's 1.6 MB script (it
// reaches the page inside the kernel's message that opens the widget, decoded as one JSON string, then evaluated:
// both grew with the module's size). The first layout that needs elk — a graph of at most 400 nodes without saved
// positions, or the Layout button — asks the kernel for it with a custom message `{type: "elk-script"}`; the
// kernel answers with the file dflow_lab/widgets/static/elk-worker.min.js as one binary buffer (base.py), which
// Jupyter's websocket protocol carries raw. A graph whose nodes all have positions never asks.
// Limits: the answer comes when the kernel is free to read the request (a cell still running delays the layout
// until it ends); a widget shown without a kernel (a notebook's saved widget state) cannot lay out such a graph.
import { setElkScript } from "@dflow-lab/canvas/elk";
import type { AnyModel } from "./model";

const hosts: AnyModel[] = []; // the widget's models drawn in this page, newest last: the kernel is asked through one

function askKernel(): Promise<string> {
  const model = hosts[hosts.length - 1];
  if (!model) return Promise.reject(new Error("dflow-lab widget: no widget left to ask the kernel for elk's script"));
  return new Promise((resolve, reject) => {
    const onMessage = (msg: { type?: string; error?: string } | null, buffers?: (ArrayBuffer | ArrayBufferView)[]) => {
      if (msg?.type !== "elk-script") return;
      model.off("msg:custom", onMessage);
      const buffer = buffers?.[0];
      if (msg.error || !buffer) reject(new Error(msg.error ?? "dflow-lab widget: the kernel sent no elk script"));
      else resolve(new TextDecoder("utf-8").decode(buffer));
    };
    model.on("msg:custom", onMessage);
    model.send({ type: "elk-script" });
  });
}

/** Let the canvas of `model` lay out with elk fetched from the kernel; returns the release for when the view goes. */
export function offerElk(model: AnyModel): () => void {
  hosts.push(model);
  setElkScript(askKernel); // one function for every widget: the script asked for already stays
  return () => {
    const i = hosts.lastIndexOf(model);
    if (i >= 0) hosts.splice(i, 1);
  };
}
