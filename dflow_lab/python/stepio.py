"""Reading an OP's inputs inside a step and writing its outputs (the step's side of the contract).

Under the step's root (``$DFLOW_LAB_ROOT``, ``/`` in a container) and the template's ``tmp_root``
(``/tmp``): input parameters arrive in environment variables ``DFLOW_LAB_PARAM_<i>`` (big ones as
files ``inputs/parameters/<name>``), input artifacts in ``inputs/artifacts/<name>``; outputs go to
``outputs/parameters/<name>`` and ``outputs/artifacts/<name>``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping

from ..config import config
from .artifacts import read_input_artifact, write_output_artifact
from .opio import OPIO, Artifact, BigParameter, OPIOSign, Parameter
from .slicepool import slice_dir
from .typecheck import check_value
from .values import ValueDecodeError, decode_value, encode_value, is_json_type

__all__ = ["read_inputs", "write_outputs", "apply_slice", "merge_sliced"]


def apply_slice(value: Any, slices: Any, where: str) -> Any:
    """``value[slices]`` (an index, or a list of indices) of a list-valued parameter."""
    if slices is None:
        return value
    if not isinstance(value, list):
        raise TypeError(f"{where}: only a list can be sliced, got {type(value).__name__}")
    try:
        return [value[i] for i in slices] if isinstance(slices, list) else value[slices]
    except (IndexError, TypeError):
        raise IndexError(f"{where}: no slice {slices!r} in a list of {len(value)} items") from None


def read_inputs(
    input_sign: OPIOSign,
    param_env: Mapping[str, str],
    env: Mapping[str, str],
    tmp_root: str,
    op_name: str,
    slices: Dict[str, Any] | None = None,
    sub_paths: Dict[str, str] | None = None,
) -> OPIO:
    """The OPIO an OP receives. ``param_env`` maps input parameter names to the environment
    variables that carry them; ``slices`` maps sliced inputs to their slice (index or indices);
    ``sub_paths`` maps input artifacts sliced by sub-path to the step's (checked) sub-path."""
    slices = slices or {}
    sub_paths = sub_paths or {}
    op_in = OPIO()
    for name, sign in input_sign.items():
        where = f"OP {op_name!r} input {name!r}"
        if isinstance(sign, Artifact):
            path = os.path.join(tmp_root, "inputs", "artifacts", name)
            if sub_paths.get(name, ".") != ".":
                path = os.path.join(path, sub_paths[name])
            value = read_input_artifact(path, sign, where, slices.get(name))
            if value is None and not sign.optional:
                what = "is empty (the step that made it returned None)" if os.path.exists(path) else "is missing"
                raise FileNotFoundError(f"{where}: the input artifact {what} (expected at {path}); "
                                        "declare it Artifact(..., optional=True) to accept that")
            op_in[name] = value
            continue
        t = sign.type if isinstance(sign, (Parameter, BigParameter)) else sign
        text: str | None = None
        big_file = os.path.join(tmp_root, "inputs", "parameters", name)
        if isinstance(sign, BigParameter) and os.path.isdir(big_file):  # stacked over a sliced fan-out
            value = read_stacked(big_file, t, where)
            check_value(value, list if name in slices else t, where)
            op_in[name] = apply_slice(value, slices.get(name), where)
            continue
        if isinstance(sign, BigParameter) and os.path.isfile(big_file):
            with open(big_file, encoding="utf-8") as f:
                text = f.read()
        elif name in param_env and param_env[name] in env:
            text = env[param_env[name]]
        if text is None:
            if hasattr(sign, "default"):
                op_in[name] = sign.default
                continue
            raise RuntimeError(f"{where}: no value was passed to the step")
        if "dflow_list_item" in text:
            value = merge_sliced(text, where)
            check_value(value, list if name in slices else t, where)
        else:
            value = decode_value(text, list if name in slices else t, where)
        op_in[name] = apply_slice(value, slices.get(name), where)
    return op_in


