"""Retries and memoization of a run: Argo's ``retryStrategy`` and ``memoize``.

``RetryRunner._retry`` runs attempts as children ``<node>(0)``, ``<node>(1)``… of a Retry node until one
succeeds, ``limit`` is reached, ``retryPolicy`` or ``expression`` says stop, or ``backoff.maxDuration``
would be passed.  Memoized outputs live in the state database's ``memo`` table, keyed by cache name and
rendered key, with ``maxAge``.
"""

from __future__ import annotations

import asyncio
import calendar
import time
from typing import TYPE_CHECKING, Any

from .durations import parse_duration
from .nodes import DONE_OK as _DONE_OK
from .nodes import FAILED as _FAILED
from .nodes import NodeBook
from .scope import Scope

__all__ = ["RetryRunner"]


class RetryRunner(NodeBook):
    """Retry loops and the memoization cache (a mixin of ``Execution``)."""

    if TYPE_CHECKING:  # provided by the other mixins of Execution
        @staticmethod
        def _kind(tmpl: dict) -> str: ...
        async def _attempt(self, tmpl: dict, inputs: dict, node: dict, scope: Scope, where: str) -> tuple: ...
        async def _run_closing(self, node: dict, run: Any) -> tuple[str, dict | None]: ...
        def adopt_daemon(self, retry_node: dict, attempt: dict) -> None: ...

    async def _retry(self, tmpl: dict, inputs: dict, node: dict, scope: Scope, rs: dict, where: str) -> tuple:
        limit = rs.get("limit")
        limit = None if limit is None else int(scope.render(str(limit), f"{where}: retryStrategy.limit"))
        policy = rs.get("retryPolicy") or "OnFailure"
        backoff = rs.get("backoff") or {}
        started = time.monotonic()
        attempt = 0
        child_type = self._kind(tmpl)
        while True:
            cname = f"{node['name']}({attempt})"
            child = self.reuse(cname, node)
            if child is None:
                child = self.open_node(cname, f"{node['displayName']}({attempt})", child_type, tmpl.get("name"),
                                       node, node.get("boundaryID"), inputs)
                cscope = scope.child({"retries": str(attempt)})
                await self._run_closing(child, self._attempt(tmpl, inputs, child, cscope, where))
            if child.get("daemoned"):  # a ready daemon: the Retry node is daemoned with it
                self.adopt_daemon(node, child)
                return "Running", None, ""
            if child["phase"] in _DONE_OK:
                return child["phase"], child.get("outputs"), ""
            if limit is not None and attempt >= limit:
                return child["phase"], child.get("outputs"), child.get("message", "") + \
                    f" (no more retries left: limit {limit})"
            if not _policy_allows(policy, child["phase"]):
                return child["phase"], child.get("outputs"), child.get("message", "")
            if rs.get("expression") and not self._retry_expression(rs["expression"], child, scope, where):
                return child["phase"], child.get("outputs"), child.get("message", "")
            if backoff:
                delay = parse_duration(backoff.get("duration", 0), f"{where}: retryStrategy.backoff.duration")
                delay *= float(backoff.get("factor", 1) or 1) ** attempt
                if backoff.get("cap"):
                    delay = min(delay, parse_duration(backoff["cap"], f"{where}: retryStrategy.backoff.cap"))
                if backoff.get("maxDuration"):
                    max_d = parse_duration(backoff["maxDuration"], f"{where}: retryStrategy.backoff.maxDuration")
                    if time.monotonic() - started + delay > max_d:
                        return child["phase"], child.get("outputs"), "Max duration limit exceeded"
                await asyncio.sleep(delay)
            attempt += 1

    def _retry_expression(self, expr: str, child: dict, scope: Scope, where: str) -> bool:
        outputs = child.get("outputs") or {}
        last = {
            "exitCode": outputs.get("exitCode", "-1"),
            "status": child["phase"],
            "duration": str(int(time.time() - _epoch(child.get("startedAt")))),
            "message": child.get("message", ""),
        }
        text = scope.render(expr, f"{where}: retryStrategy.expression")
        env_scope = scope.child({f"lastRetry.{k}": v for k, v in last.items()})
        return bool(env_scope.eval_expr(text, f"{where}: retryStrategy.expression"))

    def _memo_lookup(self, memo: dict, scope: Scope, where: str) -> tuple | None:
        key = scope.render(str(memo.get("key", "")), f"{where}: memoize.key")
        cache = ((memo.get("cache") or {}).get("configMap") or {}).get("name", "default")
        max_age = memo.get("maxAge")
        age = parse_duration(max_age, f"{where}: memoize.maxAge") if max_age else None
        hit = self.store.memo_get(cache, key, age)
        return (key, cache, hit["outputs"]) if hit else None

    def _memo_store(self, memo: dict, scope: Scope, outputs: dict, node: dict, where: str) -> None:
        key = scope.render(str(memo.get("key", "")), f"{where}: memoize.key")
        cache = ((memo.get("cache") or {}).get("configMap") or {}).get("name", "default")
        node["memoizationStatus"] = {"hit": False, "key": key, "cacheName": cache}
        self._mark(node)
        self.store.memo_put(cache, key, outputs, node["id"])


def _policy_allows(policy: str, phase: str) -> bool:
    if policy == "Always":
        return phase in _FAILED
    if policy in ("OnError", "OnTransientError"):
        return phase == "Error"
    return phase == "Failed"




def _epoch(ts: str | None) -> float:
    if not ts:
        return time.time()
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


