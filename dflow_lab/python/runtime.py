"""The Python OP runtime: what a compiled Python OP step runs (see docs/internals.md).

A ``PythonOPTemplate`` compiles to a script whose first line is ``# dflow-lab: python-op v1`` and
which calls :func:`main` with a JSON spec of the OP.  In a container that script runs with
``python3``; the local engine's warm workers instead call :func:`run_source` on it, which reads the
same spec without executing the script.  Either way :func:`run_spec` loads the OP, reads its inputs,
checks them, runs ``execute``, checks and writes the outputs and returns the exit code:
0 success, 1 ``TransientError``, 2 ``FatalError`` or any other error.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, Dict, List, Mapping

import jsonpickle

from ..config import config
from ..storage.catalog import assemble_path_object, catalog_of_local_artifact
from .errors import FatalError, TransientError
from .loader import load_op, op_object
from .op import check_opio
from .opio import Artifact, HDF5Datasets
from .slicepool import run_slices, slice_groups, stack_outputs
from .stepio import read_inputs, write_outputs

__all__ = ["MARKER", "PACKAGES_ARTIFACT", "render_source", "parse_source", "run_source", "run_spec", "main"]

MARKER = "# dflow-lab: python-op v1"
PACKAGES_ARTIFACT = "dflow_python_packages"
_SPEC_START = "sys.exit(main(r'''"
_SPEC_END = "'''))"


def _spec_json(spec: Dict[str, Any]) -> str:
    """JSON text safe inside a raw triple-quoted Python string and inert to Argo's ``{{…}}``
    templating: indented (so structural braces never touch), ``'``, ``{{`` and ``}}`` escaped."""
    text = json.dumps(spec, indent=1, sort_keys=True)
    return text.replace("'", "\\u0027").replace("{{", "{\\u007b").replace("}}", "}\\u007d")


def _bootstrap(tmp_root: str) -> str:
    """Standalone lines that put uploaded packages (``upload_packages``, dflow-lab itself) on
    ``sys.path`` before anything is imported from them (containers without dflow-lab installed)."""
    catalog = config["catalog_dir_name"]
    return (
        "import json, os\n"
        f"_d = os.path.join(os.environ.get('DFLOW_LAB_ROOT') or '/', {tmp_root.strip('/')!r}, "
        f"'inputs', 'artifacts', {PACKAGES_ARTIFACT!r})\n"
        f"_c = os.path.join(_d, {catalog!r})\n"
        "for _f in sorted(os.listdir(_c)) if os.path.isdir(_c) else []:\n"
        "    with open(os.path.join(_c, _f)) as _fd:\n"
        "        for _i in json.load(_fd)['path_list']:\n"
        "            sys.path.insert(0, os.path.join(_d, os.path.dirname(_i['dflow_list_item'])))\n"
    )


def render_source(spec: Dict[str, Any]) -> str:
    """The script of a Python OP template for ``spec`` (marker line first, spec as JSON)."""
    lines = [MARKER, "import sys"]
    if spec.get("python_packages") or spec.get("upload_packages_artifact"):
        lines.append(_bootstrap(spec.get("tmp_root", "/tmp")).rstrip("\n"))
    lines += ["from dflow_lab.python.runtime import main", _SPEC_START, _spec_json(spec), _SPEC_END, ""]
    return "\n".join(lines)


def parse_source(source: str) -> Dict[str, Any]:
    """The spec embedded in a script written by :func:`render_source`."""
    if not source.startswith(MARKER):
        raise ValueError(f"not a dflow-lab Python OP script: the first line is not {MARKER!r}")
    start = source.find(_SPEC_START)
    end = source.rfind(_SPEC_END)
    if start < 0 or end < start:
        raise ValueError("malformed dflow-lab Python OP script: no spec found")
    return json.loads(source[start + len(_SPEC_START): end])


