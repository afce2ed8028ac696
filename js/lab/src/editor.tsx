// The Workflow Editor document: a workflow file (`*.dflow.json`, `*.dflow.yaml`, or an Argo YAML opened
// with "Open With → Workflow Editor") drawn full-size by the shared canvas. The file's text stays the
// document model, so dirty state, save, revert and the file's undo history are JupyterLab's own; canvas
// edits are written back into the text (JSON here, YAML and Argo YAML by the server extension).
import { ABCWidgetFactory, type DocumentRegistry, DocumentWidget } from "@jupyterlab/docregistry";
import { ReactWidget } from "@jupyterlab/ui-components";
import { type ISignal, Signal } from "@lumino/signaling";
import { Canvas, type HostAction } from "@dflow-lab/canvas/Canvas";
import type { NewOpSpec } from "@dflow-lab/canvas/NewOpForm";
import type { CodeEditorComponent } from "@dflow-lab/canvas/TemplateEditor";
import type { Graph, Issue, PaletteEntry, PaletteError } from "@dflow-lab/canvas/types";
import { mark } from "@dflow-lab/canvas/marks";
import { ApiError, api, type DocFormat, type Engine } from "./api";
import { useSignal } from "./hooks";

/** What the editor asks of the rest of the extension. */
export interface EditorHost {
  /** the palette of the document at `path`: built-ins, OPs next to it, in the root, configured, installed */
  palette(path: string): Promise<{ entries: PaletteEntry[]; errors: PaletteError[] }>;
  /** emitted when the palette may have changed: a .py file saved, the settings changed, an OP created */
  paletteChanged: ISignal<unknown, string | null>;
  /** a fingerprint of the .py files where the palette of `path` looks (changes when one is written) */
  paletteStamp?(path: string): Promise<string>;
  /** JupyterLab's code editor for scripts, when the editor services are there */
  codeEditor?: CodeEditorComponent;
  argoConfigured(): boolean;
  run(graph: Graph, engine: Engine, path: string): Promise<void>;
  /** write a new function OP beside the document at `path`; the file it went into */
  newOp(spec: NewOpSpec, path: string): Promise<string>;
  /** open `file` (relative to the server's root) in JupyterLab's editor at `line` */
  openSource(file: string, line?: number): Promise<void>;
  generate(graph: Graph, kind: "python" | "notebook", nearPath: string): Promise<void>;
}

type Notice = { level: "info" | "error"; text: string } | null;

const VALIDATE_DELAY_MS = 150;
/** How often a visible editor asks whether a .py file beside it (or in the root) changed on disk: files
 * written outside JupyterLab (another editor, a script, git) reach the palette within about this long. */
export const PALETTE_POLL_MS = 700;

function workflowName(path: string): string {
  const base = path.split("/").pop() ?? "workflow";
  const stem = base.replace(/\.dflow\.(json|ya?ml)$/i, "").replace(/\.(json|ya?ml)$/i, "");
  return (
    stem
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "workflow"
  );
}

/** The document of a new, empty workflow (an empty DAG as its entrypoint). */
export function emptyGraph(name: string): Graph {
  return { version: 1, name, entrypoint: "main", templates: { main: { kind: "dag" } } };
}

/** Whether `b` is `a` but for its layout: every other member the same object (the canvas's automatic layout
 * shares them, layout.ts `layoutChanges`; an edit copies the document). An identity check: comparing the JSON of
 * 10,000 tasks took 20-40 ms of the main thread, twice per open. */
export function sameButLayout(a: Graph, b: Graph): boolean {
  const keys = (g: Graph) => Object.keys(g).filter((k) => k !== "layout");
  const ka = keys(a);
  return ka.length === keys(b).length && ka.every((k) => a[k as keyof Graph] === b[k as keyof Graph]);
}

/** Palette entries for the templates of the document itself (not its entrypoint: that is the canvas). */
function workflowEntries(g: Graph): PaletteEntry[] {
  return Object.entries(g.templates)
    .filter(([name]) => name !== g.entrypoint)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, template]) => ({ name, source: "workflow", template }));
}

