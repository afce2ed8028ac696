"""OPs of the iterate-loop tests: each execution appends its step's name to a count file (the side effect
that tells a run step from a reused one); ``Scale`` fails on demand."""

from __future__ import annotations

from pathlib import Path

from dflow_lab import Step, Workflow, argo_range
from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate


def _count(log: str, what: str) -> None:
    with open(log, "a") as f:
        f.write(what + "\n")


def executions(log: str | Path) -> dict[str, int]:
    """How many times each step ran, from the count file."""
    out: dict[str, int] = {}
    p = Path(log)
    for line in p.read_text().splitlines() if p.exists() else []:
        out[line] = out.get(line, 0) + 1
    return out


class Prep(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"log": str, "n": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"base": int, "table": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in):
        import os

        _count(op_in["log"], "prep")
        table = Path("table.csv")
        # the pid makes every execution's artifact differ: a reused artifact is the earlier one byte for byte
        table.write_text(f"x,y\n1,{os.getpid()}\n2,{op_in['n']}\n")
        return OPIO({"base": op_in["n"], "table": table})


class Item(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"log": str, "i": int, "base": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"v": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        _count(op_in["log"], "item")
        return OPIO({"v": op_in["base"] + op_in["i"]})


class Scale(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"log": str, "vs": list, "factor": int, "fail": bool})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"total": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        _count(op_in["log"], "scale")
        if op_in["fail"]:
            raise RuntimeError("scale was told to fail")
        return OPIO({"total": sum(op_in["vs"]) * op_in["factor"]})


class Report(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"log": str, "total": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"line": str})

    @OP.exec_sign_check
    def execute(self, op_in):
        _count(op_in["log"], "report")
        return OPIO({"line": f"total={op_in['total']}"})


def pipeline(log: str | Path, factor: int = 2, fail: bool = False, n: int = 10, items: int = 3,
             name: str = "iterate") -> Workflow:
    """prep → item × ``items`` (fan-out, no keys) → scale → report; no step has a key."""
    wf = Workflow(name)
    prep = Step("prep", PythonOPTemplate(Prep), parameters={"log": str(log), "n": n})
    wf.add(prep)
    item = Step("item", PythonOPTemplate(Item),
                parameters={"log": str(log), "i": "{{item}}", "base": prep.outputs.parameters["base"]},
                with_param=argo_range(items))
    wf.add(item)
    scale = Step("scale", PythonOPTemplate(Scale),
                 parameters={"log": str(log), "vs": item.outputs.parameters["v"], "factor": factor, "fail": fail})
    wf.add(scale)
    wf.add(Step("report", PythonOPTemplate(Report),
                parameters={"log": str(log), "total": scale.outputs.parameters["total"]}))
    return wf
