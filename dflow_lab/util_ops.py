"""Utility templates dflow inserts on its own (``dflow.util_ops``)."""

from __future__ import annotations

import json
from typing import Any, Optional

from .common import S3Artifact
from .config import config
from .errors import CapabilityNotAvailable
from .io import InputArtifact, InputParameter, OutputArtifact, OutputParameter
from .op_template import OPTemplate, PythonScriptOPTemplate, ScriptOPTemplate, ShellOPTemplate

SUCCESS_TAG_PATH = "/tmp/outputs/success_tag"

# The sum of the success tags (one per item: 1 or 0; with Slices(pool_size=…) the count of a group's
# slices that succeeded), as dflow's check steps take it: items that errored have no tag and add nothing.
_COUNT = ("n=$(printf '%s' '{{inputs.parameters.success}}' | tr -c '0-9' ' ' "
          "| awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s + 0 }')\n")


class CheckNumSuccess(ShellOPTemplate):
    """Fails unless the success tags of a fan-out add up to at least ``threshold``."""

    def __init__(self, name: str = "check-num-success", image: Optional[str] = None, image_pull_policy=None) -> None:
        super().__init__(
            name=name,
            image=image or "alpine:3",
            image_pull_policy=image_pull_policy,
            script=_COUNT
            + 'if [ "$n" -lt {{inputs.parameters.threshold}} ]; then\n'
            + '  echo "only $n children succeeded, fewer than {{inputs.parameters.threshold}}" >&2; exit 1\nfi\n',
        )
        self.inputs.parameters = {
            "success": InputParameter(type=list),
            "threshold": InputParameter(type=int),
        }


class CheckSuccessRatio(ShellOPTemplate):
    """Fails unless the success tags of a fan-out add up to at least ``threshold × total`` (dflow's rule:
    ``total`` is the number of items, so failed and errored items count against the ratio)."""

    def __init__(self, name: str = "check-success-ratio", image: Optional[str] = None, image_pull_policy=None) -> None:
        super().__init__(
            name=name,
            image=image or "alpine:3",
            image_pull_policy=image_pull_policy,
            script=_COUNT
            + "awk -v n=\"$n\" -v t='{{inputs.parameters.total}}' -v r='{{inputs.parameters.threshold}}' "
            + "'BEGIN { if (n >= r * t) exit 0; print \"success ratio \" n \"/\" t \" is below \" r > \"/dev/stderr\"; "
            + "exit 1 }'\n",
        )
        self.inputs.parameters = {
            "success": InputParameter(type=list),
            "total": InputParameter(type=int),
            "threshold": InputParameter(type=float),
        }


def add_success_tag(template: OPTemplate) -> OPTemplate:
    """A copy of ``template`` that records success in the output parameter ``dflow_success_tag``."""
    if "dflow_success_tag" in template.outputs.parameters:
        return template
    if not isinstance(template, ScriptOPTemplate):
        raise CapabilityNotAvailable(
            f"continue_on_num_success on template {template.name!r}", "success tags on Steps/DAG templates"
        )
    new = template.copy()
    new.name = template.name + "-tagged"
    new.tagged_from = template  # the user's template, for the graph and code generation
    new.outputs.parameters["dflow_success_tag"] = OutputParameter(value_from_path=SUCCESS_TAG_PATH, default="0")
    command = " ".join(new.command)
    if hasattr(new, "success_tag") and hasattr(new, "render_script"):  # a Python OP: its runtime writes the tag
        new.success_tag = True
        new.render_script()
    elif "python" in command:
        new.script = new.script + (
            "\nimport os as _dflow_os\n"
            "_p = _dflow_os.path.join(_dflow_os.environ.get('DFLOW_LAB_ROOT', '/'), 'tmp/outputs/success_tag')\n"
            "_dflow_os.makedirs(_dflow_os.path.dirname(_p), exist_ok=True)\n"
            "open(_p, 'w').write('1')\n"
        )
    else:
        new.script = new.script + "\nmkdir -p /tmp/outputs && echo 1 > %s\n" % SUCCESS_TAG_PATH
    return new


