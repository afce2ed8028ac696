"""A host stand-in for the entrypoint of Argo's test image ``argoproj/argosay:v2`` (``/argosay``).

``python -m dflow_lab.local.argosay [SUBCOMMAND ARGS…]`` behaves as that image's entrypoint is published
to behave (argo-workflows, test/e2e/images/argosay/v2):

- no subcommand: prints ``hello argo``;
- ``echo`` prints ``hello argo``; ``echo MSG`` prints MSG; ``echo MSG FILE`` writes MSG and a newline to
  FILE (creating its directory);
- ``cat FILE`` prints FILE; ``assert_contains FILE TEXT`` prints the lines of FILE containing TEXT and
  exits 1 when there is none;
- ``exit [CODE]`` exits with CODE (0); ``sleep SECONDS`` sleeps; ``sh FILE`` runs FILE with ``sh``;
- anything else exits 1.

Paths are the host paths it is given (the local engine maps a template's declared paths before it runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

__all__ = ["main"]


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else ""
    rest = argv[1:]
    if cmd == "":
        print("hello argo")
        return 0
    if cmd == "echo":
        if not rest:
            print("hello argo")
        elif len(rest) == 1:
            print(rest[0])
        elif len(rest) == 2:
            directory = os.path.dirname(rest[1])
            if directory:
                os.makedirs(directory, exist_ok=True)
            with open(rest[1], "w") as f:
                f.write(rest[0] + "\n")
        else:
            return 1
        return 0
    if cmd == "cat" and rest:
        with open(rest[0], "rb") as f:
            sys.stdout.buffer.write(f.read())
        return 0
    if cmd == "assert_contains" and len(rest) >= 2:
        with open(rest[0], errors="replace") as f:
            lines = [ln for ln in f if rest[1] in ln]
        sys.stdout.write("".join(lines))
        return 0 if lines else 1
    if cmd == "exit":
        return int(rest[0]) if rest else 0
    if cmd == "sleep" and rest:
        time.sleep(float(rest[0]))
        return 0
    if cmd == "sh":
        return subprocess.call(["sh", rest[0] if rest else "0"])
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
