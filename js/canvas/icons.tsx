// Small glyphs: one per template kind, and the badges of a node.
import type { TemplateKind } from "./types";

const KIND_GLYPH: Record<TemplateKind, string> = {
  python: "Py",
  shell: ">_",
  script: "{ }",
  container: "▣",
  steps: "≡",
  dag: "⋔",
};
export const KIND_LABEL: Record<TemplateKind, string> = {
  python: "Python OP",
  shell: "Shell",
  script: "Script",
  container: "Container",
  steps: "Steps",
  dag: "DAG",
};

export function KindIcon({ kind }: { kind: TemplateKind | undefined }) {
  const k = kind ?? "container";
  return (
    <span className={`dfl-kind dfl-kind-${k}`} title={KIND_LABEL[k] ?? "unknown template"}>
      {KIND_GLYPH[k] ?? "?"}
    </span>
  );
}

export function Badge({ label, title, tone }: { label: string; title: string; tone: string }) {
  return (
    <span className={`dfl-badge dfl-badge-${tone}`} title={title}>
      {label}
    </span>
  );
}
