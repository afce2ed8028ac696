"""Python OPs of the Argo-mode tests (importable by the engine's worker processes)."""

from __future__ import annotations

from dflow_lab.python import OP, OPIO, BigParameter, OPIOSign


class Square(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"y": op_in["x"] ** 2})


class Big(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"data": BigParameter(dict)})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"data": {"values": list(range(op_in["n"]))}})