/** The state of one editor, shared by the Lumino widget and its React view. */
class EditorState {
  readonly changed = new Signal<this, void>(this);
  graph: Graph | null = null;
  format: DocFormat = "json";
  issues: Issue[] = [];
  notice: Notice = null;
  palette: PaletteEntry[] = [];
  paletteErrors: PaletteError[] = [];
  loadError: string | null = null;

  update(
    patch: Partial<
      Pick<EditorState, "graph" | "format" | "issues" | "notice" | "palette" | "paletteErrors" | "loadError">
    >,
  ): void {
    Object.assign(this, patch);
    this.changed.emit();
  }
}

export class WorkflowEditorView extends ReactWidget {
  readonly state = new EditorState();
  readonly codeEditor: CodeEditorComponent | undefined;
  private lastText: string | null = null;
  private pristine: Graph | null = null; // the loaded document, when it had no layout, until a real edit
  private validateTimer = 0;
  private writeSeq = 0;
  private pending: Promise<void> = Promise.resolve(); // the last write into the text (YAML goes via the server)
  private diskText: string | null = null; // the file's content as last loaded or saved
  private diskModified: string | undefined;

  constructor(
    private readonly context: DocumentRegistry.Context,
    private readonly host: EditorHost,
  ) {
    super();
    this.codeEditor = host.codeEditor;
    this.addClass("dfl-lab-editor");
    // the canvas keeps JupyterLab's shortcuts away from its keys (Delete, Ctrl+C…); saving stays Ctrl/Cmd+S
    this.node.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === "s") {
        e.preventDefault();
        e.stopPropagation();
        void this.save();
      }
    });
    void context.ready.then(() => {
      this.onDisk();
      return this.load();
    });
    context.model.contentChanged.connect(() => {
      if (context.isReady) void this.load();
    });
    context.saveState.connect((_, state) => {
      if (state === "completed") this.onDisk();
    });
    context.fileChanged.connect((_, model) => {
      // a revert after the file changed on disk (not a rename)
      if (model.last_modified !== this.diskModified) {
        this.onDisk();
        this.context.model.dirty = false;
      }
    });
    void context.ready.then(() => this.refreshPalette());
    host.paletteChanged.connect(this.onPaletteChanged, this);
    if (host.paletteStamp) this.pollTimer = window.setInterval(() => void this.pollStamp(), PALETTE_POLL_MS);
  }

  dispose(): void {
    this.host.paletteChanged.disconnect(this.onPaletteChanged, this);
    window.clearInterval(this.pollTimer);
    super.dispose();
  }

  private pollTimer = 0;
  private stamp: string | null = null;
  private polling = false;

  /** While the editor is visible: the palette is asked again when the .py files it looks at changed. */
  private async pollStamp(): Promise<void> {
    if (this.polling || !this.isVisible || !this.context.isReady || !this.host.paletteStamp) return;
    this.polling = true;
    try {
      const stamp = await this.host.paletteStamp(this.path);
      if (this.stamp === null) this.stamp = stamp;
      else if (stamp !== this.stamp) await this.refreshPalette();
    } catch {
      // the server is away (restarting): the next tick asks again
    } finally {
      this.polling = false;
    }
  }

  private onPaletteChanged(_: unknown, changed: string | null): void {
    // a saved .py file counts when it is next to this document or in the root (where OPs are looked for)
    if (changed !== null) {
      const dir = (p: string) => p.split("/").slice(0, -1).join("/");
      if (dir(changed) !== dir(this.path) && dir(changed) !== "") return;
    }
    void this.refreshPalette();
  }

  private paletteSeq = 0;

  /** Ask the server for this document's palette (the latest answer wins). */
  async refreshPalette(): Promise<void> {
    const seq = ++this.paletteSeq;
    try {
      // the stamp first: a file written while the palette is being made is noticed by the next poll
      if (this.host.paletteStamp) this.stamp = await this.host.paletteStamp(this.path).catch(() => this.stamp);
      const { entries, errors } = await this.host.palette(this.path);
      if (seq === this.paletteSeq) this.state.update({ palette: entries, paletteErrors: errors });
    } catch (e) {
      if (seq === this.paletteSeq) this.notify(`palette: ${e instanceof Error ? e.message : e}`, "error");
    }
  }

  /** The text is now the file's content. */
  private onDisk(): void {
    this.diskText = this.context.model.toString();
    this.diskModified = this.context.contentsModel?.last_modified;
  }

  /** The graph as edited now (null while loading or when the file cannot be read). */
  currentGraph(): Graph | null {
    return this.state.graph;
  }

  get path(): string {
    return this.context.path;
  }

  private notify(text: string | null, level: "info" | "error" = "info"): void {
    this.state.update({ notice: text === null ? null : { level, text } });
  }

  /** (Re)read the document from the file's text, unless the text is what the canvas just wrote. */
  private async load(): Promise<void> {
    mark("dfl:open:text");
    const text = this.context.model.toString();
    if (text === this.lastText) return;
    this.lastText = text;
    this.writeSeq++; // the text changed under the canvas (revert, another view): drop writes on their way
    // JupyterLab's revert leaves the flag set: the document is clean when its text is the file's again
    if (this.diskText !== null) this.context.model.dirty = text !== this.diskText;
    try {
      let graph: Graph | null;
      let format: DocFormat;
      if (/\.json$/i.test(this.path)) {
        graph = text.trim() ? (JSON.parse(text) as Graph) : null;
        format = "json";
      } else {
        ({ graph, format } = await api.parse(text, this.path));
        if (text !== this.lastText) return; // the file changed again while it was parsed
      }
      graph ??= emptyGraph(workflowName(this.path));
      mark("dfl:open:parsed");
      this.pristine = graph.layout ? null : graph;
      this.state.update({ graph, format, loadError: null });
      // a JSON document is validated from its text, not from the graph serialised again (50-90 ms for 10,000 tasks)
      this.scheduleValidation(graph, format === "json" && text.trim() ? text : undefined);
    } catch (e) {
      this.state.update({ loadError: `${this.path}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  /** A change made on the canvas: validate it and write it into the file's text. */
  onCanvasChange = (graph: Graph): void => {
    const firstLayoutOnly = this.pristine !== null && sameButLayout(this.pristine, graph);
    this.state.update({ graph });
    // the automatic layout of a file opened without one is not an edit, and validation does not read the layout:
    // the validation of the loaded document stands (its answer is taken for this graph too)
    if (firstLayoutOnly) return;
    this.scheduleValidation(graph);
    this.pristine = null;
    this.pending = this.write(graph);
  };

  /** Save the file once the last canvas edit is in its text. */
  async save(): Promise<void> {
    await this.pending;
    await this.context.save();
  }

  private async write(graph: Graph): Promise<void> {
    const seq = ++this.writeSeq;
    try {
      const text =
        this.state.format === "json"
          ? `${JSON.stringify(graph, null, 2)}\n`
          : await api.dump(graph, this.state.format, this.path);
      if (seq !== this.writeSeq) return; // a later edit is on its way
      this.lastText = text;
      this.context.model.sharedModel.setSource(text);
      this.context.model.dirty = true; // a text model is marked dirty by its writer, as the file editor does
      if (this.state.notice?.level === "error") this.notify(null);
    } catch (e) {
      if (seq === this.writeSeq)
        this.notify(`not written to ${this.path} yet: ${e instanceof Error ? e.message : e}`, "error");
    }
  }

  /** Validate `graph` (given as `json`, its text, when there is one) after VALIDATE_DELAY_MS. */
  private scheduleValidation(graph: Graph, json?: string): void {
    window.clearTimeout(this.validateTimer);
    this.validateTimer = window.setTimeout(() => {
      mark("dfl:validate:start");
      (json !== undefined ? api.validateJson(json) : api.validate(graph)).then(
        (issues) => {
          mark("dfl:validate:end");
          const now = this.state.graph;
          if (now === graph || (now && this.pristine === graph && sameButLayout(graph, now)))
            this.state.update({ issues });
        },
        (e) => this.notify(`validation failed: ${e instanceof Error ? e.message : e}`, "error"),
      );
    }, VALIDATE_DELAY_MS);
  }

  onNewOp = async (spec: NewOpSpec): Promise<void> => {
    const file = await this.host.newOp(spec, this.path);
    await this.refreshPalette();
    this.notify(`${spec.name} written to ${file}; it is in the palette under ${file}`);
  };

  onOpenSource = (file: string, line?: number): void => {
    if (file.startsWith("/")) {
      this.notify(
        `defined in ${file}${line ? `:${line}` : ""}, outside the server's root: JupyterLab cannot open it`,
        "error",
      );
      return;
    }
    void this.host
      .openSource(file, line)
      .catch((e) => this.notify(`cannot open ${file}: ${e instanceof Error ? e.message : e}`, "error"));
  };

  actions(): HostAction[] {
    const graph = this.state.graph;
    const empty = !graph || !(graph.templates[graph.entrypoint]?.nodes ?? []).length;
    const ok = this.state.issues.length === 0 && !empty;
    const why = empty ? "The workflow is empty: drag a template from the palette first" : "Fix the problems first";
    const argo = this.host.argoConfigured();
    return [
      { action: "save", label: "Save", title: "Save the file (Ctrl+S)" },
      { action: "code", label: "</> Python", title: "Generate the Python code of this workflow in a new file" },
      { action: "notebook", label: "Notebook", title: "Generate the Python code into a new notebook" },
      {
        action: "run",
        label: "▶ Run locally",
        primary: true,
        enabled: ok,
        title: ok ? "Run on this machine and watch it" : why,
      },
      {
        action: "submit",
        label: "Submit to Argo",
        enabled: ok && argo,
        title: !ok ? why : argo ? "Submit to the configured Argo server" : "Set the Argo host in Settings → dflow-lab",
      },
    ];
  }

  onAction = async (action: string): Promise<void> => {
    const graph = this.state.graph;
    if (!graph) return;
    try {
      if (action === "save") {
        await this.save();
        this.notify(`Saved ${this.path}`);
      } else if (action === "code" || action === "notebook") {
        await this.host.generate(graph, action === "code" ? "python" : "notebook", this.path);
      } else if (action === "run" || action === "submit") {
        this.notify(action === "run" ? "Starting a local run…" : "Submitting to Argo…");
        await this.host.run(graph, action === "run" ? "local" : "argo", this.path);
        this.notify(null);
      }
    } catch (e) {
      const issues = e instanceof ApiError && e.issues.length ? e.issues : null;
      if (issues) this.state.update({ issues });
      this.notify(e instanceof Error ? e.message : String(e), "error");
    }
  };

  render(): JSX.Element {
    return <EditorView view={this} />;
  }
}

