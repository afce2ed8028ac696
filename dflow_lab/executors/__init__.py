"""Where a step's script runs: on the host (the local engine's default), in its image through a
container runtime, on a remote host over SSH, or as a Slurm job.

- ``base.py``: ``Executor``, ``ContainerExecutor``, ``RemoteExecutor``, ``SlurmRemoteExecutor``,
  ``SlurmJobTemplate``, ``SlurmJob`` (the reference's classes; ``dflow_lab.executor`` and
  ``dflow_lab.slurm`` re-export them);
- ``render.py``: the template an SSH/Slurm executor renders (one manifest for Argo and local);
- ``runner.py``: the program that rendered template runs (upload, run or sbatch, poll, download);
- ``transport.py``: the actions on this host or over SSH (paramiko), with bounded retries;
- ``container.py``: podman/docker/singularity command lines, for the local engine and
  ``ContainerExecutor``.
Docs: ``docs/executors.md``.
"""
