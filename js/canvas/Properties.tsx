// The properties panel of the selected step/task: its name, literal inputs, when, fan-out, key and
// continue-on settings. A field is committed on Enter or when it loses focus (one undo step per change).
import { type ReactNode, useEffect, useState } from "react";
import type { NodePatch } from "./edit";
import { KIND_LABEL, KindIcon } from "./icons";
import { inputPorts } from "./ports";
import type { GraphEdge, GraphNode, Json, Template } from "./types";

/** A literal typed in a field: JSON when it parses (numbers, lists, objects, true/false), else a string. */
export function parseLiteral(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

const show = (v: Json | undefined): string => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

function Field({ label, value, placeholder, onCommit, title }: {
  label: string; value: string; placeholder?: string; title?: string; onCommit(text: string): void;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  const commit = () => { if (text !== value) onCommit(text); };
  return (
    <label className="dfl-field" title={title}>
      <span className="dfl-field-label">{label}</span>
      <input className="dfl-input" value={text} placeholder={placeholder} data-field={label}
        onChange={(e) => setText(e.target.value)} onBlur={commit}
        onKeyDown={(e) => { if (e.key === "Enter") commit(); if (e.key === "Escape") setText(value); }} />
    </label>
  );
}

function Check({ label, checked, onChange }: { label: string; checked: boolean; onChange(v: boolean): void }) {
  return (
    <label className="dfl-check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-field={label} />
      {label}
    </label>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="dfl-section">
      <div className="dfl-section-title">{title}</div>
      {children}
    </div>
  );
}

const optNumber = (text: string): number | undefined => (text.trim() === "" ? undefined : Number(text));

export function Properties({ node, template, ownerKind, edges, onPatch, onLiteral }: {
  node: GraphNode;
  template: Template | undefined;
  ownerKind: Template["kind"];
  edges: GraphEdge[];
  onPatch(patch: NodePatch): void;
  onLiteral(port: string, value: Json | undefined): void;
}) {
  const fedBy = (port: string) => edges.find((e) => e.target.node === node.name && e.target.port === port);
  const withParamEdge = edges.find((e) => e.target.node === node.name && e.target.option === "with_param");
  const seq = node.with_sequence ?? {};
  const setSeq = (key: "start" | "end" | "count" | "format", text: string) => {
    const next: Record<string, Json> = { ...seq } as Record<string, Json>;
    const v = text.trim() === "" ? undefined : key === "format" ? text : parseLiteral(text);
    if (v === undefined) delete next[key];
    else next[key] = v;
    onPatch({ with_sequence: Object.keys(next).length ? next : undefined });
  };
  return (
    <div className="dfl-properties" aria-label="Step properties">
      <div className="dfl-panel-title dfl-properties-title">
        <KindIcon kind={template?.kind} />
        <span>{node.name}</span>
      </div>
      <div className="dfl-muted">
        {node.template}{template ? ` · ${KIND_LABEL[template.kind]}` : ""}{template?.op ? ` · ${template.op}` : ""}
      </div>
      <Section title="Step">
        <Field label="name" value={node.name} onCommit={(t) => onPatch({ name: t.trim() })} />
        {ownerKind === "steps" && (
          <Field label="stage" value={String((node.stage ?? 0) + 1)} title="Sequential stage (1 = first)"
            onCommit={(t) => { const n = Number(t); if (Number.isInteger(n) && n >= 1) onPatch({ stage: n - 1 }); }} />
        )}
        <Field label="key" value={node.key ?? ""} placeholder="e.g. prepare-{{item}}"
          onCommit={(t) => onPatch({ key: t.trim() || undefined })} />
        <Field label="when" value={node.when ?? ""} placeholder="e.g. {{inputs.parameters.x}} > 0"
          onCommit={(t) => onPatch({ when: t.trim() || undefined })} />
      </Section>
      <Section title="Inputs">
        {inputPorts(template).filter((p) => p.kind === "parameter").map((p) => {
          const edge = fedBy(p.name);
          if (edge) {
            return (
              <div key={p.name} className="dfl-field dfl-wired">
                <span className="dfl-field-label">{p.name}</span>
                <span className="dfl-muted">← {edge.source.node}.{edge.source.port}</span>
              </div>
            );
          }
          const spec = template?.inputs?.parameters?.[p.name];
          return (
            <Field key={p.name} label={p.name} value={show(node.parameters?.[p.name])}
              title={`${p.type ?? "unknown type"}${p.description ? ` — ${p.description}` : ""}`}
              placeholder={spec && "default" in spec ? `default ${show(spec.default as Json)}` : `required (${p.type ?? "any"})`}
              onCommit={(t) => onLiteral(p.name, t.trim() === "" ? undefined : parseLiteral(t))} />
          );
        })}
        {inputPorts(template).filter((p) => p.kind === "artifact").map((p) => (
          <div key={p.name} className="dfl-field dfl-wired">
            <span className="dfl-field-label">{p.name}</span>
            <span className="dfl-muted">
              {fedBy(p.name) ? `← ${fedBy(p.name)!.source.node}.${fedBy(p.name)!.source.port}` : "artifact: wire it"}
            </span>
          </div>
        ))}
        {!inputPorts(template).length && <div className="dfl-muted">no inputs</div>}
      </Section>
      <Section title="Fan-out">
        {withParamEdge ? (
          <div className="dfl-field dfl-wired">
            <span className="dfl-field-label">with_param</span>
            <span className="dfl-muted">← {withParamEdge.source.node}.{withParamEdge.source.port}</span>
          </div>
        ) : (
          <Field label="with_param" value={show(node.with_param)} placeholder='[1, 2, 3] or {{…}}'
            onCommit={(t) => onPatch({ with_param: t.trim() === "" ? undefined : parseLiteral(t) })} />
        )}
        <div className="dfl-row">
          <Field label="seq start" value={show(seq.start as Json)} onCommit={(t) => setSeq("start", t)} />
          <Field label="seq end" value={show(seq.end as Json)} onCommit={(t) => setSeq("end", t)} />
          <Field label="seq count" value={show(seq.count as Json)} onCommit={(t) => setSeq("count", t)} />
        </div>
        <Field label="parallelism" value={show(node.parallelism ?? undefined)}
          onCommit={(t) => onPatch({ parallelism: optNumber(t) })} />
      </Section>
      <Section title="On failure">
        <Check label="continue_on_failed" checked={!!node.continue_on_failed}
          onChange={(v) => onPatch({ continue_on_failed: v || undefined })} />
        <Check label="continue_on_error" checked={!!node.continue_on_error}
          onChange={(v) => onPatch({ continue_on_error: v || undefined })} />
        <Field label="continue_on_num_success" value={show(node.continue_on_num_success ?? undefined)}
          onCommit={(t) => onPatch({ continue_on_num_success: optNumber(t) })} />
        <Field label="continue_on_success_ratio" value={show(node.continue_on_success_ratio ?? undefined)}
          onCommit={(t) => onPatch({ continue_on_success_ratio: optNumber(t) })} />
      </Section>
    </div>
  );
}
