// What the properties panel reads and checks: literal artifacts, dflow Slices, counts and ratios. Pure
// functions of the graph document (docs/graph-format.md, "Nodes"), so the panel's rules are unit-tested.
import { inputPorts, outputPorts } from "./ports";
import type { GraphEdge, GraphNode, Json, PortKind, Template } from "./types";

/** A field's text read as a value, or why it cannot be committed. */
export type Parsed<T> = { value: T } | { error: string };

// -- numbers ------------------------------------------------------------------------------------------

/** An integer field: at least `min`, or one of `also` (e.g. -1 for "all"); empty = unset unless `required`. */
export function parseInteger(
  text: string,
  what: string,
  { min, also = [], required = false }: { min: number; also?: number[]; required?: boolean },
): Parsed<number | undefined> {
  const t = text.trim();
  if (t === "") return required ? { error: `${what} must be given` } : { value: undefined };
  const n = Number(t);
  if (!/^[-+]?\d+$/.test(t) || !Number.isSafeInteger(n)) return { error: `${what} must be a whole number` };
  if (n < min && !also.includes(n)) {
    const alt = also.length ? ` (or ${also.join(", ")})` : "";
    return { error: `${what} must be ${min === 0 ? "0 or more" : `at least ${min}`}${alt}` };
  }
  return { value: n };
}

/** An optional ratio in [0, 1] (empty = unset). */
export function parseRatio(text: string, what: string): Parsed<number | undefined> {
  const t = text.trim();
  if (t === "") return { value: undefined };
  const n = Number(t);
  if (!Number.isFinite(n)) return { error: `${what} must be a number between 0 and 1` };
  if (n < 0 || n > 1) return { error: `${what} must be between 0 and 1 (got ${t})` };
  return { value: n };
}

/** A `with_sequence` bound: a whole number (at least `min` when given), or an expression such as
 * `{{inputs.parameters.n}}` kept as text; empty = unset. */
export function parseSequenceBound(text: string, what: string, min?: number): Parsed<number | string | undefined> {
  const t = text.trim();
  if (t === "") return { value: undefined };
  if (/^[-+]?[\d.eE+-]+$/.test(t)) {
    const n = parseInteger(t, what, { min: min ?? Number.MIN_SAFE_INTEGER });
    return "error" in n ? { error: `${n.error}, or an expression such as {{inputs.parameters.n}}` } : n;
  }
  if (!t.includes("{{"))
    return { error: `${what} must be a whole number or an expression such as {{inputs.parameters.n}}` };
  return { value: t };
}

/** A node name: alphanumerics and '-', starting with an alphanumeric (the graph's naming rule). */
export function parseName(text: string): Parsed<string> {
  const t = text.trim();
  if (t === "") return { error: "a step needs a name" };
  if (!/^[a-zA-Z0-9][-a-zA-Z0-9]*$/.test(t)) {
    return { error: "a name has letters, digits and '-' only, and starts with a letter or digit" };
  }
  return { value: t };
}

/** A step key (empty = none): lowercase letters, digits and '-' around `{{…}}` tags, as the model requires. */
export function parseKey(text: string): Parsed<string | undefined> {
  const t = text.trim();
  const bare = t.replace(/\{\{.*?\}\}/g, "");
  if (bare && !/^[a-z0-9][-a-z0-9]*$/.test(bare.replace(/^-+|-+$/g, ""))) {
    return { error: "a key has lowercase letters, digits and '-' only, around {{…}} tags" };
  }
  return { value: t || undefined };
}

// -- literal artifacts ---------------------------------------------------------------------------------

export type ArtifactKind = "s3" | "local" | "http";

