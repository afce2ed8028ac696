"""Run one session of a documentation page: its blocks in order, in one namespace, in the current folder.

Usage: ``python runner.py SESSION.json`` where the JSON lists blocks (page path, line, lang, code,
expect_error). The session's Python blocks are written, each at its own line, into a script that is the page
with every other line blanked (``<page>.py`` in the current folder); ``__main__`` is that script, so a
traceback points at the page's own line and ``inspect.getsource`` finds an OP defined in a block, as in a
script a reader saved. Shell blocks run with ``bash -e``. The first failing block ends the run with
exit status 1 and a report naming ``page:line``. The current folder is put first on ``sys.path``, as an
interactive ``python`` started there would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import traceback
import types
from pathlib import Path


def main(session_file: str) -> int:
    blocks = json.loads(open(session_file, encoding="utf-8").read())
    sys.path.insert(0, os.getcwd())
    lines: list[str] = []
    for block in blocks:
        code_lines = block["code"].splitlines()
        lines += [""] * (block["line"] - 1 + len(code_lines) - len(lines))
        if block["lang"] == "python":
            lines[block["line"] - 1 : block["line"] - 1 + len(code_lines)] = code_lines
    script = Path.cwd() / (Path(blocks[0]["page"]).name + ".py")
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    main_module = types.ModuleType("__main__")
    main_module.__file__ = str(script)
    sys.modules["__main__"] = main_module
    namespace = main_module.__dict__
    for block in blocks:
        where = f"{block['page']}:{block['line']}"
        print(f"== {where} ({block['lang']})", flush=True)
        if block["lang"] != "python":
            proc = subprocess.run(["bash", "-e", "-c", block["code"]], check=False)
            if proc.returncode != 0:
                print(f"DOCS BLOCK FAILED at {where}: the shell block exited {proc.returncode}", flush=True)
                return 1
            continue
        code = compile("\n" * (block["line"] - 1) + block["code"], str(script), "exec")
        expected = block.get("expect_error")
        try:
            exec(code, namespace)
        except BaseException as exc:  # noqa: BLE001 - every failure of a block is reported with its place
            if expected and type(exc).__name__ == expected:
                print(f"   raised {expected} as documented: {exc}", flush=True)
                continue
            traceback.print_exc()
            print(f"DOCS BLOCK FAILED at {where}: {type(exc).__name__}: {exc}", flush=True)
            return 1
        if expected:
            print(f"DOCS BLOCK FAILED at {where}: expected {expected}, nothing was raised", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
