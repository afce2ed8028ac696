"""The built-in templates every canvas palette offers, as graph templates: a Shell script, a Python
script, a Container, and dflow's utility OPs (``dflow_lab.util_ops``).

Each entry is ``{"name", "source", "template"}`` like every palette entry; ``source`` is the palette group
("Shell", "Python script", "Container", "dflow utility OPs"). Dropped on a canvas, an entry becomes a
template of the document named ``name`` (``name-2``… when the document already has a different template of
that name), which the user then configures in the properties panel (script, image, command, ports).

The starting scripts are small working examples: they read their inputs through Argo's
``{{inputs.parameters.<name>}}`` and write their outputs to the declared ``/tmp/outputs/...`` paths (creating
the folder, as Argo does not), which the local engine maps into each step's own directory. Nothing here runs anything.
"""

from __future__ import annotations

import copy
from typing import Any

from ..util_ops import CheckNumSuccess, CheckSuccessRatio
from .convert import to_graph

SHELL_GROUP = "Shell"
PYTHON_SCRIPT_GROUP = "Python script"
CONTAINER_GROUP = "Container"
UTILITY_GROUP = "dflow utility OPs"
#: the palette groups of the built-ins, in the order the palette lists them
BUILTIN_GROUPS = (SHELL_GROUP, PYTHON_SCRIPT_GROUP, CONTAINER_GROUP, UTILITY_GROUP)

_SHELL: dict[str, Any] = {
    "kind": "shell",
    "image": "alpine:3",
    "script": (
        "mkdir -p /tmp/outputs/parameters\n"
        'echo "hello, {{inputs.parameters.name}}" | tee /tmp/outputs/parameters/greeting\n'
    ),
    "inputs": {"parameters": {"name": {"type": "str", "default": "world"}}},
    "outputs": {"parameters": {"greeting": {"type": "str", "value_from_path": "/tmp/outputs/parameters/greeting"}}},
}

_PYTHON_SCRIPT: dict[str, Any] = {
    "kind": "script",
    "image": "python:3.11",
    "command": ["python3"],
    "script": (
        "import os\n"
        'text = r"""{{inputs.parameters.text}}"""\n'
        "print(text)\n"
        'os.makedirs("/tmp/outputs/parameters", exist_ok=True)\n'
        'with open("/tmp/outputs/parameters/length", "w") as f:\n'
        "    f.write(str(len(text)))\n"
    ),
    "inputs": {"parameters": {"text": {"type": "str", "default": "hello"}}},
    "outputs": {"parameters": {"length": {"type": "int", "value_from_path": "/tmp/outputs/parameters/length"}}},
}

_CONTAINER: dict[str, Any] = {
    "kind": "container",
    "image": "alpine:3",
    "command": ["echo"],
    "args": ["hello"],
}


def _utility_entries() -> list[dict[str, Any]]:
    entries = []
    for cls in (CheckNumSuccess, CheckSuccessRatio):
        template = to_graph(cls())
        name = template.pop("name")
        entries.append({"name": name, "source": UTILITY_GROUP, "template": template})
    return entries


def builtin_entries() -> list[dict[str, Any]]:
    """The built-in palette entries (fresh copies: a caller may change them)."""
    return [
        {"name": "shell", "source": SHELL_GROUP, "template": copy.deepcopy(_SHELL)},
        {"name": "python-script", "source": PYTHON_SCRIPT_GROUP, "template": copy.deepcopy(_PYTHON_SCRIPT)},
        {"name": "container", "source": CONTAINER_GROUP, "template": copy.deepcopy(_CONTAINER)},
        *_utility_entries(),
    ]