class InitArtifactForSlices(PythonScriptOPTemplate):
    """The step dflow inserts before a sliced fan-out (``<step>-init-artifact``), as dflow does on Argo.

    - Sliced output artifacts (``Slices(output_artifact=[...])``): it stores, for each, an artifact
      holding only an empty catalog, under ``<workflow>/<pod or group key>/<name>``, and outputs that
      prefix as ``dflow_artifact_key``. Every item of the fan-out saves its part (files and catalog,
      not archived) under the same key, so the init step's output artifact, which the fan-out's output
      stands for, holds the merged items once they are done.
    - Inputs sliced by sub-path (``Slices(sub_path=True)``): it reads the catalogs of those input
      artifacts and outputs ``dflow_slices_path``, one ``{"order": i, <name>: <relative path>}`` per
      item; with ``group_size`` it copies each group of items into ``group_<i>/`` of an output artifact
      (with the group's catalog) and outputs ``dflow_ngroups`` instead.

    A catalog entry that is absolute or climbs out of its artifact (``..``) fails the step.
    """

    def __init__(self, template: Any, image: Any = None, command: Any = None, image_pull_policy: Any = None,
                 key: Any = None, sliced_output_artifact: Any = None, sliced_input_artifact: Any = None,
                 sum_var: Any = None, concat_var: Any = None, auto_loop_artifacts: Any = None,
                 group_size: Optional[int] = None, format: Optional[str] = None, post_script: str = "",
                 tmp_root: str = "/tmp") -> None:
        if sum_var is not None or concat_var is not None or auto_loop_artifacts:
            raise CapabilityNotAvailable("InitArtifactForSlices(sum_var/concat_var/auto_loop_artifacts)",
                                         "fan-outs over argo_sum/argo_concat and inferred loops of sliced artifacts")
        super().__init__(name=f"{template.name}-init-artifact", image=image or "python:3.11-alpine",
                         command=command, image_pull_policy=image_pull_policy)
        self.origin = template
        self.key = key
        self.sliced_output_artifact = list(sliced_output_artifact or [])
        self.sliced_input_artifact = list(sliced_input_artifact or [])
        self.group_size = group_size
        self.format = format
        self.post_script = post_script
        self.tmp_root = tmp_root
        root = tmp_root.rstrip("/")
        if key is not None:  # a keyed step: a stable key, so that a reused group keeps its artifacts
            self.inputs.parameters["dflow_group_key"] = InputParameter()
            prefix = "{{workflow.name}}/{{inputs.parameters.dflow_group_key}}"
        else:
            prefix = "{{workflow.name}}/{{pod.name}}"
        for name in self.sliced_output_artifact:
            self.outputs.artifacts[name] = OutputArtifact(path=f"{root}/outputs/artifacts/{name}",
                                                          save=S3Artifact(key=f"{prefix}/{name}"), archive=None)
        self.outputs.parameters["dflow_artifact_key"] = OutputParameter(value=prefix)
        if self.sliced_input_artifact:
            for name in self.sliced_input_artifact:
                self.inputs.artifacts[name] = InputArtifact(path=f"{root}/inputs/artifacts/{name}", optional=True)
                if group_size is not None:
                    self.outputs.artifacts[name] = OutputArtifact(path=f"{root}/outputs/artifacts/{name}",
                                                                  archive=None, optional=True)
            if group_size is not None:
                self.outputs.parameters["dflow_ngroups"] = OutputParameter(
                    value_from_path=f"{root}/outputs/parameters/dflow_ngroups", type=int)
            else:
                self.outputs.parameters["dflow_slices_path"] = OutputParameter(
                    value_from_path=f"{root}/outputs/parameters/dflow_slices_path", type=list)
        self.render_script()

    def render_script(self) -> str:
        """(Re)write ``self.script``: a standalone Python script (no dflow-lab import in the pod)."""
        required = [n for n in self.sliced_input_artifact
                    if not getattr(self.origin.inputs.artifacts.get(n), "optional", False)]
        spec = {"root": self.tmp_root.strip("/"), "catalog": config["catalog_dir_name"],
                "outputs": self.sliced_output_artifact, "inputs": self.sliced_input_artifact,
                "required": required or self.sliced_input_artifact[:1], "group_size": self.group_size,
                "format": self.format}
        self.script = _INIT_SCRIPT.replace("SPEC", repr(json.dumps(spec)))
        return self.script


