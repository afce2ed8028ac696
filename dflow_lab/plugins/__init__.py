"""dflow's ``dflow.plugins`` under dflow-lab's import root: the names dflow scripts import.

- ``lineage``: :class:`~dflow_lab.plugins.lineage.LocalLineageClient`, a lineage store in the local
  state (SQLite below ``config["local_workdir"]``) for ``upload_artifact(namespace=…, dataset_name=…)``
  and ``S3Artifact(urn=…)``.
- ``metadata``: ``MetadataClient``; without a DataHub endpoint it records in the local lineage store.
- ``dispatcher``: ``DispatcherExecutor`` and ``DispatcherArtifact`` (the executor needs ``dpdispatcher``).
- ``datasets``, ``ray``, ``bohrium``: import cleanly; using them raises an error naming the service
  they need (Bohrium datasets, a Ray cluster, a Bohrium account), which dflow-lab does not provide.

Importing any of these modules never needs a package that is not installed.
"""

__all__ = ["bohrium", "datasets", "dispatcher", "lineage", "metadata", "ray"]
