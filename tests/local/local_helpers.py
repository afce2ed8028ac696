"""Helpers of the local engine tests: manifests, node lookups, bounded waits."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import time


def manifest(templates: list[dict], entrypoint: str = "main", **spec) -> dict:
    """A Workflow manifest with the given templates."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "t-"},
        "spec": {"entrypoint": entrypoint, "templates": copy.deepcopy(templates), **spec},
    }


def nodes_by_display(wf: dict) -> dict[str, dict]:
    """Status nodes keyed by display name (the last one wins for repeated names)."""
    return {n["displayName"]: n for n in wf["status"]["nodes"].values()}


def out_param(node: dict, name: str) -> str:
    for p in (node.get("outputs") or {}).get("parameters") or []:
        if p["name"] == name:
            return p["value"]
    raise KeyError(name)


def sh(name: str, script: str, **extra) -> dict:
    """A container template running ``sh -c script``."""
    return {"name": name, "container": {"image": "busybox", "command": ["sh", "-c"], "args": [script]}, **extra}


def wait_for(cond, timeout: float = 30.0, what: str = "condition"):
    """Poll ``cond`` until it is truthy (bounded); return its value."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run_async(main):
    """``asyncio.run(main)`` in a thread of its own: the session's Playwright driver (tests/conftest.py)
    keeps an event loop running in the main thread once a browser test has run."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main).result()
