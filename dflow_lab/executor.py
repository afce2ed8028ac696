"""Executors: render a template so that its script runs somewhere else (``dflow.executor``).

A façade: the implementations live in :mod:`dflow_lab.executors` (``base.py`` for the classes,
``docs/executors.md`` for their use).
"""

from .executors.base import (
                             ContainerExecutor,
                             Executor,
                             RemoteExecutor,
                             render_script_with_tmp_root,
                             run_script,
)

__all__ = ["Executor", "ContainerExecutor", "RemoteExecutor", "run_script", "render_script_with_tmp_root"]
