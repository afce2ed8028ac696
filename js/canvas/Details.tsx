// The monitor's step panel: phase, key, duration, error, where it was reused from, inputs and outputs (artifact
// previews), retry attempts and logs, and the buttons of the iterate loop (run this step, from here, failed).
import { useLayoutEffect, useRef } from "react";
import { formatDuration } from "./nodes";
import type { Attempt, FanoutPage, PortValue, Preview, StepDetails } from "./types";

/** Labels of the step panel's buttons (the action names the kernel or the server extension handle). */
export const ACTION_LABELS: Record<string, { label: string; title: string }> = {
  "run-only": { label: "▶ Run this step", title: "Run this step alone; every other step is reused from this run" },
  "run-from": {
    label: "▶▶ Run from here",
    title: "Run this step and everything downstream; the upstream steps are reused from this run",
  },
  "rerun-failed": {
    label: "↻ Re-run failed",
    title: "Re-run the failed steps and what follows them; the succeeded steps are reused",
  },
  retry: { label: "↻ Retry", title: "Retry this step in this run" },
  resubmit: { label: "⟲ Resubmit", title: "Run the whole workflow again" },
};

function previewLines(p: Preview | undefined): string[] | null {
  if (!p) return null;
  if (p.kind === "text" || p.kind === "json") return p.text.split("\n");
  if (p.kind === "table") return [p.columns.join(","), ...p.rows.map((r) => r.join(","))];
  return null;
}

/** A line diff (longest common subsequence; previews are bounded, so at most a few hundred lines). */
export function lineDiff(a: string[], b: string[]): { op: " " | "-" | "+"; line: string }[] {
  const n = a.length,
    m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: { op: " " | "-" | "+"; line: string }[] = [];
  let i = 0,
    j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: " ", line: a[i] });
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) out.push({ op: "+", line: b[j++] });
    else out.push({ op: "-", line: a[i++] });
  }
  return out;
}

/** This step in two runs: parameters side by side, text/CSV/JSON artifacts as a diff, images side by side. */
function CompareSides({ details }: { details: StepDetails }) {
  const c = details.compare!;
  const other = c.details;
  const theirs = new Map<string, PortValue>();
  for (const p of [
    ...(other?.inputs ?? []).map((p) => ({ ...p, name: `in ${p.name}` })),
    ...(other?.outputs ?? []).map((p) => ({ ...p, name: `out ${p.name}` })),
  ])
    theirs.set(`${p.kind}:${p.name}`, p);
  const ours = [
    ...details.inputs.map((p) => ({ ...p, name: `in ${p.name}` })),
    ...details.outputs.map((p) => ({ ...p, name: `out ${p.name}` })),
  ];
  const names = [...new Set([...ours.map((p) => `${p.kind}:${p.name}`), ...theirs.keys()])];
  const mine = new Map(ours.map((p) => [`${p.kind}:${p.name}`, p]));
  return (
    <div className="dfl-compare" aria-label="Comparison" data-state={c.state}>
      <div className="dfl-section-title">
        Compared with {c.run}: {c.state}
        {c.fields.length ? ` (${c.fields.join(", ")})` : ""}
      </div>
      <table className="dfl-compare-sides">
        <thead>
          <tr>
            <th />
            <th>{c.run}</th>
            <th>this run</th>
          </tr>
        </thead>
        <tbody>
          <tr data-differs={String(c.duration !== details.duration)}>
            <td>duration</td>
            <td>{c.duration != null ? formatDuration(c.duration) : "—"}</td>
            <td>{details.duration != null ? formatDuration(details.duration) : "—"}</td>
          </tr>
          {names
            .filter((k) => k.startsWith("parameter:"))
            .map((k) => {
              const a = theirs.get(k)?.value,
                b = mine.get(k)?.value;
              return (
                <tr key={k} data-port={k} data-differs={String(a !== b)}>
                  <td>{k.slice(10)}</td>
                  <td>{a ?? "—"}</td>
                  <td>{b ?? "—"}</td>
                </tr>
              );
            })}
        </tbody>
      </table>
      {names
        .filter((k) => k.startsWith("artifact:"))
        .map((k) => {
          const a = theirs.get(k)?.preview,
            b = mine.get(k)?.preview;
          const la = previewLines(a),
            lb = previewLines(b);
          if (la && lb) {
            const diff = lineDiff(la, lb);
            const same = diff.every((d) => d.op === " ");
            return (
              <div key={k} className="dfl-compare-artifact" data-port={k}>
                <div className="dfl-muted">
                  {k.slice(9)} {same ? "(same content)" : ""}
                </div>
                <pre className="dfl-diff">
                  {diff.map((d, i) => (
                    <div key={i} data-op={d.op}>
                      {d.op} {d.line}
                    </div>
                  ))}
                </pre>
              </div>
            );
          }
          return (
            <div key={k} className="dfl-compare-artifact dfl-compare-images" data-port={k}>
              <div className="dfl-muted">{k.slice(9)}</div>
              <div className="dfl-row">
                {a ? <PreviewView preview={a} /> : <span>—</span>}
                {b ? <PreviewView preview={b} /> : <span>—</span>}
              </div>
            </div>
          );
        })}
    </div>
  );
}

