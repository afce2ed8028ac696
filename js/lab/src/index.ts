// dflow-lab's JupyterLab extension: the Workflow Editor for workflow files, launcher card and commands
// (New Workflow, Generate Python, Run Locally, Submit to Argo, Open Monitor), the Workflows side panel,
// the run monitor, and settings whose secrets are handed to the server extension and not kept here. A second
// plugin (cells.ts) puts the code that notebook widgets offer (the canvas's "</> Code") in new notebook cells.
import "@xyflow/react/dist/style.css";
import "@dflow-lab/canvas/styles.css";
import "./lab.css";
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, InputDialog, MainAreaWidget, WidgetTracker } from "@jupyterlab/apputils";
import { PathExt } from "@jupyterlab/coreutils";
import { IDefaultFileBrowser } from "@jupyterlab/filebrowser";
import { ILauncher } from "@jupyterlab/launcher";
import { IMainMenu } from "@jupyterlab/mainmenu";
import { IEditorServices } from "@jupyterlab/codeeditor";
import { ISettingRegistry } from "@jupyterlab/settingregistry";
import { Signal } from "@lumino/signaling";
import { setElkScript } from "@dflow-lab/canvas/elk";
import { bundledElkScript } from "@dflow-lab/canvas/elkScript";
import type { Graph } from "@dflow-lab/canvas/types";
import { api, type Engine } from "./api";
import { codeCellsPlugin, openSourceAt } from "./cells";
import { labCodeEditor } from "./codeEditor";
import { type EditorHost, WorkflowEditor, WorkflowEditorFactory, emptyGraph } from "./editor";
import { freePath, notebookOf } from "./files";
import { workflowIcon } from "./icons";
import { type MonitorHost, MonitorView } from "./monitor";
import { WorkflowsPanel } from "./panel";
import { SECRET_KEYS, syncSettings } from "./settings";

// elk (the layout of graphs up to 400 nodes without saved positions) is bundled with the extension as text
setElkScript(bundledElkScript);

const PLUGIN_ID = "@dflow-lab/jupyterlab:plugin";
const FACTORY = "Workflow Editor";

