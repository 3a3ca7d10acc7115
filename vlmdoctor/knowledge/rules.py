"""Declarative rules (rules/checks/*.yaml): schema, loading and validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vlmdoctor.errors import RuleError
from vlmdoctor.knowledge import schema as s
from vlmdoctor.knowledge import vocabulary
from vlmdoctor.knowledge.conditions import Condition, compile_condition
from vlmdoctor.knowledge.templates import check_template
from vlmdoctor.record import record
from vlmdoctor.yamlio import load_yaml

RULE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RULE = s.Record({
    "id": s.req(s.STR),
    "severity": s.req(s.OneOf(("error", "warning", "info"))),
    "title": s.req(s.STR),
    "when": s.req(s.ANY),
    "message": s.req(s.STR),
    "fix": s.opt(s.ListOf(s.STR), ()),
    "references": s.req(s.ListOf(s.STR, min_items=1)),
    "for_each": s.opt(s.Nullable(s.STR)),
    "severity_from_item": s.opt(s.BOOL, False),
    "tags": s.opt(s.ListOf(s.STR), ()),
})
RULE_FILE = s.Record({
    "schema_version": s.req(s.OneOf((1,))),
    "rules": s.req(s.ListOf(s.ANY, min_items=1)),
})


@record
class Rule:
    id: str
    severity: str
    title: str
    when: Condition
    message: str
    fix: tuple[str, ...]
    references: tuple[str, ...]
    for_each: str | None
    severity_from_item: bool
    tags: tuple[str, ...]
    file: str
    raw_when: Any = None

    @property
    def is_symptom(self) -> bool:
        """A failure-signature rule: it matches text given to `vlmdoctor explain`."""
        return "explain.text" in self.when.facts()


def parse_rule(raw: Any, file: str, path: str) -> Rule:
    data = RULE.check(raw, path)
    if not RULE_ID.match(data["id"]):
        raise s.SchemaError(s.join(path, "id"), f"rule id {data['id']!r} must be kebab-case")
    for_each = data["for_each"]
    if for_each is not None and vocabulary.kind_of(for_each) != "records":
        raise s.SchemaError(s.join(path, "for_each"), f"{for_each!r} is not a records fact")

    def known(name: str) -> str | None:
        if name.startswith("item."):
            if for_each is None:
                return f"placeholder {{{name}}} needs for_each"
            keys = vocabulary.RECORD_KEYS
            return None if name[5:] in keys else f"unknown item key {name[5:]!r}"
        if vocabulary.lookup(name) is None:
            plain = vocabulary.plain_names()
            return f"unknown fact {name!r} in placeholder{s.did_you_mean(name, plain)}"
        return None

    for key in ("title", "message"):
        check_template(data[key], s.join(path, key), known)
    for key in ("fix", "references"):
        for i, line in enumerate(data[key]):
            check_template(line, s.join(s.join(path, key), i), known)
    when = compile_condition(data["when"], s.join(path, "when"))
    return Rule(
        id=data["id"], severity=data["severity"], title=data["title"], when=when,
        message=" ".join(data["message"].split()), fix=data["fix"],
        references=data["references"], for_each=for_each,
        severity_from_item=data["severity_from_item"], tags=data["tags"], file=file,
        raw_when=data["when"],
    )


def load_rules(directory: Path, display_root: Path | None = None) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        shown = str(path.relative_to(display_root)) if display_root else str(path)
        raw = load_yaml(path, shown)
        try:
            top = RULE_FILE.check(raw, "")
            for i, item in enumerate(top["rules"]):
                where = f"rules[{i}]"
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    where = f"rule {item['id']}"
                rule = _parse_at(item, shown, where)
                if rule.id in seen:
                    raise RuleError(shown, where, f"duplicate rule id (also in {seen[rule.id]})")
                seen[rule.id] = shown
                rules.append(rule)
        except s.SchemaError as exc:
            raise RuleError(shown, exc.path, exc.problem) from None
    return tuple(rules)


def _parse_at(item: Any, file: str, where: str) -> Rule:
    try:
        return parse_rule(item, file, "")
    except s.SchemaError as exc:
        raise s.SchemaError(f"{where}: {exc.path}" if exc.path else where, exc.problem) from None
