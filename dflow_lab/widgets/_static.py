"""Where the bundled canvas lives inside the package (built from ``js/`` at install time)."""

from __future__ import annotations

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
