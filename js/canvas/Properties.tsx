// The properties panel of the selected step/task: every node field of the graph format — name, stage, key,
// when, literal parameters and artifacts, fan-out, slices, continue-on settings — and its options (read
// only). A field is committed on Enter or when it loses focus (one undo step per change); a value that
// cannot be committed shows why beside the field and leaves the document as it was.
import { type ReactNode, useEffect, useState } from "react";
import type { NodePatch } from "./edit";
import { KIND_LABEL, KindIcon } from "./icons";
import { inputPorts } from "./ports";
import {
  ARTIFACT_FIELD,
  ARTIFACT_LABEL,
  type ArtifactKind,
  type Feed,
  SLICE_LISTS,
  artifactKind,
  artifactLocation,
  describeArtifact,
  fansOut,
  feedOf,
  makeArtifact,
  type Parsed,
  parseInteger,
  parseKey,
  parseName,
  parseRatio,
  parseSequenceBound,
  setSliceField,
  sliceChoices,
  slicesMode,
  toggleSlice,
  withArtifact,
} from "./propertiesFields";
import { type CodeEditorComponent, EDITABLE_KINDS, TemplateEditor } from "./TemplateEditor";
import type { GraphEdge, GraphNode, Json, Sequence, Template } from "./types";

/** A literal typed in a field: JSON when it parses (numbers, lists, objects, true/false), else a string. */
export function parseLiteral(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

const show = (v: Json | undefined): string => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

/** A commit handler that applies the parsed value, or returns the error to show. */
const parsed =
  <T,>(parse: (text: string) => Parsed<T>, apply: (value: T) => void) =>
  (text: string): string | undefined => {
    const r = parse(text);
    if ("error" in r) return r.error;
    apply(r.value);
    return undefined;
  };

function Field({
  label,
  value,
  placeholder,
  onCommit,
  title,
  field,
  unsaved,
  autoFocus,
  check,
}: {
  label: string;
  value: string;
  placeholder?: string;
  title?: string;
  /** checks the text while it is typed (debounced): a returned string is shown as the problem */
  check?(text: string): Promise<string | null>;
  /** commits the text; a returned string is an error: shown, and nothing is committed */
  onCommit(text: string): string | void;
  /** the `data-field` of the input (default: the label) */
  field?: string;
  /** commit even when the text is unchanged (a value is still to be given) */
  unsaved?: boolean;
  autoFocus?: boolean;
}) {
  const [text, setText] = useState(value);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(value);
    setError(null);
  }, [value]);
  useEffect(() => {
    if (!check || !text.trim()) return;
    let live = true;
    const timer = window.setTimeout(() => {
      check(text).then(
        (problem) => {
          if (live) setError(problem);
        },
        () => undefined,
      );
    }, 200);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [check, text]);
  const commit = () => {
    if (text === value && !unsaved) return setError(null);
    setError(onCommit(text) || null);
  };
  const name = field ?? label;
  return (
    <label className="dfl-field" title={title} style={{ alignContent: "start" }}>
      <span className="dfl-field-label">{label}</span>
      <input
        className="dfl-input"
        value={text}
        placeholder={placeholder}
        data-field={name}
        autoFocus={autoFocus}
        aria-invalid={error ? true : undefined}
        style={error ? { borderColor: "var(--dfl-bad)" } : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
          if (e.key === "Escape") {
            setText(value);
            setError(null);
          }
        }}
      />
      {error && (
        <span className="dfl-error" role="alert" data-error-for={name} style={{ gridColumn: "1 / -1" }}>
          {error}
        </span>
      )}
    </label>
  );
}

