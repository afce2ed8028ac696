"""Artifact references of the dflow API (``dflow.common``): ``S3Artifact``, ``LocalArtifact``,
``HTTPArtifact``, custom artifacts, the lineage client interface, and dflow's jsonpickle set-up.

``S3Artifact`` names an artifact in the repository by its key. It is a plain object: its ``repr``,
``to_dict`` and pickled form carry the key and where the repository is, never the credentials.
"""

from __future__ import annotations

import abc
import logging
import os
from copy import copy, deepcopy
from importlib import import_module
from typing import Any, Dict, List, Union

import jsonpickle as _jsonpickle
from jsonpickle.handlers import BaseHandler

from .config import config as global_config
from .config import s3_config
from .storage.artifacts import download_artifact
from .storage.http import http_get

__all__ = [
    "S3Artifact",
    "LocalArtifact",
    "HTTPArtifact",
    "CustomArtifact",
    "CustomHandler",
    "LineageClient",
    "import_func",
    "jsonpickle",
    "SECRET_KEYS",
]

log = logging.getLogger("dflow_lab")

SECRET_KEYS = ("access_key", "secret_key", "token", "storage_client")
"""``s3_config`` keys that never leave the process (credentials, and a client that holds them)."""


def import_func(s: str) -> Any:
    """The object named by the dotted path ``s`` (``"pkg.mod.name"``; a leading ``.`` is relative
    to this package)."""
    fields = s.split(".")
    if fields[0] in ("", __name__):
        fields[0] = ""
        mod = import_module(".".join(fields[:-1]), package=__name__)
    else:
        mod = import_module(".".join(fields[:-1]))
    return getattr(mod, fields[-1])


def repository_description() -> Dict[str, Any]:
    """Where artifacts are stored, without credentials (for ``to_dict`` and reprs)."""
    client = s3_config.get("storage_client")
    if client is not None:
        return dict(client.to_dict()) if hasattr(client, "to_dict") else {"storage_client": type(client).__name__}
    return {k: v for k, v in s3_config.items() if k not in SECRET_KEYS}


class CustomHandler(BaseHandler):
    """jsonpickle handler: an artifact is pickled as its ``to_dict()`` and restored by ``from_dict``."""

    def flatten(self, obj: Any, data: dict) -> dict:
        data.update(obj.to_dict())
        return data

    def restore(self, obj: dict) -> Any:
        obj = dict(obj)
        cls = import_func(obj.pop("py/object"))
        return cls.from_dict(obj)


class _Sliceable:
    slice: Any
    parent: Any

    def __getitem__(self, key: Any) -> Any:
        """A view of one item (``art[0]``, ``art["a"]``) of a list/dict artifact, resolved on download."""
        art = copy(self)
        art.parent = self
        art.slice = key if self.slice is None else f"{self.slice}.{key}"
        return art


