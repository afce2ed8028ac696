"""The warm worker pool: workers started ahead of demand (``prewarm``) serve the first steps, the pool
never holds more than ``size`` workers, and a step's environment leaves the worker with the step."""

from __future__ import annotations

import asyncio
import sys

from dflow_lab.local.pool import WorkerPool
from dflow_lab.python import PythonOPTemplate


def _step_source(tmp_path) -> str:
    """The compiled script of a Python OP (a module written here) that prints two variables and sets one."""
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
        "        return OPIO({})\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import pool_ops  # noqa: PLC0415 - written by this test
        t = PythonOPTemplate(pool_ops.Env, python_packages=[str(tmp_path / "pool_ops.py")])
    finally:
        sys.path.remove(str(tmp_path))
    return t.script


def test_prewarmed_workers_serve_steps_and_env_does_not_leak(tmp_path):
    source = _step_source(tmp_path)
    assert source.startswith("# dflow-lab: python-op v1")

    async def main():
        pool = WorkerPool(2)
        pool.prewarm()
        pool.prewarm()  # idempotent: still at most 2 workers starting or up
        assert len(pool._starting) == 2
        logs = []
        results = []
        for i in range(4):
            log = tmp_path / f"step{i}.log"
            logs.append(log)
            env = {"STEP_VAR": f"v{i}", "DFLOW_LAB_ROOT": str(tmp_path)}
            results.append(await pool.run(source, env, str(tmp_path), str(log)))
        workers = set(pool._all)
        await pool.close()
        return results, logs, workers

    results, logs, workers = asyncio.run(main())
    assert [r.rc for r in results] == [0, 0, 0, 0]
    assert len(workers) == 2
    texts = [log.read_text() for log in logs]
    for i, text in enumerate(texts):
        assert f"STEP_VAR v{i} LEFT_OVER None" in text, text  # a step's variables do not outlive it
