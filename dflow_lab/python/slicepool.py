"""Several slices in one step (``Slices(pool_size=…)``): the OP runs once per slice, serially
(``pool_size=1``) or in a pool of forked processes, and the sliced outputs are stacked in slice order.

A step runs a group of slices when its slice is a list (``with_param=[[0, 1], [2, 3]]`` with
``Slices("{{item}}", …, pool_size=2)``): slice ``k`` of the group gets element ``k`` of each sliced
input. A slice that fails does not stop the others; the step fails after all of them ran and the
outputs of those that succeeded were written.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from typing import Any, Callable, Dict, List, Mapping, Tuple

__all__ = ["slice_groups", "slice_dir", "run_slices", "stack_outputs"]

Result = Tuple[Any, Any]  # (outputs or None, exception or None)

_JOB: Dict[str, Any] = {}  # what forked pool processes run (inherited, so nothing is pickled in)


def slice_groups(in_slices: Mapping[str, Any], where: str) -> Tuple[List[Any], List[Dict[str, Any]]]:
    """``(orders, per-slice slices)``: the group's slice values and, for each, the slice of every
    sliced input. All sliced inputs must have the same list of slices."""
    lists = {n: s for n, s in in_slices.items() if s is not None}
    if not lists:
        raise ValueError(f"{where}: Slices(pool_size=...) needs sliced inputs")
    orders = next(iter(lists.values()))
    if not isinstance(orders, list):
        orders = [orders]
    for n, s in lists.items():
        if (s if isinstance(s, list) else [s]) != orders:
            raise ValueError(f"{where}: sliced inputs disagree on the slices of this step ({n!r}: {s!r})")
    return orders, [{n: o for n in lists} for o in orders]


def _alarm(signum: int, frame: Any) -> None:
    raise TimeoutError("the slice ran out of time (pool_timeout)")


def slice_dir(order: Any) -> str:
    """The working directory of a slice under ``Slices(create_dir=True)``: ``a.b.0`` → ``a/b/0``."""
    return str(order).replace(".", "/")


def _worker_start() -> None:
    """A pool process starts with SIGTERM's default action. It would otherwise inherit whatever Python
    handler the parent has installed (the step's own, or a host program's), and the pool's ``terminate``,
    which relies on SIGTERM ending its processes, could leave one running, waiting for work, holding
    the parent's pipes open."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run_one(index: int) -> Result:
    execute: Callable[[Any], Any] = _JOB["execute"]
    timeout = _JOB["timeout"]
    workdir = _JOB["dirs"][index]
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    if timeout:
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(int(timeout))
    try:
        return execute(_JOB["inputs"][index]), None
    except Exception as e:  # reported per slice; the step decides its exit code afterwards
        traceback.print_exc()
        return None, e
    finally:
        if timeout:
            signal.alarm(0)


def run_slices(execute: Callable[[Any], Any], inputs: List[Any], pool_size: int, cwd: str,
               timeout: Any = None, orders: List[Any] | None = None) -> List[Result]:
    """Run ``execute`` on each input: in this process when ``pool_size`` is 1, else in up to
    ``pool_size`` forked processes (``-1``: one per slice). Slices run in ``cwd``, or each in
    ``cwd/<slice_dir(order)>`` when ``orders`` are given (``create_dir``)."""
    dirs = [os.path.join(cwd, slice_dir(o)) for o in orders] if orders is not None else [cwd] * len(inputs)
    _JOB.update(execute=execute, inputs=inputs, dirs=dirs, timeout=timeout)
    try:
        if pool_size == 1 or len(inputs) <= 1:
            return [_run_one(i) for i in range(len(inputs))]
        n = len(inputs) if pool_size in (-1, None) else min(pool_size, len(inputs))
        pool = multiprocessing.get_context("fork").Pool(n, initializer=_worker_start)
        try:
            results = pool.map(_run_one, range(len(inputs)))
            pool.close()  # the processes end on their own once the queue is drained
        except BaseException:
            pool.terminate()  # a slice's error is a result: this is the step being stopped
            raise
        finally:
            pool.join()
        return results
    finally:
        _JOB.clear()
        os.chdir(cwd)


def stack_outputs(results: List[Result], sliced: List[str]) -> Dict[str, Any]:
    """One OPIO for the step: sliced outputs as per-slice lists (``None`` for failed slices), the
    others from the last slice that succeeded."""
    stacked: Dict[str, Any] = {}
    for out, _ in results:
        if out is not None:
            stacked.update(out)
    for name in sliced:
        stacked[name] = [out.get(name) if out is not None else None for out, _ in results]
    return stacked
