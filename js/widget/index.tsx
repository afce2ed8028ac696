// anywidget entry of dflow_lab.widgets.WorkflowCanvas and WorkflowMonitor: the shared canvas component
// bound to the Python widget's traits and custom messages. The monitor's iterate UI is the canvas package's,
// as in the lab's monitor tab: the run picker (RunPicker), the comparison of two runs on the graph and in the
// step panel (compare.ts), a fan-out's item pages (Details); the kernel answers the actions.
import "@xyflow/react/dist/style.css";
import "@dflow-lab/canvas/styles.css";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { Canvas, type HostAction, type WorkflowState } from "@dflow-lab/canvas/Canvas";
import { type Comparison, compareMarks, compareSummary, withComparison } from "@dflow-lab/canvas/compare";
import { type LogPiece, appendLog } from "@dflow-lab/canvas/logs";
import type { RunPickerState } from "@dflow-lab/canvas/RunPicker";
import { KeyedStore } from "@dflow-lab/canvas/store";
import { type StatusMessage, StatusFeed } from "@dflow-lab/canvas/statusFeed";
import type { FanoutPage, Graph, Issue, NodeStatus, PaletteEntry, StepDetails } from "@dflow-lab/canvas/types";
import { offerCell, offerSource } from "@dflow-lab/canvas/cellEvent";
import type { NewOpSpec } from "@dflow-lab/canvas/NewOpForm";
import { SourceText, WidgetCodeEditor } from "./lazyEditor"; // CodeMirror, evaluated when first shown
import { offerElk } from "./elkFromKernel";
import { type AnyModel, useLiveTrait, useTrait } from "./model";
import { useGraphTrait } from "./wire";

type Incoming =
  | ({ type: "status" } & StatusMessage)
  | { type: "details"; details: StepDetails | null; run?: string }
  | { type: "comparison"; comparison: Comparison | null }
  | { type: "items"; page: FanoutPage }
  | ({ type: "logs" } & LogPiece)
  | { type: "insert-cell"; view: string; request: number; code: string }
  | { type: "new-op" | "source"; request: number; error: string | null; file?: string; line?: number; text?: string };

type Source = { file: string; line: number | null; text: string };

/** The source of an OP shown in the widget (a page that cannot open an editor on its file). */
function SourceView({ source, onClose }: { source: Source; onClose(): void }) {
  const name = source.file.split("/").pop();
  return (
    <div
      className="dfl-modal"
      role="dialog"
      aria-label={`Source of ${name}`}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === "Escape") onClose();
      }}
    >
      <div className="dfl-modal-box dfl-source" style={{ width: "min(720px, 94%)" }}>
        <div className="dfl-panel-title" title={source.file}>
          {name}
          {source.line ? `:${source.line}` : ""}
        </div>
        <div className="dfl-muted" data-testid="source-file">
          {source.file}
        </div>
        <SourceText text={source.text} line={source.line} />
        <div className="dfl-row" style={{ justifyContent: "flex-end" }}>
          <button className="dfl-button" onClick={onClose} autoFocus>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}

