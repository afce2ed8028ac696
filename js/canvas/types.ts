// The graph document (docs/graph-format.md, dflow_lab/graph/schema.json) as TypeScript types, and the
// shapes the canvas exchanges with its host (the anywidget model or the JupyterLab document).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type TemplateKind = "python" | "shell" | "script" | "container" | "steps" | "dag";
export type PortKind = "parameter" | "artifact";
export type EdgeKind = PortKind | "control";

export interface PortSpec {
  type?: string | null;
  description?: string | null;
  default?: Json;
  optional?: boolean;
  path?: string | null;
  big?: boolean;
  [key: string]: Json | undefined;
}

export interface PortGroup {
  parameters?: Record<string, PortSpec>;
  artifacts?: Record<string, PortSpec>;
}

export interface Endpoint {
  node: string;
  port?: string;
  option?: "with_param";
}

export interface GraphEdge {
  kind: EdgeKind;
  source: Endpoint;
  target: Endpoint;
}

export interface Sequence {
  start?: number | string | null;
  end?: number | string | null;
  count?: number | string | null;
  format?: string | null;
}

export interface GraphNode {
  name: string;
  template: string;
  stage?: number;
  parameters?: Record<string, Json>;
  artifacts?: Record<string, Json>;
  when?: string | null;
  with_param?: Json;
  with_sequence?: Sequence | null;
  key?: string | null;
  continue_on_failed?: boolean;
  continue_on_error?: boolean;
  continue_on_num_success?: number | null;
  continue_on_success_ratio?: number | null;
  parallelism?: number | null;
  slices?: Record<string, Json> | null;
  options?: Record<string, Json>;
}

export interface Template {
  kind: TemplateKind;
  description?: string | null;
  inputs?: PortGroup;
  outputs?: PortGroup;
  options?: Record<string, Json>;
  op?: string;
  image?: string | null;
  script?: string;
  command?: string[] | null;
  args?: string[] | null;
  parallelism?: number | null;
  nodes?: GraphNode[];
  edges?: GraphEdge[];
}

export interface Position {
  x: number;
  y: number;
  width?: number;
  height?: number;
  collapsed?: boolean;
}

export interface TemplateLayout {
  nodes?: Record<string, Position>;
  viewport?: { x: number; y: number; zoom: number };
  [key: string]: unknown;
}

export interface Graph {
  version: 1;
  name: string;
  entrypoint: string;
  parameters?: Record<string, Json>;
  templates: Record<string, Template>;
  layout?: { templates?: Record<string, TemplateLayout>; [key: string]: unknown };
  [key: string]: unknown;
}

/** A problem reported by `dflow_lab.graph.validate` (Issue.to_dict()). */
export interface Issue {
  code: string;
  message: string;
  template: string | null;
  node: string | null;
  port: string | null;
  path?: string | null;
}

/** A template the palette offers: one of the workflow's, or a Python OP found in a module. */
export interface PaletteEntry {
  name: string;
  source: string; // "workflow", a built-in group ("Shell", "Python script"…), or where it was found
  template: Template;
  /** where the OP is defined (relative to the server's root when it is inside it), for "Open source" */
  file?: string;
  line?: number;
}

export type Phase = "Pending" | "Running" | "Succeeded" | "Failed" | "Error" | "Skipped" | "Omitted";

/** The live status of one canvas node (a step, a task, or all items of its fan-out). */
export interface NodeStatus {
  phase: Phase;
  startedAt?: string | null;
  finishedAt?: string | null;
  message?: string | null;
  counts?: Partial<Record<Phase, number>>;
  total?: number;
  /** the outputs were taken from an earlier run (a partial re-run reused this step) */
  reused?: boolean;
  /** while two runs are compared: this node against the other run, and what differs */
  compare?: { state: "changed" | "unchanged" | "added" | "removed"; fields: string[]; other: string } | null;
}

/** What the monitor shows for one step when it is clicked. */
export interface StepDetails {
  path: string;
  phase?: Phase;
  key?: string | null;
  duration?: number | null;
  message?: string | null;
  items?: { index: number; label: string; phase: Phase }[];
  item?: number | null;
  inputs: PortValue[];
  outputs: PortValue[];
  logs?: string;
  /** where the log shown ends (a byte offset of the log file), for appending the lines that follow */
  logsEnd?: number;
  logsSkipped?: boolean;
  actions?: string[];
  error?: string;
  /** where the step ran when an executor ran it (kind and user@host:port; never credentials) */
  executor?: { kind: string; target?: string | null } | null;
  /** the Slurm job of a SlurmRemoteExecutor/SlurmJobTemplate step, once submitted */
  slurmJobId?: string | null;
  /** each retry attempt of a retried step, oldest first (its node id gives its own log) */
  attempts?: Attempt[];
  /** the attempt whose log is shown (none: the step's) */
  logsAttempt?: string | null;
  /** the run whose outputs this step reused, when it was not run */
  reusedFrom?: string | null;
  /** a fan-out's items, one page at a time, filtered by phase (the lab's monitor) */
  fanout?: FanoutPage | null;
  /** while two runs are compared: the other run's side of this step */
  compare?: {
    run: string;
    state: string;
    fields: string[];
    duration: number | null;
    details: StepDetails | null;
    /** a fan-out group: its changed items (index → state, fields; the others unchanged) and their counts */
    items?: Record<string, { state: string; fields?: string[] }>;
    itemCounts?: Partial<Record<string, number>>;
  } | null;
}

export interface Attempt {
  index: number;
  id: string;
  phase: Phase;
  message?: string | null;
  duration?: number | null;
}

export interface PortValue {
  name: string;
  kind: PortKind;
  value?: string;
  preview?: Preview;
}

export type Preview =
  | { kind: "text"; text: string; truncated: boolean }
  | { kind: "json"; text: string; truncated: boolean }
  | { kind: "table"; columns: string[]; rows: string[][]; truncated: boolean }
  | { kind: "image"; mime: string; data: string }
  | { kind: "array"; shape: number[]; dtype: string; summary: string }
  | { kind: "directory"; entries: { name: string; size: number | null; dir: boolean }[]; truncated: boolean }
  | { kind: "binary"; size: number }
  | { kind: "missing"; message: string };

/** A module of OPs the palette could not offer (it failed to import): where, and why. */
export interface PaletteError {
  source: string; // the palette group it belongs to (a file, a module, an entry point)
  message: string;
  file?: string;
  line?: number;
}

/** One page of a fan-out's items (dflow_lab.runview.compare.fanout_items). */
export interface FanoutPage {
  path: string;
  total: number;
  matching: number;
  counts: Partial<Record<Phase, number>>;
  offset: number;
  limit: number;
  phase?: string | null;
  items: { index: number; id: string; displayName: string; phase: Phase; message?: string | null }[];
}
