"""Names that become paths, and the one way a path is derived from them.

Every entry that takes a workflow name (the Python API, the local engine's own entry, the CLI's
``run``/``lint``/``delete``/``resume``/``retry``/``resubmit``, the Argo-compatible server) checks it
here, with Argo's rules:

- ``metadata.name``: a lowercase RFC 1123 subdomain (lowercase letters, digits, ``-`` and ``.``;
  starts and ends with a letter or digit) of at most 63 characters — Kubernetes allows 253 for an
  object, Argo's validation 63 for a workflow (``maxCharsInObjectName``: the name is a label value).
- ``metadata.generateName``: a prefix of such a name (a trailing ``-`` allowed), at most 253
  characters; as Kubernetes' name generator does, the first 58 characters are kept and 5 random
  characters appended, so a generated name is at most 63 characters too.
- template, step and task names: Argo's field names (letters, digits and ``-``, starting with a
  letter or digit, at most 128 characters).
- volume claim names: lowercase RFC 1123 subdomains of at most 253 characters.

Also here, as pure helpers the engines and the API server share with the model: :data:`LABEL_RE` (an
RFC 1123 label: namespaces), Argo's node hashes and pod names (:func:`node_hash`, 32-bit FNV-1a of a node
name; :func:`get_pod_name`, Argo's v2 pod name ``<workflow>-<template>-<hash>`` with the prefix cut so the
whole stays within 253 characters) and :func:`randstr` (random lowercase alphanumerics for generated
names). This module imports nothing of the model (only :mod:`dflow_lab.errors`).

A name that passes has no ``/``, no ``..`` and no NUL, so it is one path component. Still, no path is
built by hand: :func:`workspace_path` joins components under a root, resolves the result (symlinks
included) and refuses it unless it lies strictly inside the resolved root; :func:`remove_in_workspace`
removes such a path (a symlink is unlinked, never followed). Both raise :class:`PathEscapeError`.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import string
from pathlib import Path
from typing import Any

from .errors import WorkflowValueError

__all__ = [
    "SUBDOMAIN_RE",
    "FIELD_NAME_RE",
    "WORKFLOW_NAME_MAX",
    "GENERATE_NAME_MAX",
    "GENERATED_PREFIX_KEEP",
    "FIELD_NAME_MAX",
    "PathEscapeError",
    "workspace_child",
    "check_workflow_name",
    "check_generate_name",
    "check_name_base",
    "generated_name",
    "check_field_name",
    "check_claim_name",
    "workspace_path",
    "remove_in_workspace",
    "LABEL_RE",
    "fnva",
    "get_pod_name",
    "node_hash",
    "randstr",
]

SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
FIELD_NAME_RE = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*\Z")
WORKFLOW_NAME_MAX = 63  # Argo's maxCharsInObjectName (workflow/validate/validate.go)
OBJECT_NAME_MAX = 253  # Kubernetes: an RFC 1123 subdomain
GENERATE_NAME_MAX = OBJECT_NAME_MAX
GENERATED_PREFIX_KEEP = 58  # Kubernetes' SimpleNameGenerator: 63 - 5 random characters
FIELD_NAME_MAX = 128  # Argo's workflowFieldMaxLength

_SUBDOMAIN_RULE = ("lowercase letters, digits, '-' and '.', starting and ending with a letter or digit "
                   "(e.g. 'my-run.2')")
FIELD_NAME_RULE = ("a name consists of letters, digits and '-', starts with a letter or digit, at most "
                   f"{FIELD_NAME_MAX} characters")


class PathEscapeError(WorkflowValueError):
    """A path derived from a name would lie outside the directory it belongs in."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + f"… ({len(text)} characters)"


def check_workflow_name(name: Any, *, field: str = "metadata.name") -> str:
    """Return ``name`` if it is a valid workflow name (see the module's rules), else raise."""
    if not isinstance(name, str) or not name:
        raise WorkflowValueError(f"a workflow name is a non-empty string, not {_shown(name)}", field=field)
    if len(name) > WORKFLOW_NAME_MAX or not SUBDOMAIN_RE.match(name):
        raise WorkflowValueError(
            f"invalid workflow name {_shown(name)}: a workflow name is a lowercase RFC 1123 subdomain of at most "
            f"{WORKFLOW_NAME_MAX} characters: {_SUBDOMAIN_RULE}", workflow=None, field=field)
    return name


def check_name_base(base: Any, *, what: str = "workflow name", field: str | None = None,
                    limit: int = GENERATE_NAME_MAX) -> str:
    """Return ``base`` if it may start a generated name (``Workflow(name=…)``, ``generateName`` without
    its trailing ``-``), else raise."""
    if not isinstance(base, str) or not base or len(base) > limit or not SUBDOMAIN_RE.match(base):
        raise WorkflowValueError(
            f"invalid {what} {_shown(base)}: it starts a generated workflow name, so it is a lowercase RFC 1123 "
            f"subdomain of at most {limit} characters: {_SUBDOMAIN_RULE}", field=field)
    return base


def check_generate_name(prefix: Any, *, field: str = "metadata.generateName") -> str:
    """Return ``prefix`` if it is a valid ``generateName`` (a name's prefix, a trailing ``-`` allowed)."""
    if not isinstance(prefix, str) or not prefix:
        raise WorkflowValueError(f"generateName is a non-empty string, not {_shown(prefix)}", field=field)
    masked = prefix[:-1] + "a" if len(prefix) > 1 and prefix.endswith("-") else prefix  # maskTrailingDash
    # Kubernetes' rule for the prefix, and ours: the generated name (58 characters of it + 5) is valid
    if (len(prefix) > GENERATE_NAME_MAX or not SUBDOMAIN_RE.match(masked)
            or not SUBDOMAIN_RE.match(prefix[:GENERATED_PREFIX_KEEP] + "x")):
        raise WorkflowValueError(
            f"invalid generateName {_shown(prefix)}: the prefix of a lowercase RFC 1123 subdomain of at most "
            f"{GENERATE_NAME_MAX} characters ({_SUBDOMAIN_RULE}; it may end with '-')", field=field)
    return prefix


