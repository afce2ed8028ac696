// The monitor's step panel: phase, key, duration, error, where it was reused from, inputs and outputs (artifact
// previews), retry attempts and logs, and the buttons of the iterate loop (run this step, from here, failed).
import { useLayoutEffect, useRef } from "react";
import { formatDuration } from "./nodes";
import type { Attempt, PortValue, Preview, StepDetails } from "./types";

/** Labels of the step panel's buttons (the action names the kernel or the server extension handle). */
export const ACTION_LABELS: Record<string, { label: string; title: string }> = {
  "run-only": { label: "▶ Run this step", title: "Run this step alone; every other step is reused from this run" },
  "run-from": { label: "▶▶ Run from here", title: "Run this step and everything downstream; the upstream steps are reused from this run" },
  "rerun-failed": { label: "↻ Re-run failed", title: "Re-run the failed steps and what follows them; the succeeded steps are reused" },
  retry: { label: "retry", title: "Retry this step in this run" },
};

function Attempts({ attempts, shown, onAction }: { attempts: Attempt[]; shown?: string | null; onAction(a: string): void }) {
  return (
    <div className="dfl-attempts" aria-label="Attempts">
      <div className="dfl-section-title">Attempts</div>
      {attempts.map((a) => (
        <div key={a.id} className="dfl-attempt" data-attempt={a.index} data-phase={a.phase}>
          <span className="dfl-chip" data-phase={a.phase}>#{a.index + 1} {a.phase}</span>
          {a.duration != null && <span className="dfl-muted">{formatDuration(a.duration)}</span>}
          {a.message && <span className="dfl-attempt-message">{a.message}</span>}
          <button className="dfl-button dfl-attempt-log" aria-pressed={shown === a.id}
            onClick={() => onAction(`logs@${a.id}`)} title="Show this attempt's log">log</button>
        </div>
      ))}
    </div>
  );
}

export function PreviewView({ preview }: { preview: Preview }) {
  switch (preview.kind) {
    case "text":
    case "json":
      return (
        <pre className={`dfl-preview dfl-preview-${preview.kind}`}>
          {preview.text}{preview.truncated ? "\n…" : ""}
        </pre>
      );
    case "table":
      return (
        <div className="dfl-preview dfl-preview-table">
          <table>
            <thead><tr>{preview.columns.map((c, i) => <th key={i}>{c}</th>)}</tr></thead>
            <tbody>{preview.rows.map((r, i) => <tr key={i}>{r.map((v, j) => <td key={j}>{v}</td>)}</tr>)}</tbody>
          </table>
          {preview.truncated && <div className="dfl-muted">first rows shown</div>}
        </div>
      );
    case "image":
      return <img className="dfl-preview dfl-preview-image" src={`data:${preview.mime};base64,${preview.data}`} alt="artifact" />;
    case "array":
      return (
        <div className="dfl-preview dfl-preview-array">
          <div className="dfl-muted">array {preview.dtype} shape ({preview.shape.join(", ")})</div>
          <pre>{preview.summary}</pre>
        </div>
      );
    case "directory":
      return (
        <ul className="dfl-preview dfl-preview-directory">
          {preview.entries.map((e) => (
            <li key={e.name}>{e.dir ? "📁" : "📄"} {e.name}{e.size !== null ? <span className="dfl-muted"> {e.size} B</span> : null}</li>
          ))}
          {preview.truncated && <li className="dfl-muted">…</li>}
        </ul>
      );
    case "binary":
      return <div className="dfl-preview dfl-muted">binary file, {preview.size} bytes</div>;
    case "missing":
      return <div className="dfl-preview dfl-muted">{preview.message}</div>;
  }
}

/** The log, kept scrolled to its end while the reader is there (scrolling up stops following). */
function LogView({ text }: { text: string }) {
  const box = useRef<HTMLPreElement>(null);
  const atEnd = useRef(true);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <pre className="dfl-logs" ref={box}
      onScroll={(e) => {
        const el = e.currentTarget;
        atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
      }}>
      {text || "(no output)"}
    </pre>
  );
}

