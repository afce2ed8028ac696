"""Outputs of a run: a steps/DAG template's declared outputs, global outputs, artifact references.

``OutputsMixin._composite_outputs`` evaluates a composite template's ``outputs`` (``valueFrom.parameter``,
``valueFrom.expression``, ``value``, artifacts ``from``/``fromExpression``) in its scope;
``_publish_globals`` records outputs with a ``globalName`` as ``workflow.outputs.…``.
"""

from __future__ import annotations

from typing import Literal, overload

from .nodes import NodeBook
from .scope import Scope, StepError, as_param_text

__all__ = ["OutputsMixin", "lookup_artifact"]


class OutputsMixin(NodeBook):
    """Composite and global outputs (a mixin of ``Execution``)."""

    def _publish_globals(self, outputs: dict) -> None:
        for p in outputs.get("parameters") or []:
            g = p.get("globalName")
            if g and "value" in p:
                self.global_outputs["parameters"][g] = {"name": g, "value": p["value"]}
                self.global_vars[f"workflow.outputs.parameters.{g}"] = p["value"]
        for a in outputs.get("artifacts") or []:
            g = a.get("globalName")
            if g:
                entry = {k: v for k, v in a.items() if k != "globalName"}
                entry["name"] = g
                self.global_outputs["artifacts"][g] = entry
                self.global_vars[f"workflow.outputs.artifacts.{g}"] = entry

    def _composite_outputs(self, tmpl: dict, scope: Scope, where: str) -> dict | None:
        spec = tmpl.get("outputs") or {}
        params, arts = [], []
        for p in spec.get("parameters") or []:
            field = f"{where}: outputs.parameters.{p['name']}"
            vf = p.get("valueFrom") or {}
            try:
                if "parameter" in vf:
                    value = scope.render(str(vf["parameter"]), field)
                elif "expression" in vf:
                    value = as_param_text(scope.eval_expr(vf["expression"], field))
                elif "value" in p:
                    value = scope.render(as_param_text(p["value"]), field)
                else:
                    raise StepError(f"{field}: needs valueFrom.parameter, valueFrom.expression or value")
            except StepError:
                if "default" not in vf:
                    raise
                value = as_param_text(vf["default"])
            entry = {"name": p["name"], "value": value}
            for k in ("globalName", "description"):
                if k in p:
                    entry[k] = p[k]
            params.append(entry)
        for a in spec.get("artifacts") or []:
            field = f"{where}: outputs.artifacts.{a['name']}"
            if "from" in a:
                art = dict(_lookup_artifact(scope, a["from"], field, optional=a.get("optional", False)) or {})
            elif "fromExpression" in a:
                value = scope.eval_expr(a["fromExpression"], field)
                art = dict(value) if isinstance(value, dict) else {}
            else:
                raise StepError(f"{field}: needs from or fromExpression")
            if not art:
                continue
            art["name"] = a["name"]
            art.pop("globalName", None)
            if a.get("globalName"):
                art["globalName"] = a["globalName"]
            arts.append(art)
        out: dict = {}
        if params:
            out["parameters"] = params
        if arts:
            out["artifacts"] = arts
        return out or None


@overload
def _lookup_artifact(scope: Scope, ref: str, field: str, optional: Literal[False] = False) -> dict: ...
@overload
def _lookup_artifact(scope: Scope, ref: str, field: str, optional: bool) -> dict | None: ...
def _lookup_artifact(scope: Scope, ref: str, field: str, optional: bool = False) -> dict | None:
    key = ref.strip()
    if key.startswith("{{") and key.endswith("}}"):
        key = key[2:-2].strip()
    value = scope.get(key)
    if isinstance(value, dict):
        return value
    if optional:
        return None
    raise StepError(f"{field}: artifact {ref!r} does not resolve")



lookup_artifact = _lookup_artifact
