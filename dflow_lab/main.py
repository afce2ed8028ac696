"""The ``dflow-lab`` command line (``dflow.main``): dflow's ``dflow`` commands, plus run, watch, lint and server.

Every command of dflow's CLI is here with the same flags (list, get, getsteps, getkeys, delete,
resubmit, resume, retry, stop, suspend, terminate, wait, download, upload, submit, create, codegen),
plus ``run FILE`` (a ``.py``, graph JSON/YAML or Argo YAML), ``watch ID`` (live steps table with a
progress bar), ``logs ID``, ``lint FILE`` and ``server`` (the Argo-compatible API over the local engine).
Commands talk to the local engine, or to an Argo server when ``--host``/``DFLOW_HOST`` is given
(``DFLOW_TOKEN`` carries the token). Tables are for people; ``--output json`` is for scripts.
Exit codes: 0 success, 1 a failed workflow or an error, 2 bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import runpy
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import yaml

from .apiserver import ArgoServer
from .apiserver.server import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PORT,
)
from .argo.client import ArgoApiError
from .argo_objects import ArgoWorkflow
from .code_gen import gen_code
from .common import S3Artifact
from .config import config
from .engine import Engine, select_engine
from .errors import CapabilityNotAvailable, WorkflowError
from .graph import validate
from .local.cron import CronScheduler, check_cron_workflow
from .local.objects import ObjectStore
from .local.validate import check_manifest
from .names import check_workflow_name
from .rerun import DOCUMENT_LABEL, document_label, latest_run, reuse_set
from .utils import download_artifact, upload_artifact
from .workflow import Workflow, query_workflows
from .yamlsafe import load_json, load_yaml

__all__ = ["format_print_table", "format_time_delta", "main", "main_parser", "parse_args"]

_TERMINAL = ("Succeeded", "Failed", "Error")


# -- formatting -------------------------------------------------------------------------------------

def _table(t: List[List[Any]]) -> str:
    widths = [max(len(str(row[i])) for row in t if i < len(row)) for i in range(max(len(r) for r in t))]
    return "\n".join("".join(str(s) + " " * (widths[i] - len(str(s)) + 3) for i, s in enumerate(row)).rstrip()
                     for row in t)


def format_print_table(t: List[List[str]]) -> None:
    """Print rows as a table whose columns are aligned (three spaces between columns)."""
    if t:
        print(_table(t))


def format_time_delta(td: datetime.timedelta) -> str:
    """A duration for people, as dflow prints it: ``3d``, ``5h`` or ``42s``."""
    if td.days > 0:
        return "%dd" % td.days
    if td.seconds >= 3600:
        return "%dh" % (td.seconds // 3600)
    return "%ds" % td.seconds


def _age(timestamp: Optional[str]) -> str:
    if not timestamp:
        return ""
    created = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return format_time_delta(datetime.datetime.now(datetime.timezone.utc) - created)


def _progress_bar(progress: Optional[str], width: int = 30) -> str:
    done, _, total = (progress or "0/0").partition("/")
    try:
        d, n = int(done), int(total)
    except ValueError:
        d, n = 0, 0
    filled = width * d // n if n else 0
    return f"[{'#' * filled}{'.' * (width - filled)}] {d}/{n}"


# -- the parser -------------------------------------------------------------------------------------

def _id_command(subparsers: Any, name: str, help: str) -> argparse.ArgumentParser:
    p = subparsers.add_parser(name, help=help, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("ID", help="the workflow ID.")
    return p


def _output_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", choices=("table", "json"), default="table",
                   help="table for people, json for scripts")


def main_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dflow-lab`` (dflow's commands and flags, plus run/watch/lint/server)."""
    parser = argparse.ArgumentParser(
        prog="dflow-lab",
        description="dflow-lab: scientific workflows on the local engine or on Argo Workflows",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default=None,
                        help="Argo server URL (Argo mode; default $DFLOW_HOST). The token is read from $DFLOW_TOKEN "
                             "or --token-file")
    parser.add_argument("--token-file", default=None, help="file holding the Argo server's bearer token")
    parser.add_argument("--namespace", dest="argo_namespace", metavar="NAMESPACE", default=None,
                        help="Argo namespace (default $DFLOW_NAMESPACE or argo)")
    parser.add_argument("--insecure", action="store_true", help="do not verify the Argo server's TLS certificate")
    parser.add_argument("--workdir", default=None, help="local engine workspace (default $DFLOW_LOCAL_WORKDIR)")
    sub = parser.add_subparsers(title="Valid subcommands", dest="command")

    p = sub.add_parser("list", help="List workflows", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("-l", "--label", type=str, default=None, help="query by labels")
    _output_option(p)

    _output_option(_id_command(sub, "get", "Get a workflow"))

    p = _id_command(sub, "getsteps", "Get steps from a workflow")
    for short, long, what in (("-n", "--name", "name"), ("-k", "--key", "key"), ("-p", "--phase", "phase"),
                              ("-i", "--id", "ID"), ("-t", "--type", "type")):
        p.add_argument(short, long, type=str, default=None, help=f"query by {what}")
    _output_option(p)

    _output_option(_id_command(sub, "getkeys", "Get keys of steps from a workflow"))
    _id_command(sub, "delete", "Delete a workflow")
    _output_option(_id_command(sub, "resubmit", "Resubmit a workflow"))
    _id_command(sub, "resume", "Resume a workflow")
    p = _id_command(sub, "retry", "Retry a workflow")
    p.add_argument("-s", "--step", type=str, default=None,
                   help="retry the steps with these IDs (comma-separated) and what depends on them")
    _id_command(sub, "stop", "Stop a workflow")
    _id_command(sub, "suspend", "Suspend a workflow")
    _id_command(sub, "terminate", "Terminate a workflow")
    p = _id_command(sub, "wait", "Wait a workflow to complete")
    p.add_argument("-i", "--interval", type=int, default=1, help="time interval between two queries")
    p.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    _output_option(p)

    p = sub.add_parser("download", help="Download an artifact", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("-k", "--key", type=str, default=None, help="storage key of the artifact")
    p.add_argument("-u", "--urn", type=str, default=None, help="URN of the artifact")
    p.add_argument("-p", "--path", type=str, default=".", help="the path to which the artifact will be downloaded")

    p = sub.add_parser("upload", help="Upload an artifact", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("-p", "--path", type=str, required=True, help="path of the local file(s)")
    p.add_argument("-n", "--namespace", type=str, default=None, help="namespace for registering dataset")
    p.add_argument("-d", "--name", type=str, default=None, help="dataset name for registering dataset")
    p.add_argument("-s", "--description", type=str, default=None, help="description for registering dataset")
    p.add_argument("-t", "--tag", type=str, default=None, help="tags for registering dataset")
    p.add_argument("-r", "--property", type=str, default=None, help="properties for registering dataset")
    _output_option(p)

    for name, help in (("submit", "Submit a workflow from a YAML file"),
                       ("run", "Run a workflow: a .py script, a graph JSON/YAML or an Argo YAML")):
        p = sub.add_parser(name, help=help, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        p.add_argument("FILE", help="the file")
        p.add_argument("-d", "--detach", action="store_true", help="detach mode for running workflow")
        p.add_argument("-n", "--name", type=str, default=None, help="workflow ID")
        if name == "run":
            part = p.add_mutually_exclusive_group()
            part.add_argument("--only", metavar="STEP", default=None,
                              help="run this step alone; every other step is reused from the earlier run")
            part.add_argument("--from", dest="from_step", metavar="STEP", default=None,
                              help="run this step and everything downstream of it; the rest is reused")
            part.add_argument("--failed-of", metavar="RUN", default=None,
                              help="re-run the steps that failed in RUN and everything downstream; reuse the rest")
            p.add_argument("--run", dest="reuse_run", metavar="RUN", default=None,
                           help="the earlier run --only/--from reuse (default: the document's latest run)")
        _output_option(p)

    p = sub.add_parser("create", help="Create a resource", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    create_sub = p.add_subparsers(title="Valid resources", dest="resource")
    p = create_sub.add_parser("secret", help="Create a secret", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("value", help="secret value")
    p.add_argument("-n", "--name", type=str, help="name of the secret")
    p.add_argument("-k", "--key", type=str, default="secret", help="key in the secret")

    p = sub.add_parser("codegen", help="Generate code from graph", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("GRAPH", help="the graph JSON (or YAML) file.")
    p.add_argument("-o", "--output", type=str, help="File path of the generated code")

    p = _id_command(sub, "watch", "Watch a workflow: a live table of its steps with a progress bar")
    p.add_argument("-i", "--interval", type=float, default=1.0, help="longest wait between two refreshes (s)")
    p.add_argument("--timeout", type=float, default=None, help="stop watching after this many seconds")
    _output_option(p)

    p = _id_command(sub, "logs", "Print the logs of a workflow's steps")
    p.add_argument("-s", "--step", type=str, default=None, help="only this step (its ID)")
    _output_option(p)

    p = sub.add_parser("lint", help="Check an Argo YAML or a graph JSON/YAML without running it",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("FILE", help="the file")
    _output_option(p)

    for name, what in (("configmap", "ConfigMaps (parameters' configMapKeyRef) of the local workspace"),
                       ("template", "WorkflowTemplates/ClusterWorkflowTemplates (workflowTemplateRef, templateRef) "
                                    "of the local workspace")):
        p = sub.add_parser(name, help=f"Create, list or delete {what}",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        objects_sub = p.add_subparsers(title="Actions", dest="action")
        q = objects_sub.add_parser("create", help="keep the object(s) of a YAML/JSON file (replacing same names)")
        q.add_argument("FILE", help="the manifest file")
        q = objects_sub.add_parser("list", help="list the names kept")
        if name == "template":
            q.add_argument("--cluster", action="store_true", help="ClusterWorkflowTemplates instead")
        q = objects_sub.add_parser("delete", help="delete one by name")
        q.add_argument("NAME", help="the object's name")
        if name == "template":
            q.add_argument("--cluster", action="store_true", help="a ClusterWorkflowTemplate")

    p = sub.add_parser("cron", help="CronWorkflows of the local workspace: create, list, delete, suspend, "
                                     "resume, and run the scheduler", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cron_sub = p.add_subparsers(title="Actions", dest="action")
    q = cron_sub.add_parser("create", help="check and keep the CronWorkflow(s) of a YAML/JSON file")
    q.add_argument("FILE", help="the manifest file")
    cron_sub.add_parser("list", help="list them: schedules, suspended, last scheduled time, active runs")
    for action, text in (("delete", "delete one"), ("suspend", "stop scheduling one"),
                         ("resume", "schedule one again")):
        q = cron_sub.add_parser(action, help=text)
        q.add_argument("NAME", help="the CronWorkflow's name")
    q = cron_sub.add_parser("run", help="run the scheduler here until interrupted (dflow-lab server runs it too)")
    q.add_argument("--for", dest="duration", type=float, default=None, help="stop after this many seconds")

    p = sub.add_parser("server", help="Serve the Argo Server API over the local engine",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)

    p.add_argument("--workdir", dest="server_workdir", metavar="WORKDIR", default=None,
                   help="the workspace served (default: the global --workdir, $DFLOW_LOCAL_WORKDIR)")
    p.add_argument("--bind", default="127.0.0.1", help="address to bind (loopback unless --allow-remote)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: a free one)")
    p.add_argument("--allow-remote", action="store_true", help="permit a --bind address other machines can reach")
    p.add_argument("--no-auth", action="store_true", help="serve without the bearer token (loopback only)")
    p.add_argument("--no-cron", action="store_true", help="do not run the workspace's CronWorkflows while serving")
    p.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, help="largest request body in bytes")
    p.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT,
                   help="seconds a connection may take to deliver a request head (idle keep-alive or slow headers)")
    p.add_argument("--body-timeout", type=float, default=DEFAULT_BODY_TIMEOUT,
                   help="seconds a declared request body may take to arrive")
    p.add_argument("--max-connections", type=int, default=DEFAULT_MAX_CONNECTIONS,
                   help="connections served at once; more are answered 503")
    p.add_argument("--tls-cert", default=None, help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", default=None, help="the certificate's private key (PEM)")
    return parser


def parse_args(args: Optional[List[str]] = None) -> argparse.Namespace:
    """Commandline options argument parsing.

    Parameters
    ----------
    args : List[str]
        list of command line arguments, main purpose is testing default option
        None takes arguments from sys.argv
    """
    parser = main_parser()
    parsed_args = parser.parse_args(args=args)
    if parsed_args.command is None:
        parser.print_help()
    return parsed_args


# -- helpers ----------------------------------------------------------------------------------------

def _configure(args: argparse.Namespace) -> None:
    if args.workdir:
        config["local_workdir"] = args.workdir
    if args.host:
        config["host"] = args.host
        config["mode"] = "argo"
    elif config.get("host") and config.get("mode") in ("local", "debug"):
        config["mode"] = "argo"
    if args.token_file:
        config["token"] = Path(args.token_file).read_text().strip()
    if args.argo_namespace:
        config["namespace"] = args.argo_namespace
    if args.insecure:
        config["verify_ssl"] = False


def _backend() -> Engine:
    """The engine the current configuration points at."""
    return select_engine()


def _plain(obj: Any) -> Any:
    """JSON for status objects (``ArgoObjectDict``/``ArgoObjectList``) and anything else as text."""
    return obj.recover() if hasattr(obj, "recover") else str(obj)


def _emit(args: argparse.Namespace, data: Any, text: Optional[str] = None) -> None:
    if getattr(args, "output", "table") == "json":
        print(json.dumps(data, indent=1, default=_plain))
    elif text is not None:
        print(text)


def _step_row(step: Any) -> dict:
    return {"step": step.get("displayName"), "id": step.get("id"), "key": getattr(step, "key", None) or "",
            "type": step.get("type"), "phase": step.get("phase"),
            "duration": int(step.get_duration().total_seconds()), "message": step.get("message") or ""}


def _steps_table(steps: List[Any]) -> str:
    """Steps in start order; a MESSAGE column when a step has one (why it failed)."""
    steps = sorted(steps, key=lambda s: (s.get("startedAt") or "~", s.get("name") or ""))
    rows = [_step_row(s) for s in steps if s.get("type") != "StepGroup"]
    with_message = any(r["message"] for r in rows)
    t = [["STEP", "ID", "KEY", "TYPE", "PHASE", "DURATION"] + (["MESSAGE"] if with_message else [])]
    for row in rows:
        t.append([row["step"], row["id"], row["key"], row["type"], row["phase"],
                  format_time_delta(datetime.timedelta(seconds=row["duration"]))]
                 + ([row["message"]] if with_message else []))
    return _table(t)


def _summary(wf: Any) -> dict:
    status = wf.get("status") or {}
    meta = wf.get("metadata") or {}
    return {"name": meta.get("name"), "phase": status.get("phase") or "Pending",
            "created": meta.get("creationTimestamp"), "started": status.get("startedAt"),
            "finished": status.get("finishedAt"), "duration": int(wf.get_duration().total_seconds()),
            "progress": status.get("progress"), "message": status.get("message"), "labels": meta.get("labels") or {}}


def _load_document(path: str) -> Any:
    text = Path(path).read_text()
    if path.endswith(".json"):
        return load_json(text, source=path)
    return load_yaml(text, source=path)


def _is_manifest(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == "Workflow" and "spec" in doc


def _is_graph(doc: Any) -> bool:
    return isinstance(doc, dict) and "version" in doc and "templates" in doc and "kind" not in doc


def _phase_code(phase: Optional[str]) -> int:
    return 0 if phase == "Succeeded" else 1


# -- commands -------------------------------------------------------------------------------------------

def _cmd_list(args: argparse.Namespace) -> int:
    labels = _pairs(args.label, "--label") if args.label is not None else None
    wfs = [_summary(wf) for wf in query_workflows(labels=labels)]
    t = [["NAME", "STATUS", "AGE", "DURATION", "PROGRESS"]]
    for s in wfs:
        t.append([s["name"], s["phase"], _age(s["created"]),
                  format_time_delta(datetime.timedelta(seconds=s["duration"])), s["progress"] or ""])
    _emit(args, wfs, _table(t))
    return 0


def _cmd_get(args: argparse.Namespace) -> int:
    info = Workflow(id=args.ID).query()
    s = _summary(info)
    steps = [st for st in info.get_step() if st.get("type") != "StepGroup"]
    if args.output == "json":
        _emit(args, {**s, "steps": [_step_row(st) for st in steps]})
        return 0
    t = [["Name:", s["name"]], ["Status:", s["phase"]], ["Created:", s["created"] or ""],
         ["Started:", s["started"] or ""], ["Finished:", s["finished"] or ""],
         ["Duration", format_time_delta(datetime.timedelta(seconds=s["duration"]))],
         ["Progress:", s["progress"] or ""]]
    if s["message"]:
        t.append(["Message:", s["message"]])
    print(_table(t))
    print()
    print(_steps_table(steps))
    return 0


def _split(v: Optional[str]) -> Optional[List[str]]:
    return v.split(",") if v is not None else None


def _cmd_getsteps(args: argparse.Namespace) -> int:
    wf = Workflow(id=args.ID)
    name, key, phase, id_, type_ = (_split(v) for v in (args.name, args.key, args.phase, args.id, args.type))
    if key is not None:
        steps = wf.query_step_by_key(key, name, phase, id_, type_)
    else:
        steps = wf.query_step(name, key, phase, id_, type_)
    steps = [s for s in steps if s.get("type") != "StepGroup"]
    if args.output == "json":
        _emit(args, [{**_step_row(s), "outputs": _outputs(s)} for s in steps])
        return 0
    for step in steps:
        row = _step_row(step)
        print(_table([["Step:", row["step"]], ["ID:", row["id"]], ["Key:", row["key"]], ["Type:", row["type"]],
                      ["Phase:", row["phase"]]]))
        outs = _outputs(step)
        if outs["parameters"]:
            print("Output parameters:")
            for n, v in outs["parameters"].items():
                print(f"{n}: {v}")
            print()
        if outs["artifacts"]:
            print("Output artifacts:")
            for n, v in outs["artifacts"].items():
                print(f"{n}: {v}")
            print()
        print()
    return 0


def _outputs(step: Any) -> dict:
    outputs = step.get("outputs") or {}
    params = {}
    for n, p in (outputs.get("parameters") or {}).items():
        if n.startswith("dflow_"):
            continue
        if "save_as_artifact" in p:
            params[n] = "<big parameter: stored as an artifact>"
        else:
            params[n] = p.data.get("value")
    arts = {}
    for n, a in (outputs.get("artifacts") or {}).items():
        if n.startswith("dflow_") or n == "main-logs":
            continue
        a = a.recover() if hasattr(a, "recover") else a
        arts[n] = next((a[k].get("key") for k in ("s3", "oss", "local") if isinstance(a.get(k), dict)), "") or ""
    return {"parameters": params, "artifacts": arts}


def _cmd_getkeys(args: argparse.Namespace) -> int:
    keys = Workflow(id=args.ID).query_keys_of_steps()
    _emit(args, keys, "\n".join(keys))
    return 0


def _cmd_control(args: argparse.Namespace) -> int:
    wf = Workflow(id=args.ID)
    if args.command == "retry" and args.step is not None:
        wf.retry_steps(args.step.split(","))
    elif args.command == "resubmit":
        wf.resubmit()
        _emit(args, {"name": wf.id, "resubmitted_from": args.ID}, f"Workflow {args.ID} resubmitted as {wf.id}")
        return 0
    else:
        getattr(wf, args.command)()
    past = {"stop": "stopped", "suspend": "suspended", "terminate": "terminated", "resume": "resumed",
            "retry": "retried", "delete": "deleted"}[args.command]
    print(f"Workflow {args.ID} {past}")
    return 0


def _cmd_wait(args: argparse.Namespace) -> int:
    wf = ArgoWorkflow(_backend().wait(args.ID, timeout=args.timeout))
    s = _summary(wf)
    _emit(args, s, f"Workflow {s['name']} {s['phase']}" + (f": {s['message']}" if s["message"] else ""))
    return _phase_code(s["phase"])


def _cmd_download(args: argparse.Namespace) -> int:
    if args.key is None and args.urn is None:
        raise ValueError("one of -k/--key and -u/--urn must be specified")
    path = download_artifact(S3Artifact(key=args.key, urn=args.urn or ""), path=args.path)
    print("Downloaded artifact to %s" % (path,))
    return 0


def _pairs(text: str, what: str) -> dict:
    out = {}
    for p in text.split(","):
        k, sep, v = p.partition("=")
        if not sep:
            raise ValueError(f"{what} {p!r} is not of the form KEY=VALUE")
        out[k] = v
    return out


def _cmd_upload(args: argparse.Namespace) -> int:
    path: Any = _pairs(args.path, "--path") if "=" in args.path else args.path.split(",")
    kwargs: dict = {}
    if args.description is not None:
        kwargs["description"] = args.description
    if args.tag is not None:
        kwargs["tags"] = args.tag.split(",")
    if args.property is not None:
        kwargs["properties"] = _pairs(args.property, "--property")
    art = upload_artifact(path, namespace=args.namespace, dataset_name=args.name, **kwargs)
    urn = getattr(art, "urn", "") or ""
    text = "Storage key: %s" % art.key + ("\nDataset URN: %s" % urn if urn else "")
    _emit(args, {"key": art.key, "urn": urn}, text)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    path = args.FILE
    if args.detach:
        config["detach"] = True
    if path.endswith(".py"):
        if args.name:
            raise ValueError("-n/--name applies to YAML and JSON files; a .py script names its own workflow")
        if getattr(args, "only", None) or getattr(args, "from_step", None) or getattr(args, "failed_of", None):
            raise ValueError("--only/--from/--failed-of apply to YAML and JSON files; in a .py script pass "
                             "reuse_step=reuse_set(...) to submit()")

        argv = sys.argv
        sys.argv = [path]
        try:
            runpy.run_path(path, run_name="__main__")
        finally:
            sys.argv = argv
        return 0
    doc = _load_document(path)
    wait = not args.detach and not (config.get("host") or config.get("mode") in ("argo", "default"))
    label = document_label(path)
    if _is_manifest(doc):
        if args.name:
            doc.setdefault("metadata", {})["name"] = args.name
            doc["metadata"].pop("generateName", None)
        doc.setdefault("metadata", {}).setdefault("labels", {})[DOCUMENT_LABEL] = label
        reuse = _partial_run(args, doc, label)
        wf = ArgoWorkflow(_backend().submit(doc, wait=wait, **reuse))
    elif _is_graph(doc):
        w = Workflow.from_graph(doc)
        if args.name:
            w.id = args.name
        w.labels = {**(w.labels or {}), DOCUMENT_LABEL: label}
        reuse = _partial_run(args, w.to_dict(), label)
        wf = w.submit(wait=wait, **reuse)
        if not wait:
            wf = w.query()
    else:
        raise ValueError(f"{path}: neither an Argo Workflow manifest (kind: Workflow) nor a graph document "
                         "(version, templates)")
    s = _summary(wf)
    if args.output == "json":
        _emit(args, s)
    else:
        print(f"Workflow {s['name']} {'submitted' if not wait else s['phase']}")
        if wait:
            print(_steps_table([st for st in wf.get_step()]))
    return _phase_code(s["phase"]) if wait else 0


def _partial_run(args: argparse.Namespace, manifest: dict, label: str) -> dict:
    """``{"reuse_step": [...]}`` for --only/--from/--failed-of (``{}`` for a whole run); prints the plan."""
    if not (getattr(args, "only", None) or getattr(args, "from_step", None) or getattr(args, "failed_of", None)):
        if getattr(args, "reuse_run", None):
            raise ValueError("--run names the earlier run of --only or --from")
        return {}
    if args.failed_of:
        if args.reuse_run:
            raise ValueError("--failed-of names its run; --run is for --only and --from")
        run, step, mode = args.failed_of, None, "failed"
    else:
        run = args.reuse_run or latest_run(label)
        if run is None:
            raise ValueError(f"{args.FILE}: no earlier run of this document to reuse; run it whole first or "
                             "name one with --run")
        step, mode = (args.only, "only") if args.only else (args.from_step, "from")
    reuse = reuse_set(manifest, run, step, mode)
    if getattr(args, "output", "table") != "json":
        print(f"Reusing {len(reuse)} step(s) of run {run}", flush=True)
    return {"reuse_step": reuse}


def _cmd_watch(args: argparse.Namespace) -> int:

    backend = _backend()
    tty = sys.stdout.isatty() and args.output == "table"
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    after = 0
    wf = ArgoWorkflow(backend.get(args.ID))
    while True:
        s = _summary(wf)
        if args.output == "json":
            print(json.dumps(s, default=_plain), flush=True)
        else:
            head = (f"Workflow {s['name']}   {s['phase']}   {_progress_bar(s['progress'])}   "
                    f"{format_time_delta(datetime.timedelta(seconds=s['duration']))}")
            body = _steps_table(wf.get_step())
            if tty:
                sys.stdout.write("\x1b[H\x1b[2J")
            print(head + "\n\n" + body + "\n", flush=True)
        if s["phase"] in _TERMINAL:
            return _phase_code(s["phase"])
        if deadline is not None and time.monotonic() >= deadline:
            return 1
        events = backend.events(args.ID, after=after, timeout=args.interval)
        while not events and (deadline is None or time.monotonic() < deadline):
            events = backend.events(args.ID, after=after, timeout=args.interval)
        if events:
            after = events[-1]["seq"]
        wf = ArgoWorkflow(backend.get(args.ID))


def _cmd_logs(args: argparse.Namespace) -> int:
    lines = list(_backend().logs(args.ID, args.step))
    _emit(args, lines, "\n".join(lines))
    return 0


def _cmd_lint(args: argparse.Namespace) -> int:
    doc = _load_document(args.FILE)
    problems: List[str] = []
    if _is_graph(doc):
        problems = [str(issue) for issue in validate(doc)]
        if not problems:
            try:
                check_manifest(Workflow.from_graph(doc).to_dict())
            except WorkflowError as e:
                problems.append(str(e))
    elif _is_manifest(doc):
        try:
            check_manifest(doc)
        except WorkflowError as e:
            problems.append(str(e))
    else:
        problems.append("neither an Argo Workflow manifest (kind: Workflow) nor a graph document (version, templates)")
    if args.output == "json":
        _emit(args, {"file": args.FILE, "ok": not problems, "problems": problems})
    elif problems:
        print("\n".join(f"{args.FILE}: {p}" for p in problems))
    else:
        print(f"{args.FILE}: OK")
    return 1 if problems else 0


def _cmd_codegen(args: argparse.Namespace) -> int:
    code = gen_code(_load_document(args.GRAPH))
    if args.output is None:
        print(code)
    else:
        Path(args.output).write_text(code)
    return 0


def _cmd_create(args: argparse.Namespace) -> int:
    if args.resource != "secret":
        raise ValueError("create what? the only resource is 'secret'")

    raise CapabilityNotAvailable("dflow-lab create secret",
                                 "a Kubernetes cluster to keep the secret (locally, use Secret(value=…) in the script)")


@contextlib.contextmanager
def _on_sigterm(handler: Callable[[], None]) -> Iterator[None]:
    """SIGTERM calls ``handler`` while a long-running command serves, and what was there before is put
    back when it returns (``main`` is also called as a function: a handler left behind would outlive the
    command, and be inherited by every process the program forks later)."""
    before = signal.signal(signal.SIGTERM, lambda *_: handler())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _cmd_server(args: argparse.Namespace) -> int:

    server = ArgoServer(args.server_workdir or config.get("local_workdir"), host=args.bind, port=args.port, auth=not args.no_auth,
                        cron=not args.no_cron,
                        max_body=args.max_body, allow_remote=args.allow_remote, tls_cert=args.tls_cert,
                        tls_key=args.tls_key, idle_timeout=args.idle_timeout, body_timeout=args.body_timeout,
                        max_connections=args.max_connections)
    print(f"dflow-lab server: serving the Argo API on {server.url} (workspace {server.backend.workdir})")
    if server.token is None:
        print("authentication is OFF: anyone who can connect can run workflows")
    elif server.token_created:
        print(f"token (shown once; kept in {server.token_path}): {server.token}")
    else:
        print(f"token: in {server.token_path}")
    print(f"client: DFLOW_HOST={server.url} DFLOW_TOKEN=$(cat {server.token_path})" if server.token else
          f"client: DFLOW_HOST={server.url}", flush=True)
    with _on_sigterm(server.request_stop):
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


def _cmd_objects(args: argparse.Namespace) -> int:
    """``dflow-lab configmap|template create FILE | list | delete NAME`` on the local workspace's object store."""
    store = ObjectStore(config.get("local_workdir") or ".dflow-lab")
    if args.command == "configmap":
        kinds = ("ConfigMap",)
        kind = "ConfigMap"
    else:
        kinds = ("WorkflowTemplate", "ClusterWorkflowTemplate")
        kind = "ClusterWorkflowTemplate" if getattr(args, "cluster", False) else "WorkflowTemplate"
    if args.action == "create":
        text = Path(args.FILE).read_text()
        docs = [d for d in yaml.safe_load_all(text) if d is not None] if "\n---" in text else [load_yaml(text, source=args.FILE)]
        for doc in docs:  # all checked before any is kept
            if not isinstance(doc, dict) or doc.get("kind") not in kinds:
                raise ValueError(f"{args.FILE}: `dflow-lab {args.command} create` takes {' or '.join(kinds)} objects, "
                                 f"not {doc.get('kind') if isinstance(doc, dict) else type(doc).__name__!r}")
        for doc in docs:
            store.create(doc)
            print(f"{doc['kind']}/{doc['metadata']['name']} created")
    elif args.action == "list":
        for name in store.list(kind):
            print(name)
    elif args.action == "delete":
        if not store.delete(kind, args.NAME):
            raise ValueError(f"no {kind} {args.NAME!r} in the local workspace {store.workdir}")
        print(f"{kind}/{args.NAME} deleted")
    else:
        raise ValueError(f"dflow-lab {args.command}: give an action: create FILE, list or delete NAME")
    return 0


def _cmd_cron(args: argparse.Namespace) -> int:
    """``dflow-lab cron create FILE | list | delete|suspend|resume NAME | run [--for S]``."""

    workdir = config.get("local_workdir") or ".dflow-lab"
    store = ObjectStore(workdir)
    if args.action == "create":
        text = Path(args.FILE).read_text()
        docs = [d for d in yaml.safe_load_all(text) if d is not None] if "\n---" in text else [load_yaml(text, source=args.FILE)]
        for doc in docs:  # all checked before any is kept
            if not isinstance(doc, dict) or doc.get("kind") != "CronWorkflow":
                raise ValueError(f"{args.FILE}: `dflow-lab cron create` takes CronWorkflow objects, not "
                                 f"{doc.get('kind') if isinstance(doc, dict) else type(doc).__name__!r}")
            check_cron_workflow(doc)
        for doc in docs:
            old = store.get("CronWorkflow", doc["metadata"]["name"])
            kept = dict(doc, status=(old or {}).get("status") or {})
            store.create(kept)
            print(f"CronWorkflow/{doc['metadata']['name']} created")
    elif args.action == "list":
        print(f"{'NAME':<30} {'SCHEDULES':<30} {'SUSPENDED':<9} {'LAST SCHEDULED':<20} ACTIVE")
        for name in store.list("CronWorkflow"):
            cron = store.get("CronWorkflow", name) or {}
            spec, status = cron.get("spec") or {}, cron.get("status") or {}
            schedules = ",".join(spec.get("schedules") or ([spec["schedule"]] if spec.get("schedule") else []))
            print(f"{name:<30} {schedules:<30} {str(bool(spec.get('suspend'))).lower():<9} "
                  f"{status.get('lastScheduledTime') or '-':<20} {len(status.get('active') or [])}")
    elif args.action in ("delete", "suspend", "resume"):
        cron = store.get("CronWorkflow", args.NAME)
        if cron is None:
            raise ValueError(f"no CronWorkflow {args.NAME!r} in the local workspace {store.workdir}")
        if args.action == "delete":
            store.delete("CronWorkflow", args.NAME)
        else:
            cron.setdefault("spec", {})["suspend"] = args.action == "suspend"
            store.create(cron)
        print(f"CronWorkflow/{args.NAME} {args.action}{'d' if args.action.endswith('e') else 'ed'}")
    elif args.action == "run":
        stop = threading.Event()
        scheduler = CronScheduler(workdir)
        if args.duration is not None:
            threading.Timer(args.duration, stop.set).start()
        print(f"scheduling the CronWorkflows of {store.workdir} (Ctrl-C stops)", flush=True)
        runner = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
        runner.start()
        try:
            with _on_sigterm(stop.set):
                while runner.is_alive():
                    runner.join(0.5)
                    while scheduler.events:
                        print(scheduler.events.popleft(), flush=True)
        except KeyboardInterrupt:
            stop.set()
            runner.join(30)
    else:
        raise ValueError("dflow-lab cron: give an action: create FILE, list, delete|suspend|resume NAME or run")
    return 0


_COMMANDS = {
    "list": _cmd_list, "get": _cmd_get, "getsteps": _cmd_getsteps, "getkeys": _cmd_getkeys,
    "delete": _cmd_control, "resubmit": _cmd_control, "resume": _cmd_control, "retry": _cmd_control,
    "stop": _cmd_control, "suspend": _cmd_control, "terminate": _cmd_control, "wait": _cmd_wait,
    "download": _cmd_download, "upload": _cmd_upload, "submit": _cmd_run, "run": _cmd_run, "create": _cmd_create,
    "codegen": _cmd_codegen, "watch": _cmd_watch, "logs": _cmd_logs, "lint": _cmd_lint, "server": _cmd_server,
    "configmap": _cmd_objects, "template": _cmd_objects, "cron": _cmd_cron,
}


def main(argv: Optional[List[str]] = None) -> int:
    """Run ``dflow-lab`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args = parse_args(argv)
    if args.command is None:
        return 2

    try:
        _configure(args)
        if getattr(args, "ID", None) is not None:  # a workflow ID becomes paths and URLs: checked first
            check_workflow_name(args.ID, field="ID")
        return _COMMANDS[args.command](args)
    except (WorkflowError, ArgoApiError, CapabilityNotAvailable, ValueError, TimeoutError, OSError,
            KeyError) as e:
        print(f"dflow-lab {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
