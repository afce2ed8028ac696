// The palette: templates to drag onto the canvas (the workflow's own, and Python OPs from modules).
import { useMemo, useState } from "react";
import { KIND_LABEL, KindIcon } from "./icons";
import { inputPorts, outputPorts } from "./ports";
import type { PaletteEntry } from "./types";

export const DRAG_MIME = "application/x-dflow-lab-template";

export function Palette({ entries, onAdd }: { entries: PaletteEntry[]; onAdd(entry: PaletteEntry): void }) {
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
    return [...out.entries()];
  }, [entries, filter]);
  return (
    <div className="dfl-palette" aria-label="Template palette">
      <div className="dfl-panel-title">Templates</div>
      <input className="dfl-input dfl-palette-filter" placeholder="Filter…" value={filter}
        onChange={(e) => setFilter(e.target.value)} />
      {groups.map(([group, items]) => (
        <div key={group} className="dfl-palette-group">
          <div className="dfl-palette-group-title" title={group}>{group}</div>
          {items.map((entry) => (
            <div
              key={`${entry.source}:${entry.name}`}
              className="dfl-palette-item"
              draggable
              data-template={entry.name}
              data-source={entry.source}
              title={`${KIND_LABEL[entry.template.kind]}${entry.template.op ? ` ${entry.template.op}` : ""}\n` +
                `in: ${inputPorts(entry.template).map((p) => `${p.name}: ${p.type ?? "?"}`).join(", ") || "—"}\n` +
                `out: ${outputPorts(entry.template).map((p) => `${p.name}: ${p.type ?? "?"}`).join(", ") || "—"}\n` +
                "Drag onto the canvas, or double-click to add."}
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
