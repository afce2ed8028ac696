"""Daemon steps and sidecars: long-running host processes other steps reach on 127.0.0.1.

Argo's semantics, on one host:

- A template with ``daemon: true`` starts its process and the step is *daemoned* once the process is
  ready: its ``readinessProbe`` (``httpGet``, ``tcpSocket`` or ``exec``, against 127.0.0.1) succeeds, or at
  once without a probe.  The node stays Running with ``daemoned: true`` and ``podIP: 127.0.0.1``; steps and
  tasks after it run (a DAG's ``depends`` counts it as ``Daemoned``) and read its address as
  ``{{steps.X.ip}}``/``{{tasks.X.ip}}``.  When the steps or DAG template it ran in (its boundary) ends —
  however it ends — the process is stopped and the node Succeeded, as Argo's ``killDaemonedChildren``.  A
  daemon that exits before it is ready fails its attempt (``retryStrategy`` retries it); one that exits
  before its scope ends is Failed (Argo marks even a clean exit of a daemon as a failure), and so is the
  scope.
- A template's ``sidecars`` start beside its main container and are stopped when the main container
  ends; the main container does not wait for them (as on Kubernetes), so it polls them itself.

Bounds: readiness is waited for at most ``initialDelaySeconds + periodSeconds × failureThreshold`` of the
probe (Kubernetes' defaults 0, 10, 3) and never less than :data:`MIN_READY_WAIT` seconds; the probe is
tried every 0.2 s.  Stopping sends SIGTERM to the process group the engine started (the PID it got back
from the kernel is the group's id) and SIGKILL after :data:`STOP_GRACE` seconds, so no process of a
service outlives its scope.  A scope's daemons, and a step's sidecars, are stopped together
(``children.stop_groups``): their grace periods overlap, and a cancellation while they are being stopped
(say a terminated workflow whose scope was already ending on a deadline) SIGKILLs every one of them at
once and is passed on; a failed start stops what it started before passing its error on.  Processes are
also tied to the engine with ``PR_SET_PDEATHSIG``.

Limits: services share the host's network, so two services on one port (two nginx daemons on port 80) in
parallel collide: the second fails to start.  Daemons and sidecars run on the host even when
``config["container_runtime"]`` is set (their steps are refused then).  A probe's ``host`` other than the
loopback is refused.
"""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .children import spawn, stop_group, stop_groups
from .nodes import NodeBook
from .scope import StepError

__all__ = ["LOOPBACK_IP", "MIN_READY_WAIT", "STOP_GRACE", "DaemonRunner", "Service", "start_process",
           "wait_ready"]

LOOPBACK_IP = "127.0.0.1"
MIN_READY_WAIT = 10.0
STOP_GRACE = 10.0
_PROBE_EVERY = 0.2
_LOOPBACK_HOSTS = ("", "127.0.0.1", "localhost", "::1")
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


async def start_process(argv: list[str], env: dict[str, str], cwd: str, log: str) -> asyncio.subprocess.Process:
    """Start a service process in its own process group (its PID is the group's id), its output to ``log``."""
    with open(log, "ab") as logf:
        return await spawn(*argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=logf, stderr=logf)


def _probe_wait(probe: dict) -> float:
    initial = float(probe.get("initialDelaySeconds") or 0)
    period = float(probe.get("periodSeconds") or 10)
    failures = int(probe.get("failureThreshold") or 3)
    return max(MIN_READY_WAIT, initial + period * failures)


