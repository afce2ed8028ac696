"""Importable OPs used by the Python OP tests (the runtime imports them by module path)."""


import os
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

from dflow_lab.python import (
    OP,
    OPIO,
    Artifact,
    BigParameter,
    FatalError,
    HDF5Datasets,
    NestedDict,
    OPIOSign,
    Parameter,
    TransientError,
)


class Add(OP):
    """Adds two numbers; writes the sum to a file artifact too."""

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({"a": int, "b": Parameter(int, default=2, description="the second term")})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({"s": int, "label": str, "report": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        s = op_in["a"] + op_in["b"]
        Path("report.txt").write_text(f"{op_in['a']}+{op_in['b']}={s}\n")
        print(f"adding {op_in['a']} and {op_in['b']}")
        return OPIO(s=s, label=f"sum {s}", report=Path("report.txt"))


class Files(OP):
    """Takes a list of files and a dict of files; returns their sizes and copies."""

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({
            "inputs": Artifact(List[Path]),
            "named": Artifact(Dict[str, Path], optional=True),
            "nested": Artifact(NestedDict[Path], optional=True),
            "config": BigParameter(dict, default={}),
        })

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({
            "sizes": List[int],
            "copies": Artifact(List[Path]),
            "by_name": Artifact(Dict[str, Path]),
            "tree": Artifact(NestedDict[str]),
            "named_keys": List[str],
            "config": BigParameter(dict),
        })

    def execute(self, op_in: OPIO) -> OPIO:
        copies = []
        for i, p in enumerate(op_in["inputs"]):
            q = Path(f"copy{i}") / p.name
            q.parent.mkdir(parents=True, exist_ok=True)
            q.write_bytes(p.read_bytes())
            copies.append(q)
        named = op_in["named"] or {}
        os.makedirs("tree/x", exist_ok=True)
        Path("tree/x/leaf.txt").write_text("leaf")
        return OPIO(
            sizes=[p.stat().st_size for p in op_in["inputs"]],
            copies=copies,
            by_name={f"f{i}": c for i, c in enumerate(copies)},
            tree={"x": {"leaf": "tree/x/leaf.txt"}, "list": ["tree/x/leaf.txt", None]},
            named_keys=sorted(named),
            config={**op_in["config"], "seen": True},
        )


class Flaky(OP):
    """Fails the way its ``mode`` input says."""

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({"mode": str})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({"out": int})

    def execute(self, op_in: OPIO) -> OPIO:
        mode = op_in["mode"]
        if mode == "transient":
            raise TransientError("the license server is busy")
        if mode == "fatal":
            raise FatalError("the input is inconsistent")
        if mode == "other":
            raise ZeroDivisionError("division by zero in the model")
        if mode == "bad-output":
            return OPIO(out="not an int")
        if mode == "missing-output":
            return OPIO()
        if mode == "partial":
            self.set_output("out", 7)
            raise FatalError("failed after writing out")
        return OPIO(out=1)


class Scaled(OP):
    """An OP configured by its constructor (the template records the instance)."""

    def __init__(self, factor: int = 1) -> None:
        self.factor = factor

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({"y": int})

    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO(y=op_in["x"] * self.factor)


class Typed(OP):
    """Parameters of many types, echoed back."""

    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({
            "n": int, "f": float, "flag": bool, "names": List[str], "table": Dict[str, int],
            "pair": Tuple[int, str], "maybe": Optional[int], "text": str, "path": Path,
        })

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({
            "n": int, "f": float, "flag": bool, "names": List[str], "table": Dict[str, int],
            "pair": Tuple[int, str], "maybe": Optional[int], "text": str, "path": Path,
        })

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        return OPIO(op_in)


@OP.function
def multiply(x: int, y: float = 2.0) -> {"product": float}:  # noqa: F821 (dflow's dict-of-types idiom)
    """A function OP with a dict return annotation."""
    return {"product": x * y}


class MinMax(NamedTuple):
    lo: int
    hi: int


@OP.function(image="python:3.11")
def min_max(values: List[int]) -> MinMax:
    return MinMax(min(values), max(values))


@OP.function
def square_each(values: List[int]) -> Tuple[List[int], int]:
    return [v * v for v in values], len(values)


@OP.function
def listing(files: Artifact(List[Path]), one: Artifact(Path, optional=True) = None) -> {"paths": List[str], "one": str}:  # noqa: F821
    """Reports the paths it received, relative to the artifacts' directory."""
    root = os.path.join(files.art_root, "..")
    return {"paths": [os.path.relpath(p, root) for p in files],
            "one": os.path.relpath(one, root) if one is not None else ""}


class Attempts(OP):
    """Fails with TransientError until it has run ``succeed_on`` times (counted in a file)."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"counter": str, "succeed_on": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"attempts": int})

    def execute(self, op_in):
        counter = Path(op_in["counter"])
        n = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(n))
        if n < op_in["succeed_on"]:
            raise TransientError(f"attempt {n} failed")
        return OPIO(attempts=n)


class WhoAmI(OP):
    """Reports the step key and workflow name the runtime gives the OP."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"key": str, "workflow": str})

    def execute(self, op_in):
        return OPIO(key=str(self.key), workflow=str(self.workflow_name))


@OP.function
def reciprocal(x: int) -> {"r": float, "note": Artifact(Path)}:  # noqa: F821
    """1/x, with a note file written in the working directory."""
    Path("note.txt").write_text(f"1/{x}")
    return {"r": 1 / x, "note": Path("note.txt")}


@OP.function
def inc(x: int) -> {"y": int}:  # noqa: F821
    return {"y": x + 1}


@OP.superfunction
def inc_twice(x: int) -> {"y": int}:  # noqa: F821
    """A DAG of two function OPs, built by calling them."""
    first = inc(x)
    return {"y": inc(first["y"])["y"]}


@OP.superfunction
def inc_four_times(x: int) -> {"y": int}:  # noqa: F821
    """A DAG of two superfunction DAGs."""
    return {"y": inc_twice(inc_twice(x)["y"])["y"]}


class Pack(OP):
    """Packs numbers, text, a file and a directory into one HDF5 artifact."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"packed": Artifact(HDF5Datasets)})

    def execute(self, op_in):
        Path("result.txt").write_text("energy: -1.5\n")
        Path("conf/sub").mkdir(parents=True)
        Path("conf/sub/POSCAR").write_text("Si\n")
        return OPIO(packed={"n": op_in["n"], "label": "run", "file": Path("result.txt"), "dir": Path("conf"),
                            "empty": None, "series": [1.0, 2.0]})


class Unpack(OP):
    """Reads an HDF5 artifact back, recovering its file and directory."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"packed": Artifact(HDF5Datasets)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"n": int, "label": str, "text": str, "poscar": str, "empty": bool, "series": List[float]})

    def execute(self, op_in):
        p = op_in["packed"]
        recovered_file = p["file"].recover()
        recovered_dir = p["dir"].recover()
        return OPIO(n=int(p["n"].get_data()), label=p["label"].get_data(), text=recovered_file.read_text(),
                    poscar=(recovered_dir / "sub/POSCAR").read_text(), empty=p["empty"] is None,
                    series=[float(p["series"][i].get_data()) for i in range(2)])
