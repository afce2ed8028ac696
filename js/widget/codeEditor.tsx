// The script editor of the properties panel in the notebook widget: a CodeMirror 6 editor (the editor
// JupyterLab is built on, bundled into the widget since a notebook page lends it no editor services) with
// syntax highlighting for Python and shell, line numbers, its own undo history and Tab indenting. Colours
// come from the page's JupyterLab theme variables (light or dark) where the page has them. As in the lab,
// the text is committed when the editor loses the focus, and a value changed from elsewhere (the canvas's
// undo) replaces the text while the editor is not being typed in.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { HighlightStyle, StreamLanguage, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { EditorState, type Extension } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { useEffect, useRef } from "react";
import type { CodeEditorProps } from "@dflow-lab/canvas/TemplateEditor";

const v = (name: string, fallback: string) => `var(--jp-mirror-editor-${name}-color, ${fallback})`;

/** Token colours of JupyterLab's editor theme (its CSS variables), with its light defaults elsewhere. */
const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: v("keyword", "#008000"), fontWeight: "bold" },
  { tag: [tags.string, tags.special(tags.string)], color: v("string", "#ba2121") },
  { tag: [tags.number, tags.bool, tags.null], color: v("number", "#080") },
  { tag: tags.comment, color: v("comment", "#408080"), fontStyle: "italic" },
  { tag: [tags.definition(tags.variableName), tags.function(tags.variableName)], color: v("def", "#00f") },
  { tag: [tags.operator, tags.punctuation], color: v("operator", "#aa22ff") },
  { tag: [tags.variableName, tags.propertyName], color: v("variable", "#212121") },
  { tag: [tags.className, tags.typeName, tags.standard(tags.variableName)], color: v("builtin", "#008000") },
  { tag: tags.meta, color: v("meta", "#aa22ff") },
]);

const theme = EditorView.theme({
  "&": {
    fontSize: "12px",
    color: "var(--jp-content-font-color1, var(--dfl-fg))",
    backgroundColor: "var(--jp-cell-editor-background, var(--dfl-bg))",
  },
  "&.cm-focused": { outline: "1px solid var(--jp-brand-color1, var(--dfl-accent))" },
  ".cm-content": {
    fontFamily: "var(--jp-code-font-family, ui-monospace, Menlo, monospace)",
    caretColor: "var(--jp-editor-cursor-color, var(--dfl-fg))",
  },
  ".cm-gutters": {
    backgroundColor: "var(--jp-cell-editor-background, var(--dfl-bg2))",
    color: "var(--jp-ui-font-color2, var(--dfl-fg2))",
    border: "none",
  },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": {
    backgroundColor: "var(--jp-editor-selected-focused-background, rgba(33, 150, 243, 0.24))",
  },
});

function languageOf(language: CodeEditorProps["language"]): Extension {
  if (language === "python") return python();
  if (language === "shell") return StreamLanguage.define(shell);
  return [];
}

export function WidgetCodeEditor({ value, language, onCommit }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const latest = useRef({ value, onCommit });
  latest.current = { value, onCommit };
  useEffect(() => {
    const commit = () => {
      const text = view.current?.state.doc.toString();
      if (text !== undefined && text !== latest.current.value) latest.current.onCommit(text);
    };
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: latest.current.value,
        extensions: [
          lineNumbers(),
          history(),
          indentUnit.of(language === "python" ? "    " : "  "),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          languageOf(language),
          syntaxHighlighting(highlight),
          theme,
          EditorView.domEventHandlers({ blur: () => commit() }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      view.current = null;
      editor.destroy();
    };
  }, [language]);
  useEffect(() => {
    const editor = view.current;
    if (editor && !editor.hasFocus && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [value]);
  // keys typed in the editor are the text's (Delete, Ctrl+Z, Ctrl+C), not the canvas's
  return <div className="dfl-code-host" ref={host} data-language={language} onKeyDown={(e) => e.stopPropagation()} />;
}

/** The text of a module, read-only and highlighted, scrolled to `line` (1-based) and marked there. */
export function SourceText({ text, line }: { text: string; line?: number | null }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: text,
        extensions: [
          lineNumbers(),
          EditorState.readOnly.of(true),
          python(),
          syntaxHighlighting(highlight),
          theme,
          EditorView.theme({ "&": { maxHeight: "360px" }, ".cm-scroller": { overflow: "auto" } }),
        ],
      }),
    });
    if (line && line >= 1 && line <= editor.state.doc.lines) {
      const at = editor.state.doc.line(line).from;
      editor.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: "start" }) });
    }
    return () => editor.destroy();
  }, [text, line]);
  return <div className="dfl-code-host dfl-source-text" ref={host} data-language="python" />;
}