const CommandIDs = {
  newWorkflow: "dflow-lab:new-workflow",
  generatePython: "dflow-lab:generate-python",
  generateNotebook: "dflow-lab:generate-notebook",
  runLocally: "dflow-lab:run-locally",
  submitArgo: "dflow-lab:submit-argo",
  openMonitor: "dflow-lab:open-monitor",
  forgetSecrets: "dflow-lab:forget-secrets",
  setArgoToken: "dflow-lab:set-argo-token",
  setArtifactSecretKey: "dflow-lab:set-artifact-secret-key",
  undo: "dflow-lab:undo",
  redo: "dflow-lab:redo",
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: "Workflow documents on the dflow-lab canvas, a Workflows side panel and the live run monitor.",
  autoStart: true,
  requires: [ISettingRegistry],
  optional: [ILauncher, ICommandPalette, ILayoutRestorer, IDefaultFileBrowser, IMainMenu, IEditorServices],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    fileBrowser: IDefaultFileBrowser | null,
    mainMenu: IMainMenu | null,
    editorServices: IEditorServices | null,
  ) => {
    const { commands, shell, serviceManager, docRegistry } = app;
    const contents = serviceManager.contents;
    let argoConfigured = false;

    // -- monitors and the side panel ------------------------------------------------------------
    const monitors = new WidgetTracker<MainAreaWidget<MonitorView>>({ namespace: "dflow-lab-monitor" });
    const panel = new WorkflowsPanel((engine, name, documentPath) => void openMonitor(engine, name, documentPath));
    const monitorHost: MonitorHost = {
      openMonitor: (engine, name, documentPath) => void openMonitor(engine, name, documentPath),
      runsChanged: () => void panel.refresh(),
      documentOf: (name, documentPath) => {
        const path = runDocuments.get(name) ?? documentPath ?? undefined;
        const editor = path === undefined ? undefined : editors.find((w) => w.context.path === path);
        const graph = editor?.content.currentGraph();
        return path !== undefined && graph ? { graph, path } : null;
      },
    };
    // which document each run of this session came from, so a partial re-run runs the document as edited
    const runDocuments = new Map<string, string>();
    const monitorTitle = (widget: MainAreaWidget<MonitorView>) => {
      const { engine, name, documentPath } = widget.content;
      widget.title.label = documentPath ? `${PathExt.basename(documentPath)} · runs` : name;
      widget.title.caption = documentPath
        ? `Runs of ${documentPath}: showing ${name} (${engine})`
        : `${name} (${engine} run)`;
    };
    /** The monitor of run `name`: its document's tab (one per document: the run replaces what it showed),
     * else a tab of its own. */
    async function openMonitor(
      engine: Engine,
      name: string,
      documentPath?: string | null,
    ): Promise<MainAreaWidget<MonitorView>> {
      const existing = monitors.find((w) => w.content.engine === engine && w.content.name === name);
      if (existing) {
        shell.activateById(existing.id);
        return existing;
      }
      let doc = documentPath ?? runDocuments.get(name) ?? undefined;
      if (doc === undefined) {
        try {
          doc = (await api.workflow(engine, name)).workflow.documentPath ?? undefined;
        } catch {
          doc = undefined; // the monitor says why the run cannot be shown
        }
      }
      const tab = doc ? monitors.find((w) => w.content.documentPath === doc) : undefined;
      if (tab) {
        tab.content.showRun(engine, name);
        shell.activateById(tab.id);
        return tab;
      }
      const widget = new MainAreaWidget({ content: new MonitorView(engine, name, monitorHost, doc ?? null) });
      widget.id = doc ? `dflow-lab-monitor-doc-${doc}` : `dflow-lab-monitor-${engine}-${name}`;
      monitorTitle(widget);
      widget.title.icon = workflowIcon;
      widget.title.closable = true;
      widget.content.shown.connect(() => {
        monitorTitle(widget);
        void monitors.save(widget); // a restored layout shows the run shown last
      });
      void monitors.add(widget);
      shell.add(widget, "main");
      shell.activateById(widget.id);
      return widget;
    }
    shell.add(panel, "left", { rank: 700 });

    // -- the editor --------------------------------------------------------------------------------
    // the palettes follow saved .py files (OPs next to a document, in the root) and the settings
    const paletteChanged = new Signal<unknown, string | null>(app);
    contents.fileChanged.connect((_, change) => {
      const path = change.newValue?.path;
      if (change.type === "save" && typeof path === "string" && path.endsWith(".py")) paletteChanged.emit(path);
    });
    const host: EditorHost = {
      palette: (path: string) => api.palette(path),
      paletteChanged,
      paletteStamp: async (path: string) => (await api.paletteStamp(path)).stamp,
      codeEditor: editorServices ? labCodeEditor(editorServices) : undefined,
      newOp: async (spec, path) => {
        const { file } = await api.newOp(spec, path);
        paletteChanged.emit(file); // the other documents of that folder offer it too
        return file;
      },
      openSource: (file, line) => openSourceAt(commands, file, line),
      argoConfigured: () => argoConfigured,
      run: async (graph: Graph, engine: Engine, path: string) => {
        const run = await api.run(graph, engine, path);
        runDocuments.set(run.name, path);
        await openMonitor(engine, run.name, path);
        shell.activateById(panel.id);
        void panel.refresh();
      },
      generate: async (graph: Graph, kind: "python" | "notebook", nearPath: string) => {
        const { code, filename } = await api.code(graph);
        const dir = PathExt.dirname(nearPath);
        const stem = PathExt.basename(filename, ".py");
        const path =
          kind === "python"
            ? await freePath(contents, dir, stem, ".py")
            : await freePath(contents, dir, stem, ".ipynb");
        await contents.save(
          path,
          kind === "python"
            ? { type: "file", format: "text", content: code }
            : { type: "notebook", format: "json", content: notebookOf(code) },
        );
        await commands.execute("docmanager:open", { path });
      },
    };
    docRegistry.addFileType({
      name: "dflow-workflow",
      displayName: "Workflow",
      extensions: [".dflow.json"],
      mimeTypes: ["application/json"],
      contentType: "file",
      fileFormat: "text",
      icon: workflowIcon,
    });
    docRegistry.addFileType({
      name: "dflow-workflow-yaml",
      displayName: "Workflow (YAML)",
      extensions: [".dflow.yaml", ".dflow.yml"],
      mimeTypes: ["text/x-yaml"],
      contentType: "file",
      fileFormat: "text",
      icon: workflowIcon,
    });
    const factory = new WorkflowEditorFactory(
      {
        name: FACTORY,
        label: "Workflow Editor",
        modelName: "text",
        fileTypes: ["dflow-workflow", "dflow-workflow-yaml", "yaml"],
        defaultFor: ["dflow-workflow", "dflow-workflow-yaml"],
      },
      host,
    );
    docRegistry.addWidgetFactory(factory);
    const editors = new WidgetTracker<WorkflowEditor>({ namespace: "dflow-lab-editor" });
    factory.widgetCreated.connect((_, widget) => {
      widget.title.icon = workflowIcon;
      widget.context.pathChanged.connect(() => void editors.save(widget));
      void editors.add(widget);
    });
    const current = (): WorkflowEditor | null => {
      const w = editors.currentWidget;
      return w && w === shell.currentWidget ? w : null;
    };

    // -- commands -----------------------------------------------------------------------------------
    commands.addCommand(CommandIDs.newWorkflow, {
      label: (args) => (args.isLauncher || args.isMenu ? "Workflow" : "New Workflow"),
      caption: "Create a workflow file and open it in the Workflow Editor",
      icon: workflowIcon,
      execute: async (args) => {
        const dir = typeof args.cwd === "string" ? args.cwd : (fileBrowser?.model.path ?? "");
        const path = await freePath(contents, dir, "workflow", ".dflow.json");
        const name = PathExt.basename(path, ".dflow.json")
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, "-");
        await contents.save(path, {
          type: "file",
          format: "text",
          content: `${JSON.stringify(emptyGraph(name), null, 2)}\n`,
        });
        return commands.execute("docmanager:open", { path, factory: FACTORY });
      },
    });
    const onEditor = (action: string) => async () => {
      const w = current();
      if (w) await w.content.onAction(action);
    };
    commands.addCommand(CommandIDs.generatePython, {
      label: "Generate Python",
      caption: "Generate the Python code of the current workflow in a new file",
      isEnabled: () => current() !== null,
      execute: onEditor("code"),
    });
    commands.addCommand(CommandIDs.generateNotebook, {
      label: "Generate Notebook",
      caption: "Generate the Python code of the current workflow in a new notebook",
      isEnabled: () => current() !== null,
      execute: onEditor("notebook"),
    });
    commands.addCommand(CommandIDs.runLocally, {
      label: "Run Workflow Locally",
      caption: "Run the current workflow on this machine and watch it",
      isEnabled: () => current() !== null,
      execute: onEditor("run"),
    });
    commands.addCommand(CommandIDs.submitArgo, {
      label: "Submit Workflow to Argo",
      caption: "Submit the current workflow to the configured Argo server",
      isEnabled: () => current() !== null && argoConfigured,
      execute: onEditor("submit"),
    });
    commands.addCommand(CommandIDs.openMonitor, {
      label: "Open Workflow Monitor",
      caption: "Show the Workflows panel, or the monitor of the run given as {engine, name}",
      execute: (args) => {
        if (typeof args.name === "string" && (args.engine === "local" || args.engine === "argo")) {
          return openMonitor(args.engine, args.name);
        }
        shell.activateById(panel.id);
        return panel.refresh();
      },
    });
    // a secret typed in a password dialog goes straight to the server: it never enters the lab's settings
    const secretCommands: [string, (typeof SECRET_KEYS)[number], string][] = [
      [CommandIDs.setArgoToken, "argoToken", "Argo Token"],
      [CommandIDs.setArtifactSecretKey, "artifactSecretKey", "Artifact Secret Key"],
    ];
    for (const [id, key, what] of secretCommands) {
      commands.addCommand(id, {
        label: `Set ${what}…`,
        caption: `Type the ${what.toLowerCase()}; the Jupyter server keeps it, the browser does not`,
        execute: async () => {
          const result = await InputDialog.getPassword({
            title: `dflow-lab: ${what}`,
            label: `${what} (kept by the Jupyter server)`,
          });
          if (result.button.accept && result.value) await api.putSettings({ [key]: result.value });
        },
      });
    }
    commands.addCommand(CommandIDs.forgetSecrets, {
      label: "Forget Stored dflow-lab Secrets",
      caption: "Remove the Argo token and the S3 secret key kept by the server",
      execute: () => api.putSettings({ argoToken: "", artifactSecretKey: "" }),
    });
    // Edit → Undo/Redo: the file's own history (each canvas edit is one step), as for other documents
    const shared = (w: WorkflowEditor) => w.context.model.sharedModel;
    commands.addCommand(CommandIDs.undo, {
      label: "Undo Workflow Edit",
      isEnabled: () => {
        const w = current();
        return !!w && shared(w).canUndo();
      },
      execute: () => {
        const w = current();
        if (w) shared(w).undo();
      },
    });
    commands.addCommand(CommandIDs.redo, {
      label: "Redo Workflow Edit",
      isEnabled: () => {
        const w = current();
        return !!w && shared(w).canRedo();
      },
      execute: () => {
        const w = current();
        if (w) shared(w).redo();
      },
    });
    mainMenu?.fileMenu.newMenu.addItem({ command: CommandIDs.newWorkflow, args: { isMenu: true }, rank: 30 });
    mainMenu?.editMenu.undoers.undo.add({ id: CommandIDs.undo, isEnabled: (w) => editors.has(w) });
    mainMenu?.editMenu.undoers.redo.add({ id: CommandIDs.redo, isEnabled: (w) => editors.has(w) });

    launcher?.add({ command: CommandIDs.newWorkflow, category: "Other", rank: 1 });
    const inPalette = [
      CommandIDs.newWorkflow,
      CommandIDs.generatePython,
      CommandIDs.generateNotebook,
      CommandIDs.runLocally,
      CommandIDs.submitArgo,
      CommandIDs.openMonitor,
      CommandIDs.setArgoToken,
      CommandIDs.setArtifactSecretKey,
      CommandIDs.forgetSecrets,
    ];
    for (const command of inPalette) palette?.addItem({ command, category: "dflow-lab" });

    // -- layout restoration -------------------------------------------------------------------------
    if (restorer) {
      restorer.add(panel, "dflow-lab-workflows");
      void restorer.restore(editors, {
        command: "docmanager:open",
        args: (w) => ({ path: w.context.path, factory: FACTORY }),
        name: (w) => w.context.path,
      });
      void restorer.restore(monitors, {
        command: CommandIDs.openMonitor,
        args: (w) => ({ engine: w.content.engine, name: w.content.name }),
        name: (w) => `${w.content.engine}/${w.content.name}`,
      });
    }

    // -- settings: public ones go to the server; secrets too, then leave the browser's settings -----
    void settingRegistry.load(PLUGIN_ID).then(
      (settings) =>
        syncSettings(settings, (pub) => {
          argoConfigured = !!pub.argoHost;
          commands.notifyCommandChanged(CommandIDs.submitArgo);
          paletteChanged.emit(null); // OP modules may have changed: every open palette asks again
        }),
      (e) => console.error(`dflow-lab: cannot load settings: ${e}`),
    );
  },
};

export default [plugin, codeCellsPlugin];
