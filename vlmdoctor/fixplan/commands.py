"""A strict reader of the fix lines rules write: which are plain ``pip install`` requirement
changes the plan may merge, and which must stay as they are.

Only ``pip install`` (or ``python -m pip install``) with PEP 508 names and version specifiers,
``-U``/``--upgrade`` and one ``--index-url``/``--extra-index-url`` is mergeable. Any other
option (``--no-deps``, ``--force-reinstall``, ``-e``, a URL, a wheel path) changes what pip
does, so such a line is kept verbatim as its own step. ``a && b`` is read as two commands
only when both are pip commands; a chain with anything else (``git clone … && cd … && pip
install -e .``) stays one step, in its own order. A step that creates or enters an
environment (``conda create``, ``python -m venv``, ``conda activate``) runs first.
"""

from __future__ import annotations

import re
import shlex

from vlmdoctor.evaluate.requirements import split
from vlmdoctor.record import record

# kinds of command, in the order the plan runs them
ENVIRONMENT, UNINSTALL, INSTALL, PIP_OTHER, STEP, NOTE = (
    "environment", "pip-uninstall", "pip-install", "pip", "step", "note")
_ENV_STARTS = (("conda", "create"), ("conda", "activate"), ("mamba", "create"), ("source",),
               (".",), ("virtualenv",))
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*(?:[<>=!~]=?=?[A-Za-z0-9.*+!_\-]+,?)*")
_FLAG_OPTIONS = frozenset({"-U", "--upgrade"})
_INDEX_OPTIONS = frozenset({"--index-url", "-i", "--extra-index-url"})


@record
class Pin:
    package: str  # normalized name
    spec: str  # "" = any version
    text: str  # as the fix wrote it


@record
class Command:
    kind: str
    text: str  # the command as the rule wrote it (one command of an ``&&`` chain)
    pins: tuple[Pin, ...] = ()
    index_url: str | None = None  # --index-url (replaces PyPI) or --extra-index-url
    extra_index: bool = False


def read_fix(line: str) -> tuple[Command, ...]:
    """The commands of one fix line; a line that is only a comment is a note."""
    stripped = line.strip()
    if not stripped:
        return ()
    if stripped.startswith("#"):
        return (Command(NOTE, _note(stripped.lstrip("#").strip())),)
    try:
        tokens = shlex.split(stripped, comments=True)
    except ValueError:  # unbalanced quotes: not something to merge
        return (Command(STEP, stripped),)
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token == "&&":
            parts.append([])
        else:
            parts[-1].append(token)
    if _environment(parts):
        return (Command(ENVIRONMENT, stripped),)
    if len(parts) == 1:
        return (_command(tokens, stripped),)
    if any(_pip_args(p) is None for p in parts if p):
        return (Command(STEP, stripped),)
    return tuple(_command(p, shlex.join(p)) for p in parts if p)


def _environment(parts: list[list[str]]) -> bool:
    first = parts[0]
    return any(tuple(first[:len(start)]) == start for start in _ENV_STARTS) or (
        len(first) >= 3 and first[0].startswith("python") and first[1:3] == ["-m", "venv"])


def _note(text: str) -> str:
    """A rule's "do X, or:" before its command reads, out of place, as what it is."""
    if text.endswith("or:"):
        return "instead of the pip step: " + text[:-3].rstrip(" ,")
    if text.startswith("or:"):
        return "alternatively: " + text[3:].strip()
    return text


def _pip_args(tokens: list[str]) -> list[str] | None:
    if tokens[:1] in (["pip"], ["pip3"]):
        return tokens[1:]
    if len(tokens) >= 3 and tokens[0].startswith("python") and tokens[1:3] == ["-m", "pip"]:
        return tokens[3:]
    return None


def _command(tokens: list[str], text: str) -> Command:
    args = _pip_args(tokens)
    if args is None or not args:
        return Command(STEP, text)
    if args[0] == "uninstall":
        return Command(UNINSTALL, text)
    if args[0] != "install":
        return Command(PIP_OTHER, text)
    pins: list[Pin] = []
    index: str | None = None
    extra = False
    rest = iter(args[1:])
    for token in rest:
        if token in _FLAG_OPTIONS:
            continue
        if token in _INDEX_OPTIONS or token.startswith(("--index-url=", "--extra-index-url=")):
            value = token.partition("=")[2] if "=" in token else next(rest, "")
            if not value or index is not None:
                return Command(PIP_OTHER, text)
            index, extra = value, token.startswith("--extra")
            continue
        if token.startswith("-"):
            return Command(PIP_OTHER, text)
        parsed = split(token) if _plain(token) else None
        if parsed is None:
            return Command(PIP_OTHER, text)
        pins.append(Pin(parsed[0], parsed[1], token))
    if not pins:
        return Command(PIP_OTHER, text)
    return Command(INSTALL, text, tuple(pins), index, extra)


def _plain(token: str) -> bool:
    """A name with a version specifier, in characters no shell treats specially: no extras,
    URL, marker, path, placeholder or quote."""
    return _SAFE.fullmatch(token) is not None and not token.endswith((".whl", ".zip", ".gz"))