def _http_ok(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (a loopback URL built here)
            return 200 <= resp.status < 400
    except urllib.error.HTTPError as e:
        return 200 <= e.code < 400
    except (OSError, ValueError):
        return False


async def _probe_once(probe: dict, env: dict[str, str], cwd: str, where: str) -> bool:
    timeout = float(probe.get("timeoutSeconds") or 1)
    if "httpGet" in probe:
        get = probe["httpGet"] or {}
        host = str(get.get("host") or "")
        if host not in _LOOPBACK_HOSTS:
            raise StepError(f"{where}: readinessProbe.httpGet.host {host!r}: the local engine probes 127.0.0.1 only")
        port = _port(get.get("port"), where)
        scheme = str(get.get("scheme") or "HTTP").lower()
        path = str(get.get("path") or "/")
        url = f"{scheme}://{LOOPBACK_IP}:{port}{path if path.startswith('/') else '/' + path}"
        return await asyncio.to_thread(_http_ok, url, timeout)
    if "tcpSocket" in probe:
        sock = probe["tcpSocket"] or {}
        if str(sock.get("host") or "") not in _LOOPBACK_HOSTS:
            raise StepError(f"{where}: readinessProbe.tcpSocket.host: the local engine probes 127.0.0.1 only")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(LOOPBACK_IP, _port(sock.get("port"), where)),
                                               timeout)
        except (OSError, asyncio.TimeoutError):
            return False
        writer.close()
        return True
    if "exec" in probe:
        command = [str(c) for c in (probe["exec"] or {}).get("command") or []]
        if not command:
            raise StepError(f"{where}: readinessProbe.exec has no command")
        try:
            proc = await spawn(*command, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
                               stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        except OSError as e:
            raise StepError(f"{where}: readinessProbe.exec: {e}") from None
        try:
            return await asyncio.wait_for(proc.wait(), timeout) == 0
        except asyncio.TimeoutError:
            await stop_group(proc, 0, on_cancel="raise")
            return False
        except asyncio.CancelledError:  # the probe goes too; the cancellation is passed on
            await stop_group(proc, 0, on_cancel="finish")
            raise
    raise StepError(f"{where}: readinessProbe has none of httpGet, tcpSocket, exec")


def _port(value: Any, where: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise StepError(f"{where}: readinessProbe port {value!r}: the local engine needs a port number "
                        "(a named port means a container spec it does not have)") from None
    if not 0 < port < 65536:
        raise StepError(f"{where}: readinessProbe port {port} is out of range")
    return port


async def wait_ready(proc: asyncio.subprocess.Process, probe: dict | None, env: dict[str, str], cwd: str,
                     where: str) -> str | None:
    """Wait until the service is ready; ``None`` when it is, else why not (it exited, or the bounded wait
    ended)."""
    if not probe:
        await asyncio.sleep(0)
        return None if proc.returncode is None else (
            f"exited with code {proc.returncode} as it started, before its scope ended (a daemon runs until its "
            "scope ends)")
    limit = _probe_wait(probe)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    exited = asyncio.ensure_future(proc.wait())
    try:
        while True:
            if exited.done():
                return f"exited with code {proc.returncode} before it was ready"
            if await _probe_once(probe, env, cwd, where):
                return None
            if loop.time() >= deadline:
                return f"not ready after {limit:g} s (readinessProbe)"
            await asyncio.wait({exited}, timeout=_PROBE_EVERY)
    finally:
        exited.cancel()


def check_sidecar_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name) or name == "main":
        raise StepError(f"{where}: sidecar name {name!r} is invalid: a DNS label (a-z, 0-9, '-') other than 'main'")
    return name


@dataclass
class Service:
    """A running daemon: its process and the nodes that show it (the attempt, and its Retry node)."""

    proc: asyncio.subprocess.Process
    nodes: list[dict] = field(default_factory=list)
    stopping: bool = False
    failed: dict | None = None
    watcher: asyncio.Task | None = None


class DaemonRunner(NodeBook):
    """Daemoned steps by the scope they belong to (a mixin of ``Execution``)."""

    _services: dict[str, list[Service]]

    def _services_of(self, boundary: str) -> list[Service]:
        if not hasattr(self, "_services"):
            self._services = {}
        return self._services.setdefault(boundary, [])

    async def start_daemon(self, node: dict, template: dict, argv: list[str], env: dict[str, str], cwd: str,
                           log: str, where: str) -> str | None:
        """Start the daemon of attempt ``node`` and wait until it is ready; ``None`` then (the node is
        daemoned and belongs to its boundary's scope), else why it failed (the process is gone)."""
        try:
            proc = await start_process(argv, env, cwd, log)
        except OSError as e:
            return f"daemon could not start: {e}"
        probe = (template.get("container") or template.get("script") or {}).get("readinessProbe")
        try:
            reason = await wait_ready(proc, probe, env, cwd, where)
        except BaseException:
            await stop_group(proc, 1.0, on_cancel="finish")  # gone before the error is passed on
            raise
        if reason is not None:
            await stop_group(proc, 1.0, on_cancel="raise")
            return f"daemon {reason}"
        node["daemoned"] = True
        node["podIP"] = LOOPBACK_IP
        node["pid"] = proc.pid
        service = Service(proc, [node])
        service.watcher = asyncio.ensure_future(self._watch_service(service, where))
        self._services_of(node.get("boundaryID") or "").append(service)
        return None

    def adopt_daemon(self, retry_node: dict, attempt: dict) -> None:
        """A Retry node whose attempt is daemoned is daemoned too, and ends with it."""
        retry_node["daemoned"] = True
        retry_node["podIP"] = attempt.get("podIP", LOOPBACK_IP)
        for services in getattr(self, "_services", {}).values():
            for s in services:
                if attempt in s.nodes:
                    s.nodes.append(retry_node)

    async def _watch_service(self, service: Service, where: str) -> None:
        rc = await service.proc.wait()
        if service.stopping:
            return
        await stop_group(service.proc, 1.0, on_cancel="raise")  # what it left in its group
        message = f"daemon exited with code {rc} before its scope ended (a daemon runs until its scope ends)"
        for n in service.nodes:
            n.pop("daemoned", None)
            self.close_node(n, "Failed", message=message, durable=True)
        service.failed = service.nodes[0]

    async def stop_daemons(self, boundary: str | None) -> dict | None:
        """Stop the daemons of a scope (``None``: every scope) together, marking their nodes Succeeded;
        returns the node of a daemon that had failed before, if any.

        A cancellation while they are being stopped (a second one, when the scope ends because it was
        cancelled) SIGKILLs all of them at once (``children.stop_groups``); their nodes are closed before
        it is passed on."""
        if not hasattr(self, "_services"):
            return None
        keys = list(self._services) if boundary is None else [boundary]
        services = [service for key in keys for service in self._services.pop(key, [])]
        for service in services:
            service.stopping = service.failed is None
            if service.watcher is not None and service.failed is None:
                service.watcher.cancel()
        try:
            await stop_groups([service.proc for service in services], STOP_GRACE)
        finally:
            failed = None
            for service in services:
                if service.failed is not None:
                    failed = failed or service.failed
                    continue
                for n in service.nodes:
                    n.pop("daemoned", None)
                    self.close_node(n, "Succeeded", durable=True)
        return failed
