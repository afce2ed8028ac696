"""Helpers of the expression tests: every string of a parsed YAML/JSON document, with where it stands."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def strings_in(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """``(path, text)`` for every string below ``node`` (dict keys and list indexes make up the path)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings_in(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings_in(value, (*path, i))
    elif isinstance(node, str):
        yield path, node
