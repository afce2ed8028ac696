"""Where the bundled canvas lives inside the package (built from ``js/`` at install time): the widget's ES module
and stylesheet, and elk's worker script, which the kernel sends to the widget only when a layout needs it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def bundle(name: str) -> Path:
    """The path of a built bundle, with a clear error when the package was installed without its build."""
    path = STATIC / name
    if not path.exists():
        raise FileNotFoundError(
            f"dflow-lab's canvas bundle {path} is missing: this install skipped the js/ build. "
            "Reinstall with `pip install .` (needs Node.js and npm at install time) or run `npm run build` "
            "in a source checkout."
        )
    return path


ELK_SCRIPT = "elk-worker.min.js"  # elkjs's worker build, copied by js/build.mjs


@lru_cache(maxsize=1)
def elk_script() -> bytes:
    """The bytes of elk's worker script (1.6 MB), read once per kernel."""
    return bundle(ELK_SCRIPT).read_bytes()