const FILTERS = ["", "Succeeded", "Failed", "Running", "Pending", "Skipped", "Omitted"];

/** A fan-out's items, a page at a time ("k / N ok, m failed"), filtered by phase; a click shows an item. */
function FanoutItems({
  page,
  current,
  compare,
  onItem,
  onAction,
}: {
  page: FanoutPage;
  current: number | null | undefined;
  /** while two runs are compared: the group's changed items and their counts */
  compare?: StepDetails["compare"];
  onItem(i: number): void;
  onAction(a: string): void;
}) {
  const c = page.counts;
  const failed = (c.Failed ?? 0) + (c.Error ?? 0);
  const go = (offset: number, phase: string | null | undefined) =>
    onAction(`items@${Math.max(0, offset)}@${phase ?? ""}`);
  const end = page.offset + page.items.length;
  return (
    <div className="dfl-fanout" aria-label="Fan-out items" data-total={page.total} data-matching={page.matching}>
      <div className="dfl-section-title">
        Items: {c.Succeeded ?? 0} / {page.total} ok{failed ? `, ${failed} failed` : ""}
        {c.Running ? `, ${c.Running} running` : ""}
      </div>
      {compare?.items && (
        <div className="dfl-muted dfl-fanout-compare" data-changed={compare.itemCounts?.changed ?? 0}>
          against {compare.run}: {compare.itemCounts?.changed ?? 0} items changed, {compare.itemCounts?.unchanged ?? 0}{" "}
          unchanged
          {compare.itemCounts?.added ? `, ${compare.itemCounts.added} added` : ""}
          {compare.itemCounts?.removed ? `, ${compare.itemCounts.removed} removed` : ""}
        </div>
      )}
      <div className="dfl-row">
        <select
          className="dfl-input dfl-fanout-filter"
          value={page.phase ?? ""}
          onChange={(e) => go(0, e.target.value)}
        >
          {FILTERS.map((f) => (
            <option key={f} value={f}>
              {f || "every phase"}
            </option>
          ))}
        </select>
        <span className="dfl-muted dfl-fanout-range">
          {page.matching ? `${page.offset + 1}–${end} of ${page.matching}` : "none"}
        </span>
        <button
          className="dfl-button"
          data-page="prev"
          disabled={page.offset === 0}
          onClick={() => go(page.offset - page.limit, page.phase)}
        >
          ‹
        </button>
        <button
          className="dfl-button"
          data-page="next"
          disabled={end >= page.matching}
          onClick={() => go(page.offset + page.limit, page.phase)}
        >
          ›
        </button>
      </div>
      <ul className="dfl-fanout-list">
        {page.items.map((it) => {
          const diff = compare?.items ? (compare.items[String(it.index)] ?? { state: "unchanged" }) : null;
          return (
            <li
              key={it.id}
              data-index={it.index}
              data-phase={it.phase}
              data-compare={diff?.state}
              aria-current={it.index === current}
              onClick={() => onItem(it.index)}
              title={it.message ?? undefined}
            >
              <span className="dfl-phase-dot" /> {it.displayName} <span className="dfl-muted">{it.phase}</span>
              {diff && diff.state !== "unchanged" && (
                <span className="dfl-item-compare">
                  {diff.state === "changed" ? `Δ ${(diff.fields ?? []).join(", ")}` : diff.state}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Attempts({
  attempts,
  shown,
  onAction,
}: {
  attempts: Attempt[];
  shown?: string | null;
  onAction(a: string): void;
}) {
  return (
    <div className="dfl-attempts" aria-label="Attempts">
      <div className="dfl-section-title">Attempts</div>
      {attempts.map((a) => (
        <div key={a.id} className="dfl-attempt" data-attempt={a.index} data-phase={a.phase}>
          <span className="dfl-chip" data-phase={a.phase}>
            #{a.index + 1} {a.phase}
          </span>
          {a.duration != null && <span className="dfl-muted">{formatDuration(a.duration)}</span>}
          {a.message && <span className="dfl-attempt-message">{a.message}</span>}
          <button
            className="dfl-button dfl-attempt-log"
            aria-pressed={shown === a.id}
            onClick={() => onAction(`logs@${a.id}`)}
            title="Show this attempt's log"
          >
            log
          </button>
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
          {preview.text}
          {preview.truncated ? "\n…" : ""}
        </pre>
      );
    case "table":
      return (
        <div className="dfl-preview dfl-preview-table">
          <table>
            <thead>
              <tr>
                {preview.columns.map((c, i) => (
                  <th key={i}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {preview.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((v, j) => (
                    <td key={j}>{v}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {preview.truncated && <div className="dfl-muted">first rows shown</div>}
        </div>
      );
    case "image":
      return (
        <img
          className="dfl-preview dfl-preview-image"
          src={`data:${preview.mime};base64,${preview.data}`}
          alt="artifact"
        />
      );
    case "array":
      return (
        <div className="dfl-preview dfl-preview-array">
          <div className="dfl-muted">
            array {preview.dtype} shape ({preview.shape.join(", ")})
          </div>
          <pre>{preview.summary}</pre>
        </div>
      );
    case "directory":
      return (
        <ul className="dfl-preview dfl-preview-directory">
          {preview.entries.map((e) => (
            <li key={e.name}>
              {e.dir ? "📁" : "📄"} {e.name}
              {e.size !== null ? <span className="dfl-muted"> {e.size} B</span> : null}
            </li>
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
    <pre
      className="dfl-logs"
      ref={box}
      onScroll={(e) => {
        const el = e.currentTarget;
        atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
      }}
    >
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

export function Details({
  details,
  onClose,
  onItem,
  onAction,
}: {
  details: StepDetails;
  onClose(): void;
  onItem(index: number): void;
  onAction(action: string): void;
}) {
  return (
    <div className="dfl-details" aria-label="Step details" data-path={details.path}>
      <div className="dfl-panel-title">
        <span>{details.path}</span>
        <button className="dfl-icon-button" onClick={onClose} title="Close">
          ✕
        </button>
      </div>
      {details.error ? (
        <div className="dfl-error">{details.error}</div>
      ) : (
        <>
          <div className="dfl-detail-meta">
            {details.phase && (
              <span className="dfl-chip" data-phase={details.phase}>
                {details.phase}
              </span>
            )}
            {details.duration != null && <span>{formatDuration(details.duration)}</span>}
            {details.key && <span className="dfl-muted">key {details.key}</span>}
          </div>
          {details.executor && (
            <div className="dfl-detail-meta" aria-label="Executor" data-executor={details.executor.kind}>
              <span className="dfl-muted">runs through</span>
              <span>{details.executor.kind}</span>
              {details.executor.target && <span className="dfl-muted">{details.executor.target}</span>}
              {details.slurmJobId && (
                <span className="dfl-chip" title="Slurm job id">
                  Slurm job {details.slurmJobId}
                </span>
              )}
            </div>
          )}
          {details.reusedFrom && (
            <div className="dfl-detail-meta dfl-reused" aria-label="Reused">
              reused from run <b>{details.reusedFrom}</b>
            </div>
          )}
          {details.message && <div className="dfl-error">{details.message}</div>}
          {details.fanout && (
            <FanoutItems
              page={details.fanout}
              current={details.item}
              compare={details.compare}
              onItem={onItem}
              onAction={onAction}
            />
          )}
          {!details.fanout && details.items && details.items.length > 0 && (
            <label className="dfl-field">
              <span className="dfl-field-label">item</span>
              <select className="dfl-input" value={details.item ?? 0} onChange={(e) => onItem(Number(e.target.value))}>
                {details.items.map((it) => (
                  <option key={it.index} value={it.index}>
                    {it.label} — {it.phase}
                  </option>
                ))}
              </select>
            </label>
          )}
          {details.actions && details.actions.length > 0 && (
            <div className="dfl-row">
              {details.actions.map((a) => (
                <button
                  key={a}
                  className="dfl-button"
                  data-action={a}
                  title={ACTION_LABELS[a]?.title}
                  onClick={() => onAction(a)}
                >
                  {ACTION_LABELS[a]?.label ?? a}
                </button>
              ))}
            </div>
          )}
          <div className="dfl-section-title">Inputs</div>
          {details.inputs.length ? (
            details.inputs.map((p) => <Port key={`i-${p.kind}-${p.name}`} p={p} />)
          ) : (
            <div className="dfl-muted">none</div>
          )}
          <div className="dfl-section-title">Outputs</div>
          {details.outputs.length ? (
            details.outputs.map((p) => <Port key={`o-${p.kind}-${p.name}`} p={p} />)
          ) : (
            <div className="dfl-muted">none</div>
          )}
          {details.compare && <CompareSides details={details} />}
          {details.attempts && details.attempts.length > 0 && (
            <Attempts attempts={details.attempts} shown={details.logsAttempt} onAction={onAction} />
          )}
          {details.logs !== undefined && (
            <>
              <div className="dfl-section-title">
                Logs
                {details.logsAttempt && details.attempts
                  ? ` (attempt #${(details.attempts.find((a) => a.id === details.logsAttempt)?.index ?? 0) + 1})`
                  : ""}
                {details.phase === "Running" && (
                  <span
                    className="dfl-live"
                    style={{ color: "var(--dfl-running)", fontWeight: 400 }}
                    title="new lines appear as the step writes them"
                  >
                    {" "}
                    ● live
                  </span>
                )}
              </div>
              <LogView text={details.logs} />
            </>
          )}
        </>
      )}
    </div>
  );
}
