"""OPs defined in ``__main__`` (a script, a notebook) are embedded as source and run elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dflow_lab.python.runtime import parse_source

SCRIPT = '''
import json, math
from typing import List
from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate

SCALE = 3
NAMES = ["a", "b"]


def helper(x):
    return math.floor(x * SCALE)


class Base(OP):
    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int, "names": List[str]})


class Scale(Base):
    """Scales x."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": float})

    def execute(self, op_in):
        json = "a local that shadows the json module"
        return OPIO(y=helper(op_in["x"]), names=NAMES + [json[:1]])


@OP.function
def double(v: int) -> {"w": int}:
    return {"w": helper(v) * 2}


client = open(__file__)


class Bad(Base):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": float})

    def execute(self, op_in):
        return OPIO(y=len(client.read()), names=[])


out = {"scale": PythonOPTemplate(Scale).script, "double": PythonOPTemplate(double).script}
try:
    PythonOPTemplate(Bad)
except ValueError as e:
    out["bad"] = str(e)
print(json.dumps(out))
'''

NOTEBOOK = '''
import json, linecache, sys
cells = [
    "from dflow_lab.python import OP, OPIO, OPIOSign\\nOFFSET = 100\\n",
    "def shift(v):\\n    return v + OFFSET\\n",
    "class Shift(OP):\\n    @classmethod\\n    def get_input_sign(cls):\\n        return OPIOSign({'v': int})\\n"
    "    @classmethod\\n    def get_output_sign(cls):\\n        return OPIOSign({'r': int})\\n"
    "    def execute(self, op_in):\\n        return OPIO(r=shift(op_in['v']))\\n",
    "from dflow_lab.python import PythonOPTemplate\\nprint(json.dumps({'shift': PythonOPTemplate(Shift).script}))\\n",
]
main = sys.modules["__main__"].__dict__
for i, cell in enumerate(cells):  # what IPython does with each cell
    name = f"<ipython-input-{i}-0123456789ab>"
    linecache.cache[name] = (len(cell), None, cell.splitlines(True), name)
    exec(compile(cell, name, "exec"), main)
'''


def _py(tmp_path: Path, text: str, name: str) -> dict:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_script(tmp_path: Path, source: str, params: list) -> subprocess.CompletedProcess:
    """Run a compiled script as a container would, in a fresh interpreter in another directory."""
    work = tmp_path / "work"
    work.mkdir(parents=True, exist_ok=True)
    (work / "step.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["DFLOW_LAB_ROOT"] = str(tmp_path / "root")
    for i, v in enumerate(params):
        env[f"DFLOW_LAB_PARAM_{i}"] = v
    return subprocess.run([sys.executable, "step.py"], capture_output=True, text=True, timeout=120, cwd=work, env=env)


def _out(tmp_path: Path, name: str) -> str:
    return (tmp_path / "root/tmp/outputs/parameters" / name).read_text()


def test_script_ops_are_embedded_with_what_they_need(tmp_path):
    out = _py(tmp_path, SCRIPT, "main_script.py")
    embedded = parse_source(out["scale"])["op"]["source"]
    assert "class Scale(Base):" in embedded and "class Base(OP):" in embedded
    assert "def helper(x):" in embedded and "SCALE = 3" in embedded and "NAMES = ['a', 'b']" in embedded
    assert "import math" in embedded
    assert "from dflow_lab.python import OP, OPIOSign, OPIO" in embedded
    assert "client" not in embedded and "import json" not in embedded
    run = _run_script(tmp_path / "scale", out["scale"], ["2.5"])
    assert run.returncode == 0, run.stderr
    assert _out(tmp_path / "scale", "y") == "7"
    assert _out(tmp_path / "scale", "names") == '["a", "b", "a"]'
    run = _run_script(tmp_path / "double", out["double"], ["5"])
    assert run.returncode == 0, run.stderr
    assert _out(tmp_path / "double", "w") == "30"


def test_unembeddable_global_is_a_clear_error(tmp_path):
    out = _py(tmp_path, SCRIPT, "main_script.py")
    assert "cannot embed OP 'Bad': it uses the global 'client' (TextIOWrapper)" in out["bad"]
    assert "template" in out["bad"]


def test_notebook_cells_are_embedded(tmp_path):
    out = _py(tmp_path, NOTEBOOK, "kernel.py")
    embedded = parse_source(out["shift"])["op"]["source"]
    assert "OFFSET = 100" in embedded and "def shift(v):" in embedded and "class Shift(OP):" in embedded
    run = _run_script(tmp_path / "nb", out["shift"], ["1"])
    assert run.returncode == 0, run.stderr
    assert _out(tmp_path / "nb", "r") == "101"


def test_embedded_source_is_loaded_once_per_process(tmp_path):
    from dflow_lab.python import loader

    out = _py(tmp_path, NOTEBOOK, "kernel.py")
    source = parse_source(out["shift"])["op"]["source"]
    a = loader.load_source(source, "Shift")
    b = loader.load_source(source, "Shift")
    assert a is b
    assert sys.modules[a.__module__] is not None  # registered, so its classes pickle
    with pytest.raises(NameError, match="does not define 'Nope'"):
        loader.load_source(source, "Nope")


IPYTHON_SESSION = '''
import json
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
cells = [
    "from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate\\nimport math\\nOFFSET = 100",
    "def shift(v):\\n    return math.floor(v) + OFFSET",
    "class Base(OP):\\n    factor = 2",
    "class Shift(OP):\\n    @classmethod\\n    def get_input_sign(cls):\\n        return OPIOSign({'v': float})\\n"
    "    @classmethod\\n    def get_output_sign(cls):\\n        return OPIOSign({'r': int})\\n"
    "    def execute(self, op_in):\\n        return OPIO(r=shift(op_in['v']))",
    "@OP.function\\ndef twice(v: int) -> {'w': int}:\\n    return {'w': Base.factor * shift(v)}",
    "out = {'shift': PythonOPTemplate(Shift).script, 'twice': PythonOPTemplate(twice).script}",
]
for cell in cells:
    shell.run_cell(cell).raise_error()
