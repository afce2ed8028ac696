"""Which keys a graph may give as keyword arguments, and what counts as a safe Python identifier.

A graph's ``options`` mappings (workflow, template, port and node level) and a node's ``slices`` become
keyword arguments of the model's constructors, both when a graph is loaded and in the code ``gen_code``
writes. A key is therefore accepted only when it is

- a safe identifier (:func:`is_identifier`: ASCII letters, digits and ``_``, not starting with a digit,
  not a Python keyword, not a dunder), else the issue ``invalid-identifier``;
- a real parameter of the constructor that level builds (read from its signature, following ``**kwargs``
  to the class that receives them, plus the keyword arguments a ``**kwargs`` constructor documents),
  leaving out the parameters the graph carries as fields of its own (``name``, ``inputs``, ``image``…)
  and those that are not document content (connection settings such as ``host``/``token``, executors,
  PVC and resource objects), else the issue ``unknown-option``.

The model is imported lazily (the first time a graph with options is validated); the tables are cached.
"""

from __future__ import annotations

import importlib
import inspect
import keyword
import re
from functools import cache

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
#: the same rule as JSON Schema (``propertyNames`` of every ``options``/``slices`` mapping)
IDENTIFIER_PATTERN = r"^(?!__)[A-Za-z_][A-Za-z0-9_]*$"

#: what each level builds: (constructor "module:Name", the class its **kwargs go to or None,
#: the keyword arguments its **kwargs documents, fields the graph carries itself, parameters refused)
_SCRIPT_FIELDS = {"name", "inputs", "outputs", "image", "command", "script"}
_NOT_DOCUMENT = {"pvcs", "resource", "script_rendered"}
_STEP_FIELDS = {"name", "template", "parameters", "artifacts", "when", "with_param", "continue_on_failed",
                "continue_on_error", "continue_on_num_success", "continue_on_success_ratio", "with_sequence", "key",
                "parallelism", "slices"}
_LEVELS: dict[str, tuple[str, str | None, set, set, set]] = {
    "workflow": ("dflow_lab.workflow:Workflow", None, set(),
                 {"name", "steps", "dag", "namespace", "labels", "annotations", "parallelism", "parameters"},
                 {"id", "uid", "host", "token", "k8s_config_file", "k8s_api_server", "context"}),
    "steps": ("dflow_lab.steps:Steps", None, set(), {"name", "inputs", "outputs", "steps", "parallelism"}, set()),
    "dag": ("dflow_lab.dag:DAG", None, set(), {"name", "inputs", "outputs", "tasks", "parallelism"}, set()),
    "shell": ("dflow_lab.op_template:ShellOPTemplate", None, set(), _SCRIPT_FIELDS, _NOT_DOCUMENT),
    "script": ("dflow_lab.op_template:ScriptOPTemplate", None, set(), _SCRIPT_FIELDS, _NOT_DOCUMENT),
    "container": ("dflow_lab.op_template:ContainerOPTemplate", "dflow_lab.op_template:ScriptOPTemplate", set(),
                  _SCRIPT_FIELDS | {"args"}, _NOT_DOCUMENT),
    "python": ("dflow_lab.python:PythonOPTemplate", None, set(), {"op_class", "image"}, set()),
    "step": ("dflow_lab.step:Step", None, set(), _STEP_FIELDS, {"executor"}),
    "task": ("dflow_lab.task:Task", "dflow_lab.step:Step", set(), _STEP_FIELDS, {"executor"}),
    "slices": ("dflow_lab.python:Slices", None, set(), set(), set()),
    "input-parameter": ("dflow_lab.io:InputParameter", None, {"value", "description", "enum", "global_name"},
                        {"name", "step", "template", "type", "save_as_artifact", "path", "value", "description"},
                        {"source"}),
    "input-artifact": ("dflow_lab.io:InputArtifact", None, {"description"},
                       {"name", "step", "template", "type", "path", "optional", "source", "description"}, set()),
    "output-parameter": ("dflow_lab.io:OutputParameter", None, {"description", "default", "value"},
                         {"name", "step", "template", "type", "value_from_path", "value_from_expression",
                          "global_name", "save_as_artifact", "description", "default", "value"}, set()),
    "output-artifact": ("dflow_lab.io:OutputArtifact", None, set(),
                        {"name", "step", "template", "type", "path", "optional", "from_expression", "global_name",
                         "archive", "description"}, set()),
}
#: the level of a template's options by its kind, and of a port's by (direction, kind)
TEMPLATE_LEVEL = {"python": "python", "shell": "shell", "script": "script", "container": "container",
                  "steps": "steps", "dag": "dag"}
PORT_LEVEL = {("inputs", "parameters"): "input-parameter", ("inputs", "artifacts"): "input-artifact",
              ("outputs", "parameters"): "output-parameter", ("outputs", "artifacts"): "output-artifact"}


def is_identifier(key: object) -> bool:
    """Whether ``key`` may be written as a Python name or keyword argument: ASCII ``[A-Za-z_][A-Za-z0-9_]*``,
    not a keyword (``class``, ``None``…) and not a dunder (``__import__``, ``__class__``…)."""
    return (isinstance(key, str) and IDENTIFIER_RE.match(key) is not None and not keyword.iskeyword(key)
            and not key.startswith("__"))


def _load(path: str) -> object:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _parameters(path: str) -> set[str]:
    params = inspect.signature(_load(path)).parameters.values()
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


@cache
def option_keys(level: str) -> frozenset[str]:
    """The keys ``options`` may hold at ``level`` (see the module docstring)."""
    ctor, forwards_to, documented, fields, refused = _LEVELS[level]
    keys = _parameters(ctor) | documented
    if forwards_to is not None:
        keys |= _parameters(forwards_to)
    return frozenset(k for k in keys - fields - refused if is_identifier(k))


def option_problem(level: str, key: object) -> tuple[str, str] | None:
    """``None`` when ``key`` is a valid option at ``level``; else ``(code, message)``."""
    if not is_identifier(key):
        return ("invalid-identifier", f"option {key!r} is not a Python identifier (ASCII letters, digits and "
                "'_', not a keyword, not starting with a digit or '__')")
    allowed = option_keys(level)
    if key not in allowed:
        return ("unknown-option", f"option {key!r} is not a keyword argument of {_LEVELS[level][0].split(':')[1]} "
                f"that a graph may set (options here: {', '.join(sorted(allowed))})")
    return None
