"""Evaluate a compiled rule condition against a context, three-valued.

True, False, or None when a fact is unknown: a rule fires only on True, so a report that
lacks a section never raises false alarms.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts import value_of
from vlmdoctor.knowledge.conditions import Condition, Logic, Ref, Test
from vlmdoctor.knowledge.patterns import search

COMPARE_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def holds(cond: Condition, ctx: Context) -> bool | None:
    if isinstance(cond, Logic):
        results = [holds(p, ctx) for p in cond.parts]
        if cond.op == "not":
            return None if results[0] is None else not results[0]
        decisive = cond.op == "any"  # any: True decides; all: False decides
        if decisive in results:
            return decisive
        return None if None in results else not decisive
    assert isinstance(cond, Test)
    return _test(cond, ctx)


def _get(ref: Ref, ctx: Context) -> Any:
    return value_of(ctx, ref.fact) if ref.fact else ref.literal


def _test(t: Test, ctx: Context) -> bool | None:
    value = value_of(ctx, t.fact)
    if value is UNKNOWN:
        return None
    if t.op in ("present", "absent"):
        present = value is not None and value != []
        return present if t.op == "present" else not present
    other = _get(t.other, ctx) if t.other is not None else None
    if other is UNKNOWN:
        return None
    if value is None:
        return False
    if t.op == "equals":
        return bool(value == t.value)
    if t.op == "in":
        return value in t.value
    if t.op == "matches":
        return any(t.value.search(str(x)) for x in _items(value))
    if t.op == "symptom":
        return search(t.value, str(value))
    if t.op == "version":
        return _satisfies(value, other)
    if t.op == "count":
        return COMPARE_OPS[t.value](len(value), other)
    convert = _as_version if t.kind == "version" else float
    return _compare(COMPARE_OPS[t.value], convert, value, other)


def _compare(cmp: Callable[[Any, Any], bool], convert: Callable[[Any], Any], a: Any,
             b: Any) -> bool | None:
    """Unknown (None) when either side cannot be read as a version or number."""
    if b is None:
        return False
    try:
        return cmp(convert(a), convert(b))
    except (InvalidVersion, ValueError, TypeError, OverflowError):
        return None


def _as_version(value: Any) -> Version:
    return Version(str(value))


def _satisfies(value: Any, spec: Any) -> bool | None:
    """Unknown (None) for a version packaging cannot parse: it neither meets nor misses."""
    if spec is None:
        return False
    try:
        version = Version(str(value))
        return SpecifierSet(str(spec)).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return None


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]
