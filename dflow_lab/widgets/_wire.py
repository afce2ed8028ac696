"""How the widgets' ``graph`` trait travels between the kernel and the browser.

A graph whose compact JSON is larger than ``BINARY_OVER`` bytes (64 KiB: about 300 tasks) goes to the browser as
one binary buffer of its UTF-8 JSON text instead of as a JSON value inside the comm message: Jupyter's websocket
protocol carries buffers raw, so JupyterLab does not parse the graph while it decodes the message (116 ms in one
task for 10,000 tasks), and the widget decodes it itself in a task of its own (``js/widget/wire.ts``). Smaller
graphs, values that are not strict JSON (NaN, lone surrogates: the old path reports them as it did) and the
kernel's answer to an edit made in the browser keep the plain JSON path. In Python ``graph`` is a dict either way;
``graph_from_json`` accepts the dict the browser sends as well as bytes.
"""

from __future__ import annotations

import json
from typing import Any

BINARY_OVER = 64 * 1024


def graph_to_json(value: Any, widget: Any = None) -> Any:
    """The wire form of ``value``: itself, or a ``memoryview`` of its UTF-8 JSON when that is over ``BINARY_OVER``."""
    if not isinstance(value, dict) or "graph" in (getattr(widget, "_property_lock", None) or {}):
        # the browser's own edit being applied: ipywidgets compares this with what the browser sent, equal
        # means nothing is sent back (a binary form would send the whole graph back after every edit)
        return value
    try:
        data = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError):
        return value
    return memoryview(data) if len(data) > BINARY_OVER else value


def graph_from_json(value: Any, widget: Any = None) -> Any:
    """The graph dict of a wire value: a dict as it is, bytes (``graph_to_json``'s binary form) parsed."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            return json.loads(bytes(value).decode())
        except (UnicodeDecodeError, ValueError) as e:
            raise ValueError(f"widget graph: the binary graph from the browser is not UTF-8 JSON: {e}") from e
    return value