function Check({
  label,
  checked,
  onChange,
  field,
  disabled,
  title,
  children,
}: {
  label: string;
  checked: boolean;
  onChange(v: boolean): void;
  field?: string;
  disabled?: boolean;
  title?: string;
  children?: ReactNode;
}) {
  return (
    <label className="dfl-check" title={title} style={disabled ? { opacity: 0.55 } : undefined}>
      <input
        type="checkbox"
        checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
        data-field={field ?? label}
      />
      {children}
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

/** A read-only line: a port fed by a wire, an option set in Python. */
function Shown({
  label,
  text,
  title,
  data,
}: {
  label: string;
  text: string;
  title?: string;
  data?: Record<string, string>;
}) {
  return (
    <div className="dfl-field dfl-wired" title={title} {...data}>
      <span className="dfl-field-label">{label}</span>
      <span className="dfl-muted" style={{ overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>
        {text}
      </span>
    </div>
  );
}

const wiredText = (edge: GraphEdge) => `← ${edge.source.node}.${edge.source.port}`;

/** What an input artifact gets when the node gives no literal. */
function noLiteralLabel(feed: Feed): string {
  if (feed.by === "default") return `template default (${describeArtifact(feed.value)})`;
  return feed.by === "optional" ? "none (optional)" : "none: required, wire or give one";
}

/** An input artifact not fed by a wire: none (the template's default), or a literal S3 key, path or URL. */
function ArtifactInput({
  port,
  title,
  value,
  fallback,
  onSet,
}: {
  port: string;
  title: string;
  value: Json | undefined;
  fallback: Feed;
  onSet(value: Json | undefined): void;
}) {
  const committed = artifactKind(value);
  const [kind, setKind] = useState<ArtifactKind | "">(committed ?? "");
  useEffect(() => setKind(committed ?? ""), [committed]);
  const pending = kind !== "" && kind !== committed;
  const urn =
    value && typeof value === "object" && !Array.isArray(value) && typeof value.urn === "string" ? value.urn : "";
  const choose = (k: ArtifactKind | "") => {
    setKind(k);
    if (k === "" && value !== undefined) onSet(undefined);
  };
  return (
    <>
      <div className="dfl-field" title={title} data-port={port}>
        <span className="dfl-field-label">{port}</span>
        <select
          className="dfl-input"
          value={kind}
          data-field={`artifacts.${port}.kind`}
          onChange={(e) => choose(e.target.value as ArtifactKind | "")}
        >
          <option value="">{noLiteralLabel(fallback)}</option>
          {(Object.keys(ARTIFACT_LABEL) as ArtifactKind[]).map((k) => (
            <option key={k} value={k}>
              {ARTIFACT_LABEL[k]}
            </option>
          ))}
        </select>
      </div>
      {kind !== "" && (
        <Field
          label={`↳ ${ARTIFACT_FIELD[kind]}`}
          field={`artifacts.${port}`}
          value={pending ? "" : artifactLocation(value)}
          placeholder={
            kind === "s3" ? "e.g. inputs/table.csv" : kind === "local" ? "e.g. /data/table.csv" : "https://…"
          }
          unsaved={pending}
          autoFocus={pending}
          onCommit={parsed((t) => makeArtifact(kind, t, kind === committed ? urn : ""), onSet)}
        />
      )}
      {kind === "s3" && !pending && (
        <Field
          label="↳ urn"
          field={`artifacts.${port}.urn`}
          value={urn}
          placeholder="optional"
          onCommit={parsed((t) => makeArtifact("s3", artifactLocation(value), t), onSet)}
        />
      )}
      {pending && value !== undefined && (
        <div className="dfl-muted">
          now {describeArtifact(value)}: replaced once the {ARTIFACT_LABEL[kind]} is given
        </div>
      )}
    </>
  );
}

/** The node's dflow Slices: which inputs are sliced and outputs stacked (the template's ports), and how. */
function SlicesFields({
  node,
  template,
  fanOut,
  onPatch,
}: {
  node: GraphNode;
  template: Template | undefined;
  fanOut: boolean;
  onPatch(patch: NodePatch): void;
}) {
  if (template?.kind !== "python") return <div className="dfl-muted">slices apply to Python OP steps</div>;
  const slices = node.slices ?? undefined;
  const mode = slicesMode(slices, fanOut);
  const off = mode.off;
  const own = template.options?.slices;
  const set = (field: string, value: Json | undefined) => onPatch({ slices: setSliceField(slices, field, value) });
  const rows = [
    { label: "slice inputs", lists: SLICE_LISTS.filter((l) => l.startsWith("input")) },
    { label: "stack outputs", lists: SLICE_LISTS.filter((l) => l.startsWith("output")) },
  ];
  return (
    <>
      {mode.hint && (
        <div className="dfl-muted" data-testid="slices-hint">
          {mode.hint}
        </div>
      )}
      {mode.problem && (
        <div className="dfl-error" data-testid="slices-problem">
          {mode.problem}
        </div>
      )}
      {own !== undefined && own !== null && (
        <div className="dfl-muted" title={JSON.stringify(own)}>
          the template has its own slices; the step's replace them
        </div>
      )}
      {rows.map(({ label, lists }) => {
        const choices = lists.flatMap((list) => sliceChoices(template, slices, list).map((c) => ({ ...c, list })));
        if (!choices.length) return null;
        return (
          <div key={label} className="dfl-field" style={{ alignItems: "start" }}>
            <span className="dfl-field-label">{label}</span>
            <div className="dfl-row" style={{ columnGap: 10, rowGap: 2 }}>
              {choices.map((c) => (
                <Check
                  key={`${c.list}:${c.port}`}
                  label={c.declared ? c.port : `${c.port} ⚠`}
                  field={`slices.${c.list}.${c.port}`}
                  checked={c.checked}
                  disabled={off}
                  title={`${c.list}${c.declared ? "" : " (not a port of the template)"}`}
                  onChange={(v) => onPatch({ slices: toggleSlice(slices, template, c.list, c.port, v) })}
                >
                  <span
                    className={`dfl-port-glyph dfl-port-glyph-${c.list.endsWith("parameter") ? "parameter" : "artifact"}`}
                  />
                </Check>
              ))}
            </div>
          </div>
        );
      })}
      <Check
        label="sub_path"
        field="slices.sub_path"
        checked={mode.subPath}
        title="slice the ticked input artifacts by sub-path: each item (or group of items) of the artifact's catalog gets its own sub-path, in a step of its own; no with_param needed"
        onChange={(v) => set("sub_path", v)}
      />
      {!off && (
        <>
          <div className="dfl-row">
            <Field
              label="group size"
              field="slices.group_size"
              value={show(slices?.group_size ?? undefined)}
              placeholder="1 per step"
              title="items handled by one step"
              onCommit={parsed(
                (t) => parseInteger(t, "group size", { min: 1 }),
                (v) => set("group_size", v),
              )}
            />
            <Field
              label="pool size"
              field="slices.pool_size"
              value={show(slices?.pool_size ?? undefined)}
              placeholder="serial"
              title="processes for the items of one step (-1: one per item)"
              onCommit={parsed(
                (t) => parseInteger(t, "pool size", { min: 1, also: [-1] }),
                (v) => set("pool_size", v),
              )}
            />
          </div>
          <Field
            label="slice"
            field="slices.slices"
            value={show(slices?.slices ?? undefined)}
            placeholder={mode.defaultSlice}
            title="the slice each step takes: an Argo tag such as {{item}} or {{item.order}}"
            onCommit={(t) => set("slices", t.trim() || undefined)}
          />
        </>
      )}
    </>
  );
}

export function Properties({
  node,
  template,
  ownerKind,
  edges,
  onPatch,
  onLiteral,
  templateUsers,
  codeEditor,
  onTemplate,
  openSource,
  whenHint,
  checkWhen,
}: {
  node: GraphNode;
  template: Template | undefined;
  ownerKind: Template["kind"];
  edges: GraphEdge[];
  onPatch(patch: NodePatch): void;
  onLiteral(port: string, value: Json | undefined): void;
  /** how many steps of the document run this node's template */
  templateUsers?: number;
  codeEditor?: CodeEditorComponent;
  /** change the definition of the node's template (Shell, Script and Container templates) */
  onTemplate?(template: Template): void;
  /** open the file where the node's Python OP is defined */
  openSource?(): void;
  /** a `when` condition that validates here (a reference to an upstream output) */
  whenHint?: string;
  /** why a `when` text does not parse (the server's govaluate parser), checked while it is typed */
  checkWhen?(text: string): Promise<string | null>;
}) {
  const inputs = inputPorts(template);
  const withParamEdge = edges.find((e) => e.target.node === node.name && e.target.option === "with_param");
  const fanOut = fansOut(node, edges);
  const seq = node.with_sequence ?? {};
  const setSeq = (key: keyof Sequence, value: Json | undefined) => {
    const next: Record<string, Json> = { ...seq } as Record<string, Json>;
    if (value === undefined) delete next[key];
    else next[key] = value;
    onPatch({ with_sequence: Object.keys(next).length ? next : undefined });
  };
  const seqField = (key: "start" | "end" | "count") => (
    <Field
      label={`seq ${key}`}
      value={show(seq[key] as Json)}
      placeholder={key === "count" ? "n" : undefined}
      onCommit={parsed(
        (t) => parseSequenceBound(t, `seq ${key}`, key === "count" ? 0 : undefined),
        (v) => setSeq(key, v),
      )}
    />
  );
  const options = Object.entries(node.options ?? {});
  return (
    <div className="dfl-properties" aria-label="Step properties">
      <div className="dfl-panel-title dfl-properties-title">
        <KindIcon kind={template?.kind} />
        <span>{node.name}</span>
      </div>
      <div className="dfl-muted">
        {node.template}
        {template ? ` · ${KIND_LABEL[template.kind]}` : ""}
        {template?.op ? ` · ${template.op}` : ""}
      </div>
      {openSource && (
        <button
          className="dfl-button"
          data-action="open-source"
          onClick={openSource}
          title="Open the file where this OP is defined, at its definition"
        >
          Open source
        </button>
      )}
      <Section title="Step">
        <Field label="name" value={node.name} onCommit={parsed(parseName, (v) => onPatch({ name: v }))} />
        {ownerKind === "steps" && (
          <Field
            label="stage"
            value={String((node.stage ?? 0) + 1)}
            title="Sequential stage (1 = first)"
            onCommit={parsed(
              (t) => parseInteger(t, "stage", { min: 1, required: true }),
              (v) => {
                if (v !== undefined) onPatch({ stage: v - 1 });
              },
            )}
          />
        )}
        <Field
          label="key"
          value={node.key ?? ""}
          placeholder="e.g. prepare-{{item}}"
          onCommit={parsed(parseKey, (v) => onPatch({ key: v }))}
        />
        <Field
          label="when"
          value={node.when ?? ""}
          placeholder={`e.g. ${whenHint ?? '"{{workflow.name}}" != ""'}`}
          check={checkWhen}
          title="a condition (Argo's govaluate syntax); the step is skipped when it is false"
          onCommit={(t) => onPatch({ when: t.trim() || undefined })}
        />
      </Section>
      {template && onTemplate && EDITABLE_KINDS.includes(template.kind) && (
        <Section title={template.kind === "container" ? "Container" : "Script"}>
          <TemplateEditor
            name={node.template}
            template={template}
            usedBy={templateUsers ?? 1}
            codeEditor={codeEditor}
            onChange={onTemplate}
          />
        </Section>
      )}
      <Section title="Inputs">
        {inputs
          .filter((p) => p.kind === "parameter")
          .map((p) => {
            const feed = feedOf(node, template, edges, "parameter", p.name);
            if (feed.by === "edge") return <Shown key={p.name} label={p.name} text={wiredText(feed.edge)} />;
            return (
              <Field
                key={p.name}
                label={p.name}
                value={feed.by === "literal" ? show(feed.value) : ""}
                title={`${p.type ?? "unknown type"}${p.description ? ` — ${p.description}` : ""}`}
                placeholder={feed.by === "default" ? `default ${show(feed.value)}` : `required (${p.type ?? "any"})`}
                onCommit={(t) => onLiteral(p.name, t.trim() === "" ? undefined : parseLiteral(t))}
              />
            );
          })}
        {inputs
          .filter((p) => p.kind === "artifact")
          .map((p) => {
            const feed = feedOf(node, template, edges, "artifact", p.name);
            const title = `artifact: ${p.type ?? "unknown type"}${p.description ? ` — ${p.description}` : ""}`;
            if (feed.by === "edge") {
              return (
                <Shown
                  key={p.name}
                  label={p.name}
                  text={wiredText(feed.edge)}
                  title={title}
                  data={{ "data-port": p.name }}
                />
              );
            }
            const fallback =
              feed.by === "literal"
                ? feedOf({ ...node, artifacts: undefined }, template, edges, "artifact", p.name)
                : feed;
            return (
              <ArtifactInput
                key={p.name}
                port={p.name}
                title={title}
                fallback={fallback}
                value={feed.by === "literal" ? feed.value : undefined}
                onSet={(v) => onPatch({ artifacts: withArtifact(node, p.name, v) })}
              />
            );
          })}
        {!inputs.length && <div className="dfl-muted">no inputs</div>}
      </Section>
      <Section title="Fan-out">
        {withParamEdge ? (
          <Shown label="with_param" text={wiredText(withParamEdge)} />
        ) : (
          <Field
            label="with_param"
            value={show(node.with_param)}
            placeholder="[1, 2, 3] or {{…}}"
            onCommit={(t) => onPatch({ with_param: t.trim() === "" ? undefined : parseLiteral(t) })}
          />
        )}
        <div className="dfl-row">
          {seqField("start")}
          {seqField("end")}
          {seqField("count")}
        </div>
        {(seq.start != null || seq.end != null || seq.count != null || seq.format != null) && (
          <Field
            label="seq format"
            value={seq.format ?? ""}
            placeholder="printf, e.g. %02d"
            title="with_sequence format: how each number is written"
            onCommit={(t) => setSeq("format", t.trim() === "" ? undefined : t)}
          />
        )}
        <Field
          label="parallelism"
          value={show(node.parallelism ?? undefined)}
          placeholder="unlimited"
          onCommit={parsed(
            (t) => parseInteger(t, "parallelism", { min: 1 }),
            (v) => onPatch({ parallelism: v }),
          )}
        />
      </Section>
      <Section title="Slices">
        <SlicesFields node={node} template={template} fanOut={fanOut} onPatch={onPatch} />
      </Section>
      <Section title="On failure">
        <Check
          label="continue_on_failed"
          checked={!!node.continue_on_failed}
          onChange={(v) => onPatch({ continue_on_failed: v || undefined })}
        />
        <Check
          label="continue_on_error"
          checked={!!node.continue_on_error}
          onChange={(v) => onPatch({ continue_on_error: v || undefined })}
        />
        <div className="dfl-muted" title="continue_on_num_success / continue_on_success_ratio">
          Go on past failed items of the fan-out when enough succeed
        </div>
        <div className="dfl-row">
          <Field
            label="successes"
            field="continue_on_num_success"
            value={show(node.continue_on_num_success ?? undefined)}
            placeholder="count"
            title="continue_on_num_success: how many items must succeed (used over the ratio when both are given)"
            onCommit={parsed(
              (t) => parseInteger(t, "continue_on_num_success", { min: 0 }),
              (v) => onPatch({ continue_on_num_success: v }),
            )}
          />
          <Field
            label="success ratio"
            field="continue_on_success_ratio"
            value={show(node.continue_on_success_ratio ?? undefined)}
            placeholder="0 … 1"
            title="continue_on_success_ratio: the share of the items that must succeed"
            onCommit={parsed(
              (t) => parseRatio(t, "continue_on_success_ratio"),
              (v) => onPatch({ continue_on_success_ratio: v }),
            )}
          />
        </div>
      </Section>
      {options.length > 0 && (
        <Section title="Options (set in Python)">
          {options.map(([k, v]) => (
            <Shown
              key={k}
              label={k}
              title={`${k} = ${JSON.stringify(v)} (read-only here)`}
              text={k === "dependencies" && Array.isArray(v) ? v.map(show).join(", ") : show(v)}
              data={{ "data-option": k }}
            />
          ))}
        </Section>
      )}
    </div>
  );
}
