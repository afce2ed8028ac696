"""Python OPs of the dflow-lab tutorial notebook (and of the widget browser tests)."""

from __future__ import annotations

from pathlib import Path

from dflow_lab.python import OP, OPIO, Artifact, OPIOSign


class Squares(OP):
    """Write the squares of 0..n-1 as a CSV table."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"table": Artifact(Path), "count": int})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        path = Path("squares.csv")
        path.write_text("i,square\n" + "".join(f"{i},{i * i}\n" for i in range(op_in["n"])))
        print(f"wrote {op_in['n']} rows to {path}")
        return OPIO({"table": path, "count": op_in["n"]})


class Total(OP):
    """Sum the squares of a table, times a scale."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"table": Artifact(Path), "scale": float})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"total": float})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        rows = op_in["table"].read_text().splitlines()[1:]
        total = op_in["scale"] * sum(int(r.split(",")[1]) for r in rows)
        print(f"total = {total}")
        return OPIO({"total": total})


class Describe(OP):
    """Describe a number in words (a string output, to show typed ports)."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"value": float})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"text": str})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO({"text": f"the total is {op_in['value']:g}"})
