// The definition of a Shell, Script (Python script) or Container template, edited in the properties panel
// of a step that runs it: the script in a code editor (the host's: CodeMirror in JupyterLab; a plain text
// area elsewhere), image and command, and the template's ports — input parameters (name, type, default),
// output parameters (name, type; written to /tmp/outputs/parameters/<name>), input and output artifacts
// (name, path). Every change is one whole new template handed to `onChange` (one undo step); a name that
// is not a valid port name, or already taken, is refused beside its field and nothing changes.
import { type ComponentType, useEffect, useState } from "react";
import type { Json, PortGroup, PortSpec, Template } from "./types";

export interface CodeEditorProps {
  value: string;
  language: "shell" | "python" | "text";
  /** the text, once the editor loses the focus (an unchanged text is not committed) */
  onCommit(text: string): void;
}
export type CodeEditorComponent = ComponentType<CodeEditorProps>;

/** A host without a code editor of its own (the notebook widget): a monospaced text area. */
export function PlainCodeEditor({ value, language, onCommit }: CodeEditorProps) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <textarea
      className="dfl-input dfl-code"
      data-language={language}
      spellCheck={false}
      value={text}
      rows={Math.min(16, Math.max(4, text.split("\n").length + 1))}
      onChange={(e) => setText(e.target.value)}
      onBlur={() => {
        if (text !== value) onCommit(text);
      }}
      onKeyDown={(e) => e.stopPropagation() /* Delete, Ctrl+Z… belong to the text here, not the canvas */}
    />
  );
}

export const EDITABLE_KINDS: Template["kind"][] = ["shell", "script", "container"];
const PORT_NAME = /^[-a-zA-Z0-9_]+$/;
export const PARAMETER_TYPES = ["", "str", "int", "float", "bool", "dict", "list"];

type Dir = "inputs" | "outputs";
type Group = "parameters" | "artifacts";

/** The path a port is read from / written to, by the convention dflow's script templates follow. */
export function defaultPath(dir: Dir, group: Group, name: string): string {
  return `/tmp/${dir}/${group}/${name}`;
}

function language(t: Template): CodeEditorProps["language"] {
  if (t.kind === "shell") return "shell";
  const cmd = (t.command ?? []).join(" ");
  return t.kind === "script" && /python/.test(cmd) ? "python" : t.kind === "script" ? "text" : "text";
}

/** `["a", "b"]` or `a b` → a list of words; empty → undefined. */
export function parseWords(text: string): { value: string[] | undefined } | { error: string } {
  const t = text.trim();
  if (!t) return { value: undefined };
  if (t.startsWith("[")) {
    try {
      const v = JSON.parse(t) as Json;
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) return { value: v as string[] };
    } catch {
      /* fall through */
    }
    return { error: 'a JSON list of strings, e.g. ["sh", "-c"], or words separated by spaces' };
  }
  return { value: t.split(/\s+/) };
}

const showWords = (v: string[] | null | undefined) =>
  !v ? "" : v.some((w) => /\s/.test(w) || w === "") ? JSON.stringify(v) : v.join(" ");

function literalText(v: Json | undefined): string {
  return v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
}

function parseDefault(text: string, type: string | null | undefined): Json | undefined {
  if (text === "") return undefined;
  if (type === "str") return text;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/** A text input that commits on Enter or blur; `onCommit` returns an error to show instead. */
function Cell({
  value,
  field,
  placeholder,
  title,
  onCommit,
  width,
}: {
  value: string;
  field: string;
  placeholder?: string;
  title?: string;
  width?: number | string;
  onCommit(text: string): string | void;
}) {
  const [text, setText] = useState(value);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(value);
    setError(null);
  }, [value]);
  const commit = () => {
    if (text === value) return setError(null);
    const e = onCommit(text);
    setError(e || null);
  };
  return (
    <span className="dfl-tpl-cell" style={{ width }}>
      <input
        className="dfl-input"
        value={text}
        placeholder={placeholder}
        title={error ?? title}
        data-field={field}
        aria-invalid={error ? true : undefined}
        style={error ? { borderColor: "var(--dfl-bad)" } : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
        onBlur={commit}
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === "Enter") commit();
          if (e.key === "Escape") {
            setText(value);
            setError(null);
          }
        }}
      />
      {error && (
        <span className="dfl-error" role="alert" data-error-for={field}>
          {error}
        </span>
      )}
    </span>
  );
}

