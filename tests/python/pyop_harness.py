"""Running a compiled Python OP template the way an engine does, on a real directory layout.

``run_template`` renders the template's environment (``{{inputs.parameters.x}}`` → the given value
or the template's default), places input artifacts under ``<root>/tmp/inputs/artifacts/<name>`` and
runs the script: in this process through ``runtime.run_source`` (as a warm worker does), or as
``python3 <script>`` in a subprocess (as a container does).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from dflow_lab.python.runtime import run_source
from dflow_lab.python.values import encode_value

HERE = Path(__file__).resolve().parent
TAG = re.compile(r"\{\{inputs\.parameters\.([-\w]+)\}\}")


@dataclass
class StepRun:
    rc: int
    root: Path
    cwd: Path
    manifest: Dict[str, Any]
    log: str = ""

    def out_param(self, name: str) -> str:
        return (self.root / "tmp/outputs/parameters" / name).read_text()

    def out_art(self, name: str) -> Path:
        return self.root / "tmp/outputs/artifacts" / name


def step_env(manifest: Dict[str, Any], params: Dict[str, Any], root: Path) -> Dict[str, str]:
    defaults = {p["name"]: p.get("value") for p in manifest.get("inputs", {}).get("parameters", [])}
    env = {"DFLOW_LAB_ROOT": str(root)}
    for e in manifest["script"].get("env", []):
        value = e["value"]

        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name in params:
                return encode_value(params[name])
            if defaults.get(name) is None:
                raise KeyError(f"no value for input parameter {name!r}")
            return defaults[name]

        value = TAG.sub(sub, value).replace("{{workflow.name}}", "wf-test")
        env[e["name"]] = value
    return env


def place_artifacts(root: Path, artifacts: Dict[str, Path]) -> None:
    for name, src in artifacts.items():
        dst = root / "tmp/inputs/artifacts" / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if Path(src).is_dir():
            shutil.copytree(src, dst)
        else:
            dst.mkdir(parents=True)
            shutil.copy(src, dst / Path(src).name)


def run_template(template: Any, tmp_path: Path, params: Optional[Dict[str, Any]] = None,
                 artifacts: Optional[Dict[str, Path]] = None, container: bool = False,
                 extra_env: Optional[Dict[str, str]] = None) -> StepRun:
    manifest = template.convert_to_argo()
    root = tmp_path / "root"
    cwd = tmp_path / "work"
    cwd.mkdir(parents=True, exist_ok=True)
    place_artifacts(root, artifacts or {})
    env = step_env(manifest, params or {}, root)
    env.update(extra_env or {})
    source = manifest["script"]["source"]
    if not container:
        saved = dict(os.environ)
        saved_cwd = os.getcwd()
        os.environ.update(env)
        try:
            rc = run_source(source, env, str(cwd))
        finally:
            os.environ.clear()
            os.environ.update(saved)
            os.chdir(saved_cwd)
        return StepRun(rc, root, cwd, manifest)
    script = tmp_path / "script.py"
    script.write_text(source)
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(script)], env=full_env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)
    return StepRun(proc.returncode, root, cwd, manifest, proc.stdout + proc.stderr)
