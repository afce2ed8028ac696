"""Kubernetes resources a step can create instead of a pod (``dflow.resource``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Optional


class Resource(ABC):
    """A Kubernetes resource template: ``get_manifest`` returns the manifest to create.

    Attributes:
        action: create, apply, delete…
        success_condition / failure_condition: Argo conditions on the resource's status
    """

    action: Optional[str] = None
    success_condition: Optional[str] = None
    failure_condition: Optional[str] = None

    @abstractmethod
    def get_manifest(self, template: Any) -> Any:
        """The manifest (a str) of the resource for ``template``."""
