"""Go's time formatting (``time.Time.Format`` with a reference layout such as ``2006-01-02T15:04:05Z07:00``)
for sprig's date functions. Times are timezone-aware ``datetime`` values; Argo's controller runs in UTC."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Go's layout elements, longest first where one is a prefix of another (as time.nextStdChunk decides).
_CHUNK = re.compile(
    r"January|Jan(?![a-z])|Monday|Mon(?![a-z])|MST|2006|002|01|02|03|04|05|06|__2|_2|15|1|2|3|4|5"
    r"|-07:00:00|-070000|-07:00|-0700|-07|Z07:00:00|Z070000|Z07:00|Z0700|Z07|PM|pm"
    r"|[.,](?:0+|9+)(?![0-9])"
)


def _zone(dt: datetime, style: str) -> str:
    offset = dt.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    if style.startswith("Z") and seconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    body = style.lstrip("Z-")
    if body == "07":
        return f"{sign}{hh:02d}"
    if body == "0700":
        return f"{sign}{hh:02d}{mm:02d}"
    if body == "07:00":
        return f"{sign}{hh:02d}:{mm:02d}"
    if body == "070000":
        return f"{sign}{hh:02d}{mm:02d}{ss:02d}"
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}"


def _fraction(dt: datetime, chunk: str) -> str:
    digits = f"{dt.microsecond:06d}000"  # nanoseconds (datetime keeps microseconds)
    width = len(chunk) - 1
    if chunk[1] == "0":
        return chunk[0] + digits[:width]
    trimmed = digits[:width].rstrip("0")
    return chunk[0] + trimmed if trimmed else ""


def _element(dt: datetime, chunk: str) -> str:
    hour12 = dt.hour % 12 or 12
    simple = {
        "January": _MONTHS[dt.month - 1], "Jan": _MONTHS[dt.month - 1][:3], "Monday": _DAYS[dt.weekday()],
        "Mon": _DAYS[dt.weekday()][:3], "2006": f"{dt.year:04d}", "06": f"{dt.year % 100:02d}",
        "01": f"{dt.month:02d}", "1": str(dt.month), "02": f"{dt.day:02d}", "2": str(dt.day),
        "_2": f"{dt.day:>2d}", "__2": f"{dt.timetuple().tm_yday:>3d}", "002": f"{dt.timetuple().tm_yday:03d}",
        "15": f"{dt.hour:02d}", "03": f"{hour12:02d}", "3": str(hour12), "04": f"{dt.minute:02d}",
        "4": str(dt.minute), "05": f"{dt.second:02d}", "5": str(dt.second),
        "PM": "PM" if dt.hour >= 12 else "AM", "pm": "pm" if dt.hour >= 12 else "am",
    }
    if chunk in simple:
        return simple[chunk]
    if chunk == "MST":
        name = dt.tzname() or "UTC"
        return name if name else _zone(dt, "-0700")
    if chunk[0] in ".,":
        return _fraction(dt, chunk)
    return _zone(dt, chunk)


def go_format(dt: datetime, layout: str) -> str:
    """Format ``dt`` with a Go reference layout."""
    return _CHUNK.sub(lambda m: _element(dt, m.group()), layout)


def go_time_string(dt: datetime) -> str:
    """A time as Go's ``time.Time.String`` prints it: ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    return go_format(dt, "2006-01-02 15:04:05.999999999 -0700 MST")


def go_time_json(dt: datetime) -> str:
    """A time as Go's ``json.Marshal`` writes it (RFC 3339 with nanoseconds, trailing zeros trimmed)."""
    return go_format(dt, "2006-01-02T15:04:05.999999999Z07:00")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
