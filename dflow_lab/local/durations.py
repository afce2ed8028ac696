"""Go-style durations (``"1h30m"``, ``"10s"``, ``"500ms"``) and plain seconds, as Argo accepts them."""

from __future__ import annotations

import re

__all__ = ["parse_duration"]

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h|d)")


def parse_duration(value: object, where: str) -> float:
    """Seconds in ``value`` (an int, a numeric string or a Go duration); ``ValueError`` names ``where``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    while pos < len(text):
        m = _PART.match(text, pos)
        if not m:
            raise ValueError(f"{where}: {value!r} is not a duration (e.g. 30, '30s', '1m30s')")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not text:
        raise ValueError(f"{where}: empty duration")
    return total
