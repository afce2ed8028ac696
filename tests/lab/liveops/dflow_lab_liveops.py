"""A trivial OP for the large live runs of the lab's browser test and the live monitor benchmark
(benchmarks/live_monitor.py): it does nothing, so a run of thousands of them measures the monitor, not the OPs."""

from dflow_lab.python import OP, OPIO, OPIOSign


class Noop(OP):
    """Return nothing."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO({})