@CustomHandler.handles
class S3Artifact(_Sliceable):
    """An artifact in the repository, by its ``key`` (``s3_config["prefix"]`` is prepended when missing).

    ``path_list`` is the catalog of the paths it holds (as ``upload_artifact`` returns it); ``urn``
    a lineage URN, resolved to a key through ``config["lineage"]``.
    """

    def __init__(
        self,
        key: str | None = None,
        path_list: Union[str, list, None] = None,
        urn: str = "",
        debug_s3: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if args or kwargs:
            extra = sorted(kwargs) if kwargs else list(args)
            raise TypeError(
                f"S3Artifact() got unexpected argument(s) {extra}: an S3Artifact lives in the configured "
                "repository (s3_config); only key, path_list and urn are accepted"
            )
        if urn:
            lineage = global_config.get("lineage")
            if lineage is not None:
                key = lineage.get_artifact_metadata(urn).uri
            elif not key:
                raise ValueError(f"S3Artifact(urn={urn!r}): set config['lineage'] to resolve URNs")
            else:
                log.warning("S3Artifact(urn=%r): config['lineage'] is not set; using key %r", urn, key)
        if not isinstance(key, str) or not key:
            raise ValueError(f"S3Artifact needs a non-empty string key, got {key!r}")
        prefixes = [s3_config.get("prefix") or ""] + list(s3_config.get("extra_prefixes") or [])
        if not any(key.startswith(p) for p in prefixes if p) and s3_config.get("prefix"):
            key = s3_config["prefix"] + key
        self.key: str = key
        self.path_list = [] if path_list is None else path_list
        self.urn = urn
        self.slice: Any = None
        self.parent: Any = None
        self.local_path: str | None = None

    def __repr__(self) -> str:
        extra = f", urn={self.urn!r}" if self.urn else ""
        extra += f", slice={self.slice!r}" if self.slice is not None else ""
        return f"S3Artifact(key={self.key!r}{extra})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, S3Artifact):
            return NotImplemented
        return (self.key, self.urn, self.slice) == (other.key, other.urn, other.slice)

    def __hash__(self) -> int:
        return hash((self.key, self.urn, str(self.slice)))

    def to_dict(self) -> Dict[str, Any]:
        """``{"key", "urn", "slice"}`` plus where the repository is (no credentials)."""
        d = repository_description()
        d.update(key=self.key, urn=self.urn, slice=self.slice)
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> S3Artifact:
        """Rebuild from :meth:`to_dict`'s output (only ``key``, ``urn`` and ``slice`` are read)."""
        if d.get("key"):
            artifact = cls(key=d["key"])
            artifact.urn = d.get("urn", "")
        else:
            artifact = cls(urn=d.get("urn", ""))
        artifact.slice = d.get("slice")
        return artifact

    def sub_path(self, path: str) -> S3Artifact:
        """The artifact at ``<key>/<path>`` (for artifacts stored without an archive)."""
        artifact = deepcopy(self)
        artifact.key = f"{artifact.key.rstrip('/')}/{str(path).lstrip('/')}"
        return artifact

    def download(self, **kwargs: Any) -> Any:
        """``download_artifact(self, **kwargs)``."""
        return download_artifact(self, **kwargs)

    def oss(self) -> Dict[str, str]:
        """The Argo ``oss`` location of this artifact (for OSS repositories)."""
        return {"key": (s3_config.get("repo_prefix") or "") + self.key}

    def evalable_repr(self, imports: set) -> str:
        """Python source that rebuilds this artifact (for code generation); records its import."""
        imports.add(("dflow_lab", "S3Artifact"))
        args = f"key={self.key!r}" + (f", urn={self.urn!r}" if self.urn else "")
        return f"S3Artifact({args})"


class LocalArtifact(_Sliceable):
    """An artifact that is a local path (dflow's debug mode)."""

    def __init__(self, local_path: str) -> None:
        self.local_path = local_path
        self.slice: Any = None
        self.parent: Any = None

    def __repr__(self) -> str:
        return f"LocalArtifact(local_path={self.local_path!r})"

    def sub_path(self, path: str) -> LocalArtifact:
        """The artifact at ``<local_path>/<path>``."""
        artifact = deepcopy(self)
        artifact.local_path = os.path.join(artifact.local_path, str(path))
        return artifact


class HTTPArtifact:
    """An artifact downloaded from a URL (Argo's ``http`` artifact)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __repr__(self) -> str:
        return f"HTTPArtifact(url={self.url.split('?')[0]!r})"

    def download(self, path: str = ".") -> str:
        """Download to ``<path>/<basename of the URL>``; return that file's path."""
        os.makedirs(path, exist_ok=True)
        name = os.path.basename(self.url.split("?")[0].rstrip("/")) or "index"
        file_path = os.path.join(path, name)
        http_get(self.url, file_path)
        return file_path


class LineageClient(abc.ABC):
    """Interface of a lineage service that registers workflows, tasks and artifacts."""

    @abc.abstractmethod
    def register_workflow(self, workflow_name: str) -> str:
        """Register a workflow; return its URN."""

    @abc.abstractmethod
    def register_artifact(self, namespace: str, name: str, uri: str, **kwargs: Any) -> str:
        """Register an artifact stored at ``uri``; return its URN."""

    @abc.abstractmethod
    def register_task(
        self,
        task_name: str,
        input_urns: Dict[str, Union[str, List[str]]],
        output_uris: Dict[str, str],
        workflow_urn: str,
    ) -> Dict[str, str]:
        """Register a task with its inputs and outputs; return the outputs' URNs."""

    @abc.abstractmethod
    def get_artifact_metadata(self, urn: str) -> object:
        """The metadata of an artifact (with its ``uri``)."""


class CustomArtifact(abc.ABC):
    """A user-defined kind of artifact, named by a URN ``<protocol>://…``.

    ``from_urn`` finds the class registered for the protocol in ``config["artifact_register"]``
    (a dict ``protocol -> "module.ClassName"``).
    """

    redirect = None

    @abc.abstractmethod
    def get_urn(self) -> str:
        """This artifact's URN."""

    @staticmethod
    def from_urn(urn: str) -> CustomArtifact:
        """The artifact of the class registered for the URN's protocol."""
        protocol = urn.split("://")[0]
        registry = global_config.get("artifact_register") or {}
        if protocol not in registry:
            raise ValueError(
                f"no custom artifact class for protocol {protocol!r}: set "
                f"config['artifact_register'][{protocol!r}] = 'module.ClassName'"
            )
        return import_func(registry[protocol]).from_urn(urn)

    def __repr__(self) -> str:
        return self.get_urn()

    @abc.abstractmethod
    def download(self, name: str, path: str) -> None:
        """Materialise the artifact ``name`` at ``path``."""

    def render(self, template: Any, name: str) -> Any:
        """Adjust the OP template that consumes this artifact (nothing by default)."""
        return template


class _CustomPickler:
    """dflow's ``jsonpickle``: ``dumps``/``loads`` with ``keys=True`` (non-string dict keys survive)."""

    __path__ = _jsonpickle.__path__

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return _jsonpickle.dumps(obj, keys=True, **kwargs)

    def loads(self, s: str, **kwargs: Any) -> Any:
        return _jsonpickle.loads(s, keys=True, **kwargs)


jsonpickle = _CustomPickler()
