// The run monitor in a main-area tab: the run's graph drawn by the shared canvas in monitor mode, nodes
// coloured by phase from the server's live event stream, a step's details (inputs, outputs with
// artifact previews, logs, attempts) on click, stop/retry/resubmit, and the partial re-runs of the iterate loop
// (Run this step, Run from here, Re-run failed) on this run's results. One tab per document: its run picker
// (the canvas's RunPicker) lists every run of the document, and showing another run or starting a new one
// replaces the tab's content (`showRun`); a run without a document has a tab of its own.
import { ReactWidget } from "@jupyterlab/ui-components";
import { Signal } from "@lumino/signaling";
import { Canvas, type HostAction, type WorkflowState } from "@dflow-lab/canvas/Canvas";
import { type Comparison, compareMarks, compareSummary, withComparison } from "@dflow-lab/canvas/compare";
import type { RunPickerState } from "@dflow-lab/canvas/RunPicker";
import { KeyedStore, Live } from "@dflow-lab/canvas/store";
import { StatusFeed } from "@dflow-lab/canvas/statusFeed";
import type { Graph, NodeStatus, StepDetails } from "@dflow-lab/canvas/types";
import { api, type Engine, follow, type Rerun, type StreamMessage, type WorkflowRow } from "./api";
import { useSignal } from "./hooks";
import { FINAL, progressText } from "./phases";

export interface MonitorHost {
  /** show run `name` (in its document's tab when `documentPath` is given or known) */
  openMonitor(engine: Engine, name: string, documentPath?: string | null): void;
  runsChanged(): void;
  /** the document a run was started from, as it is now in its open editor (a partial re-run runs that) */
  documentOf?(name: string, documentPath?: string | null): { graph: Graph; path: string } | null;
}

const RERUN: Record<string, Rerun["mode"]> = { "run-only": "only", "run-from": "from", "rerun-failed": "failed" };

const RECONNECT_MS = 1000;
const EMPTY = { counts: {}, total: 0 };
const MAX_RECONNECTS = 30;

export class MonitorView extends ReactWidget {
  readonly changed = new Signal<this, void>(this);
  /** another run is shown (`showRun`): the tab's title and restore data follow */
  readonly shown = new Signal<this, void>(this);
  status = new KeyedStore<NodeStatus>();
  /** the stream's status messages, applied to `status` in slices (statusFeed.ts) */
  private feed = new StatusFeed(this.status);
  graph: Graph | null = null;
  /** the run's phase and progress: the toolbar follows it without a re-render of the canvas */
  readonly live = new Live<WorkflowState | null>(null);
  details: StepDetails | null = null;
  /** every run of the same document (newest first, this one included): the run picker */
  history: WorkflowRow[] = [];
  comparison: Comparison | null = null;
  notice: { level: "info" | "error"; text: string } | null = null;
  private abort = new AbortController();
  /** the step panel's last request: only its answer is shown */
  private detailsRequest = 0;

  constructor(
    public engine: Engine,
    public name: string,
    private readonly host: MonitorHost,
    /** the document the run was started from (relative to the server's root), when known */
    public documentPath: string | null = null,
  ) {
    super();
    this.addClass("dfl-lab-monitor");
    void this.start();
  }

  /** Show run `name` in this tab instead of the current one (the run picker, a re-run of this document). */
  showRun(engine: Engine, name: string): void {
    if (engine === this.engine && name === this.name) return;
    this.abort.abort();
    this.abort = new AbortController();
    this.engine = engine;
    this.name = name;
    this.status = new KeyedStore<NodeStatus>(); // a fresh canvas store: no phase of the last run lingers
    this.feed.clear();
    this.feed = new StatusFeed(this.status);
    this.graph = null;
    this.workflow = null;
    this.details = null;
    this.comparison = null;
    this.notice = null;
    this.emit();
    this.shown.emit();
    void this.start();
  }

  get workflow(): WorkflowState | null {
    return this.live.get();
  }

  set workflow(state: WorkflowState | null) {
    this.live.set(state);
  }

  private emit(): void {
    this.changed.emit();
  }

  private notify(text: string | null, level: "info" | "error" = "info"): void {
    this.notice = text === null ? null : { level, text };
    this.emit();
  }

