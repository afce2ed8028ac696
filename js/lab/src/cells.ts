// Code a notebook widget offers (the canvas's "</> Code" button) becomes a new code cell right below the
// cell whose output holds the widget, as `%load` would put it: not run, active, scrolled to, the keyboard's
// focus, and one step of the notebook's undo history. A widget's "Open source" (a file as its kernel sees
// it) opens in JupyterLab's editor at the line when the file is under the server's root.
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { PageConfig } from "@jupyterlab/coreutils";
import { INotebookTracker } from "@jupyterlab/notebook";
import { listenForCells, listenForSources } from "@dflow-lab/canvas/cellEvent";

/** Open `file` (relative to the server's root) in JupyterLab's editor, the cursor on `line`. */
export async function openSourceAt(commands: JupyterFrontEnd["commands"], file: string, line?: number): Promise<void> {
  type Editor = {
    setCursorPosition(p: { line: number; column: number }): void;
    revealPosition(p: { line: number; column: number }): void;
    focus(): void;
    lineCount: number;
  };
  const widget = (await commands.execute("docmanager:open", { path: file, factory: "Editor" })) as
    { context?: { ready: Promise<void> }; revealed?: Promise<void>; content?: { editor?: Editor } } | undefined;
  await widget?.context?.ready;
  await widget?.revealed;
  const editor = widget?.content?.editor;
  if (!editor || !line) return;
  const position = { line: line - 1, column: 0 };
  // the text reaches the editor after the document is ready: place the cursor once the line is there
  for (let i = 0; i < 100 && editor.lineCount < line; i++) await new Promise((r) => setTimeout(r, 20));
  editor.focus();
  editor.setCursorPosition(position);
  editor.revealPosition(position);
}

/** `file` (absolute) relative to the server's root, or null when it is elsewhere (or the root is unknown). */
export function underServerRoot(file: string, root: string): string | null {
  const base = root.replace(/\/+$/, "");
  if (!base || !file.startsWith(base + "/")) return null;
  const rel = file.slice(base.length + 1);
  return rel.split("/").some((p) => p === ".." || p === "") ? null : rel;
}

/** Insert `code` as a code cell below the notebook cell that holds `target`; false if no notebook cell does. */
export function insertCellBelow(notebooks: INotebookTracker, target: Node, code: string): boolean {
  const panel = notebooks.find((p) => p.content.node.contains(target));
  const notebook = panel?.content;
  const model = notebook?.model;
  if (!notebook || !model || model.readOnly) return false;
  const index = notebook.widgets.findIndex((cell) => cell.model.type === "code" && cell.node.contains(target));
  if (index < 0) return false;
  // one step of its own in the undo history: Yjs would merge it with changes made within the last 500 ms
  const history = (model.sharedModel as unknown as { undoManager?: { stopCapturing(): void } }).undoManager;
  history?.stopCapturing();
  model.sharedModel.insertCell(index + 1, { cell_type: "code", source: code, metadata: {} });
  history?.stopCapturing();
  notebook.deselectAll();
  notebook.activeCellIndex = index + 1;
  notebook.mode = "command";
  notebook.activate(); // the keyboard goes to the notebook: arrows move from the new cell, `z` undoes it
  void notebook.scrollToItem(index + 1, "smart").catch(() => undefined); // only fails when torn down
  return true;
}

/** The plugin that puts the code offered by widgets in notebooks in new cells (where there are notebooks). */
export const codeCellsPlugin: JupyterFrontEndPlugin<void> = {
  id: "@dflow-lab/jupyterlab:code-cells",
  description:
    "Code offered by a notebook widget (the canvas's \"</> Code\") in a new cell below the widget's cell; " +
    "a widget's \"Open source\" in JupyterLab's editor.",
  autoStart: true,
  optional: [INotebookTracker], // absent in a page without notebooks (Notebook 7's file browser)
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker | null) => {
    if (notebooks) listenForCells(document, (code, target) => insertCellBelow(notebooks, target, code));
    listenForSources(document, (file, line) => {
      const rel = underServerRoot(file, PageConfig.getOption("serverRoot"));
      if (rel === null) return false; // outside what JupyterLab can open: the widget shows the source
      void openSourceAt(app.commands, rel, line);
      return true;
    });
  },
};