print(json.dumps(shell.user_ns["out"]))
'''


def test_ops_defined_in_an_ipython_shell_are_embedded(tmp_path):
    pytest.importorskip("IPython")
    out = _py(tmp_path, IPYTHON_SESSION, "ipython_session.py")
    run = _run_script(tmp_path / "shift", out["shift"], ["2.5"])
    assert run.returncode == 0, run.stderr
    assert _out(tmp_path / "shift", "r") == "102"
    run = _run_script(tmp_path / "twice", out["twice"], ["3"])
    assert run.returncode == 0, run.stderr
    assert _out(tmp_path / "twice", "w") == "206"


def test_an_edited_op_module_is_reloaded(tmp_path, monkeypatch):
    from dflow_lab.python import loader

    mod_file = tmp_path / "h4_edited_op.py"
    mod_file.write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = {"name": "VALUE", "module": "h4_edited_op", "qualname": "VALUE"}
    try:
        assert loader.load_op(spec) == 1
        assert loader.load_op(spec) == 1
        mod_file.write_text("VALUE = 2\n")  # same size, possibly within the same second
        os.utime(mod_file, ns=(1, os.stat(mod_file).st_mtime_ns + 1))
        assert loader.load_op(spec) == 2
    finally:
        sys.modules.pop("h4_edited_op", None)


ALIASES = '''
import json
import logging
from dataclasses import dataclass
from typing import Dict, List
from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate


@dataclass
class Cfg:
    k: int = 2


Names = List[str]
Table = Dict[str, List[Cfg]]
logger = logging.getLogger(__name__)


class Base(OP):
    scale = 10


class Annot(Base):
    @classmethod
    def get_input_sign(cls) -> OPIOSign:
        return OPIOSign({"names": Names})

    @classmethod
    def get_output_sign(cls) -> OPIOSign:
        return OPIOSign({"n": int, "kinds": List[str]})

    def execute(self, op_in: OPIO) -> OPIO:
        logger.info("running")
        table: Table = {"a": [Cfg()]}
        return OPIO(n=len(op_in["names"]) * table["a"][0].k * super().scale, kinds=sorted(table))


print(json.dumps({"annot": PythonOPTemplate(Annot).script}))
'''


def test_type_aliases_dataclasses_and_base_classes_are_embedded(tmp_path):
    out = _py(tmp_path, ALIASES, "aliases.py")
    embedded = parse_source(out["annot"])["op"]["source"]
    assert "Names = typing.List[str]" in embedded
    assert "logger = logging.getLogger('__main__')" in embedded
    assert embedded.index("class Cfg") < embedded.index("Table = typing.Dict[str, typing.List[Cfg]]")
    run = _run_script(tmp_path / "annot", out["annot"], ['["x", "y", "z"]'])
    assert run.returncode == 0, run.stderr
    assert _out(tmp_path / "annot", "n") == "60"
