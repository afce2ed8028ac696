"""The code blocks of the README and ``docs/*.md``, and the markers that say how each one is run.

A fenced block is run by the docs tests when its language is ``python`` (in one namespace per page, in
order, as a reader would type them into one session) or when it is a ``bash``/``console`` block marked
``run``. Markers are HTML comments on the lines just above a fence (blank lines allowed between):

- ``<!-- docs: skip: <reason> -->`` the block is not run; the reason is required and shown in the report;
- ``<!-- docs: run -->`` a shell block that is run (with ``bash -e`` in the page's folder);
- ``<!-- docs: new-session -->`` from this block on, the page continues in a fresh Python process;
- ``<!-- docs: expect-error: <ExceptionName> -->`` the block must raise that exception (shown in the docs);

and page markers anywhere in the page:

- ``<!-- docs-page: needs: s3 -->`` a moto S3 server is started and ``DFLOW_S3_*`` point at a fresh bucket;
- ``<!-- docs-page: needs: server -->`` a ``dflow-lab server`` is started and ``DFLOW_HOST``/``DFLOW_TOKEN``
  point at it (with ``DFLOW_LAB_TEST_ARGO_URL`` too);
- ``<!-- docs-page: needs: executors -->`` an sshd (a Slurm login node), a one-node Slurm and podman images
  are started (``tests/executors/services.py``) and ``DOCS_*`` variables name them.

A marker this module does not know is an error, so a typo cannot silently skip a block. The parser has no
dependency beyond the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
MARKER = re.compile(r"^\s*<!--\s*docs:\s*(?P<body>.*?)\s*-->\s*$")
PAGE_MARKER = re.compile(r"<!--\s*docs-page:\s*(?P<body>.*?)\s*-->")
RUNNABLE_SHELL = {"bash", "sh", "console", "shell"}
PAGE_NEEDS = {"s3", "server", "executors"}


class MarkerError(ValueError):
    """A docs marker that is misspelt or misplaced."""


@dataclass
class Block:
    page: str
    line: int  # 1-based line of the first line of code
    lang: str
    code: str
    skip: str | None = None
    run: bool = False
    new_session: bool = False
    expect_error: str | None = None

    @property
    def runnable(self) -> bool:
        if self.skip is not None:
            return False
        return self.lang == "python" or (self.lang in RUNNABLE_SHELL and self.run)

    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Page:
    path: str
    blocks: list[Block] = field(default_factory=list)
    needs: set[str] = field(default_factory=set)

    @property
    def runnable(self) -> list[Block]:
        return [b for b in self.blocks if b.runnable]


def _apply(block: Block, body: str, where: str) -> None:
    head, _, rest = body.partition(":")
    head, rest = head.strip(), rest.strip()
    if head == "skip":
        if not rest:
            raise MarkerError(f"{where}: 'docs: skip' needs a reason ('<!-- docs: skip: why -->')")
        block.skip = rest
    elif head == "run" and not rest:
        block.run = True
    elif head == "new-session" and not rest:
        block.new_session = True
    elif head == "expect-error" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rest):
        block.expect_error = rest
    else:
        raise MarkerError(f"{where}: unknown docs marker {body!r}")


def parse(path: Path, name: str | None = None) -> Page:
    """The blocks of one Markdown file, with their markers applied."""
    name = name or path.name
    lines = path.read_text(encoding="utf-8").splitlines()
    page = Page(name)
    for m in PAGE_MARKER.finditer("\n".join(lines)):
        head, _, rest = m.group("body").partition(":")
        needs = {n.strip() for n in rest.split(",") if n.strip()}
        if head.strip() != "needs" or not needs or not needs <= PAGE_NEEDS:
            raise MarkerError(f"{name}: unknown page marker {m.group('body')!r} (known: needs: s3, server)")
        page.needs |= needs
    pending: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = MARKER.match(line)
        if marker:
            pending.append((i + 1, marker.group("body")))
            i += 1
            continue
        fence = FENCE.match(line)
        if fence:
            close = fence.group("fence")
            lang = fence.group("info").strip().split(" ")[0].lower()
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not (
                lines[j].strip().startswith(close[0] * len(close)) and lines[j].strip().strip(close[0]) == ""
            ):
                body.append(lines[j][len(fence.group("indent")):] if lines[j].startswith(fence.group("indent")) else lines[j])
                j += 1
            block = Block(name, i + 2, lang, "\n".join(body) + "\n")
            for at, text in pending:
                _apply(block, text, f"{name}:{at}")
            pending = []
            page.blocks.append(block)
            i = j + 1
            continue
        if line.strip() and pending:
            where = ", ".join(f"{name}:{at}" for at, _ in pending)
            raise MarkerError(f"{where}: a docs marker must stand just above a code fence")
        i += 1
    if pending:
        raise MarkerError(f"{name}:{pending[0][0]}: a docs marker at the end of the page marks no block")
    return page