function Port({ p }: { p: PortValue }) {
  return (
    <div className={`dfl-detail-port dfl-port-${p.kind}`} data-port={p.name}>
      <div className="dfl-detail-port-name">
        <span className={`dfl-port-glyph dfl-port-glyph-${p.kind}`} />
        {p.name}
        {p.value !== undefined && <code className="dfl-detail-value">{p.value}</code>}
      </div>
      {p.preview && <PreviewView preview={p.preview} />}
    </div>
  );
}

export function Details({ details, onClose, onItem, onAction }: {
  details: StepDetails;
  onClose(): void;
  onItem(index: number): void;
  onAction(action: string): void;
}) {
  return (
    <div className="dfl-details" aria-label="Step details" data-path={details.path}>
      <div className="dfl-panel-title">
        <span>{details.path}</span>
        <button className="dfl-icon-button" onClick={onClose} title="Close">✕</button>
      </div>
      {details.error ? <div className="dfl-error">{details.error}</div> : (
        <>
          <div className="dfl-detail-meta">
            {details.phase && <span className="dfl-chip" data-phase={details.phase}>{details.phase}</span>}
            {details.duration != null && <span>{formatDuration(details.duration)}</span>}
            {details.key && <span className="dfl-muted">key {details.key}</span>}
          </div>
          {details.executor && (
            <div className="dfl-detail-meta" aria-label="Executor" data-executor={details.executor.kind}>
              <span className="dfl-muted">runs through</span>
              <span>{details.executor.kind}</span>
              {details.executor.target && <span className="dfl-muted">{details.executor.target}</span>}
              {details.slurmJobId && <span className="dfl-chip" title="Slurm job id">Slurm job {details.slurmJobId}</span>}
            </div>
          )}
          {details.reusedFrom && (
            <div className="dfl-detail-meta dfl-reused" aria-label="Reused">reused from run <b>{details.reusedFrom}</b></div>
          )}
          {details.message && <div className="dfl-error">{details.message}</div>}
          {details.items && details.items.length > 0 && (
            <label className="dfl-field">
              <span className="dfl-field-label">item</span>
              <select className="dfl-input" value={details.item ?? 0} onChange={(e) => onItem(Number(e.target.value))}>
                {details.items.map((it) => <option key={it.index} value={it.index}>{it.label} — {it.phase}</option>)}
              </select>
            </label>
          )}
          {details.actions && details.actions.length > 0 && (
            <div className="dfl-row">
              {details.actions.map((a) => (
                <button key={a} className="dfl-button" data-action={a} title={ACTION_LABELS[a]?.title}
                  onClick={() => onAction(a)}>{ACTION_LABELS[a]?.label ?? a}</button>
              ))}
            </div>
          )}
          <div className="dfl-section-title">Inputs</div>
          {details.inputs.length ? details.inputs.map((p) => <Port key={`i-${p.kind}-${p.name}`} p={p} />)
            : <div className="dfl-muted">none</div>}
          <div className="dfl-section-title">Outputs</div>
          {details.outputs.length ? details.outputs.map((p) => <Port key={`o-${p.kind}-${p.name}`} p={p} />)
            : <div className="dfl-muted">none</div>}
          {details.attempts && details.attempts.length > 0 && (
            <Attempts attempts={details.attempts} shown={details.logsAttempt} onAction={onAction} />
          )}
          {details.logs !== undefined && (
            <>
              <div className="dfl-section-title">
                Logs{details.logsAttempt && details.attempts ? ` (attempt #${(details.attempts.find((a) => a.id === details.logsAttempt)?.index ?? 0) + 1})` : ""}{details.phase === "Running" && <span className="dfl-live" style={{ color: "var(--dfl-running)", fontWeight: 400 }}
                  title="new lines appear as the step writes them"> ● live</span>}
              </div>
              <LogView text={details.logs} />
            </>
          )}
        </>
      )}
    </div>
  );
}
