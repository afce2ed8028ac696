"""Where a pod may run: the local engine's one node (this host) against a template's ``nodeSelector``.

Kubernetes runs a pod only on a node carrying every label of its ``nodeSelector``; a pod no node
matches stays Pending ("Unschedulable") until its workflow's deadline, a stop or a terminate ends it.
The local engine has one node, this host, and knows four of its labels, the well-known ones a host
answers truthfully: ``kubernetes.io/os`` and ``kubernetes.io/arch`` (and their ``beta.`` forms), with
Go's names (``linux``; ``amd64``, ``arm64``…).  A selector that asks another value of one of them (a
Windows node, an architecture this host is not) makes the step Pending with Kubernetes' reason, for as
long as Kubernetes would keep it so.

Limits: other labels (a cluster's ``gpu: "true"``, a node pool) are not known here and are ignored, so a
workflow written for a cluster still runs locally; ``affinity`` and ``tolerations`` are ignored too.  The
template's ``nodeSelector`` replaces the workflow's ``spec.nodeSelector``, as Argo applies them; its
values are rendered first (``{{inputs.parameters.arch}}``), a variable that does not resolve failing the
step.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

__all__ = ["HOST_LABELS", "node_selector", "unschedulable"]

_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386",
           "i686": "386", "armv7l": "arm", "armv6l": "arm", "ppc64le": "ppc64le", "s390x": "s390x",
           "riscv64": "riscv64"}


def _host_labels() -> dict[str, str]:
    os_name = "linux" if sys.platform.startswith("linux") else sys.platform
    arch = _GOARCH.get(platform.machine().lower(), platform.machine().lower())
    return {"kubernetes.io/os": os_name, "beta.kubernetes.io/os": os_name,
            "kubernetes.io/arch": arch, "beta.kubernetes.io/arch": arch}


#: the labels of the local engine's one node
HOST_LABELS = _host_labels()


def node_selector(template: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The ``nodeSelector`` a pod of ``template`` gets: the template's, else the workflow's (unrendered)."""
    selector = template.get("nodeSelector") or spec.get("nodeSelector") or {}
    return selector if isinstance(selector, dict) else {}


def unschedulable(selector: dict[str, Any]) -> str | None:
    """Why no node can run a pod with the (rendered) ``selector`` (Kubernetes' Pending reason), or ``None``
    when this host can."""
    wrong = [f"{k}={v}" for k, v in selector.items() if k in HOST_LABELS and str(v) != HOST_LABELS[k]]
    if not wrong:
        return None
    have = ", ".join(f"{k}={HOST_LABELS[k]}" for k in ("kubernetes.io/os", "kubernetes.io/arch"))
    return (f"Unschedulable: 0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector "
            f"(nodeSelector {', '.join(wrong)}; this host is {have})")
