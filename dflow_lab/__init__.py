"""dflow-lab: the dflow API for scientific workflows, with a local engine and a JupyterLab canvas.

Every name of dflow's top-level API is here (``from dflow import X`` → ``from dflow_lab import X``);
Python OPs live in :mod:`dflow_lab.python`. Names are imported on first use, so ``import dflow_lab``
stays fast and a part that is not needed is not loaded.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict

# imported eagerly: the dict ``config`` must shadow the submodule of the same name
from .config import config, s3_config, set_config, set_s3_config  # noqa: F401

__version__ = "0.1.0"

_EXPORTS: Dict[str, str] = {
    "ArgoStep": "argo_objects",
    "ArgoWorkflow": "argo_objects",
    "gen_code": "code_gen",
    "CustomArtifact": "common",
    "HTTPArtifact": "common",
    "LineageClient": "common",
    "LocalArtifact": "common",
    "S3Artifact": "common",
    "import_func": "common",
    "Context": "context",
    "DAG": "dag",
    "ContainerExecutor": "executor",
    "Executor": "executor",
    "RemoteExecutor": "executor",
    "AutonamedDict": "io",
    "IfExpression": "io",
    "InputArtifact": "io",
    "InputParameter": "io",
    "Inputs": "io",
    "OutputArtifact": "io",
    "OutputParameter": "io",
    "Outputs": "io",
    "if_expression": "io",
    "PVC": "io",
    "OPTemplate": "op_template",
    "PythonScriptOPTemplate": "op_template",
    "ScriptOPTemplate": "op_template",
    "ContainerOPTemplate": "op_template",
    "Secret": "op_template",
    "ShellOPTemplate": "op_template",
    "Resource": "resource",
    "SlurmJob": "slurm",
    "SlurmJobTemplate": "slurm",
    "SlurmRemoteExecutor": "slurm",
    "Step": "step",
    "argo_concat": "step",
    "argo_enumerate": "step",
    "argo_len": "step",
    "argo_range": "step",
    "argo_sequence": "step",
    "argo_sum": "step",
    "Steps": "steps",
    "Task": "task",
    "copy_artifact": "utils",
    "copy_s3": "utils",
    "download_artifact": "utils",
    "download_s3": "utils",
    "path_list_of_artifact": "utils",
    "path_object_of_artifact": "utils",
    "randstr": "utils",
    "upload_artifact": "utils",
    "upload_s3": "utils",
    "DockerSecret": "workflow",
    "Workflow": "workflow",
    "reuse_set": "rerun",
    "parse_repo": "workflow",
    "query_archived_workflows": "workflow",
    "query_workflows": "workflow",
    "upload_packages": "python",
}

__all__ = sorted([*_EXPORTS, "config", "s3_config", "set_config", "set_s3_config"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dflow_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_EXPORTS))
