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
        first_log = tmp_path / "first.log"  # a step while the workers start: it takes one being started
        first = await pool.run(source, {"STEP_VAR": "first", "DFLOW_LAB_ROOT": str(tmp_path)}, str(tmp_path),
                               str(first_log))
        assert first.rc == 0
        for _ in range(1200):  # bounded wait (60 s) for the other prewarmed worker to be up
            if not pool._starting:
                break
            await asyncio.sleep(0.05)
        assert not pool._starting and len(pool._all) == 2
        prewarmed = set(pool._all)
        logs = []
        results = []
        for i in range(4):
            log = tmp_path / f"step{i}.log"
            logs.append(log)
            env = {"STEP_VAR": f"v{i}", "DFLOW_LAB_ROOT": str(tmp_path)}
            results.append(await pool.run(source, env, str(tmp_path), str(log)))
        workers = set(pool._all)
        await pool.close()
        return results, logs, workers, prewarmed

    results, logs, workers, prewarmed = asyncio.run(main())
    assert [r.rc for r in results] == [0, 0, 0, 0]
    assert workers == prewarmed  # the prewarmed workers served every step: none was started on demand
    texts = [log.read_text() for log in logs]
    for i, text in enumerate(texts):
        assert f"STEP_VAR v{i} LEFT_OVER None" in text, text  # a step's variables do not outlive it
