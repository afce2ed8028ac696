"""Argo ``http`` templates on the local engine, against servers on this host's loopback.

Semantics (as Argo's HTTP template): the request is ``http.method`` (default GET) to ``http.url`` with
``http.headers`` (``value``, or ``valueFrom.secretKeyRef`` from the submitting process's secret store) and
``http.body``, within ``http.timeoutSeconds`` (default 30).  The node is of type ``HTTP``; its
``outputs.result`` is the response body.  Without ``successCondition`` a 2xx status succeeds and any other
fails; with it, the expr-lang condition is evaluated with ``response.statusCode``, ``response.body`` and
``response.headers`` (values as lists of strings, as Go's ``http.Header``) and decides.

Limits: only hosts on the loopback interface (``127.0.0.1``, ``::1``, ``localhost``) are called — the local
engine makes no request to other machines; the body read is at most :data:`MAX_BODY` bytes (longer fails
the node); redirects are not followed; ``insecureSkipVerify`` is honoured for https.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from dflow_lab.expr.evaluate import ExpressionError, eval_expr

from .. import secret_store
from .scope import Scope, StepError

__all__ = ["MAX_BODY", "HttpRunner"]

MAX_BODY = 4 * 1024 * 1024
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _request(url: str, method: str, headers: dict[str, str], body: bytes | None, timeout: float,
             insecure: bool) -> tuple[int, bytes, dict[str, list[str]]]:
    handlers: list[Any] = [_NoRedirect()]
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=ctx))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        resp = opener.open(req, timeout=timeout)
    except urllib.error.HTTPError as e:  # a status >= 400 is a response, judged by the success condition
        resp = e
    with resp:
        data = resp.read(MAX_BODY + 1)
        out_headers: dict[str, list[str]] = {}
        for k, v in resp.headers.items():
            out_headers.setdefault(k, []).append(v)
        return resp.status, data, out_headers


class HttpRunner:
    """Mixin of ``interpreter.Execution``: runs ``http`` templates."""

    async def _run_http(self, tmpl: dict, node: dict, scope: Scope, where: str) -> tuple:
        spec = scope.render_obj(tmpl["http"], f"{where}: http")
        if not isinstance(spec, dict) or not isinstance(spec.get("url"), str):
            raise StepError(f"{where}: http.url is missing")
        url = spec["url"]
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or (parsed.hostname or "") not in _LOOPBACK:
            raise StepError(f"{where}: http.url {url!r}: the local engine calls only http(s) servers on this "
                            "host's loopback (127.0.0.1, ::1, localhost); run the workflow on Argo for others")
        method = str(spec.get("method") or "GET").upper()
        headers: dict[str, str] = {}
        for h in spec.get("headers") or []:
            if not isinstance(h, dict) or not isinstance(h.get("name"), str):
                raise StepError(f"{where}: http.headers entries need a name")
            if "value" in h:
                headers[h["name"]] = str(h["value"])
            else:
                ref = (h.get("valueFrom") or {}).get("secretKeyRef") or {}
                value = secret_store.get(str(ref.get("name")), str(ref.get("key")))
                if value is None:
                    raise StepError(f"{where}: http.headers {h['name']!r}: secret {ref.get('name')!r} (key "
                                    f"{ref.get('key')!r}) has no value in this process (Secret(value=…))")
                headers[h["name"]] = value
        body = spec.get("body")
        timeout = float(spec.get("timeoutSeconds") or 30)
        node["type"] = "HTTP"
        try:
            status, data, resp_headers = await asyncio.to_thread(
                _request, url, method, headers, body.encode() if isinstance(body, str) else None, timeout,
                bool(spec.get("insecureSkipVerify")))
        except (OSError, ValueError) as e:
            return "Failed", None, f"http request to {url} failed: {e}"
        if len(data) > MAX_BODY:
            return "Failed", None, f"http response of {url} is longer than {MAX_BODY} bytes"
        text = data.decode("utf-8", "replace")
        outputs = {"result": text}
        condition = spec.get("successCondition")
        if condition:
            env = {**scope.env(), "response": {"statusCode": status, "body": text, "headers": resp_headers}}
            try:
                ok = eval_expr(str(condition), env)
            except ExpressionError as e:
                raise StepError(f"{where}: http.successCondition {condition!r}: {e}") from None
            if ok is not True:
                return "Failed", outputs, f"successCondition {condition!r} evaluated false (status {status})"
        elif not 200 <= status < 300:
            return "Failed", outputs, f"received non-2xx response code: {status}"
        return "Succeeded", outputs, ""