def _package_dirs(spec: Dict[str, Any], tmp_root: str) -> List[str]:
    """Directories to put on ``sys.path``: from the uploaded packages artifact when the step has
    one, else the parents of the local package paths (the local engine runs on the same host)."""
    art = os.path.join(tmp_root, "inputs", "artifacts", PACKAGES_ARTIFACT)
    if os.path.isdir(art):
        items = catalog_of_local_artifact(art)
        if items:
            return [os.path.join(art, os.path.dirname(i["dflow_list_item"])) for i in items if i["dflow_list_item"]]
        return [art]
    return [os.path.dirname(os.path.abspath(p)) for p in spec.get("python_packages") or [] if os.path.exists(p)]


def _add_packages(dirs: List[str], env: Mapping[str, str]) -> None:
    for d in reversed(dirs):
        if d not in sys.path:
            sys.path.insert(0, d)
    if dirs:
        os.environ["PYTHONPATH"] = os.pathsep.join(dirs + [p for p in [env.get("PYTHONPATH")] if p])


def _root(env: Mapping[str, str]) -> str:
    return env.get("DFLOW_LAB_ROOT") or os.environ.get("DFLOW_LAB_ROOT") or "/"


def _prepare(spec: Dict[str, Any], env: Mapping[str, str]) -> tuple:
    """Load the OP and read its inputs: ``(op, inputs, orders)`` with one OPIO per slice the step
    runs (one, unless ``Slices(pool_size=…)`` gives it a group) and the group's slice values (or
    ``None``). Errors here are the step's setup errors."""
    tmp_root = os.path.join(_root(env), spec.get("tmp_root", "/tmp").lstrip("/"))
    _add_packages(_package_dirs(spec, tmp_root), env)
    if spec.get("pre_script"):
        exec(spec["pre_script"], {"__name__": "__dflow_lab_pre_script__"})  # the template's own code
    op_spec = spec["op"]
    state = None
    if op_spec.get("state") is not None:
        state = jsonpickle.decode(op_spec["state"], keys=True)  # the OP object the template was built with
    op = op_object(load_op(op_spec), state)
    op.tmp_root = tmp_root
    key = env.get((spec.get("parameters") or {}).get("dflow_key", ""))
    op.key = key if key and not key.startswith("{{") else None
    op.workflow_name = env.get("DFLOW_LAB_WORKFLOW_NAME")
    slices = spec.get("slices") or {}
    in_slices = _resolve_slices(slices.get("inputs") or {}, env)
    op.slices = _resolve_slices(slices.get("outputs") or {}, env)
    art_root = os.path.join(tmp_root, "inputs", "artifacts")
    if slices.get("group") is not None:
        chosen = _group_slices(slices["group"], env)
        in_slices = {n: chosen for n in in_slices}
        op.slices = {n: chosen for n in op.slices}
    chosen = _catalog_slices(in_slices, op.slices, art_root)
    if chosen is not None:
        in_slices = {n: chosen for n in in_slices}
        op.slices = {n: chosen for n in op.slices}
    op.create_slice_dir = bool(slices.get("create_dir"))
    name = type(op).__name__
    sign = op.get_input_sign()
    params = spec.get("parameters") or {}
    sub_paths = _sub_paths(slices.get("sub_paths") or {}, env, name)
    orders = None
    grouped = slices.get("sub_path_group") or []
    if grouped:  # Slices(sub_path=True, group_size=g): the step's artifacts are its group of items
        orders = chosen if chosen is not None else []
        op.slices = {n: orders for n in op.slices}
        if slices.get("pool") is None:
            inputs = [read_inputs(sign, params, env, tmp_root, name, {n: orders for n in in_slices}, sub_paths)]
            orders = None
        else:  # one slice per item of the group: its element of each grouped artifact
            inputs = []
            for k, o in enumerate(orders):
                op_in = read_inputs(sign, params, env, tmp_root, name, {n: o for n in in_slices}, sub_paths)
                for n in grouped:
                    op_in[n] = _group_item(os.path.join(art_root, n), sign[n], k, f"OP {name!r} input {n!r}")
                inputs.append(op_in)
    elif slices.get("pool") is not None:
        orders, groups = slice_groups(in_slices, f"OP {name!r}")
        op.slices = {n: orders for n in op.slices}
        inputs = [read_inputs(sign, params, env, tmp_root, name, g, sub_paths) for g in groups]
    else:
        inputs = [read_inputs(sign, params, env, tmp_root, name, in_slices, sub_paths)]
    for op_in in inputs:
        check_opio(op_in, sign, True, name)
    return op, inputs, orders


