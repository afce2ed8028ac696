"""The context used by ``with``-style range syntax (``dflow.context_syntax``)."""

from __future__ import annotations

from typing import List


class Range_Context:  # noqa: N801 - dflow's name
    """Local context for range: tracks whether code runs inside a range block and its loop variable."""

    def __init__(self) -> None:
        self._in_context = False
        self._names: List[str] = []

    @property
    def in_context(self) -> bool:
        """Whether it is in the context environment or not."""
        return self._in_context

    def to_in_context(self) -> None:
        """Switch to be in context environment."""
        self._in_context = True
        self._names.append("dflow_range_%d" % len(self._names))

    def to_out_context(self) -> None:
        """Switch to be not in context environment."""
        if self._names:
            self._names.pop()
        self._in_context = bool(self._names)

    def get_current_range_param_name(self) -> str:
        if not self._names:
            raise RuntimeError("not inside a range context")
        return self._names[-1]
