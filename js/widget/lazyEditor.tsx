// The widget's CodeMirror editors (codeEditor.tsx), evaluated the first time one is shown: CodeMirror is about
// 40 % of the widget's module, and its module-level set-up (facets, highlight styles, themes, the Python grammar)
// ran inside the module's first evaluation, one of the main-thread tasks of the widget's opening. It stays in the
// one module (a widget has no URL to load a second file from): esbuild keeps a dynamically imported module in
// the bundle and evaluates it on the first `import()`. Until then (a microtask or two) a blank box of the
// editor's size stands in.
import { Suspense, lazy } from "react";
import type { CodeEditorProps } from "@dflow-lab/canvas/TemplateEditor";

const load = () => import("./codeEditor");
const LazyCodeEditor = lazy(() => load().then((m) => ({ default: m.WidgetCodeEditor })));
const LazySourceText = lazy(() => load().then((m) => ({ default: m.SourceText })));

export function WidgetCodeEditor(props: CodeEditorProps) {
  return (
    <Suspense fallback={<div className="dfl-code-loading" data-language={props.language} />}>
      <LazyCodeEditor {...props} />
    </Suspense>
  );
}

export function SourceText(props: { text: string; line?: number | null }) {
  return (
    <Suspense fallback={<div className="dfl-code-loading" data-language="python" />}>
      <LazySourceText {...props} />
    </Suspense>
  );
}