def _execute_checked(op: Any, op_in: Any) -> Dict[str, Any]:
    """``op.execute(op_in)``, its outputs checked against the output sign."""
    name = type(op).__name__
    op_out = op.execute(op_in)
    if not isinstance(op_out, Mapping):
        raise TypeError(f"OP {name!r}: execute() must return an OPIO, got {type(op_out).__name__}")
    op_out = dict(op_out)
    sign = op.get_output_sign()
    check_opio(op_out, sign, False, name)
    for n, s in sign.items():  # artifact paths are relative to where execute() ran
        if isinstance(s, Artifact) and op_out.get(n) is not None:
            op_out[n] = _absolute(op_out[n], strings=s.type is not HDF5Datasets)
    return op_out


def _absolute(value: Any, strings: bool) -> Any:
    """Paths in ``value`` made absolute (``str`` ones too unless they may be data, as in HDF5)."""
    if isinstance(value, (list, tuple)):
        return [_absolute(v, strings) for v in value]
    if isinstance(value, set):
        return {_absolute(v, strings) for v in value}
    if isinstance(value, dict):
        return {k: _absolute(v, strings) for k, v in value.items()}
    if isinstance(value, str) and strings:
        return os.path.abspath(value)
    if isinstance(value, os.PathLike):
        return Path(os.path.abspath(value))
    return value


def _group_slices(group: Mapping[str, Any], env: Mapping[str, str]) -> List[Any]:
    """The slices of this step's group: items ``index*size`` to ``(index+1)*size`` (their ``path``
    field when the slices tag names one, as ``{{item.order}}``)."""
    try:
        index = int(json.loads(env[group["index"]]))
        items = json.loads(env[group["items"]])
    except (KeyError, ValueError, TypeError) as e:
        raise RuntimeError(f"grouped slices: the group index or the items are missing or not JSON ({e})") from None
    if not isinstance(items, list):
        raise RuntimeError(f"grouped slices: the items are not a list: {str(items)[:80]}")
    size = group["size"]
    chosen = items[index * size: (index + 1) * size]
    for field in (group.get("path") or "").split(".") if group.get("path") else []:
        chosen = [item[field] if isinstance(item, dict) else item[int(field)] for item in chosen]
    return chosen


def _catalog_slices(in_slices: Dict[str, Any], out_slices: Dict[str, Any], art_root: str) -> List[Any] | None:
    """For ``Slices(sub_path=True, group_size=…)`` (slices ``{"catalog": <artifact>}``): the orders of
    the items in that input artifact's catalog (the step's group), sorted; else ``None``."""
    for s in (*in_slices.values(), *out_slices.values()):
        if isinstance(s, dict) and "catalog" in s:
            items = catalog_of_local_artifact(os.path.join(art_root, str(s["catalog"])))
            return sorted(item["order"] for item in items)
    return None


def _sub_paths(envs: Mapping[str, str], env: Mapping[str, str], op_name: str) -> Dict[str, str]:
    """Each sub-path sliced input artifact's sub-path for this step (``Slices(sub_path=True)``), checked
    to stay inside the artifact."""
    out: Dict[str, str] = {}
    for name, var in envs.items():
        sub = env.get(var) or "."
        parts = sub.replace("\\", "/").split("/")
        if sub.startswith("/") or ".." in parts:
            raise ValueError(f"OP {op_name!r} input {name!r}: sub-path {sub!r} is outside the artifact")
        out[name] = sub
    return out


