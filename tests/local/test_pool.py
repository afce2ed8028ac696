"""The warm worker pool: the worker started ahead of demand (``prewarm``) serves the first steps, the
pool grows when a step waits for a busy worker, and a step's environment leaves the worker with the step."""

from __future__ import annotations

import asyncio
import sys

from dflow_lab.local.pool import WorkerPool
from dflow_lab.python import PythonOPTemplate

from .local_helpers import run_async


def _step_source(tmp_path, op: str) -> str:
    """The compiled script of OP ``op`` of a module written here: ``Env`` prints two variables and sets
    one; ``Meet`` writes the file ``$ME`` and waits (at most 120 s) for the file ``$OTHER``."""
    (tmp_path / "pool_ops.py").write_text(
        "from dflow_lab.python import OP, OPIO, OPIOSign\n"
        "import os\n"
        "class Env(OP):\n"
        "    @classmethod\n"
        "    def get_input_sign(cls):\n"
        "        return OPIOSign({})\n"
        "    @classmethod\n"
        "    def get_output_sign(cls):\n"
        "        return OPIOSign({})\n"
        "    def execute(self, op_in):\n"
        "        print('STEP_VAR', os.environ.get('STEP_VAR'), 'LEFT_OVER', os.environ.get('LEFT_OVER'))\n"
        "        os.environ['LEFT_OVER'] = 'set by the step'\n"
        "        return OPIO({})\n"
        "class Meet(Env):\n"
        "    def execute(self, op_in):\n"
        "        import time\n"
        "        open(os.environ['ME'], 'w').close()\n"
        "        deadline = time.monotonic() + 120\n"
        "        while not os.path.exists(os.environ['OTHER']):\n"
        "            if time.monotonic() > deadline:\n"
        "                raise RuntimeError('the other step never ran beside this one')\n"
        "            time.sleep(0.01)\n"
        "        return OPIO({})\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import pool_ops  # noqa: PLC0415 - written by this test
        t = PythonOPTemplate(getattr(pool_ops, op), python_packages=[str(tmp_path / "pool_ops.py")])
    finally:
        sys.path.remove(str(tmp_path))
    return t.script


def test_prewarmed_workers_serve_steps_and_env_does_not_leak(tmp_path):
    source = _step_source(tmp_path, "Env")
    assert source.startswith("# dflow-lab: python-op v1")

    async def main():
        pool = WorkerPool(2)
        pool.prewarm()
        pool.prewarm()  # idempotent: one worker starting
        assert len(pool._starting) == 1
        logs, results = [], []
        for i in range(4):  # one after another: the prewarmed worker serves them all
            log = tmp_path / f"step{i}.log"
            logs.append(log)
            env = {"STEP_VAR": f"v{i}", "DFLOW_LAB_ROOT": str(tmp_path)}
            results.append(await pool.run(source, env, str(tmp_path), str(log)))
        workers = set(pool._all)
        await pool.close()
        return results, logs, workers

    results, logs, workers = run_async(main())
    assert [r.rc for r in results] == [0, 0, 0, 0]
    assert len(workers) == 1  # no step waited for a busy worker: none was started on demand
    for i, log in enumerate(logs):
        text = log.read_text()
        assert f"STEP_VAR v{i} LEFT_OVER None" in text, text  # a step's variables do not outlive it


def test_the_pool_grows_when_steps_wait_for_a_busy_worker(tmp_path):
    """Two steps that can only finish together (each waits, bounded, for the other's file) both
    succeed: the second did not wait for the first's worker but got its own."""
    source = _step_source(tmp_path, "Meet")

    async def main():
        pool = WorkerPool(2)
        runs = [pool.run(source, {"ME": str(tmp_path / f"m{i}"), "OTHER": str(tmp_path / f"m{1 - i}"),
                                  "DFLOW_LAB_ROOT": str(tmp_path)}, str(tmp_path), str(tmp_path / f"meet{i}.log"))
                for i in range(2)]
        results = await asyncio.gather(*runs)
        n = len(pool._all)
        await pool.close()
        return results, n

    results, n = run_async(main())
    assert [r.rc for r in results] == [0, 0], [(tmp_path / f"meet{i}.log").read_text() for i in range(2)]
    assert n == 2
