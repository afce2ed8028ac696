"""OPs of the graph tests, on dflow_lab, or on the reference pydflow where that is what imports.

Under pytest they are ``tests.graph.fixture_ops`` (dflow_lab). ``pydflow_src/make_fixtures.py`` runs in the
reference's venv (/opt/pydflow-venv, no dflow_lab) and imports them as ``fixture_ops``, on pydflow: the
pydflow fixtures name ``fixture_ops:Duplicate`` and so on.
"""

from pathlib import Path
from typing import List, NamedTuple

try:
    from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, Parameter
except ImportError:  # the reference's venv
    from dflow.python import OP, OPIO, Artifact, OPIOSign, Parameter


class Duplicate(OP):
    """Write ``msg`` ``num`` times to a file."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"msg": str, "num": Parameter(int, default=2), "foo": Artifact(Path, optional=True)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"msg": str, "bar": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        out = Path("bar.txt")
        out.write_text(op_in["msg"] * op_in["num"])
        return OPIO({"msg": op_in["msg"] * op_in["num"], "bar": out})


class Split(OP):
    """Produce a list of numbers."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"items": List[int], "total": float})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO({"items": list(range(op_in["n"])), "total": float(op_in["n"])})


class Square(OP):
    """Square a number."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO({"y": op_in["x"] ** 2})


class Total(NamedTuple):
    total: int


@OP.function
def add(a: int, b: int = 1) -> Total:
    """A function OP."""
    return Total(a + b)