def merge_sliced(text: str, where: str) -> List[Any]:
    """The list that sliced steps produced together: their outputs, aggregated by the engine as a
    JSON list of per-step ``[{"dflow_list_item": value, "order": slice}]`` (each possibly as JSON
    text), merged and put in slice order."""
    try:
        parts = json.loads(text)
    except ValueError as e:
        raise ValueDecodeError(f"{where}: cannot parse the stacked outputs of sliced steps: {e}") from None
    items: List[dict] = []
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, str):
            part = json.loads(part)
        items.extend(part if isinstance(part, list) else [part])
    if not all(isinstance(i, dict) and "dflow_list_item" in i and "order" in i for i in items):
        raise ValueDecodeError(f"{where}: malformed stacked outputs of sliced steps")
    return [i["dflow_list_item"] for i in sorted(items, key=lambda i: i["order"])]


def read_stacked(directory: str, t: Any, where: str) -> List[Any]:
    """A big parameter stacked over a sliced fan-out: ``directory`` holds one file per item (named by its
    pod), each the item's ``[{"dflow_list_item": value, "order": slice}]``; the values in slice order.
    Objects JSON cannot carry are decoded (safely) only when ``t`` declares such a class."""
    items: List[dict] = []
    for dirpath, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != config["catalog_dir_name"])
        for f in sorted(files):
            with open(os.path.join(dirpath, f), encoding="utf-8") as fd:
                part = decode_value(fd.read(), t if not is_json_type(t) else list, where)
            if isinstance(part, dict):
                part = [part]
            if not isinstance(part, list) or not all(
                    isinstance(i, dict) and "dflow_list_item" in i and "order" in i for i in part):
                raise ValueDecodeError(f"{where}: malformed stacked output of a sliced step in {f!r}")
            items.extend(part)
    return [i["dflow_list_item"] for i in sorted(items, key=lambda i: i["order"])]


def write_outputs(op: Any, outputs: Mapping[str, Any], cwd: str) -> None:
    """Write ``outputs`` of ``op`` under ``op.tmp_root``/outputs, per its output sign.

    A ``str`` parameter is written as is, any other value as JSON (see ``values.encode_value``);
    artifacts are placed with their catalog. ``op.slices`` gives sliced outputs their orders.
    """
    op_name = type(op).__name__
    output_sign = op.get_output_sign()
    par_dir = os.path.join(op.tmp_root, "outputs", "parameters")
    art_dir = os.path.join(op.tmp_root, "outputs", "artifacts")
    os.makedirs(par_dir, exist_ok=True)
    os.makedirs(art_dir, exist_ok=True)
    for name, value in outputs.items():
        where = f"OP {op_name!r} output {name!r}"
        sign = output_sign[name]
        sl = (op.slices or {}).get(name)
        if isinstance(sign, Artifact):
            # one slice per step with create_dir: its files go below <slice>/, so that the artifacts of
            # parallel steps merge without collisions (a group of slices already ran in those dirs)
            subdir = slice_dir(sl) if op.create_slice_dir and sl is not None and not isinstance(sl, list) else None
            write_output_artifact(name, value, sign, os.path.join(art_dir, name),
                                  os.path.join(op.tmp_root, "inputs", "artifacts"), cwd, where, sl, subdir)
            continue
        t = sign.type if isinstance(sign, (Parameter, BigParameter)) else sign
        if sl is not None:
            if isinstance(sl, list):
                items = [{"dflow_list_item": v, "order": s} for v, s in zip(value, sl)]
            else:
                items = [{"dflow_list_item": value, "order": sl}]
            text = encode_value(items)
        elif t is str and isinstance(value, str):
            text = value
        else:
            text = json.dumps(value) if isinstance(value, str) else encode_value(value)
        with open(os.path.join(par_dir, name), "w", encoding="utf-8") as f:
            f.write(text)