/** The field of a literal artifact that holds its location, per kind. */
export const ARTIFACT_FIELD: Record<ArtifactKind, "key" | "path" | "url"> = { s3: "key", local: "path", http: "url" };
export const ARTIFACT_LABEL: Record<ArtifactKind, string> = { s3: "S3 key", local: "local path", http: "HTTP URL" };

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The kind of a literal artifact, or null when `v` is not one. */
export function artifactKind(v: Json | undefined): ArtifactKind | null {
  if (!isObject(v)) return null;
  return v.kind === "s3" || v.kind === "local" || v.kind === "http" ? v.kind : null;
}

/** Where a literal artifact points (its key, path or URL), "" when `v` is not one. */
export function artifactLocation(v: Json | undefined): string {
  const kind = artifactKind(v);
  if (!kind) return "";
  const loc = (v as Record<string, Json>)[ARTIFACT_FIELD[kind]];
  return typeof loc === "string" ? loc : "";
}

/** A literal artifact in one line: `s3: inputs/table.csv`. */
export function describeArtifact(v: Json | undefined): string {
  const kind = artifactKind(v);
  return kind ? `${kind}: ${artifactLocation(v)}` : JSON.stringify(v ?? null);
}

/** The literal artifact of `kind` at `location` (an S3 object may carry its `urn`), or why it is not one. */
export function makeArtifact(kind: ArtifactKind, location: string, urn = ""): Parsed<Json> {
  const loc = location.trim();
  if (loc === "") return { error: `the ${ARTIFACT_LABEL[kind]} cannot be empty` };
  if (kind === "http" && !/^https?:\/\/\S+$/i.test(loc)) {
    return { error: "an HTTP URL starts with http:// or https:// and has no spaces" };
  }
  if (kind === "s3" && loc.startsWith("s3://")) {
    return { error: "give the key inside the artifact repository, without s3://bucket/" };
  }
  const value: Record<string, Json> = { kind, [ARTIFACT_FIELD[kind]]: loc };
  if (kind === "s3" && urn.trim()) value.urn = urn.trim();
  return { value };
}

/** How an input port of a node gets its data: an edge, a literal, the template's default, or nothing. */
export type Feed =
  | { by: "edge"; edge: GraphEdge }
  | { by: "literal"; value: Json }
  | { by: "default"; value: Json }
  | { by: "optional" }
  | { by: "missing" };

export function feedOf(
  node: GraphNode,
  template: Template | undefined,
  edges: GraphEdge[],
  kind: PortKind,
  port: string,
): Feed {
  const edge = edges.find((e) => e.kind !== "control" && e.target.node === node.name && e.target.port === port);
  if (edge) return { by: "edge", edge };
  const literals = kind === "artifact" ? node.artifacts : node.parameters;
  if (literals && port in literals) return { by: "literal", value: literals[port] };
  const spec = (kind === "artifact" ? template?.inputs?.artifacts : template?.inputs?.parameters)?.[port];
  if (spec && "default" in spec) return { by: "default", value: spec.default as Json };
  return spec?.optional ? { by: "optional" } : { by: "missing" };
}

/** The node's `artifacts` with `port` set to `value` (or removed); undefined when none are left. */
export function withArtifact(node: GraphNode, port: string, value: Json | undefined): Record<string, Json> | undefined {
  const next = { ...(node.artifacts ?? {}) };
  if (value === undefined) delete next[port];
  else next[port] = value;
  return Object.keys(next).length ? next : undefined;
}

// -- fan-out and slices --------------------------------------------------------------------------------

/** Whether the node runs once per item: a `with_param` (literal or wired) or a `with_sequence`. */
export function fansOut(node: GraphNode, edges: GraphEdge[]): boolean {
  return (
    (node.with_param !== undefined && node.with_param !== null) ||
    !!node.with_sequence ||
    edges.some((e) => e.target.node === node.name && e.target.option === "with_param")
  );
}

/** How the slice editor reads a node's slices: whether they can apply (`off`: no fan-out and no
 * sub-path slicing), the hint it shows, a problem to flag, and the slice tag steps take by default.
 * With `sub_path` the items are the entries of the sliced input artifacts' catalogs, so no fan-out is
 * needed (dflow's init-artifact step makes it); each item, or group of `group_size`, gets its own
 * sub-path of the artifact. */
