"""A Python OP for the executor tests, in a package of its own: it reaches remote hosts, Slurm jobs and
containers through ``PythonOPTemplate(python_packages=[this directory])``, as a user's OP would."""

from pathlib import Path

from dflow_lab.python import OP, OPIO, Artifact, OPIOSign


class CountLines(OP):
    """Counts the lines of every file in ``data`` (an input artifact), writes a report artifact."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"data": Artifact(Path), "scale": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"lines": int, "report": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in):
        import os
        import socket

        root = Path(op_in["data"])
        files = sorted(p for p in root.rglob("*")
                       if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
        lines = sum(len(p.read_text().splitlines()) for p in files) * op_in["scale"]
        out = Path("report.txt")
        out.write_text(f"{lines} lines in {len(files)} files\n")
        print(f"counted {lines} on {socket.gethostname()} as uid {os.getuid()}")
        return OPIO({"lines": lines, "report": out})
