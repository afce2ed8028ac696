"""Global configuration: ``config`` (engine, Argo, images) and ``s3_config`` (artifact repository).

Both are dicts, as in dflow, so ``config["mode"] = "debug"`` and ``config["token"]`` keep working.  Every
key can be seeded from a ``DFLOW_<KEY>`` (or ``DFLOW_S3_<KEY>``) environment variable; ``set_config`` and
``set_s3_config`` reject unknown keys so that a typo is an error, not a silent no-op.

Their ``repr``/``str`` hide credentials: the Argo ``token``, the S3 ``access_key``/``secret_key`` and the
values of ``http_headers`` print as ``'***'`` (``None`` and empty values as they are).  Item access,
``dict(config)``, ``.get``/``.update``/``.copy`` and ``json.dumps`` see the real values, as code that
uses the credentials needs; a plain ``dict(config)`` made from them prints them, so log that no more
than the originals.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "config",
    "s3_config",
    "set_config",
    "set_s3_config",
    "boolize",
    "nullable",
    "split_headers",
    "effective_mode",
    "MODE_ALIASES",
]


def boolize(s: Any) -> Any:
    """Turn the strings ``"true"``/``"false"`` (any case) into booleans; leave other values alone."""
    if isinstance(s, str):
        if s.lower() in ("true", "1", "yes", "on"):
            return True
        if s.lower() in ("false", "0", "no", "off", ""):
            return False
    return s


def nullable(s: Any) -> Any:
    """Turn the strings ``"none"``/``"null"`` (any case) into ``None``."""
    if isinstance(s, str) and s.lower() in ("none", "null"):
        return None
    return s


def split_headers(s: Any) -> dict[str, str]:
    """Parse ``"A=1;B=2"`` (as set in ``DFLOW_HTTP_HEADERS``) into a dict; dicts pass through."""
    if isinstance(s, dict):
        return dict(s)
    headers: dict[str, str] = {}
    if not s:
        return headers
    for part in str(s).split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"DFLOW_HTTP_HEADERS: {part!r} is not of the form NAME=VALUE")
        k, v = part.split("=", 1)
        headers[k.strip()] = v.strip()
    return headers


MASK = "***"


class _MaskedDict(dict):
    """A dict whose ``repr`` shows the keys of ``_hidden`` as ``'***'`` (when set) and the values of the
    dicts under ``_hidden_values`` as ``'***'``; everything else behaves as a dict."""

    _hidden: tuple[str, ...] = ()
    _hidden_values: tuple[str, ...] = ()

    def _shown(self, key: Any, value: Any) -> Any:
        if key in self._hidden and value not in (None, ""):
            return MASK
        if key in self._hidden_values and isinstance(value, dict):
            return {k: MASK for k in value}
        return value

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: {self._shown(k, v)!r}" for k, v in self.items()) + "}"

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython's display
        printer.text(repr(self))

    def copy(self) -> _MaskedDict:
        return type(self)(self)


class _Config(_MaskedDict):
    _hidden = ("token",)
    _hidden_values = ("http_headers",)


class _S3Config(_MaskedDict):
    _hidden = ("access_key", "secret_key")


def _names(s: str) -> list[str]:
    return [n.strip() for n in s.split(",") if n.strip()]


def _env(name: str, default: Any = None, conv=None) -> Any:
    v = os.environ.get(name)
    if v is None:
        return default
    return conv(v) if conv else v


def _int(v: str) -> int:
    return int(v)


config: dict[str, Any] = _Config({
    # "local" (alias "debug"): the embedded engine; "argo" (alias "default"): an Argo server
    "mode": _env("DFLOW_MODE", "local"),
    "host": _env("DFLOW_HOST", None, nullable),
    "namespace": _env("DFLOW_NAMESPACE", "argo"),
    "token": _env("DFLOW_TOKEN", None, nullable),
    "k8s_config_file": _env("DFLOW_K8S_CONFIG_FILE", None, nullable),
    "k8s_api_server": _env("DFLOW_K8S_API_SERVER", None, nullable),
    "private_key_host_path": _env("DFLOW_PRIVATE_KEY_HOST_PATH", "/home/docker/.ssh/"),
    "save_path_as_parameter": _env("DFLOW_SAVE_PATH_AS_PARAMETER", False, boolize),
    "catalog_dir_name": _env("DFLOW_CATALOG_DIR_NAME", ".dflow"),
    "archive_mode": _env("DFLOW_ARCHIVE_MODE", "tar", nullable),
    "image": _env("DFLOW_IMAGE", "python:3.11"),
    "image_pull_policy": _env("DFLOW_IMAGE_PULL_POLICY", None, nullable),
    "util_image": _env("DFLOW_UTIL_IMAGE", "python:3.11"),
    "util_image_pull_policy": _env("DFLOW_UTIL_IMAGE_PULL_POLICY", None, nullable),
    "extender_image": _env("DFLOW_EXTENDER_IMAGE", "dptechnology/dflow-extender"),
    "extender_image_pull_policy": _env("DFLOW_EXTENDER_IMAGE_PULL_POLICY", None, nullable),
    "dispatcher_image": _env("DFLOW_DISPATCHER_IMAGE", "dptechnology/dpdispatcher"),
    "dispatcher_image_pull_policy": _env("DFLOW_DISPATCHER_IMAGE_PULL_POLICY", None, nullable),
    "save_keys_in_global_outputs": _env("DFLOW_SAVE_KEYS_IN_GLOBAL_OUTPUTS", True, boolize),
    "lineage": None,
    "http_headers": _env("DFLOW_HTTP_HEADERS", {}, split_headers),
    "workflow_annotations": {},
    "overwrite_reused_artifact": _env("DFLOW_OVERWRITE_REUSED_ARTIFACT", True, boolize),
    "verify_ssl": _env("DFLOW_VERIFY_SSL", True, boolize),
    # local engine
    "local_workdir": _env("DFLOW_LOCAL_WORKDIR", ".dflow-lab"),
    "detach": _env("DFLOW_DETACH", False, boolize),
    "local_workers": _env("DFLOW_LOCAL_WORKERS", 0, _int),  # 0: one per core
    # local store: give steps hard links to stored input files (False: copies, for tools that edit inputs in place)
    "local_artifact_links": _env("DFLOW_LOCAL_ARTIFACT_LINKS", True, boolize),
    # bounds on untrusted input (dflow_lab/bounds.py, docs/security.md): items one loop expands to, depth of
    # nested template calls, bytes and members one archive extracts to
    "local_max_items": _env("DFLOW_LOCAL_MAX_ITEMS", 100_000, _int),
    "local_max_depth": _env("DFLOW_LOCAL_MAX_DEPTH", 100, _int),
    "archive_max_bytes": _env("DFLOW_ARCHIVE_MAX_BYTES", 16 * 1024 ** 3, _int),
    "archive_max_members": _env("DFLOW_ARCHIVE_MAX_MEMBERS", 100_000, _int),
    # …nodes the aliases of one YAML document expand to, nesting depth of a YAML/JSON document or graph
    "yaml_max_alias_nodes": _env("DFLOW_YAML_MAX_ALIAS_NODES", 100_000, _int),
    "document_max_depth": _env("DFLOW_DOCUMENT_MAX_DEPTH", 100, _int),
    # …bytes of one answer (or line of a stream) the Argo client reads from a server
    "argo_max_response_bytes": _env("DFLOW_ARGO_MAX_RESPONSE_BYTES", 256 * 1024 ** 2, _int),
    # local engine: run templates in their image ("podman", "docker", "singularity"; None/"host": on the host)
    "container_runtime": _env("DFLOW_CONTAINER_RUNTIME", None, nullable),
    # what the runtime needs on this machine, shell-split: before `run` (e.g. "--runtime runc
    # --cgroup-manager=cgroupfs") and after it (e.g. "--ulimit nofile=1024:1024 --ulimit nproc=512:512")
    "container_global_options": _env("DFLOW_CONTAINER_GLOBAL_OPTIONS", ""),
    "container_run_options": _env("DFLOW_CONTAINER_RUN_OPTIONS", ""),
    # host environment variables steps inherit besides the documented ones (docs/security.md); never DFLOW_*
    "local_step_env": _env("DFLOW_LOCAL_STEP_ENV", [], _names),
    # accepted for dflow scripts written against debug mode
    "debug_workdir": _env("DFLOW_DEBUG_WORKDIR", "."),
    "debug_copy_method": _env("DFLOW_DEBUG_COPY_METHOD", "symlink"),
    "debug_pool_workers": _env("DFLOW_DEBUG_POOL_WORKERS", -1, _int),
    "debug_batch_size": _env("DFLOW_DEBUG_BATCH_SIZE", -1, _int),
    "debug_artifact_dir": _env("DFLOW_DEBUG_ARTIFACT_DIR", "."),
    "debug_s3": _env("DFLOW_DEBUG_S3", False, boolize),
    "register_tasks": _env("DFLOW_REGISTER_TASKS", False, boolize),
    "raise_for_group": _env("DFLOW_RAISE_FOR_GROUP", False, boolize),
})

s3_config: dict[str, Any] = _S3Config({
    "endpoint": _env("DFLOW_S3_ENDPOINT", "127.0.0.1:9000"),
    "console": _env("DFLOW_S3_CONSOLE", "http://127.0.0.1:9001"),
    "access_key": _env("DFLOW_S3_ACCESS_KEY", "admin"),
    "secret_key": _env("DFLOW_S3_SECRET_KEY", "password"),
    "secure": _env("DFLOW_S3_SECURE", False, boolize),
    "bucket_name": _env("DFLOW_S3_BUCKET_NAME", "my-bucket"),
    "repo_key": _env("DFLOW_S3_REPO_KEY", None, nullable),
    "repo": None,
    "repo_type": "s3",
    "repo_prefix": "",
    "prefix": _env("DFLOW_S3_PREFIX", ""),
    "storage_client": None,
    "extra_prefixes": [],
    # "local" keeps artifacts in the local store; "s3" sends them to the repository above
    "storage": _env("DFLOW_S3_STORAGE", "local"),
})

MODE_ALIASES = {"local": "local", "debug": "local", "argo": "argo", "default": "argo"}


def effective_mode() -> str:
    """``"local"`` or ``"argo"``: the engine a ``submit()`` goes to with the current configuration."""
    mode = config.get("mode") or "local"
    if mode not in MODE_ALIASES:
        raise ValueError(
            f"config['mode'] = {mode!r} is not a mode: use one of {sorted(MODE_ALIASES)}"
        )
    return MODE_ALIASES[mode]


def _set(target: dict[str, Any], what: str, kwargs: dict[str, Any]) -> None:
    unknown = sorted(k for k in kwargs if k not in target)
    if unknown:
        raise KeyError(f"{what}: unknown key(s) {unknown}; known keys are {sorted(target)}")
    if what == "set_config" and "mode" in kwargs and kwargs["mode"] not in MODE_ALIASES:
        raise ValueError(f"set_config: mode {kwargs['mode']!r} is not one of {sorted(MODE_ALIASES)}")
    target.update(kwargs)


def set_config(**kwargs: Any) -> None:
    """Set global configurations (same keys as dflow's ``set_config``; see ``config``)."""
    _set(config, "set_config", kwargs)


def set_s3_config(**kwargs: Any) -> None:
    """Set S3 configurations (same keys as dflow's ``set_s3_config``; see ``s3_config``).

    ``repo_key`` is parsed into ``repo``, ``repo_type`` and ``repo_prefix`` when an Argo artifact
    repository is configured (that happens in the Argo backend, which reads the cluster's config map).

    An ``endpoint`` given as a URL (``https://host:9000``) is kept as ``host:9000`` and sets ``secure`` from its
    scheme; a ``secure`` passed beside it that disagrees with the scheme is refused.
    """
    endpoint = kwargs.get("endpoint")
    if isinstance(endpoint, str):
        for scheme, secure in (("https://", True), ("http://", False)):
            if endpoint.lower().startswith(scheme):
                if "secure" in kwargs and bool(kwargs["secure"]) != secure:
                    raise ValueError(
                        f"set_s3_config: endpoint {endpoint!r} says {scheme[:-3]} but secure={kwargs['secure']!r}; "
                        "give one of them"
                    )
                kwargs = {**kwargs, "endpoint": endpoint[len(scheme):].rstrip("/"), "secure": secure}
                break
    _set(s3_config, "set_s3_config", kwargs)