  /** Load the run, then follow its event stream until it ends (reconnecting if the stream drops). */
  private async start(): Promise<void> {
    const signal = this.abort.signal;
    try {
      const w = await api.workflow(this.engine, this.name);
      if (signal.aborted) return; // another run was shown meanwhile
      this.graph = w.graph;
      this.documentPath = w.workflow.documentPath ?? this.documentPath;
      this.feed.push({ changes: w.status, reset: true });
      this.workflow = {
        phase: w.workflow.phase,
        startedAt: w.workflow.startedAt,
        finishedAt: w.workflow.finishedAt,
        progress: w.workflow.progress.total ? progressText(w.workflow.progress) : null,
        message: w.workflow.message,
      };
      if (w.graph_error) this.notify(`this run's graph cannot be drawn: ${w.graph_error}`, "error");
      this.emit();
      void this.loadHistory();
    } catch (e) {
      if (!signal.aborted) this.notify(`${this.name}: ${e instanceof Error ? e.message : e}`, "error");
      return;
    }
    for (let attempt = 0; !signal.aborted && attempt < MAX_RECONNECTS; attempt++) {
      try {
        await follow(this.engine, this.name, this.onMessage, signal);
        return; // the run finished
      } catch (e) {
        if (signal.aborted) return;
        this.notify(`reconnecting to the run's events (${e instanceof Error ? e.message : e})`, "error");
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    }
  }

  private onMessage = (m: StreamMessage): void => {
    if (m.type === "status") {
      this.feed.push(m); // the comparison's marks stay on the nodes the stream updates
      if (this.notice?.text.startsWith("reconnecting")) this.notify(null);
    } else {
      const phase = this.workflow?.phase;
      this.workflow = m.state; // the toolbar's run state follows (RunState)
      // the buttons and the run picker change with the phase only: the canvas is not re-rendered per batch
      if (m.state.phase !== phase) this.emit();
      if (FINAL.has(m.state.phase ?? "")) {
        this.host.runsChanged();
        void this.loadHistory(); // the picker shows this run's final phase
      }
    }
  };

  onStepClick = (path: string | null, item?: number): void => {
    const request = ++this.detailsRequest;
    if (path === null) {
      this.details = null;
      this.emit();
      return;
    }
    const comparison = this.comparison;
    const other = comparison?.a;
    const name = this.name;
    Promise.all([
      api.details(this.engine, name, path, item),
      other ? api.details(this.engine, other, path, item).catch(() => null) : Promise.resolve(null),
    ]).then(
      ([d, o]) => {
        // another run is shown now, or another step was asked for since (a slower answer must not replace it)
        if (name !== this.name || request !== this.detailsRequest) return;
        const keep = this.details?.path === path ? this.details.fanout : null; // the page and filter stay
        this.details = withComparison(d, o, comparison);
        if (keep) this.details = { ...this.details, fanout: keep };
        this.emit();
        if ((this.status.get(path)?.total ?? 0) > 1 && !keep) void this.fanoutPage(path, 0, null);
      },
      (e) => this.notify(`${path}: ${e instanceof Error ? e.message : e}`, "error"),
    );
  };

  actions(): HostAction[] {
    const phase = this.workflow?.phase ?? "Pending";
    if (!FINAL.has(phase)) return [{ action: "stop", label: "■ Stop", title: "Stop the run" }];
    const compare: HostAction[] = this.comparison
      ? [{ action: "compare-off", label: `✕ End comparison with ${this.comparison.a}`, title: "Show this run alone" }]
      : [];
    return [
      ...compare,
      ...(phase !== "Succeeded" ? [{ action: "retry", label: "↻ Retry", title: "Retry the failed steps" }] : []),
      { action: "resubmit", label: "⟲ Resubmit", title: "Run the workflow again" },
    ];
  }

  /** Run this step / Run from here / Re-run failed on this run's results: the document as it is now in its
   * editor (or this run's graph), then the new run's monitor. */
  private async rerun(mode: Rerun["mode"], path: string | undefined): Promise<void> {
    const doc = this.host.documentOf?.(this.name, this.documentPath) ?? null;
    const graph = doc?.graph ?? this.graph;
    if (!graph) return;
    const step = mode === "failed" ? undefined : path?.split("/").pop();
    const run = await api.run(graph, this.engine, doc?.path, { mode, step, run: this.name });
    const from = this.name;
    const documentPath = doc?.path ?? this.documentPath;
    this.host.openMonitor(this.engine, run.name, documentPath);
    this.host.runsChanged();
    if (this.name === run.name) this.notify(`Started ${run.name}, reusing the results of ${from}`);
  }

  /** Every run of the document (the run picker); without a document, this run alone. */
  async loadHistory(): Promise<void> {
    if (!this.documentPath) return;
    const name = this.name;
    try {
      const { workflows } = await api.history(this.documentPath);
      if (name !== this.name) return;
      this.history = workflows;
      this.emit();
    } catch {
      this.history = []; // the picker offers this run alone when the history cannot be read
    }
  }

  /** The run picker: every run of the document, this one and the compared one marked. */
  runPicker(): RunPickerState {
    const runs: WorkflowRow[] = this.history.some((w) => w.name === this.name && w.engine === this.engine)
      ? this.history
      : [{ name: this.name, engine: this.engine, phase: this.workflow?.phase ?? "Pending", progress: EMPTY }];
    return {
      current: this.name,
      engine: this.engine,
      comparing: this.comparison?.a ?? null,
      document: this.documentPath?.split("/").pop() ?? null,
      runs: runs.map((w) => ({
        name: w.name,
        engine: w.engine,
        phase: w.name === this.name && this.workflow?.phase ? this.workflow.phase : w.phase,
        startedAt: w.startedAt,
        created: w.created,
        progress: w.progress.total ? progressText(w.progress) : null,
        reusedFrom: w.reusedFrom,
      })),
    };
  }

  /** Compare this run with `other` on the graph (null: stop comparing). */
  async compare(other: string | null): Promise<void> {
    const c = other === null ? null : await api.compare(this.engine, this.name, other);
    this.status.update(compareMarks(this.status, this.comparison, c));
    this.comparison = c;
    this.notify(c ? compareSummary(c) : null);
    if (this.details) this.onStepClick(this.details.path, this.details.item ?? undefined);
    this.emit();
  }

  /** One page of a fan-out's items in the step panel (200 a page at most), filtered by phase. */
  async fanoutPage(path: string, offset: number, phase: string | null): Promise<void> {
    const page = await api.items(this.engine, this.name, path, offset, phase);
    if (this.details?.path === path) this.details = { ...this.details, fanout: { ...page, phase } };
    this.emit();
  }

  /** The log of one retry attempt in the step panel. */
  private async attemptLog(node: string): Promise<void> {
    const { lines } = await api.logs(this.engine, this.name, node);
    if (this.details) this.details = { ...this.details, logs: lines.join("\n"), logsAttempt: node };
    this.emit();
  }

  onAction = async (action: string): Promise<void> => {
    const [verb, path] = action.split(":"); // "retry:<step>" from a step's panel retries that step only
    try {
      if (verb in RERUN) return await this.rerun(RERUN[verb], path);
      if (verb === "compare-off") return await this.compare(null);
      if (verb.startsWith("items@")) {
        const [, offset, phase] = verb.split("@");
        return await this.fanoutPage(path, Number(offset) || 0, phase || null);
      }
      if (verb.startsWith("compare=")) return await this.compare(verb.slice("compare=".length));
      if (verb.startsWith("show-run=")) {
        const [engine, name] = verb.slice("show-run=".length).split("/");
        return this.host.openMonitor(engine === "argo" ? "argo" : "local", name, this.documentPath);
      }
      if (verb.startsWith("logs@")) return await this.attemptLog(verb.slice("logs@".length));
      const result = await api.action(this.engine, this.name, verb, verb === "retry" ? path : undefined);
      if (verb === "resubmit") {
        this.host.openMonitor(this.engine, result.name, this.documentPath);
        this.notify(`Resubmitted as ${result.name}`);
      } else if (verb === "retry") {
        this.notify(`Retrying ${path || this.name}…`);
        this.abort.abort();
        this.abort = new AbortController();
        void this.start();
      } else {
        this.notify(`${verb} requested`);
      }
      this.host.runsChanged();
    } catch (e) {
      this.notify(`${verb}: ${e instanceof Error ? e.message : e}`, "error");
    }
  };

  dispose(): void {
    this.abort.abort();
    super.dispose();
  }

  render(): JSX.Element {
    return <MonitorPane view={this} />;
  }
}

function MonitorPane({ view }: { view: MonitorView }) {
  useSignal(view.changed);
  if (!view.graph) {
    return (
      <div className="dfl-lab-loading" data-testid="monitor-empty">
        {view.notice?.text ?? "Loading run…"} {view.workflow?.phase ? `(${view.workflow.phase})` : ""}
      </div>
    );
  }
  return (
    <Canvas
      readableFit
      graph={view.graph}
      mode="monitor"
      status={view.status}
      workflow={view.live}
      details={view.details}
      notice={view.notice}
      actions={view.actions()}
      runs={view.runPicker()}
      onStepClick={view.onStepClick}
      onAction={(a) => void view.onAction(a)}
    />
  );
}
