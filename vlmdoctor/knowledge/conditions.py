"""Rule conditions: a closed set of operators, compiled and checked at load time.

Evaluation is three-valued: True, False, or None when a fact is unknown. A rule
fires only on True, so a report that lacks a section never raises false alarms.
"""

from __future__ import annotations

import operator
import re
from typing import Any, Callable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.factset import FACTS, lookup, value_of
from vlmdoctor.knowledge.schema import SchemaError, did_you_mean, join
from vlmdoctor.record import record

COMPARE_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}
OPERATORS = ("all", "any", "not", "present", "absent", "equals", "in", "matches",
             "version", "compare", "count", "symptom")


class Condition:
    def evaluate(self, ctx: Context) -> bool | None:
        raise NotImplementedError

    def facts(self) -> list[str]:
        return []


@record
class Ref:
    """An operand: a literal, or the value of another fact (``{fact: name}``)."""

    literal: Any = None
    fact: str | None = None

    def get(self, ctx: Context) -> Any:
        return value_of(ctx, self.fact) if self.fact else self.literal


@record
class Logic(Condition):
    op: str
    parts: tuple[Condition, ...]

    def evaluate(self, ctx: Context) -> bool | None:
        results = [p.evaluate(ctx) for p in self.parts]
        if self.op == "not":
            return None if results[0] is None else not results[0]
        decisive = self.op == "any"  # any: True decides; all: False decides
        if decisive in results:
            return decisive
        return None if None in results else not decisive

    def facts(self) -> list[str]:
        return [f for p in self.parts for f in p.facts()]


@record
class Test(Condition):
    op: str
    fact: str
    check: Callable[[Any, Context], bool | None]  # None: the value cannot be judged
    other: Ref | None = None

    def evaluate(self, ctx: Context) -> bool | None:
        value = value_of(ctx, self.fact)
        if self.op in ("present", "absent"):
            if value is UNKNOWN:
                return None
            present = value is not None and value != []
            return present if self.op == "present" else not present
        if value is UNKNOWN:
            return None
        if self.other is not None and self.other.get(ctx) is UNKNOWN:
            return None
        if value is None:
            return False
        return self.check(value, ctx)

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
        _fact_kind(arg, where, None)
        return Test(op, arg, lambda v, c: True)
    if op == "symptom":
        pattern = _regex(arg, where)
        return Test(op, "explain.text", lambda v, c: bool(pattern.search(v)))
    return _compile_test(op, arg, where)


def _compile_test(op: str, arg: Any, where: str) -> Condition:
    fields = {"equals": ("fact", "value"), "in": ("fact", "values"), "matches": ("fact", "regex"),
              "version": ("fact", "spec"), "compare": ("fact", "op", "value"),
              "count": ("fact", "op", "value")}[op]
    if not isinstance(arg, dict) or set(arg) != set(fields):
        raise SchemaError(where, f"'{op}' takes the keys {', '.join(fields)}")
    name = arg["fact"]
    kind = _fact_kind(name, join(where, "fact"), None)
    if op == "equals":
        expected = arg["value"]
        return Test(op, name, lambda v, c: v == expected)
    if op == "in":
        values = arg["values"]
        if not isinstance(values, list):
            raise SchemaError(join(where, "values"), "expected a list")
        return Test(op, name, lambda v, c: v in values)
    if op == "matches":
        pattern = _regex(arg["regex"], join(where, "regex"))
        return Test(op, name, lambda v, c: any(pattern.search(str(x)) for x in _items(v)))
    if op == "version":
        if kind != "version":
            raise SchemaError(join(where, "fact"), f"'version' needs a version fact; {name!r} is {kind}")
        spec = _operand(arg["spec"], join(where, "spec"), "spec")
        return Test(op, name, lambda v, c: _satisfies(v, spec.get(c)), spec)
    comparator = COMPARE_OPS.get(arg["op"])
    if comparator is None:
        raise SchemaError(join(where, "op"), f"unknown comparison {arg['op']!r}; use one of {' '.join(COMPARE_OPS)}")
    if op == "count":
        if kind not in ("list", "records"):
            raise SchemaError(join(where, "fact"), f"'count' needs a list fact; {name!r} is {kind}")
        limit = _operand(arg["value"], join(where, "value"), "number")
        return Test(op, name, lambda v, c: comparator(len(v), limit.get(c)), limit)
    if kind not in ("version", "number"):
        raise SchemaError(join(where, "fact"), f"'compare' needs a version or number fact; {name!r} is {kind}")
    other = _operand(arg["value"], join(where, "value"), kind)
    convert = _as_version if kind == "version" else float
    return Test(op, name, lambda v, c: _compare(comparator, convert, v, other.get(c)), other)


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


def _operand(raw: Any, path: str, kind: str) -> Ref:
    if isinstance(raw, dict):
        if set(raw) != {"fact"}:
            raise SchemaError(path, "a fact operand is {fact: name}")
        _fact_kind(raw["fact"], join(path, "fact"), None)
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


def _fact_kind(name: Any, path: str, _: Any) -> str:
    if not isinstance(name, str):
        raise SchemaError(path, f"expected a fact name, got {name!r}")
    found = lookup(name)
    if found is None:
        plain = [n for n in FACTS if not n.endswith(".*")]
        raise SchemaError(path, f"unknown fact {name!r}{did_you_mean(name, plain)}")
    return found[0].kind


def _regex(raw: Any, path: str) -> re.Pattern[str]:
    if not isinstance(raw, str):
        raise SchemaError(path, f"expected a regular expression string, got {raw!r}")
    try:
        return re.compile(raw)
    except re.error as exc:
        raise SchemaError(path, f"invalid regular expression: {exc}") from None
