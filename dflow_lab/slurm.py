"""Slurm: run steps as Slurm jobs (``dflow.slurm``).

A façade: the implementations live in :mod:`dflow_lab.executors` (``base.py``; ``docs/executors.md``).
"""

from .executors.base import SlurmJob, SlurmJobTemplate, SlurmRemoteExecutor

__all__ = ["SlurmJob", "SlurmJobTemplate", "SlurmRemoteExecutor"]
