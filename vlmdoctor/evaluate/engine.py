"""Run every rule against a context; produce sorted, deterministic findings."""

from __future__ import annotations

from typing import Any, Iterable

from vlmdoctor.evaluate.conditions import holds
from vlmdoctor.evaluate.context import UNKNOWN, Context
from vlmdoctor.evaluate.facts import value_of
from vlmdoctor.evaluate.templates import fill, fill_lines
from vlmdoctor.knowledge.rules import Rule
from vlmdoctor.knowledge.templates import placeholders
from vlmdoctor.report import Finding

_NOT_EVIDENCE = {"explain.text"}


def evaluate(rules: Iterable[Rule], ctx: Context) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for rule in rules:
        if holds(rule.when, ctx) is not True:
            continue
        if rule.for_each is None:
            findings.append(_finding(rule, ctx, None))
            continue
        items = value_of(ctx, rule.for_each)
        for item in items if isinstance(items, list) else []:
            findings.append(_finding(rule, ctx, item))
    return tuple(sorted(findings, key=Finding.sort_key))


def _finding(rule: Rule, ctx: Context, item: dict[str, Any] | None) -> Finding:
    cache: dict[str, Any] = {}

    def resolve(name: str) -> Any:
        if name.startswith("item.") and item is not None:
            return item.get(name[5:])
        if name not in cache:
            cache[name] = value_of(ctx, name)
        return cache[name]

    evidence: dict[str, Any] = {}
    names = rule.when.facts() + [p for t in (rule.title, rule.message) for p in placeholders(t)]
    for name in names:
        if name in _NOT_EVIDENCE or name.startswith("item.") or name in evidence:
            continue
        value = resolve(name)
        is_records = isinstance(value, list) and any(isinstance(v, dict) for v in value)
        if value is not UNKNOWN and not is_records:
            evidence[name] = value
    if item is not None and "package" in item:
        evidence[f"{rule.for_each}.package"] = item.get("package")
        evidence[f"packages.{item.get('package')}"] = item.get("found")
    elif item is not None:
        evidence.update({f"{rule.for_each}.{k}": item[k] for k in ("where", "why") if k in item})
    severity = rule.severity
    if rule.severity_from_item and item is not None and item.get("severity"):
        severity = str(item["severity"])
    return Finding(
        id=rule.id,
        severity=severity,
        title=fill(rule.title, resolve),
        message=fill(rule.message, resolve),
        fix=fill_lines(rule.fix, resolve, shell=True),
        references=fill_lines(rule.references, resolve),
        evidence=dict(sorted(evidence.items())),
    )
