"""Utility templates dflow inserts on its own (``dflow.util_ops``)."""

from __future__ import annotations

from typing import Any, Optional

from .errors import CapabilityNotAvailable
from .io import InputParameter, OutputParameter
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
    """The step dflow inserts before a sliced step to split its artifacts (see ``Slices``)."""

    def __init__(self, template: Any, image: Any, command: Any, image_pull_policy: Any, key: Any,
                 sliced_output_artifact: Any = None, sliced_input_artifact: Any = None, sum_var: Any = None,
                 concat_var: Any = None, auto_loop_artifacts: Any = None, tmp_root: str = "/tmp") -> None:
        raise CapabilityNotAvailable("InitArtifactForSlices", "sliced artifacts handled by dflow_lab.python.Slices")

    def render_script(self) -> str:
        raise CapabilityNotAvailable("InitArtifactForSlices.render_script", "sliced artifacts")
