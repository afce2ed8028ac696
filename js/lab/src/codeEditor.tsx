// The script editor of the properties panel in JupyterLab: JupyterLab's own CodeMirror editor (its
// language modes for Python and shell, its theme, light or dark), through IEditorServices. The text is
// committed when the editor loses the focus; a value changed from elsewhere (undo) replaces the text
// while the editor is not being typed in.
import { CodeEditor, type IEditorServices } from "@jupyterlab/codeeditor";
import { useEffect, useRef } from "react";
import type { CodeEditorComponent, CodeEditorProps } from "@dflow-lab/canvas/TemplateEditor";

const MIME: Record<CodeEditorProps["language"], string> = {
  python: "text/x-python",
  shell: "text/x-sh",
  text: "text/plain",
};

export function labCodeEditor(services: IEditorServices): CodeEditorComponent {
  return function LabCodeEditor({ value, language, onCommit }: CodeEditorProps) {
    const host = useRef<HTMLDivElement>(null);
    const model = useRef<CodeEditor.Model | null>(null);
    const latest = useRef({ value, onCommit });
    latest.current = { value, onCommit };
    useEffect(() => {
      const node = host.current!;
      const m = new CodeEditor.Model({ mimeType: MIME[language] });
      m.sharedModel.setSource(latest.current.value);
      const editor = services.factoryService.newInlineEditor({ host: node, model: m });
      model.current = m;
      const commit = () => {
        const text = m.sharedModel.getSource();
        if (text !== latest.current.value) latest.current.onCommit(text);
      };
      node.addEventListener("focusout", commit);
      return () => {
        node.removeEventListener("focusout", commit);
        model.current = null;
        editor.dispose();
        m.dispose();
      };
    }, [language]);
    useEffect(() => {
      const m = model.current;
      if (m && !host.current?.contains(document.activeElement) && m.sharedModel.getSource() !== value) {
        m.sharedModel.setSource(value);
      }
    }, [value]);
    // keys typed in the editor are the text's (Delete, Ctrl+Z, Ctrl+C), not the canvas's
    return <div className="dfl-code-host" ref={host} data-language={language} onKeyDown={(e) => e.stopPropagation()} />;
  };
}
