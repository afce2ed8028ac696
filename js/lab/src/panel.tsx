// The Workflows side panel: local and Argo runs with phase, progress and duration; a click opens the
// run's monitor. The list is refreshed while the panel is visible and whenever a run starts or ends.
import { ReactWidget } from "@jupyterlab/ui-components";
import { Signal } from "@lumino/signaling";
import { type Engine, type WorkflowRow, api } from "./api";
import { useSignal } from "./hooks";
import { workflowIcon } from "./icons";
import { FINAL, formatDuration, progressText } from "./phases";

const REFRESH_MS = 1500;

export class WorkflowsPanel extends ReactWidget {
  readonly changed = new Signal<this, void>(this);
  rows: WorkflowRow[] = [];
  errors: Record<string, string> = {};
  error: string | null = null;
  loaded = false;
  private timer = 0;
  private inFlight = false;

  constructor(private readonly open: (engine: Engine, name: string) => void) {
    super();
    this.id = "dflow-lab-workflows";
    this.title.icon = workflowIcon;
    this.title.caption = "Workflows (dflow-lab)";
    this.addClass("dfl-lab-panel");
  }

  /** Fetch the list now. */
  async refresh(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const r = await api.workflows();
      this.rows = r.workflows;
      this.errors = r.errors;
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    } finally {
      this.inFlight = false;
      this.loaded = true;
      this.changed.emit();
    }
  }

  protected onAfterShow(): void {
    void this.refresh();
    window.clearInterval(this.timer);
    this.timer = window.setInterval(() => {
      if (this.isVisible) void this.refresh();
    }, REFRESH_MS);
  }

  protected onAfterHide(): void {
    window.clearInterval(this.timer);
  }

  dispose(): void {
    window.clearInterval(this.timer);
    super.dispose();
  }

  openRun(row: WorkflowRow): void {
    this.open(row.engine, row.name);
  }

  render(): JSX.Element {
    return <PanelView panel={this} />;
  }
}

/** "14:03:12" today, "Dec 4 14:03" before: when a run started, in the browser's time zone. */
export function startText(iso: string | null | undefined): string {
  if (!iso) return "";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "";
  const time = t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  return t.toDateString() === new Date().toDateString()
    ? time
    : `${t.toLocaleDateString([], { month: "short", day: "numeric" })} ${time.slice(0, 5)}`;
}

function Row({ row, onOpen }: { row: WorkflowRow; onOpen(): void }) {
  const running = !FINAL.has(row.phase);
  return (
    <li
      className="dfl-lab-run"
      data-name={row.name}
      data-phase={row.phase}
      onClick={onOpen}
      title={row.message ?? `${row.name} (${row.engine}): ${row.phase}`}
    >
      <span className="dfl-lab-dot" data-phase={row.phase} />
      <span className="dfl-lab-run-name">{row.name}</span>
      <span className="dfl-lab-run-engine">{row.engine}</span>
      <span className="dfl-lab-run-phase" data-testid="run-phase">
        {row.phase}
      </span>
      <span className="dfl-lab-run-progress">{row.progress.total ? progressText(row.progress) : ""}</span>
      <span className="dfl-lab-run-duration">
        {formatDuration(row.duration)}
        {running && row.startedAt ? "…" : ""}
      </span>
      <span
        className="dfl-lab-run-meta"
        data-testid="run-meta"
        title={[row.startedAt && `started ${row.startedAt}`, row.documentPath && `from ${row.documentPath}`]
          .filter(Boolean)
          .join("\n")}
      >
        {[startText(row.startedAt ?? row.created), row.documentPath?.split("/").pop()].filter(Boolean).join(" · ")}
      </span>
    </li>
  );
}

function PanelView({ panel }: { panel: WorkflowsPanel }) {
  useSignal(panel.changed);
  return (
    <div className="dfl-lab-panel-body">
      <div className="dfl-lab-panel-head">
        <span className="dfl-lab-panel-title">Workflows</span>
        <button className="dfl-lab-refresh" title="Refresh" onClick={() => void panel.refresh()}>
          ⟳
        </button>
      </div>
      {panel.error && <div className="dfl-lab-error">{panel.error}</div>}
      {Object.entries(panel.errors).map(([engine, message]) => (
        <div key={engine} className="dfl-lab-error" title={message}>
          {engine}: {message}
        </div>
      ))}
      {panel.loaded && !panel.rows.length && !panel.error && (
        <div className="dfl-lab-hint">No workflows yet. Run one from a Workflow Editor.</div>
      )}
      <ul className="dfl-lab-runs">
        {panel.rows.map((row) => (
          <Row key={`${row.engine}/${row.name}`} row={row} onOpen={() => panel.openRun(row)} />
        ))}
      </ul>
    </div>
  );
}
