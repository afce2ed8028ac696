"""Every name of ``dflow.utils`` and ``dflow.common`` in the reference API exists in dflow_lab."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path

import pytest

REFERENCE = Path(os.environ.get("DFLOW_LAB_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "reference" / "dflow-api.txt"


def reference_names(module: str) -> list[tuple[str, str | None]]:
    """``(name, member)`` pairs documented for ``dflow.<module>``."""
    names: list[tuple[str, str | None]] = []
    current = None
    head = re.compile(rf"^(?:class )?dflow\.{module}\.([A-Za-z_]\w*)\s*(?:\(|$)")
    member = re.compile(r"^(?:property |abstract |static |classmethod )*([a-z_]\w*)\(")
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        m = head.match(line)
        if m:
            names.append((m.group(1), None))
            current = m.group(1) if line.startswith("class ") else None
            continue
        if line.startswith("dflow."):
            current = None
        elif current and (mm := member.match(line)):
            names.append((current, mm.group(1)))
    return names


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared reference API text is not here")
@pytest.mark.parametrize("module", ["utils", "common"])
def test_reference_names_exist(module):
    mod = importlib.import_module(f"dflow_lab.{module}")
    names = reference_names(module)
    assert len(names) > 10
    missing = [f"{n}.{m}" if m else n for n, m in names if not hasattr(mod, n) or (m and not hasattr(getattr(mod, n), m))]
    assert missing == []