function WidgetApp({ model, el }: { model: AnyModel; el: HTMLElement }) {
  const { graph, pending: decoding } = useGraphTrait(model); // a large graph arrives as binary JSON (wire.ts)
  const view = useTrait<"canvas" | "monitor">(model, "view");
  const issues = useTrait<Issue[]>(model, "issues");
  const palette = useTrait<PaletteEntry[]>(model, "palette");
  const actions = useTrait<HostAction[]>(model, "actions");
  const notice = useTrait<{ level: "info" | "error"; text: string } | null>(model, "notice");
  const workflow = useLiveTrait<WorkflowState | null>(model, "workflow_state"); // the toolbar alone follows it
  const height = useTrait<number>(model, "height");
  const runs = useTrait<RunPickerState | null>(model, "runs");
  const status = useMemo(() => new KeyedStore<NodeStatus>(), []);
  const feed = useMemo(() => new StatusFeed(status), [status]); // big batches are applied in slices
  const [details, setDetails] = useState<StepDetails | null>(null);
  // the step panel's parts: the other run's side while comparing, the fan-out's item page
  const [other, setOther] = useState<StepDetails | null>(null);
  const [fanout, setFanout] = useState<FanoutPage | null>(null);
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const compared = useRef<Comparison | null>(null);
  const paged = useRef<string | null>(null); // the step whose item page is shown
  const [compareNotice, setCompareNotice] = useState<string | null>(null);
  const open = useRef<{ path: string; item: number | null } | null>(null); // the step whose panel is open
  const viewId = useMemo(() => Math.random().toString(36).slice(2), []); // this view among the model's views
  // requests answered by the Python side (new-op, source): resolved by their number
  const pending = useRef(new Map<number, (m: Incoming & { type: "new-op" | "source" }) => void>());
  const nextRequest = useRef(0);
  const [source, setSource] = useState<Source | null>(null);

  useEffect(() => setCompareNotice(null), [notice]); // a newer message from the kernel replaces the summary

  useEffect(() => {
    /** ask for the open step's panel (and its other side while comparing) */
    const askDetails = (withOther: boolean) => {
      const o = open.current;
      if (!o) return;
      model.send({ type: "details", path: o.path, item: o.item });
      if (withOther && compared.current)
        model.send({ type: "details", path: o.path, item: o.item, run: compared.current.a });
    };
    const onMessage = (msg: Incoming) => {
      if (msg.type === "status") {
        feed.push(msg); // a comparison's marks stay on the nodes the stream updates
        // the open step changed: refresh its panel (phase, outputs, logs so far)
        if (open.current && open.current.path in msg.changes) askDetails(false);
      } else if (msg.type === "details" && msg.run) {
        if (msg.run === compared.current?.a && msg.details?.path === open.current?.path) setOther(msg.details);
      } else if (msg.type === "details") {
        if (msg.details === null || msg.details.path === open.current?.path) {
          setDetails(msg.details);
          const path = msg.details?.path;
          // a fan-out group: its first page of items (200 a page), unless a page of it is shown already
          if (path && (status.get(path)?.total ?? 0) > 1) {
            if (paged.current !== path) model.send({ type: "action", action: `items@0@:${path}`, view: viewId });
          } else {
            paged.current = null;
            setFanout(null);
          }
        }
      } else if (msg.type === "items") {
        if (msg.page.path === open.current?.path) {
          paged.current = msg.page.path;
          setFanout(msg.page);
        }
      } else if (msg.type === "comparison") {
        status.update(compareMarks(status, compared.current, msg.comparison));
        compared.current = msg.comparison;
        setComparison(msg.comparison);
        setCompareNotice(msg.comparison ? compareSummary(msg.comparison) : null);
        setOther(null);
        askDetails(true);
      } else if (msg.type === "logs") {
        setDetails((d) => appendLog(d, msg)); // lines the open step just wrote
      } else if (msg.type === "new-op" || msg.type === "source") {
        pending.current.get(msg.request)?.(msg);
        pending.current.delete(msg.request);
      } else if (msg.type === "insert-cell" && msg.view === viewId) {
        // the code of the button pressed in this view: a new notebook cell if the page can, else Python writes a file
        model.send({ type: "cell", request: msg.request, inserted: offerCell(el, msg.code) });
      }
    };
    model.on("msg:custom", onMessage);
    model.send({ type: "ready" }); // ask for the current status (a view drawn after the run started)
    return () => model.off("msg:custom", onMessage);
  }, [model, status, feed, viewId, el]);

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
      if (open.current?.path !== path) {
        paged.current = null;
        setFanout(null);
      }
      open.current = path === null ? null : { path, item: item ?? null };
      setOther(null);
      if (path === null) setDetails(null);
      else {
        model.send({ type: "details", path, item: item ?? null });
        if (compared.current) model.send({ type: "details", path, item: item ?? null, run: compared.current.a });
      }
    },
    [model],
  );
  const shown = useMemo(
    () => (details ? withComparison(fanout ? { ...details, fanout } : details, other, comparison) : null),
    [details, fanout, other, comparison],
  );

  const ask = useCallback(
    (type: "new-op" | "source", body: Record<string, unknown>) =>
      new Promise<Incoming & { type: "new-op" | "source" }>((resolve) => {
        const request = ++nextRequest.current;
        pending.current.set(request, resolve);
        model.send({ type, request, ...body });
      }),
    [model],
  );
  const onNewOp = useCallback(
    async (spec: NewOpSpec) => {
      const answer = await ask("new-op", { spec });
      if (answer.error) throw new Error(answer.error);
    },
    [ask],
  );
  const onOpenSource = useCallback(
    (file: string, line?: number) => {
      if (offerSource(el, file, line)) return; // JupyterLab opened it in its editor
      // else the Python side reads it (an error is its notice)
      void ask("source", { file, line: line ?? null }).then((answer) => {
        if (!answer.error && answer.text !== undefined)
          setSource({ file: answer.file ?? file, line: answer.line ?? null, text: answer.text });
      });
    },
    [ask, el],
  );

  if (!graph || !graph.templates)
    return <div className="dfl-root dfl-empty">{decoding ? "Loading the workflow…" : "No workflow."}</div>;
  return (
    <Canvas
      graph={graph}
      mode={view === "monitor" ? "monitor" : "edit"}
      issues={issues}
      palette={palette}
      status={status}
      workflow={workflow}
      details={shown}
      notice={compareNotice ? { level: "info", text: compareNotice } : notice}
      actions={actions}
      runs={view === "monitor" ? runs : null}
      height={height}
      codeEditor={WidgetCodeEditor}
      onNewOp={view === "monitor" ? undefined : onNewOp}
      onOpenSource={onOpenSource}
      overlay={source && <SourceView source={source} onClose={() => setSource(null)} />}
      onChange={onChange}
      onAction={onAction}
      onStepClick={onStepClick}
    />
  );
}

export default {
  render({ model, el }: { model: AnyModel; el: HTMLElement }) {
    el.classList.add("dflow-lab-widget");
    const release = offerElk(model); // elk's script comes from the kernel, when a layout needs it
    const root = createRoot(el);
    root.render(<WidgetApp model={model} el={el} />);
    return () => {
      root.unmount();
      release();
    };
  },
};