/** The server's verdict on a `when` text (the govaluate parser the engine runs it with). */
async function checkWhen(text: string): Promise<string | null> {
  const graph: Graph = {
    version: 1,
    name: "when",
    entrypoint: "main",
    templates: {
      main: { kind: "dag", nodes: [{ name: "a", template: "t", when: text }] },
      t: { kind: "container", image: "busybox", command: ["true"] },
    },
  };
  const issues = await api.validate(graph);
  return issues.find((i) => i.code === "invalid-when")?.message.replace(/^node 'a': /, "") ?? null;
}

function EditorView({ view }: { view: WorkflowEditorView }) {
  const state = view.state;
  useSignal(state.changed);
  if (state.loadError)
    return (
      <div className="dfl-lab-error" data-testid="load-error">
        {state.loadError}
      </div>
    );
  if (!state.graph) return <div className="dfl-lab-loading">Loading workflow…</div>;
  return (
    <Canvas
      readableFit
      graph={state.graph}
      mode="edit"
      issues={state.issues}
      palette={[...workflowEntries(state.graph), ...state.palette]}
      paletteErrors={state.paletteErrors}
      codeEditor={view.codeEditor}
      onNewOp={view.onNewOp}
      onOpenSource={view.onOpenSource}
      checkWhen={checkWhen}
      notice={state.notice}
      actions={view.actions()}
      onChange={view.onCanvasChange}
      onAction={(a) => void view.onAction(a)}
    />
  );
}

export class WorkflowEditor extends DocumentWidget<WorkflowEditorView> {}

/** Creates Workflow Editor documents for the workflow file types (and Argo YAML through "Open With"). */
export class WorkflowEditorFactory extends ABCWidgetFactory<WorkflowEditor> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<WorkflowEditor>,
    private readonly host: EditorHost,
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): WorkflowEditor {
    const content = new WorkflowEditorView(context, this.host);
    const widget = new WorkflowEditor({ content, context });
    widget.addClass("dfl-lab-document");
    return widget;
  }
}
