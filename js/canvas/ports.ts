// Ports of a template (its inputs and outputs) and the wiring rules between them.
import type { PortKind, PortSpec, Template } from "./types";

export interface Port {
  name: string;
  kind: PortKind;
  type: string | null;
  description: string | null;
  required: boolean;
}

function portsOf(group: Template["inputs"], input: boolean): Port[] {
  const ports: Port[] = [];
  for (const kind of ["parameter", "artifact"] as const) {
    const specs: Record<string, PortSpec> = (kind === "parameter" ? group?.parameters : group?.artifacts) ?? {};
    for (const [name, spec] of Object.entries(specs)) {
      ports.push({
        name,
        kind,
        type: spec?.type ?? null,
        description: spec?.description ?? null,
        required: input && !("default" in (spec ?? {})) && !spec?.optional,
      });
    }
  }
  return ports;
}

export const inputPorts = (t: Template | undefined): Port[] => portsOf(t?.inputs, true);
export const outputPorts = (t: Template | undefined): Port[] => portsOf(t?.outputs, false);

const counted = new WeakMap<Template, [number, number]>();

/** How many input and output ports `t` has, remembered per template object (a layout or view of 10,000 tasks asks
 * once per task; documents are not modified in place, edit.ts copies them). */
export function portCounts(t: Template | undefined): [number, number] {
  if (!t) return [0, 0];
  let c = counted.get(t);
  if (!c) counted.set(t, (c = [inputPorts(t).length, outputPorts(t).length]));
  return c;
}

/** Handle ids: `in:<kind>:<port>`, `out:<kind>:<port>`, the fan-out option and the control handles. */
export type Handle =
  | { role: "in" | "out" | "inner-in" | "inner-out"; kind: PortKind; port: string }
  | { role: "with_param" }
  | { role: "ctl-in" | "ctl-out" };

export function handleId(h: Handle): string {
  if (h.role === "with_param") return "opt:with_param";
  if (!("kind" in h)) return h.role;
  return `${h.role}:${h.kind}:${h.port}`;
}

export function parseHandle(id: string | null | undefined): Handle | null {
  if (!id) return null;
  if (id === "opt:with_param") return { role: "with_param" };
  if (id === "ctl-in" || id === "ctl-out") return { role: id };
  const m = /^(in|out|inner-in|inner-out):(parameter|artifact):(.+)$/.exec(id);
  return m ? { role: m[1] as "in", kind: m[2] as PortKind, port: m[3] } : null;
}

/** The kind a handle carries: a `with_param` option takes a parameter; control handles take control. */
export function handleKind(h: Handle): PortKind | "control" {
  if (h.role === "with_param") return "parameter";
  return "kind" in h ? h.kind : "control";
}

/** Why a wire from `source` to `target` cannot exist, or null when the canvas may create it. Types that
 * disagree are allowed here and reported by validation (`type-mismatch`), so the user sees the problem. */
export function wireError(source: Handle, target: Handle): string | null {
  const sk = handleKind(source);
  const tk = handleKind(target);
  if (sk === "control" || tk === "control") return sk === tk ? null : "control links join control handles";
  if (sk !== tk)
    return `${sk === "artifact" ? "an" : "a"} ${sk} cannot be wired to an ${tk === "artifact" ? "artifact" : "input parameter"} (parameters feed parameters, artifacts feed artifacts)`;
  return null;
}

export function describePort(p: Port): string {
  return (
    `${p.name}: ${p.type ?? "unknown type"} (${p.kind}${p.required ? ", required" : ""})` +
    (p.description ? `\n${p.description}` : "")
  );
}
