"""Rule conditions: a closed set of operators, compiled and checked at load time.

This module only parses and validates: a condition is plain data (``Logic`` and ``Test``
nodes) whose fact names are checked against the knowledge layer's vocabulary.
``vlmdoctor.evaluate.conditions`` evaluates it, three-valued (True, False, or None when
a fact is unknown; a rule fires only on True).
"""

from __future__ import annotations

import re
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from vlmdoctor.knowledge import vocabulary
from vlmdoctor.knowledge.patterns import compile_linear
from vlmdoctor.knowledge.schema import SchemaError, did_you_mean, join
from vlmdoctor.record import record

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
OPERATORS = ("all", "any", "not", "present", "absent", "equals", "in", "matches",
             "version", "compare", "count", "symptom")


class Condition:
    def facts(self) -> list[str]:
        return []


@record
class Ref:
    """An operand: a literal, or the value of another fact (``{fact: name}``)."""

    literal: Any = None
    fact: str | None = None


@record
class Logic(Condition):
    op: str
    parts: tuple[Condition, ...]

    def facts(self) -> list[str]:
        return [f for p in self.parts for f in p.facts()]


@record
class Test(Condition):
    """One operator on one fact. ``value`` is the operator's literal argument (the
    expected value, the list for ``in``, the compiled pattern, or the comparison for
    ``compare``/``count``); ``other`` the operand that may name another fact; ``kind`` the
    fact's kind."""

    op: str
    fact: str
    value: Any = None
    other: Ref | None = None
    kind: str = ""

    def facts(self) -> list[str]:
        names = [self.fact]
        if self.other is not None and self.other.fact:
            names.append(self.other.fact)
        return names


def compile_condition(raw: Any, path: str) -> Condition:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise SchemaError(path, "a condition is a mapping with exactly one operator")
    (op, arg), = raw.items()
    where = join(path, str(op))
    if op not in OPERATORS:
        raise SchemaError(where, f"unknown operator {op!r}{did_you_mean(str(op), OPERATORS)}")
    if op in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise SchemaError(where, f"'{op}' takes a non-empty list of conditions")
        return Logic(op, tuple(compile_condition(c, join(where, i)) for i, c in enumerate(arg)))
    if op == "not":
        return Logic("not", (compile_condition(arg, where),))
    if op in ("present", "absent"):
        return Test(op, arg, kind=_fact_kind(arg, where))
    if op == "symptom":
        return Test(op, "explain.text", compile_linear(arg, where), kind="text")
    return _compile_test(op, arg, where)


def _compile_test(op: str, arg: Any, where: str) -> Condition:
    fields = {"equals": ("fact", "value"), "in": ("fact", "values"), "matches": ("fact", "regex"),
              "version": ("fact", "spec"), "compare": ("fact", "op", "value"),
              "count": ("fact", "op", "value")}[op]
    if not isinstance(arg, dict) or set(arg) != set(fields):
        raise SchemaError(where, f"'{op}' takes the keys {', '.join(fields)}")
    name = arg["fact"]
    kind = _fact_kind(name, join(where, "fact"))
    if op == "equals":
        return Test(op, name, arg["value"], kind=kind)
    if op == "in":
        values = arg["values"]
        if not isinstance(values, list):
            raise SchemaError(join(where, "values"), "expected a list")
        return Test(op, name, tuple(values), kind=kind)
    if op == "matches":
        return Test(op, name, _regex(arg["regex"], join(where, "regex")), kind=kind)
    if op == "version":
        if kind != "version":
            raise SchemaError(join(where, "fact"), f"'version' needs a version fact; {name!r} is {kind}")
        return Test(op, name, other=_operand(arg["spec"], join(where, "spec"), "spec"), kind=kind)
    if arg["op"] not in COMPARISONS:
        raise SchemaError(join(where, "op"), f"unknown comparison {arg['op']!r}; use one of {' '.join(COMPARISONS)}")
    if op == "count":
        if kind not in ("list", "records"):
            raise SchemaError(join(where, "fact"), f"'count' needs a list fact; {name!r} is {kind}")
        return Test(op, name, arg["op"], _operand(arg["value"], join(where, "value"), "number"), kind)
    if kind not in ("version", "number"):
        raise SchemaError(join(where, "fact"), f"'compare' needs a version or number fact; {name!r} is {kind}")
    return Test(op, name, arg["op"], _operand(arg["value"], join(where, "value"), kind), kind)


def _operand(raw: Any, path: str, kind: str) -> Ref:
    if isinstance(raw, dict):
        if set(raw) != {"fact"}:
            raise SchemaError(path, "a fact operand is {fact: name}")
        _fact_kind(raw["fact"], join(path, "fact"))
        return Ref(fact=raw["fact"])
    if kind == "spec":
        try:
            SpecifierSet(str(raw))
        except InvalidSpecifier:
            raise SchemaError(path, f"unparsable version specifier {raw!r}") from None
    elif kind == "version":
        try:
            Version(str(raw))
        except InvalidVersion:
            raise SchemaError(path, f"unparsable version {raw!r}") from None
    elif kind == "number" and (not isinstance(raw, (int, float)) or isinstance(raw, bool)):
        raise SchemaError(path, f"expected a number, got {raw!r}")
    return Ref(literal=raw)


def _fact_kind(name: Any, path: str) -> str:
    if not isinstance(name, str):
        raise SchemaError(path, f"expected a fact name, got {name!r}")
    kind = vocabulary.kind_of(name)
    if kind is None:
        plain = vocabulary.plain_names()
        raise SchemaError(path, f"unknown fact {name!r}{did_you_mean(name, plain)}")
    return kind


def _regex(raw: Any, path: str) -> re.Pattern[str]:
    if not isinstance(raw, str):
        raise SchemaError(path, f"expected a regular expression string, got {raw!r}")
    try:
        return re.compile(raw)
    except re.error as exc:
        raise SchemaError(path, f"invalid regular expression: {exc}") from None
