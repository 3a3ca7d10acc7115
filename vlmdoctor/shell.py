"""Values put into fix commands, quoted so that nothing from a report or a file can run.

Fix commands are meant to be copied into a shell. Their values come from reports, model
files and package metadata, which anyone can write, so every value is quoted for the spot
it lands in: a plain word (``shlex.quote``: ordinary values stay as they are), inside
``'...'``, inside ``"..."``, or in a trailing ``# comment`` (where only a line break could
escape). Line breaks never survive in a value.
"""

from __future__ import annotations

import re
import shlex
from typing import Callable

from vlmdoctor.knowledge.templates import PLACEHOLDER

_BREAKS = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_DOUBLE = re.compile(r'(["\\$`])')


def one_line(value: str) -> str:
    return _BREAKS.sub(" ", value)


def word(value: object) -> str:
    """A value as one shell word (unchanged when it needs no quotes)."""
    return shlex.quote(one_line(str(value)))


def arg(value: object) -> str:
    """A value always in single quotes (``'torch==2.5.1'``), whatever it holds."""
    return "'" + in_single(str(value)) + "'"


def in_single(value: str) -> str:
    return one_line(value).replace("'", "'\"'\"'")


def _quoted(state: str, value: str) -> str:
    if state == "single":
        return in_single(value)
    if state == "double":
        return _DOUBLE.sub(r"\\\1", one_line(value))
    if state == "comment":
        return one_line(value)
    return word(value)


def fill_command(line: str, value: Callable[[str], str]) -> str:
    """``line`` with each ``{placeholder}`` replaced by ``value(name)``, quoted for where it
    stands (plain, single quotes, double quotes, comment)."""
    out: list[str] = []
    state, i = "plain", 0
    while i < len(line):
        char = line[i]
        found = PLACEHOLDER.match(line, i) if char == "{" else None
        if found is not None:
            out.append(_quoted(state, value(found.group(1))))
            i = found.end()
            continue
        if char == "\\" and state in ("plain", "double"):
            out.append(line[i:i + 2])
            i += 2
            continue
        if state == "plain":
            if char in "'\"":
                state = "single" if char == "'" else "double"
            elif char == "#" and (i == 0 or line[i - 1].isspace()):
                state = "comment"
        elif (state, char) in (("single", "'"), ("double", '"')):
            state = "plain"
        out.append(char)
        i += 1
    return "".join(out)
