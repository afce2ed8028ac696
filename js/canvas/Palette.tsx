// The palette: templates to drag onto the canvas — the workflow's own, the built-ins (Shell, Python script,
// Container, dflow's utility OPs) and Python OPs found in files, modules and installed packages — grouped
// by where they come from. A module that failed to load shows its error (file, line, message) in its group.
import { type ReactNode, useMemo, useState } from "react";
import { KIND_LABEL, KindIcon } from "./icons";
import { inputPorts, outputPorts } from "./ports";
import type { PaletteEntry, PaletteError } from "./types";

export const DRAG_MIME = "application/x-dflow-lab-template";

export function Palette({
  entries,
  errors,
  onAdd,
  tools,
}: {
  entries: PaletteEntry[];
  errors?: PaletteError[];
  onAdd(entry: PaletteEntry): void;
  /** the host's buttons under the title (e.g. "New Python OP…") */
  tools?: ReactNode;
}) {
  const [filter, setFilter] = useState("");
  const groups = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const out = new Map<string, PaletteEntry[]>();
    for (const e of entries) {
      if (f && !e.name.toLowerCase().includes(f) && !(e.template.op ?? "").toLowerCase().includes(f)) continue;
      const key = e.source === "workflow" ? "In this workflow" : e.source;
      if (!out.has(key)) out.set(key, []);
      out.get(key)!.push(e);
    }
    for (const err of errors ?? []) if (!out.has(err.source) && !f) out.set(err.source, []);
    return [...out.entries()];
  }, [entries, errors, filter]);
  const errorsOf = (group: string) => (errors ?? []).filter((e) => e.source === group);
  return (
    <div className="dfl-palette" aria-label="Template palette">
      <div className="dfl-panel-title">Templates</div>
      {tools}
      <input
        className="dfl-input dfl-palette-filter"
        placeholder="Filter…"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {groups.map(([group, items]) => (
        <div key={group} className="dfl-palette-group">
          <div className="dfl-palette-group-title" title={group}>
            {group}
          </div>
          {errorsOf(group).map((err, i) => (
            <div
              key={i}
              className="dfl-palette-error"
              role="alert"
              data-testid="palette-error"
              data-source={err.source}
              data-line={err.line ?? undefined}
              title={err.message}
            >
              {err.file ? `${err.file}${err.line ? `:${err.line}` : ""}: ` : ""}
              {err.message.replace(/^[^:]*, line \d+: /, "")}
            </div>
          ))}
          {items.map((entry) => (
            <div
              key={`${entry.source}:${entry.name}`}
              className="dfl-palette-item"
              draggable
              data-template={entry.name}
              data-source={entry.source}
              title={
                `${KIND_LABEL[entry.template.kind]}${entry.template.op ? ` ${entry.template.op}` : ""}\n` +
                `in: ${
                  inputPorts(entry.template)
                    .map((p) => `${p.name}: ${p.type ?? "?"}`)
                    .join(", ") || "—"
                }\n` +
                `out: ${
                  outputPorts(entry.template)
                    .map((p) => `${p.name}: ${p.type ?? "?"}`)
                    .join(", ") || "—"
                }\n` +
                "Drag onto the canvas, or double-click to add."
              }
              onDragStart={(e) => {
                e.dataTransfer.setData(DRAG_MIME, JSON.stringify(entry));
                e.dataTransfer.effectAllowed = "copy";
              }}
              onDoubleClick={() => onAdd(entry)}
            >
              <KindIcon kind={entry.template.kind} />
              <span className="dfl-palette-name">{entry.name}</span>
            </div>
          ))}
        </div>
      ))}
      {!groups.length && <div className="dfl-empty">No templates{filter ? " match" : ""}.</div>}
    </div>
  );
}
