"""dflow-lab's Jupyter server extension: REST handlers and the live event stream under
``<base_url>/dflow-lab/api/`` (see ``handlers.py``), used by the JupyterLab extension in ``js/lab``.

Enabled by ``jupyter-config/jupyter_server_config.d/dflow_lab.json`` (installed with the package), or with
``jupyter server --ServerApp.jpserver_extensions='{"dflow_lab.jupyter": True}'``. Options (``DflowLab.*``
in a Jupyter config file or on the command line): ``local_workdir`` (default ``<root_dir>/.dflow-lab``),
``op_modules`` (modules whose OPs the palette offers), ``secrets_file``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.utils import url_path_join
from traitlets import List, Unicode
from traitlets.config import Configurable

API = "dflow-lab/api"


class DflowLab(Configurable):
    """Configuration of the dflow-lab server extension."""

    local_workdir = Unicode("", help="The local engine's workspace (default: <root_dir>/.dflow-lab).").tag(config=True)
    op_modules = List(Unicode(), help="Modules whose Python OPs the palette offers.").tag(config=True)
    secrets_file = Unicode(
        "", help="Where secrets typed in the settings are kept, readable by the owner only "
        "(default: <jupyter data dir>/dflow_lab/secrets.json).").tag(config=True)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "dflow_lab.jupyter"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    # lazy: the handlers import this package (API); Jupyter loads them when it loads the extension
    from . import handlers as h
    from .engines import Engines, apply_settings
    from .settings import ServerSettings
    from .stream import EventsHandler

    options = DflowLab(parent=serverapp)
    root = Path(serverapp.root_dir).expanduser()
    workdir = Path(options.local_workdir).expanduser() if options.local_workdir else root / ".dflow-lab"
    secrets = options.secrets_file or str(Path(jupyter_data_dir()) / "dflow_lab" / "secrets.json")
    settings = ServerSettings(secrets)
    apply_settings(settings)
    ctx = h.DflowLabContext(settings, Engines(settings, workdir), list(options.op_modules), root)

    base = url_path_join(serverapp.web_app.settings["base_url"], API)
    run = rf"/workflows/(local|argo)/({h.NAME_RE})"
    routes = [
        ("/settings", h.SettingsHandler),
        ("/validate", h.ValidateHandler),
        ("/code", h.CodeHandler),
        ("/documents/parse", h.ParseHandler),
        ("/documents/dump", h.DumpHandler),
        ("/palette", h.PaletteHandler),
        ("/palette/stamp", h.PaletteStampHandler),
        ("/ops", h.NewOpHandler),
        ("/workflows", h.WorkflowsHandler),
        (run, h.WorkflowHandler),
        (run + "/details", h.DetailsHandler),
        (run + "/logs", h.LogsHandler),
        (run + "/artifacts", h.ArtifactHandler),
        (run + "/actions", h.ActionHandler),
        (run + "/compare", h.CompareHandler),
        (run + "/items", h.ItemsHandler),
        (run + "/events", EventsHandler),
    ]
    serverapp.web_app.add_handlers(".*$", [(base + path, handler, {"ctx": ctx}) for path, handler in routes])
    serverapp.log.info("dflow-lab: API at %s, local workspace %s", base, workdir)


# the names Jupyter looks for (``_load_jupyter_server_extension``) and the legacy one
load_jupyter_server_extension = _load_jupyter_server_extension
