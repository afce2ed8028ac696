// The Workflows side panel: local and Argo runs with phase, progress and duration, grouped by the document
// they ran from (newest group first, each folded or unfolded by a click on its head; runs started elsewhere
// are "Other runs"); a click opens the run in its document's monitor tab. The list is refreshed while the
// panel is visible and whenever a run starts or ends.
import { ReactWidget } from "@jupyterlab/ui-components";
import { startText } from "@dflow-lab/canvas/RunPicker";
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

  /** the groups folded by the user (by document path) */
  readonly folded = new Set<string>();

  constructor(private readonly open: (engine: Engine, name: string, documentPath?: string | null) => void) {
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
    this.open(row.engine, row.name, row.documentPath ?? null);
  }

  toggle(key: string): void {
    if (!this.folded.delete(key)) this.folded.add(key);
    this.changed.emit();
  }

  render(): JSX.Element {
    return <PanelView panel={this} />;
  }
}

/** A group of the panel: the runs of one document (`key` its path), or those without one (`key` ""). */
export interface RunGroup {
  key: string;
  label: string;
  rows: WorkflowRow[];
}

/** Rows grouped by their document, newest group first (rows come newest first); runs without a document last. */
export function groupRuns(rows: WorkflowRow[]): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  for (const row of rows) {
    const key = row.documentPath ?? "";
    let g = groups.get(key);
    if (!g) {
      g = { key, label: key ? (key.split("/").pop() ?? key) : "Other runs", rows: [] };
      groups.set(key, g);
    }
    g.rows.push(row);
  }
  const out = [...groups.values()];
  return [...out.filter((g) => g.key), ...out.filter((g) => !g.key)];
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
        title={[
          row.startedAt && `started ${row.startedAt}`,
          row.documentPath && `from ${row.documentPath}`,
          row.reusedFrom && `reused the results of ${row.reusedFrom}`,
        ]
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
      {groupRuns(panel.rows).map((g) => {
        const folded = panel.folded.has(g.key);
        const last = g.rows[0];
        return (
          <div key={g.key} className="dfl-lab-group" data-document={g.key} aria-expanded={!folded}>
            <div
              className="dfl-lab-group-head"
              title={g.key ? `Runs of ${g.key}` : "Runs not started from a document of this lab"}
              onClick={() => panel.toggle(g.key)}
            >
              <span className="dfl-lab-group-caret">{folded ? "▸" : "▾"}</span>
              <span className="dfl-lab-group-name">{g.label}</span>
              <span className="dfl-lab-dot" data-phase={last.phase} title={`newest run: ${last.phase}`} />
              <span className="dfl-lab-group-count">
                {g.rows.length} run{g.rows.length > 1 ? "s" : ""}
              </span>
            </div>
            {!folded && (
              <ul className="dfl-lab-runs">
                {g.rows.map((row) => (
                  <Row key={`${row.engine}/${row.name}`} row={row} onOpen={() => panel.openRun(row)} />
                ))}
              </ul>
            )}
          </div>
        );
      })}
    </div>
  );
}
