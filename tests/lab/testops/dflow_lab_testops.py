"""OPs the lab tests put in the palette (configured module) and run from the canvas."""

import csv
import json
from pathlib import Path

from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, Parameter


class MakeTable(OP):
    """Write a CSV table of ``n`` rows (i, i squared)."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": Parameter(int, default=3)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"table": Artifact(Path), "count": int})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        out = Path("table.csv")
        with open(out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["i", "square"])
            for i in range(op_in["n"]):
                w.writerow([i, i * i])
        print(f"wrote {op_in['n']} rows")
        return OPIO({"table": out, "count": op_in["n"]})


class Summarize(OP):
    """Sum the squares of a table into a JSON report."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"table": Artifact(Path)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"total": int, "report": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        with open(op_in["table"]) as f:
            rows = list(csv.DictReader(f))
        total = sum(int(r["square"]) for r in rows)
        report = Path("report.json")
        report.write_text(json.dumps({"rows": len(rows), "total": total}))
        print(f"total {total}")
        return OPIO({"total": total, "report": report})