def _group_item(art_path: str, sign: Any, k: int, where: str) -> Any:
    """Item ``k`` of a grouped sub-path artifact (``Slices(sub_path=True, group_size=…, pool_size=…)``):
    its path, as ``str`` or ``Path`` per the sign (a list sign gets a one-element list)."""
    paths = assemble_path_object(art_path) if os.path.isdir(art_path) else []
    if not isinstance(paths, list) or k >= len(paths):
        raise IndexError(f"{where}: the group has no item {k}")
    p = paths[k]
    t = getattr(sign, "type", None)
    if p is None:
        return None
    if t in (str,):
        return p
    if t in (List[str],):
        return [p]
    if t in (List[Path],):
        return [Path(p)]
    return Path(p)


def _resolve_slices(slices: Mapping[str, Any], env: Mapping[str, str]) -> Dict[str, Any]:
    """Slice of each sliced input/output: an int, a list of ints or a dotted key, read from the
    environment variable named in the spec (``{"env": …}``) or given as a constant."""
    out: Dict[str, Any] = {}
    for name, s in slices.items():
        if isinstance(s, dict) and s.get("group"):
            out[name] = None  # set from the group
        elif isinstance(s, dict) and "env" in s:
            text = env.get(s["env"])
            if text is None:
                raise RuntimeError(f"slice of {name!r}: environment variable {s['env']} is not set")
            try:
                out[name] = json.loads(text)
            except ValueError:
                out[name] = text
        else:
            out[name] = s
    return out


def run_spec(spec: Dict[str, Any], env: Mapping[str, str] | None = None, cwd: str | None = None) -> int:
    """Run the OP a spec describes in ``cwd`` with ``env``; return the exit code."""
    env = dict(os.environ if env is None else env)
    cwd = os.path.abspath(cwd or os.getcwd())
    os.chdir(cwd)
    try:
        op, inputs, orders = _prepare(spec, env)
    except (TransientError, FatalError) as e:
        return _report(e)
    except Exception as e:
        print(f"dflow-lab: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    tag = os.path.join(_root(env), "tmp", "outputs", "success_tag") if spec.get("success_tag") else None
    try:
        if orders is None:
            try:
                op_out = _execute_checked(op, inputs[0])
            except BaseException:
                partial = op.__dict__.get("outputs")
                if partial:
                    write_outputs(op, partial, cwd)
                raise
            write_outputs(op, op_out, cwd)
            _write_tag(tag, 1)
        else:
            pool = spec["slices"]["pool"]
            results = run_slices(functools.partial(_execute_checked, op), inputs, pool.get("size") or 1, cwd,
                                 pool.get("timeout"), orders if op.create_slice_dir else None)
            op_out = stack_outputs(results, list(op.slices))
            write_outputs(op, op_out, cwd)
            failed = [e for _, e in results if e is not None]
            # with a success tag the group's tag counts its slices that succeeded, and the step succeeds
            # (dflow's rule) unless raise_for_group says a failed slice fails it
            _write_tag(tag, len(results) - len(failed))
            if failed and (tag is None or spec.get("raise_for_group")):
                raise failed[0]
        if spec.get("post_script"):
            exec(spec["post_script"], {"__name__": "__dflow_lab_post_script__", "op_obj": op, "output": op_out})
    except Exception as e:
        return _report(e)
    return 0


def _write_tag(path: str | None, value: int) -> None:
    """The step's success tag (``continue_on_num_success``/``_ratio``): how many of its items succeeded."""
    if path is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(str(value))


def _report(e: BaseException) -> int:
    traceback.print_exc()
    return 1 if isinstance(e, TransientError) else 2


def run_source(source: str, env: Mapping[str, str], cwd: str) -> int:
    """Run a Python OP script (as compiled) in this process: the warm workers' entry point."""
    return run_spec(parse_source(source), env, cwd)


def main(spec_text: str) -> int:
    """Entry point of the compiled script in a container: run the spec with this process's
    environment and working directory; SIGTERM (a timeout, a stop) raises in the OP."""

    def on_sigterm(signum: int, frame: Any) -> None:
        raise FatalError("the step was terminated (SIGTERM)")

    signal.signal(signal.SIGTERM, on_sigterm)
    return run_spec(json.loads(spec_text))

