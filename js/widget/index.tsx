// anywidget entry of dflow_lab.widgets.WorkflowCanvas and WorkflowMonitor: the shared canvas component
// bound to the Python widget's traits and custom messages.
import "@xyflow/react/dist/style.css";
import "@dflow-lab/canvas/styles.css";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { Canvas, type HostAction, type WorkflowState } from "@dflow-lab/canvas/Canvas";
import { type LogPiece, appendLog } from "@dflow-lab/canvas/logs";
import { KeyedStore } from "@dflow-lab/canvas/store";
import type { Graph, Issue, NodeStatus, PaletteEntry, StepDetails } from "@dflow-lab/canvas/types";
import { offerCell } from "@dflow-lab/canvas/cellEvent";
import { type AnyModel, useTrait } from "./model";

type Incoming =
  | { type: "status"; changes: Record<string, NodeStatus | null>; reset?: boolean }
  | { type: "details"; details: StepDetails | null }
  | ({ type: "logs" } & LogPiece)
  | { type: "insert-cell"; view: string; request: number; code: string };

function WidgetApp({ model, el }: { model: AnyModel; el: HTMLElement }) {
  const graph = useTrait<Graph>(model, "graph");
  const view = useTrait<"canvas" | "monitor">(model, "view");
  const issues = useTrait<Issue[]>(model, "issues");
  const palette = useTrait<PaletteEntry[]>(model, "palette");
  const actions = useTrait<HostAction[]>(model, "actions");
  const notice = useTrait<{ level: "info" | "error"; text: string } | null>(model, "notice");
  const workflow = useTrait<WorkflowState | null>(model, "workflow_state");
  const height = useTrait<number>(model, "height");
  const status = useMemo(() => new KeyedStore<NodeStatus>(), []);
  const [details, setDetails] = useState<StepDetails | null>(null);
  const open = useRef<{ path: string; item: number | null } | null>(null); // the step whose panel is open
  const viewId = useMemo(() => Math.random().toString(36).slice(2), []); // this view among the model's views

  useEffect(() => {
    const onMessage = (msg: Incoming) => {
      if (msg.type === "status") {
        const changes: Record<string, NodeStatus | undefined> = {};
        for (const [k, v] of Object.entries(msg.changes)) changes[k] = v ?? undefined;
        if (msg.reset) status.reset(changes as Record<string, NodeStatus>);
        else status.update(changes);
        // the open step changed: refresh its panel (phase, outputs, logs so far)
        if (open.current && open.current.path in msg.changes) {
          model.send({ type: "details", path: open.current.path, item: open.current.item });
        }
      } else if (msg.type === "details") {
        if (msg.details === null || msg.details.path === open.current?.path) setDetails(msg.details);
      } else if (msg.type === "logs") {
        setDetails((d) => appendLog(d, msg)); // lines the open step just wrote
      } else if (msg.type === "insert-cell" && msg.view === viewId) {
        // the code of the button pressed in this view: a new notebook cell if the page can, else Python writes a file
        model.send({ type: "cell", request: msg.request, inserted: offerCell(el, msg.code) });
      }
    };
    model.on("msg:custom", onMessage);
    model.send({ type: "ready" }); // ask for the current status (a view drawn after the run started)
    return () => model.off("msg:custom", onMessage);
  }, [model, status, viewId, el]);

  const onChange = useCallback(
    (g: Graph) => {
      model.set("graph", g);
      model.save_changes();
    },
    [model],
  );
  const onAction = useCallback(
    (action: string) => model.send({ type: "action", action, view: viewId }),
    [model, viewId],
  );
  const onStepClick = useCallback(
    (path: string | null, item?: number) => {
      open.current = path === null ? null : { path, item: item ?? null };
      if (path === null) setDetails(null);
      else model.send({ type: "details", path, item: item ?? null });
    },
    [model],
  );

  if (!graph || !graph.templates) return <div className="dfl-root dfl-empty">No workflow.</div>;
  return (
    <Canvas
      graph={graph}
      mode={view === "monitor" ? "monitor" : "edit"}
      issues={issues}
      palette={palette}
      status={status}
      workflow={workflow}
      details={details}
      notice={notice}
      actions={actions}
      height={height}
      onChange={onChange}
      onAction={onAction}
      onStepClick={onStepClick}
    />
  );
}

export default {
  render({ model, el }: { model: AnyModel; el: HTMLElement }) {
    el.classList.add("dflow-lab-widget");
    const root = createRoot(el);
    root.render(<WidgetApp model={model} el={el} />);
    return () => root.unmount();
  },
};
