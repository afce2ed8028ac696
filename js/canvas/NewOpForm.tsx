// "New Python OP…": a form over the canvas (module, name, typed inputs and outputs, body) whose answer the
// host writes as an `@OP.function` into a module beside the document (dflow_lab.python.newop) and adds to
// the palette. Names are checked here as the server checks them (Python identifiers); the server's refusal
// (a name taken, a body that does not parse) is shown in the form, which stays open.
import { useState } from "react";

export const OP_TYPES = ["str", "int", "float", "bool", "dict", "list", "artifact"] as const;
export interface NewOpPort {
  name: string;
  type: (typeof OP_TYPES)[number];
}
export interface NewOpSpec {
  module: string;
  name: string;
  inputs: NewOpPort[];
  outputs: NewOpPort[];
  body: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except " +
    "finally for from global if import in is lambda nonlocal not or pass raise return try while with yield"
  ).split(" "),
);

/** Why `name` is not a Python name, or null. */
export function identifierProblem(name: string, what: string): string | null {
  if (!IDENT.test(name))
    return `${what} '${name}' is not a Python name (letters, digits, '_', not starting with a digit)`;
  if (KEYWORDS.has(name)) return `${what} '${name}' is a Python keyword`;
  return null;
}

export function specProblem(spec: NewOpSpec): string | null {
  const all = [...spec.inputs, ...spec.outputs].map((p) => p.name);
  return (
    identifierProblem(spec.module, "module") ??
    identifierProblem(spec.name, "name") ??
    all.map((n) => identifierProblem(n, "port")).find((p) => p) ??
    (new Set(all).size !== all.length ? "two ports have the same name" : null)
  );
}

function Ports({
  side,
  ports,
  onChange,
}: {
  side: "inputs" | "outputs";
  ports: NewOpPort[];
  onChange(p: NewOpPort[]): void;
}) {
  return (
    <div className="dfl-tpl-ports" data-newop-ports={side}>
      <div className="dfl-tpl-ports-title">
        <span>{side === "inputs" ? "Inputs" : "Outputs"}</span>
        <button
          className="dfl-button dfl-small"
          data-add={side}
          onClick={() => {
            const stem = side === "inputs" ? "x" : "y";
            let name = stem;
            for (let i = 2; ports.some((p) => p.name === name); i++) name = `${stem}${i}`;
            onChange([...ports, { name, type: "int" }]);
          }}
        >
          + add
        </button>
      </div>
      {ports.map((p, i) => (
        <div key={i} className="dfl-tpl-port" data-port-row={`${side}.${i}`}>
          <input
            className="dfl-input"
            data-field="name"
            value={p.name}
            onChange={(e) => onChange(ports.map((q, j) => (j === i ? { ...q, name: e.target.value.trim() } : q)))}
          />
          <select
            className="dfl-input"
            data-field="type"
            value={p.type}
            style={{ width: 80, flex: "none" }}
            onChange={(e) =>
              onChange(ports.map((q, j) => (j === i ? { ...q, type: e.target.value as NewOpPort["type"] } : q)))
            }
          >
            {OP_TYPES.map((t) => (
              <option key={t} value={t}>
                {t === "artifact" ? "artifact (file)" : t}
              </option>
            ))}
          </select>
          <button
            className="dfl-button dfl-small"
            title={`Remove ${p.name}`}
            onClick={() => onChange(ports.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function NewOpForm({
  onSubmit,
  onClose,
}: {
  /** resolves when the OP is written and offered; rejects with the reason to show */
  onSubmit(spec: NewOpSpec): Promise<void>;
  onClose(): void;
}) {
  const [spec, setSpec] = useState<NewOpSpec>({
    module: "ops",
    name: "",
    inputs: [{ name: "x", type: "int" }],
    outputs: [{ name: "y", type: "int" }],
    body: 'return {"y": 2 * x}',
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<NewOpSpec>) => {
    setSpec((s) => ({ ...s, ...patch }));
    setError(null);
  };
  const submit = async () => {
    const problem = specProblem(spec);
    if (problem) return setError(problem);
    setBusy(true);
    try {
      await onSubmit(spec);
      onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div
      className="dfl-modal"
      role="dialog"
      aria-label="New Python OP"
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === "Escape") onClose();
      }}
    >
      <div className="dfl-modal-box dfl-newop">
        <div className="dfl-panel-title">New Python OP</div>
        <div className="dfl-muted">
          Written as an <code>@OP.function</code> into <code>{spec.module || "…"}.py</code> beside this document
          (created if absent), then offered in the palette.
        </div>
        <label className="dfl-field">
          <span className="dfl-field-label">module</span>
          <input
            className="dfl-input"
            data-field="module"
            value={spec.module}
            onChange={(e) => set({ module: e.target.value.trim() })}
          />
        </label>
        <label className="dfl-field">
          <span className="dfl-field-label">name</span>
          <input
            className="dfl-input"
            data-field="op-name"
            value={spec.name}
            placeholder="e.g. double"
            autoFocus
            onChange={(e) => set({ name: e.target.value.trim() })}
          />
        </label>
        <Ports side="inputs" ports={spec.inputs} onChange={(inputs) => set({ inputs })} />
        <Ports side="outputs" ports={spec.outputs} onChange={(outputs) => set({ outputs })} />
        <div className="dfl-field-label">body (returns a dict of the outputs)</div>
        <textarea
          className="dfl-input dfl-code"
          data-field="body"
          rows={6}
          spellCheck={false}
          value={spec.body}
          onChange={(e) => set({ body: e.target.value })}
        />
        {error && (
          <div className="dfl-error" role="alert" data-testid="newop-error">
            {error}
          </div>
        )}
        <div className="dfl-row" style={{ justifyContent: "flex-end" }}>
          <button className="dfl-button" onClick={onClose}>
            Cancel
          </button>
          <button
            className="dfl-button dfl-primary"
            data-action="create-op"
            disabled={busy}
            onClick={() => void submit()}
          >
            {busy ? "Creating…" : "Create"}
          </button>
        </div>
      </div>
    </div>
  );
}
