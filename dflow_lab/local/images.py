"""Host stand-ins for a few container images the local engine runs without a container runtime.

A container template names an image; without ``config["container_runtime"]`` the local engine runs its
``command``/``args`` on the host and ignores the image.  A template with no ``command`` runs the image's
own entrypoint, which the host cannot know in general.  For the images below the entrypoint (and what
the image puts on ``PATH``) is known and a host program does the same job, so such templates run:

| image | entrypoint / default command on the host | host program |
| --- | --- | --- |
| ``argoproj/argosay:v2`` | ``/argosay`` (also when named as ``command``) | ``python -m dflow_lab.local.argosay``: the same subcommands (``echo``, ``cat``, ``assert_contains``, ``exit``, ``sleep``, ``sh``) |
| ``argoproj/argosay:v1`` | ``cowsay``, with ``/usr/games`` on ``PATH`` | Debian's ``cowsay`` |
| ``docker/whalesay`` | ``cowsay`` on ``PATH`` (``/usr/games``) | Debian's ``cowsay`` (a cow, not the image's whale) |
| ``nginx`` | ``nginx -g "daemon off;"`` | Debian's ``nginx`` (its packaged configuration: port 80) |
| ``curlimages/curl`` | ``sh``/``/bin/sh`` are BusyBox's ash, as in the image | ``busybox sh`` and the host's ``curl`` |
| ``influxdb`` 1.x | ``influxd``, its data under the step's directory, usage reporting off | Debian's ``influxdb`` (1.6) |

Docker's rules apply: a template's ``command`` replaces the entrypoint, its ``args`` replace the default
command.  An image not listed, or a listed one whose host program is missing, keeps today's behaviour: a
template without ``command`` fails its step saying the image's entrypoint is unknown.

Limits: the host program is not the image.  Only what the examples and the table rely on is the same
(what is printed, written, served); versions differ (nginx 1.22 for 1.13, influxdb 1.6 for 1.2).
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field

__all__ = ["ImageStandIn", "host_argv", "stand_in"]


@dataclass(frozen=True)
class ImageStandIn:
    """What an image provides on the host: its entrypoint and default command, ``PATH`` additions,
    environment (values may contain ``{root}``: the step's root directory) and the program it needs."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    #: names the image's own files go by in a ``command`` (``/argosay``), mapped to host argv
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)


_ARGOSAY = (sys.executable, "-m", "dflow_lab.local.argosay")

_STAND_INS: dict[tuple[str, str | None], ImageStandIn] = {
    ("argoproj/argosay", "v2"): ImageStandIn(entrypoint=_ARGOSAY, path=("/usr/games",), needs=(sys.executable,),
                                             aliases={"/argosay": _ARGOSAY}),
    ("argoproj/argosay", "v1"): ImageStandIn(cmd=("cowsay",), path=("/usr/games",), needs=("cowsay",)),
    ("docker/whalesay", None): ImageStandIn(path=("/usr/games",), needs=("cowsay",)),
    ("nginx", None): ImageStandIn(entrypoint=("nginx",), cmd=("-g", "daemon off;"), path=("/usr/sbin",),
                                  needs=("nginx",)),
    # Alpine with curl: its shell is BusyBox's ash (``>&`` redirections and the like), the host's curl
    ("curlimages/curl", None): ImageStandIn(needs=("busybox", "curl"), aliases={"sh": ("busybox", "sh"),
                                                                                 "/bin/sh": ("busybox", "sh")}),
    ("influxdb", "1"): ImageStandIn(entrypoint=("influxd",), needs=("influxd",), env={
        "INFLUXDB_META_DIR": "{root}/var/lib/influxdb/meta",
        "INFLUXDB_DATA_DIR": "{root}/var/lib/influxdb/data",
        "INFLUXDB_DATA_WAL_DIR": "{root}/var/lib/influxdb/wal",
        "INFLUXDB_REPORTING_DISABLED": "true",  # the image would phone home; the host stand-in never does
    }),
}


def _split(image: str) -> tuple[str, str]:
    """``docker.io/library/nginx:1.13`` → (``nginx``, ``1.13``)."""
    name, _, digest = image.partition("@")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return name, tag or ("latest" if not digest else "")


def stand_in(image: str | None) -> ImageStandIn | None:
    """The host stand-in of ``image`` (its host program present), or ``None``."""
    if not image:
        return None
    name, tag = _split(str(image))
    for (known, want), entry in _STAND_INS.items():
        if name != known:
            continue
        if want is not None and not (tag == want or tag.startswith(want + ".")):
            continue
        if any(not (shutil.which(p) or shutil.which(p, path=":".join(entry.path) or None)) for p in entry.needs):
            return None
        return entry
    return None


def host_argv(image: str | None, command: list[str], args: list[str]) -> tuple[list[str], ImageStandIn | None]:
    """The argv a container template runs on the host, by Docker's rules, with its image's stand-in
    (``None``: no stand-in; then the argv is ``command + args`` and may be empty)."""
    entry = stand_in(image)
    if entry is None:
        return command + args, None
    if command:
        argv = list(entry.aliases.get(command[0], (command[0],))) + command[1:] + args
    else:
        argv = list(entry.entrypoint) + (args if args else list(entry.cmd))
    return argv, entry
