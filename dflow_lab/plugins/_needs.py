"""The error a plugin raises when it is used without the service it needs (never at import)."""

from __future__ import annotations

from ..errors import CapabilityNotAvailable


class ServiceNeeded(CapabilityNotAvailable):
    """``member`` needs ``what`` (a service or an account); the message says what to do instead."""

    def __init__(self, member: str, what: str, instead: str = "") -> None:
        super().__init__(member, what)
        if instead:
            self.args = (f"{self.args[0]}; {instead}",)
