"""``dflow-lab server``: the Argo Server REST API (what dflow and the ``argo`` CLI speak) over the local
engine. Not to be confused with :mod:`dflow_lab.jupyter`, the JupyterLab server extension.

- :mod:`.server` — HTTP: routing, authentication, body limits, streams, TLS and connection bounds;
- :mod:`.api` — the endpoints' semantics over the local engine (create, list, get, delete, actions,
  logs, events, memoization caches), in Argo's JSON shapes;
- :mod:`.archive` — finished workflows kept after deletion (``/api/v1/archived-workflows``);
- :mod:`.selection` — label and field selectors, ``fields=`` projections;
- :mod:`.auth` — the workspace's bearer token.
"""

from .server import DEFAULT_MAX_BODY, DEFAULT_PORT, ArgoServer, is_loopback

__all__ = ["ArgoServer", "DEFAULT_MAX_BODY", "DEFAULT_PORT", "is_loopback"]
