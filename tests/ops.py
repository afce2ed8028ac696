"""The toy Python OPs the tests and benchmarks share (``tests.ops``).

A Python OP defined in an importable module runs by module path: the engine's worker processes import
``tests.ops`` from the checkout (the step carries the ``sys.path`` root it was imported from), so these
classes work in every engine and in every worker, which OPs defined in a test module's body also do but
each test module then defines its own copy. OPs whose shape is the point of one test (extra outputs,
crashes, counters, artifacts) stay in that test; OPs whose module path is part of what a test checks
(``tests.graph.fixture_ops``, ``tests.iterate.ops``, the entry-point packages of ``tests/lab/testops``)
stay in their modules too.
"""

from __future__ import annotations

from typing import List

from dflow_lab.python import OP, OPIO, BigParameter, OPIOSign

__all__ = ["Big", "Double", "Inc", "Square", "Total"]


class Square(OP):
    """``y = x ** 2``."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"y": op_in["x"] ** 2})


class Double(OP):
    """``y = 2 x``."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"y": 2 * op_in["x"]})


class Inc(OP):
    """``y = x + 1``."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"y": op_in["x"] + 1})


class Total(OP):
    """``total = sum(ys)`` (a fan-out's outputs gathered into one step)."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"ys": List[int]})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"total": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"total": sum(op_in["ys"])})


class Big(OP):
    """A ``BigParameter`` output: ``{"values": [0, …, n - 1]}``."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"data": BigParameter(dict)})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"data": {"values": list(range(op_in["n"]))}})