function renamed<T>(record: Record<string, T>, from: string, to: string, map: (v: T) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(record)) out[k === from ? to : k] = k === from ? map(v) : v;
  return out;
}

function withGroup(t: Template, dir: Dir, group: Group, specs: Record<string, PortSpec>): Template {
  const next = structuredClone(t);
  const io: PortGroup = { ...(next[dir] ?? {}) };
  if (Object.keys(specs).length) io[group] = specs;
  else delete io[group];
  if (Object.keys(io).length) next[dir] = io;
  else delete next[dir];
  return next;
}

function PortList({
  template,
  dir,
  group,
  onChange,
}: {
  template: Template;
  dir: Dir;
  group: Group;
  onChange(t: Template): void;
}) {
  const specs: Record<string, PortSpec> = { ...((template[dir] ?? {})[group] ?? {}) };
  const taken = (name: string) => Object.prototype.hasOwnProperty.call(specs, name);
  const set = (next: Record<string, PortSpec>) => onChange(withGroup(template, dir, group, next));
  const pathKey = dir === "outputs" && group === "parameters" ? "value_from_path" : "path";
  const usesPath = group === "artifacts" || dir === "outputs";
  const rename = (from: string, text: string): string | void => {
    const to = text.trim();
    if (!PORT_NAME.test(to)) return "a port name is letters, digits, '_' and '-'";
    if (to !== from && taken(to)) return `'${to}' is already a port here`;
    set(
      renamed(specs, from, to, (spec) => {
        const s = { ...spec };
        if (usesPath && (s[pathKey] === defaultPath(dir, group, from) || !s[pathKey]))
          s[pathKey] = defaultPath(dir, group, to);
        return s;
      }),
    );
  };
  const add = () => {
    const stem = group === "parameters" ? (dir === "inputs" ? "in" : "out") : dir === "inputs" ? "data" : "result";
    let name = stem;
    for (let i = 2; taken(name); i++) name = `${stem}${i}`;
    const spec: PortSpec = group === "parameters" ? { type: "str" } : {};
    if (usesPath) spec[pathKey] = defaultPath(dir, group, name);
    set({ ...specs, [name]: spec });
  };
  const label = `${dir === "inputs" ? "Input" : "Output"} ${group}`;
  return (
    <div className="dfl-tpl-ports" data-ports={`${dir}.${group}`}>
      <div className="dfl-tpl-ports-title">
        <span>{label}</span>
        <button
          className="dfl-button dfl-small"
          data-add={`${dir}.${group}`}
          title={`Add an ${label.toLowerCase().replace(/s$/, "")}`}
          onClick={add}
        >
          + add
        </button>
      </div>
      {Object.entries(specs).map(([name, spec]) => (
        <div key={name} className="dfl-tpl-port" data-port-row={`${dir}.${group}.${name}`}>
          <Cell value={name} field="name" title="name" width="34%" onCommit={(t) => rename(name, t)} />
          {group === "parameters" && (
            <select
              className="dfl-input"
              data-field="type"
              value={spec.type ?? ""}
              title="type"
              onChange={(e) => set({ ...specs, [name]: { ...spec, type: e.target.value || undefined } })}
            >
              {[...new Set([...PARAMETER_TYPES, spec.type ?? ""])].map((t) => (
                <option key={t} value={t}>
                  {t || "any"}
                </option>
              ))}
            </select>
          )}
          {dir === "inputs" && group === "parameters" && (
            <Cell
              value={"default" in spec ? literalText(spec.default) : ""}
              field="default"
              placeholder="required"
              title="default value (empty: the input is required)"
              width="30%"
              onCommit={(t) => {
                const s = { ...spec };
                const v = parseDefault(t, spec.type);
                if (v === undefined) delete s.default;
                else s.default = v;
                set({ ...specs, [name]: s });
              }}
            />
          )}
          {group === "artifacts" && (
            <Cell
              value={String(spec.path ?? "")}
              field="path"
              placeholder={defaultPath(dir, group, name)}
              width="44%"
              title="path in the step"
              onCommit={(t) => {
                if (t.trim() && !t.trim().startsWith("/"))
                  return "an absolute path, e.g. " + defaultPath(dir, group, name);
                set({ ...specs, [name]: { ...spec, path: t.trim() || defaultPath(dir, group, name) } });
                return undefined;
              }}
            />
          )}
          <button
            className="dfl-button dfl-small"
            data-remove={name}
            title={`Remove ${name}`}
            onClick={() => {
              const next = { ...specs };
              delete next[name];
              set(next);
            }}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function TemplateEditor({
  name,
  template,
  usedBy,
  codeEditor,
  onChange,
}: {
  name: string;
  template: Template;
  usedBy: number;
  codeEditor?: CodeEditorComponent;
  onChange(t: Template): void;
}) {
  const Editor = codeEditor ?? PlainCodeEditor;
  const lang = language(template);
  const patch = (p: Partial<Template>) => {
    const next = { ...structuredClone(template), ...p } as Template;
    for (const [k, v] of Object.entries(p)) if (v === undefined) delete (next as unknown as Record<string, unknown>)[k];
    onChange(next);
  };
  const words =
    (key: "command" | "args") =>
    (t: string): string | void => {
      const r = parseWords(t);
      if ("error" in r) return r.error;
      patch({ [key]: r.value });
    };
  const firstIn = Object.keys(template.inputs?.parameters ?? {})[0];
  return (
    <div className="dfl-template-editor" data-template-editor={name}>
      <div className="dfl-muted">
        template <b>{name}</b>
        {usedBy > 1 ? ` · used by ${usedBy} steps: a change applies to all` : ""}
      </div>
      <label className="dfl-field">
        <span className="dfl-field-label">image</span>
        <Cell
          value={template.image ?? ""}
          field="image"
          placeholder="the default image"
          title="container image (the local engine runs the script on this machine)"
          onCommit={(t) => patch({ image: t.trim() || null })}
        />
      </label>
      <label className="dfl-field">
        <span className="dfl-field-label">command</span>
        <Cell
          value={showWords(template.command)}
          field="command"
          placeholder={template.kind === "shell" ? "sh" : template.kind === "script" ? "python3" : "e.g. echo"}
          title="the program (and its first arguments) that runs; words separated by spaces, or a JSON list"
          onCommit={words("command")}
        />
      </label>
      {template.kind === "container" ? (
        <label className="dfl-field">
          <span className="dfl-field-label">args</span>
          <Cell
            value={showWords(template.args)}
            field="args"
            placeholder="arguments"
            title="arguments; {{inputs.parameters.<name>}} reads an input"
            onCommit={words("args")}
          />
        </label>
      ) : (
        <div className="dfl-tpl-script" data-field="script" data-language={lang}>
          <div className="dfl-field-label">
            {lang === "python" ? "Python script" : lang === "shell" ? "Shell script" : "script"}
          </div>
          <Editor value={template.script ?? ""} language={lang} onCommit={(text) => patch({ script: text })} />
          <div className="dfl-muted dfl-tpl-hint">
            {firstIn ? (
              <code>{`{{inputs.parameters.${firstIn}}}`}</code>
            ) : (
              <code>{"{{inputs.parameters.<name>}}"}</code>
            )}
            {" reads an input; write an output to its path, e.g. "}
            <code>/tmp/outputs/parameters/&lt;name&gt;</code>
          </div>
        </div>
      )}
      <PortList template={template} dir="inputs" group="parameters" onChange={onChange} />
      <PortList template={template} dir="outputs" group="parameters" onChange={onChange} />
      <PortList template={template} dir="inputs" group="artifacts" onChange={onChange} />
      <PortList template={template} dir="outputs" group="artifacts" onChange={onChange} />
    </div>
  );
}
