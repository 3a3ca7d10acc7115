"""Regular expressions over pasted logs and error text: linear-time by construction.

A failure pattern is checked when it loads: every repeat is bounded (``{m,n}`` with
``n <= MAX_REPEAT``; no ``*``, ``+`` or ``{m,}``), no repeat contains another and there are
no backreferences, so the work per start position is bounded by the pattern's own width
and a search is linear in the text, however long its lines. Patterns are compiled with
``re.MULTILINE``: ``^`` and ``$`` mean a line.
"""

from __future__ import annotations

import re
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from vlmdoctor.knowledge.schema import SchemaError

MAX_REPEAT = 200
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)}


def unbounded_problem(pattern: str) -> str | None:
    """Why ``pattern`` could take more than linear time, or None when it cannot."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    return _walk(list(parsed), inside_repeat=False)


def _walk(items: list[Any], inside_repeat: bool) -> str | None:
    for op, arg in items:
        if op in _REPEATS:
            _low, high, body = arg
            if high == sre_parse.MAXREPEAT or high > MAX_REPEAT:
                return f"unbounded repeat (write {{0,N}} with N <= {MAX_REPEAT}, not * or +)"
            if inside_repeat:
                return "a repeat inside a repeat (nested quantifiers can backtrack)"
            problem = _walk(list(body), inside_repeat=True)
        elif op == sre_parse.SUBPATTERN:
            problem = _walk(list(arg[-1]), inside_repeat)
        elif op == sre_parse.BRANCH:
            problem = next((p for b in arg[1] if (p := _walk(list(b), inside_repeat))), None)
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            problem = _walk(list(arg[1]), inside_repeat)
        elif op == sre_parse.GROUPREF or op == getattr(sre_parse, "GROUPREF_EXISTS", None):
            problem = "backreferences are not allowed"
        else:
            problem = None
        if problem:
            return problem
    return None


def compile_linear(raw: Any, path: str) -> re.Pattern[str]:
    """A failure pattern, compiled; a SchemaError when it is not one."""
    if not isinstance(raw, str) or not raw:
        raise SchemaError(path, f"expected a regular expression string, got {raw!r}")
    problem = unbounded_problem(raw)
    if problem:
        raise SchemaError(path, f"{problem}: {raw!r}")
    return re.compile(raw, re.MULTILINE)


def search(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.search(text) is not None


def search_any(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    return any(p.search(text) is not None for p in patterns)
