"""OPs of the local engine tests that live in an importable module (workers import them by name)."""

from __future__ import annotations

from dflow_lab.python import OP, OPIO, OPIOSign


class Mark(OP):
    """Write ``start-<i>-<n>`` (n-th start of item i), wait for ``gate`` when i >= 3, then ``done-<i>``."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"i": int, "dir": str, "gate": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"i": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        import time
        from pathlib import Path

        d, i = Path(op_in["dir"]), op_in["i"]
        n = 1 + sum(1 for _ in d.glob(f"start-{i}-*"))
        (d / f"start-{i}-{n}").write_text("")
        deadline = time.monotonic() + 60
        while i >= 3 and not Path(op_in["gate"]).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        (d / f"done-{i}").write_text("")
        return OPIO({"i": i})
