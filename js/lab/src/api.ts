// The server extension's REST API (dflow_lab/jupyter/handlers.py) as typed calls. Requests go through
// Jupyter's ServerConnection, which adds the auth token and the XSRF header.
import { URLExt } from "@jupyterlab/coreutils";
import { ServerConnection } from "@jupyterlab/services";
import type {
  FanoutPage,
  Graph,
  Issue,
  NodeStatus,
  PaletteEntry,
  PaletteError,
  Preview,
  StepDetails,
} from "@dflow-lab/canvas/types";
import type { WorkflowState } from "@dflow-lab/canvas/Canvas";
import type { Comparison } from "@dflow-lab/canvas/compare";
import type { NewOpSpec } from "@dflow-lab/canvas/NewOpForm";
import type { StatusMessage } from "@dflow-lab/canvas/statusFeed";

export type Engine = "local" | "argo";
export type DocFormat = "json" | "yaml" | "argo";

export interface WorkflowRow {
  name: string;
  engine: Engine;
  phase: string;
  created?: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
  duration?: number | null;
  progress: { counts: Record<string, number>; total: number };
  message?: string | null;
  /** the run history: the document's label, its path (relative to the root), the run a re-run reused */
  document?: string | null;
  documentPath?: string | null;
  reusedFrom?: string | null;
}

export interface PublicSettings {
  argoHost: string;
  namespace: string;
  artifactEndpoint: string;
  artifactBucket: string;
  artifactSecure: boolean;
  artifactAccessKey: string;
  defaultImage: string;
  opModules: string[];
  secrets: Record<string, boolean>;
}

/** An error answered by the server extension: its message, and validation issues when there are some. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly issues: Issue[] = [],
  ) {
    super(message);
  }
}

const settings = ServerConnection.makeSettings();

export function apiUrl(path: string, query?: Record<string, string | number | undefined>): string {
  const url = URLExt.join(settings.baseUrl, "dflow-lab/api", path);
  const q = Object.entries(query ?? {}).filter(([, v]) => v !== undefined && v !== "");
  return q.length
    ? `${url}?${q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&")}`
    : url;
}

export async function request<T>(
  path: string,
  init: RequestInit = {},
  query?: Record<string, string | number | undefined>,
): Promise<T> {
  const response = await ServerConnection.makeRequest(apiUrl(path, query), init, settings);
  const text = await response.text();
  let body: { message?: string; issues?: Issue[] } | null = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text };
  }
  if (!response.ok) {
    throw new ApiError(
      body?.message ?? `${response.status} ${response.statusText}`,
      response.status,
      body?.issues ?? [],
    );
  }
  return body as T;
}

const post = <T>(path: string, body: unknown) => request<T>(path, { method: "POST", body: JSON.stringify(body) });

/** A partial re-run on the results of run `run` (dflow_lab.rerun.reuse_set): this step alone, from it, or
 * the failed steps. */
export interface Rerun {
  mode: "only" | "from" | "failed";
  step?: string;
  run: string;
}

export type { Comparison } from "@dflow-lab/canvas/compare";

export const api = {
  validate: (graph: Graph) => post<{ issues: Issue[] }>("validate", { graph }).then((r) => r.issues),
  /** validate, given the graph's JSON text (well-formed: it was parsed), without serialising the graph again;
   * sent as a Blob: a string body is encoded and copied into the request's stream on the main thread (20-60 ms
   * for a 10,000-task document), a Blob is handed to the browser as it is */
  validateJson: (json: string) =>
    request<{ issues: Issue[] }>("validate", {
      method: "POST",
      body: new Blob(['{"graph":', json, "}"], { type: "application/json" }),
    }).then((r) => r.issues),
  code: (graph: Graph) => post<{ code: string; filename: string }>("code", { graph }),
  parse: (text: string, path: string) =>
    post<{ graph: Graph | null; format: DocFormat }>("documents/parse", { text, path }),
  dump: (graph: Graph, format: DocFormat, path: string) =>
    post<{ text: string }>("documents/dump", { graph, format, path }).then((r) => r.text),
  palette: (path?: string) => request<{ entries: PaletteEntry[]; errors: PaletteError[] }>("palette", {}, { path }),
  paletteStamp: (path?: string) => request<{ stamp: string }>("palette/stamp", {}, { path }),
  newOp: (spec: NewOpSpec, path: string) =>
    post<{ entry: PaletteEntry; file: string; line: number }>("ops", { ...spec, path }),
  workflows: () => request<{ workflows: WorkflowRow[]; errors: Record<string, string> }>("workflows"),
  run: (graph: Graph, engine: Engine, path?: string, rerun?: Rerun) =>
    post<{ name: string; engine: Engine; workflow: WorkflowRow }>("workflows", { graph, engine, path, rerun }),
  history: (documentPath: string) =>
    request<{ workflows: WorkflowRow[]; errors: Record<string, string> }>("workflows", {}, { document: documentPath }),
  compare: (engine: Engine, name: string, other: string) =>
    request<Comparison>(`workflows/${engine}/${name}/compare`, {}, { with: other }),
  items: (engine: Engine, name: string, path: string, offset: number, phase?: string | null) =>
    request<FanoutPage>(`workflows/${engine}/${name}/items`, {}, { path, offset, phase: phase || undefined }),
  logs: (engine: Engine, name: string, node: string) =>
    request<{ lines: string[]; truncated: boolean }>(`workflows/${engine}/${name}/logs`, {}, { node }),
  workflow: (engine: Engine, name: string) =>
    request<{
      workflow: WorkflowRow;
      graph: Graph | null;
      graph_error: string | null;
      status: Record<string, NodeStatus>;
    }>(`workflows/${engine}/${name}`),
  details: (engine: Engine, name: string, path: string, item?: number) =>
    request<StepDetails>(`workflows/${engine}/${name}/details`, {}, { path, item }),
  artifact: (engine: Engine, name: string, path: string, artifact: string, io: "inputs" | "outputs" = "outputs") =>
    request<{ preview: Preview }>(`workflows/${engine}/${name}/artifacts`, {}, { path, name: artifact, io }),
  action: (engine: Engine, name: string, action: string, path?: string) =>
    post<{ name: string; engine: Engine }>(`workflows/${engine}/${name}/actions`, { action, path: path || undefined }),
  getSettings: () => request<PublicSettings>("settings"),
  putSettings: (values: Record<string, unknown>) =>
    request<PublicSettings>("settings", { method: "PUT", body: JSON.stringify(values) }),
};

/** The event stream's messages (dflow_lab/jupyter/stream.py); status ones go to a StatusFeed. */
export type StreamMessage =
  ({ type: "status" } & StatusMessage) | { type: "workflow"; state: WorkflowState & { name?: string } };

/**
 * Follow a run's server-sent events (read with fetch, so Jupyter's auth header and cookies apply).
 * Resolves when the stream ends (the run finished) or `signal` aborts it.
 */
export async function follow(
  engine: Engine,
  name: string,
  onMessage: (m: StreamMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await ServerConnection.makeRequest(
    apiUrl(`workflows/${engine}/${name}/events`),
    { signal },
    settings,
  );
  if (!response.ok || !response.body)
    throw new ApiError(`event stream: ${response.status} ${response.statusText}`, response.status);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const lines = block.split("\n");
      if (lines.some((l) => l === "event: end")) return;
      const data = lines
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      if (data) onMessage(JSON.parse(data) as StreamMessage);
    }
  }
}
