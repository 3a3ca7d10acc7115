"""Fill ``{fact.name}`` placeholders in rule text with this context's values.

A line that is exactly one placeholder of a list value expands to one line per element
(used for fix and references); a line whose placeholders are all empty is dropped.
"""

from __future__ import annotations

from typing import Any, Callable

from vlmdoctor.evaluate.context import UNKNOWN
from vlmdoctor.knowledge.templates import PLACEHOLDER, placeholders
from vlmdoctor.shell import fill_command


def show(value: Any) -> str:
    if value is UNKNOWN:
        return "unknown"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value) if value else "none"
    return str(value)


def fill(text: str, resolve: Callable[[str], Any]) -> str:
    return PLACEHOLDER.sub(lambda m: show(resolve(m.group(1))), text)


def fill_lines(lines: tuple[str, ...], resolve: Callable[[str], Any],
               shell: bool = False) -> tuple[str, ...]:
    """Fill each line; drop a line whose placeholders are all empty or unknown.

    With ``shell`` (fix commands) a value inside a line is quoted for its spot in the
    command (``vlmdoctor.shell``); a line that is one placeholder is a command built, and
    quoted, by its fact."""
    out: list[str] = []
    for line in lines:
        names = placeholders(line)
        values = [resolve(n) for n in names]
        if names and all(v is None or v is UNKNOWN or v == [] for v in values):
            continue
        if len(names) == 1 and line == "{" + names[0] + "}" and isinstance(values[0], list):
            out.extend(str(v) for v in values[0])
            continue
        if shell and not (len(names) == 1 and line == "{" + names[0] + "}"):
            out.append(fill_command(line, lambda name: show(resolve(name))))
        else:
            out.append(fill(line, resolve))
    return tuple(dict.fromkeys(out))
