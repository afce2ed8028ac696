// The monitor's run picker, shared by the lab's monitor tab and the notebook widget: every run of the document
// (newest first) with its start time, phase and progress, a page at a time in a scrollable list; a click on a
// run shows it in the same monitor, "⇄" compares the shown run with it on the graph. The host owns the list
// and answers the actions: `show-run=<engine>/<name>`, `compare=<name>`, `compare-off`.
import { useEffect, useRef, useState } from "react";
import "./runs.css";

/** One run of the document, as the host lists it. */
export interface RunRow {
  name: string;
  engine?: string;
  phase: string;
  startedAt?: string | null;
  created?: string | null;
  /** "k / N succeeded, m failed", formatted by the host (the same text as its Workflows list) */
  progress?: string | null;
  /** the run a partial re-run reused steps of */
  reusedFrom?: string | null;
}

export interface RunPickerState {
  /** the run shown in the monitor */
  current: string;
  engine?: string;
  /** the document's runs, newest first (the shown one among them) */
  runs: RunRow[];
  /** the run compared with, while comparing */
  comparing?: string | null;
  /** what the runs belong to (a document's file name), for the title */
  document?: string | null;
}

export const RUN_PAGE = 25;

/** "14:03:12" today, "Dec 4 14:03" before: when a run started, in the browser's time zone. */
export function startText(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "";
  const time = t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  return t.toDateString() === now.toDateString()
    ? time
    : `${t.toLocaleDateString([], { month: "short", day: "numeric" })} ${time.slice(0, 5)}`;
}

/** The rows of the first `pages` pages, and how many runs are left below them. */
export function runPage(runs: RunRow[], pages: number, size = RUN_PAGE): { rows: RunRow[]; left: number } {
  const rows = runs.slice(0, Math.max(1, pages) * size);
  return { rows, left: runs.length - rows.length };
}

export function RunPicker({ state, onAction }: { state: RunPickerState; onAction?(action: string): void }) {
  const [open, setOpen] = useState(false);
  const [pages, setPages] = useState(1);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);
  const { rows, left } = runPage(state.runs, pages);
  const act = (a: string) => {
    setOpen(false);
    onAction?.(a);
  };
  return (
    <div className="dfl-run-picker" ref={box}>
      <button
        className="dfl-button"
        data-action="runs"
        aria-expanded={open}
        title={`Every run of ${state.document ?? "this workflow"}: show one, or compare it with this run`}
        onClick={() => setOpen(!open)}
      >
        Runs ({state.runs.length}) ▾
      </button>
      {open && (
        <div className="dfl-run-menu" role="dialog" aria-label="Runs">
          <div className="dfl-run-menu-title">
            Runs of {state.document ?? "this workflow"}{" "}
            <span className="dfl-muted">
              {rows.length} of {state.runs.length}
            </span>
          </div>
          <ul className="dfl-run-list">
            {rows.map((r) => {
              const current = r.name === state.current;
              const sameEngine = !r.engine || !state.engine || r.engine === state.engine;
              return (
                <li
                  key={`${r.engine ?? ""}/${r.name}`}
                  className="dfl-run-row"
                  data-name={r.name}
                  data-phase={r.phase}
                  aria-current={current}
                  data-compared={state.comparing === r.name || undefined}
                  title={r.reusedFrom ? `re-run on the results of ${r.reusedFrom}` : undefined}
                  onClick={() => !current && act(`show-run=${r.engine ?? state.engine ?? ""}/${r.name}`)}
                >
                  <span className="dfl-run-when">{startText(r.startedAt ?? r.created)}</span>
                  <span className="dfl-run-name">{r.name}</span>
                  <span className="dfl-chip" data-phase={r.phase}>
                    {r.phase}
                  </span>
                  <span className="dfl-muted dfl-run-progress">{r.progress ?? ""}</span>
                  {r.engine && state.engine && r.engine !== state.engine && (
                    <span className="dfl-muted">{r.engine}</span>
                  )}
                  <button
                    className="dfl-button dfl-run-compare"
                    data-action={`compare=${r.name}`}
                    disabled={current || !sameEngine}
                    title={
                      current
                        ? "the run shown"
                        : sameEngine
                          ? `Compare ${state.current} with ${r.name} on the graph`
                          : "runs of different engines cannot be compared"
                    }
                    onClick={(e) => {
                      e.stopPropagation();
                      act(`compare=${r.name}`);
                    }}
                  >
                    ⇄ Compare
                  </button>
                </li>
              );
            })}
          </ul>
          {left > 0 && (
            <button className="dfl-button dfl-run-more" data-page="more" onClick={() => setPages(pages + 1)}>
              Show {Math.min(left, RUN_PAGE)} more ({left} older)
            </button>
          )}
        </div>
      )}
    </div>
  );
}