export function slicesMode(
  slices: GraphNode["slices"],
  fanOut: boolean,
): { off: boolean; subPath: boolean; hint?: string; problem?: string; defaultSlice: string } {
  const subPath = slices?.sub_path === true;
  const grouped = slices?.group_size !== undefined && slices?.group_size !== null;
  const defaultSlice = subPath && !grouped ? "{{item.order}}" : "{{item}}";
  if (subPath) {
    return {
      off: false,
      subPath,
      defaultSlice,
      hint: `Sub-path slices: one step per ${grouped ? "group of entries" : "entry"} of the sliced input artifacts' catalogs (no with_param needed)`,
      problem: sliceList(slices, "input_artifact").length ? undefined : "tick the input artifacts to slice by sub-path",
    };
  }
  if (fanOut) return { off: false, subPath, defaultSlice };
  return {
    off: !slices,
    subPath,
    defaultSlice,
    hint: slices
      ? "Slices split a fan-out; this step has none (set with_param or with_sequence, or slice by sub_path)"
      : "Slices split a fan-out: set with_param or with_sequence first, or slice input artifacts by sub_path",
  };
}

export type SliceList = "input_parameter" | "input_artifact" | "output_parameter" | "output_artifact";
export const SLICE_LISTS: SliceList[] = ["input_parameter", "input_artifact", "output_parameter", "output_artifact"];
export const SLICE_LIST_LABEL: Record<SliceList, string> = {
  input_parameter: "slice input parameters",
  input_artifact: "slice input artifacts",
  output_parameter: "stack output parameters",
  output_artifact: "stack output artifacts",
};

/** The ports a slices list may name, the template's first, then any listed port it does not declare
 * (so that a stale name shows and can be unticked). */
export function sliceChoices(
  template: Template | undefined,
  slices: GraphNode["slices"],
  list: SliceList,
): { port: string; checked: boolean; declared: boolean }[] {
  const kind: PortKind = list.endsWith("parameter") ? "parameter" : "artifact";
  const ports = (list.startsWith("input") ? inputPorts(template) : outputPorts(template))
    .filter((p) => p.kind === kind)
    .map((p) => p.name);
  const listed = sliceList(slices, list);
  return [
    ...ports.map((port) => ({ port, checked: listed.includes(port), declared: true })),
    ...listed.filter((p) => !ports.includes(p)).map((port) => ({ port, checked: true, declared: false })),
  ];
}

export function sliceList(slices: GraphNode["slices"], list: SliceList): string[] {
  const v = slices?.[list];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** `slices` with one field set (undefined, false, null or an empty list removes it); undefined when
 * nothing is left, as writers omit defaults. */
export function setSliceField(
  slices: GraphNode["slices"],
  field: string,
  value: Json | undefined,
): Record<string, Json> | undefined {
  const next: Record<string, Json> = { ...(slices ?? {}) };
  const empty = value === undefined || value === null || value === false || (Array.isArray(value) && !value.length);
  if (empty) delete next[field];
  else next[field] = value;
  return Object.keys(next).length ? next : undefined;
}

/** `slices` with `port` ticked or unticked in `list`, keeping the template's order of ports. */
export function toggleSlice(
  slices: GraphNode["slices"],
  template: Template | undefined,
  list: SliceList,
  port: string,
  on: boolean,
): Record<string, Json> | undefined {
  const chosen = new Set(sliceList(slices, list));
  if (on) chosen.add(port);
  else chosen.delete(port);
  const order = sliceChoices(template, slices, list).map((c) => c.port);
  if (!order.includes(port)) order.push(port);
  return setSliceField(
    slices,
    list,
    order.filter((p) => chosen.has(p)),
  );
}
