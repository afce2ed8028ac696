"""Bounds on untrusted input: the one place their settings are read, and the one cut for user text.

Documents, manifests and archives are untrusted (docs/security.md). Every expansion they can ask
for has a bound, read here from ``config`` at the moment it is checked (so a notebook that changes
``config`` changes the bound of its next run; a detached engine gets the submitting process's
``config``):

- ``config["local_max_items"]`` (``DFLOW_LOCAL_MAX_ITEMS``, default 100,000): the most items one
  ``withItems``/``withParam``/``withSequence`` expands to.
- ``config["local_max_depth"]`` (``DFLOW_LOCAL_MAX_DEPTH``, default 100, Argo's controller's
  ``maxAllowedStackDepth``): the template call at this depth of nesting fails with
  "Maximum recursion depth exceeded".
- ``config["archive_max_bytes"]`` / ``config["archive_max_members"]`` (``DFLOW_ARCHIVE_MAX_BYTES``,
  default 16 GiB / ``DFLOW_ARCHIVE_MAX_MEMBERS``, default 100,000): what one archive may extract to.

- ``config["yaml_max_alias_nodes"]`` (``DFLOW_YAML_MAX_ALIAS_NODES``, default 100,000): the most nodes the
  aliases of one YAML document may expand to (:mod:`dflow_lab.yamlsafe`).
- ``config["document_max_depth"]`` (``DFLOW_DOCUMENT_MAX_DEPTH``, default 100): the deepest nesting of
  collections in a YAML/JSON document or a graph (:mod:`dflow_lab.yamlsafe`, ``dflow_lab.graph.validate``).

- ``config["argo_max_response_bytes"]`` (``DFLOW_ARGO_MAX_RESPONSE_BYTES``, default 256 MiB): the longest
  answer (or line of a stream) the Argo client reads from a server (:mod:`dflow_lab.argo.client`).

``cut_text`` bounds any user-derived text put into a node message, an event, a workflow's status
message or an error (``MESSAGE_MAX`` characters, 4,096): the head and the tail are kept, the
middle is replaced by a marker giving the original length.

A value of 0 or below for a setting is refused when it is read (a bound cannot be switched off
by accident); to allow more, set a larger number.
"""

from __future__ import annotations

from typing import Any

from .config import config

__all__ = [
    "MESSAGE_MAX",
    "cut_text",
    "max_items",
    "max_depth",
    "archive_max_bytes",
    "archive_max_members",
    "DEFAULTS",
    "yaml_max_alias_nodes",
    "document_max_depth",
    "argo_max_response_bytes",
]

MESSAGE_MAX = 4096

DEFAULTS = {
    "local_max_items": 100_000,
    "local_max_depth": 100,
    "archive_max_bytes": 16 * 1024 ** 3,
    "archive_max_members": 100_000,
    "yaml_max_alias_nodes": 100_000,
    "document_max_depth": 100,
    "argo_max_response_bytes": 256 * 1024 ** 2,
}


def cut_text(text: Any, limit: int = MESSAGE_MAX) -> str:
    """``text`` as a string of at most about ``limit`` characters: when longer, its head and tail with
    ``… [N characters, cut] …`` between them (N the original length)."""
    s = text if isinstance(text, str) else str(text)
    if len(s) <= limit:
        return s
    marker = f" … [{len(s):,} characters, cut] … "
    keep = max(limit - len(marker), 0)
    head = keep * 3 // 4
    tail = keep - head
    return s[:head] + marker + (s[len(s) - tail:] if tail else "")


def _setting(key: str) -> int:
    value = config.get(key)
    if value is None:
        return DEFAULTS[key]
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"config[{key!r}] = {value!r} is not a whole number (default {DEFAULTS[key]:,})") from None
    if number <= 0:
        raise ValueError(f"config[{key!r}] = {value!r} must be positive (default {DEFAULTS[key]:,})")
    return number


def max_items() -> int:
    """The most items one loop (``withItems``/``withParam``/``withSequence``) expands to."""
    return _setting("local_max_items")


def max_depth() -> int:
    """The depth of template calls at which a call fails (the entrypoint is depth 1)."""
    return _setting("local_max_depth")


def archive_max_bytes() -> int:
    """The most bytes one archive may extract to."""
    return _setting("archive_max_bytes")


def archive_max_members() -> int:
    """The most members (files, directories, links) one archive may hold."""
    return _setting("archive_max_members")


def yaml_max_alias_nodes() -> int:
    """The most nodes the aliases of one YAML document may expand to."""
    return _setting("yaml_max_alias_nodes")


def document_max_depth() -> int:
    """The deepest nesting of collections in a document (YAML, JSON, a graph)."""
    return _setting("document_max_depth")


def argo_max_response_bytes() -> int:
    """The longest answer, or line of a stream, the Argo client reads from a server."""
    return _setting("argo_max_response_bytes")