def generated_name(prefix: str, suffix: str) -> str:
    """The name Kubernetes generates from ``generateName``: its first 58 characters and ``suffix``."""
    check_generate_name(prefix)
    return check_workflow_name(prefix[:GENERATED_PREFIX_KEEP] + suffix)


def check_field_name(name: Any, what: str, **where: Any) -> str:
    """Return ``name`` if it is a valid template/step/task name in Argo, else raise (naming ``where``)."""
    if not isinstance(name, str) or not FIELD_NAME_RE.match(name) or len(name) > FIELD_NAME_MAX:
        raise WorkflowValueError(f"invalid {what} name {_shown(name)}: {FIELD_NAME_RULE}", **where)
    return name


def check_claim_name(name: Any, **where: Any) -> str:
    """Return ``name`` if it is a valid volume claim name (it names a directory of the workspace)."""
    if not isinstance(name, str) or len(name) > OBJECT_NAME_MAX or not SUBDOMAIN_RE.match(name):
        raise WorkflowValueError(f"invalid volume claim name {_shown(name)}: a lowercase RFC 1123 subdomain of "
                                 f"at most {OBJECT_NAME_MAX} characters: {_SUBDOMAIN_RULE}", **where)
    return name


def _component(part: Any, root: Path) -> str:
    if (not isinstance(part, str) or part in ("", ".", "..") or "/" in part or "\0" in part
            or (os.altsep and os.altsep in part)):
        raise PathEscapeError(f"{_shown(part)} is not a single path component: refusing to build a path from it "
                              f"under {root}")
    return part


def workspace_path(root: str | os.PathLike[str], *parts: str) -> Path:
    """``root/part/…`` for single path components, resolved, refused (:class:`PathEscapeError`) unless it
    lies strictly inside ``root`` once every symlink on the way is followed. Returns the resolved path."""
    base = Path(root).resolve()
    target = base.joinpath(*(_component(p, base) for p in parts))
    resolved = target.resolve()
    if resolved == base or base not in resolved.parents:
        raise PathEscapeError(f"refusing {target}: it resolves to {resolved}, outside {base}")
    return resolved


def workspace_child(resolved_dir: str | os.PathLike[str], part: str) -> Path:
    """``resolved_dir/part`` for one path component ``part`` of a directory already returned by
    :func:`workspace_path`: the same guarantee as ``workspace_path(resolved_dir, part)`` at the cost of
    one ``lstat`` instead of resolving every component (the per-step path of the local engine). A
    ``part`` that is a symlink is resolved and checked in full."""
    base = Path(resolved_dir)
    child = base / _component(part, base)
    if os.path.islink(child):
        return workspace_path(base, part)
    return child


def remove_in_workspace(root: str | os.PathLike[str], *parts: str) -> bool:
    """Remove ``root/part/…`` (a directory tree, a file, or a symlink — unlinked, never followed) after
    checking that it lies inside ``root``; returns whether something was removed."""
    base = Path(root).resolve()
    if not parts:
        raise PathEscapeError(f"refusing to remove {base} itself")
    parent = workspace_path(base, *parts[:-1]) if len(parts) > 1 else base
    leaf = parent / _component(parts[-1], base)
    if leaf.is_symlink():
        leaf.unlink()
        return True
    if not leaf.exists():
        return False
    resolved = workspace_path(base, *parts)
    if resolved.is_dir():
        shutil.rmtree(resolved)
    else:
        resolved.unlink()
    return True


# -- generated names, Argo's node hashes and pod names ----------------------------------------------

_ALNUM = string.ascii_lowercase + string.digits


def randstr(length: int = 5) -> str:
    """A random string of lowercase letters and digits (valid inside Kubernetes names)."""
    return "".join(random.choices(_ALNUM, k=length))


MAX_K8S_RESOURCE_NAME_LENGTH = 253
K8S_NAMING_HASH_LENGTH = 10
FNV_32_PRIME = 0x01000193
FNV1_32_INIT = 0x811C9DC5


def fnva(data: bytes, hval_init: int, fnv_prime: int, fnv_size: int) -> int:
    """FNV-1a hash of ``data`` (xor each byte in, then multiply, modulo ``fnv_size``)."""
    if not isinstance(data, bytes):
        raise TypeError("fnva hashes bytes")
    h = hval_init
    for b in data:
        h = ((h ^ b) * fnv_prime) % fnv_size
    return h


def node_hash(node_name: str) -> int:
    """The 32-bit FNV-1a hash Argo uses for node IDs and pod names."""
    return fnva(node_name.encode(), FNV1_32_INIT, FNV_32_PRIME, 2**32)


def get_pod_name(wf_name: str, node_name: str, template_name: str, node_id: str) -> str:
    """Argo's v2 pod name of a node: ``<workflow>-<template>-<fnv32a(node name)>`` (prefix truncated)."""
    if node_name == wf_name:
        return wf_name
    prefix = f"{wf_name}-{template_name}"
    limit = MAX_K8S_RESOURCE_NAME_LENGTH - K8S_NAMING_HASH_LENGTH - 1
    return f"{prefix[:limit]}-{node_hash(node_name)}"
