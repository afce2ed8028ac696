"""An OP offered through a ``dflow_lab.ops`` entry point (see the dist-info beside this file)."""

from dflow_lab.python import OP, OPIO, OPIOSign


class Shout(OP):
    """Upper-case a message."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"msg": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"loud": str})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO({"loud": op_in["msg"].upper()})


class Whisper(OP):
    """Not offered: the entry point names Shout only."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"msg": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"quiet": str})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO({"quiet": op_in["msg"].lower()})
