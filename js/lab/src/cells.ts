// Code a notebook widget offers (the canvas's "</> Code" button) becomes a new code cell right below the
// cell whose output holds the widget, as `%load` would put it: not run, active, scrolled to, the keyboard's
// focus, and one step of the notebook's undo history.
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { INotebookTracker } from "@jupyterlab/notebook";
import { listenForCells } from "@dflow-lab/canvas/cellEvent";

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
  description: "Code offered by a notebook widget (the canvas's \"</> Code\") in a new cell below the widget's cell.",
  autoStart: true,
  optional: [INotebookTracker], // absent in a page without notebooks (Notebook 7's file browser)
  activate: (_app: JupyterFrontEnd, notebooks: INotebookTracker | null) => {
    if (notebooks) listenForCells(document, (code, target) => insertCellBelow(notebooks, target, code));
  },
};