# The init-artifact script. It runs in a pod (or a local step), so it uses nothing but the standard
# library; paths are under $DFLOW_LAB_ROOT (the step's root on the local engine, "/" in a container).
_INIT_SCRIPT = r"""import json, os, shutil
spec = json.loads(SPEC)
root = os.path.join(os.environ.get("DFLOW_LAB_ROOT") or "/", spec["root"])
cat = spec["catalog"]
for name in spec["outputs"]:
    d = os.path.join(root, "outputs", "artifacts", name, cat)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "init"), "w") as f:
        json.dump({"path_list": []}, f)

def items_of(name):
    art = os.path.join(root, "inputs", "artifacts", name)
    d = os.path.join(art, cat)
    items, seen = [], set()
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        with open(os.path.join(d, f)) as fd:
            for i in json.load(fd).get("path_list") or []:
                rel = i.get("dflow_list_item")
                if rel is not None and (os.path.isabs(rel) or ".." in rel.split("/")):
                    raise SystemExit("input artifact %r: catalog entry %r is outside the artifact" % (name, rel))
                mark = json.dumps(i, sort_keys=True)
                if mark not in seen:
                    seen.add(mark)
                    items.append(i)
    items.sort(key=lambda x: x["order"])
    return items

if spec["inputs"]:
    lists = {name: items_of(name) for name in spec["inputs"]}
    counts = {name: len(lists[name]) for name in spec["required"]}
    if len(set(counts.values())) > 1:
        raise SystemExit("sub-path slices: the sliced input artifacts have different numbers of items: %r" % counts)
    n = counts[spec["required"][0]]
    fmt = spec["format"] or "%d"
    params = os.path.join(root, "outputs", "parameters")
    os.makedirs(params, exist_ok=True)
    if spec["group_size"]:
        g = spec["group_size"]
        ngroups = -(-n // g)
        for name, items in lists.items():
            for k in range(ngroups) if items else []:
                group_dir = os.path.join(root, "outputs", "artifacts", name, "group_" + fmt % k)
                part = items[g * k: g * (k + 1)]
                for item in part:
                    if item["dflow_list_item"] is None:
                        continue
                    src = os.path.join(root, "inputs", "artifacts", name, item["dflow_list_item"])
                    dst = os.path.join(group_dir, item["dflow_list_item"])
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    if os.path.isdir(src):
                        shutil.copytree(src, dst, copy_function=os.link if hasattr(os, "link") else shutil.copy2)
                    elif os.path.isfile(src):
                        try:
                            os.link(src, dst)
                        except OSError:
                            shutil.copy2(src, dst)
                os.makedirs(os.path.join(group_dir, cat), exist_ok=True)
                with open(os.path.join(group_dir, cat, "catalog"), "w") as f:
                    json.dump({"path_list": part}, f)
        with open(os.path.join(params, "dflow_ngroups"), "w") as f:
            f.write(str(ngroups))
    else:
        slices_path = []
        for i in range(n):
            item = {"order": fmt % i if spec["format"] else i}
            for name, items in lists.items():
                item[name] = items[i]["dflow_list_item"] if i < len(items) else None
            slices_path.append(item)
        with open(os.path.join(params, "dflow_slices_path"), "w") as f:
            json.dump(slices_path, f)
"""
