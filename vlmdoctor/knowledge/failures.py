"""The failure table (rules/failures.yaml): one list of error signatures for the probe
and for `vlmdoctor explain`.

Each signature names the error text it recognises (linear-time patterns, see
``patterns``), examples it must and must not match, and what each consumer says:
``kind`` classifies a probe failure (finding ``probe-<kind>``; the first signature of a
kind with ``probe`` text speaks for the kind) and ``explain`` is the explain rule
(finding ``symptom-…``) that fires on the same patterns. ``outcomes`` are the probe
findings that come from how its child ended, not from its text. Order matters: the
probe takes the first matching signature, so specific ones come first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vlmdoctor.errors import RuleError
from vlmdoctor.knowledge import schema as s
from vlmdoctor.knowledge.patterns import compile_linear, search_any
from vlmdoctor.knowledge.rules import RULE_ID, Rule, parse_rule
from vlmdoctor.record import record
from vlmdoctor.yamlio import load_yaml

_TEXT = s.Record({
    "severity": s.opt(s.OneOf(("error", "warning", "info")), "error"),
    "title": s.req(s.STR),
    "why": s.req(s.STR),
    "fix": s.opt(s.ListOf(s.STR), ()),
    "references": s.opt(s.ListOf(s.STR), ()),
})
_SIGNATURE = s.Record({
    "id": s.req(s.STR),
    "kind": s.opt(s.Nullable(s.STR)),
    "patterns": s.req(s.ListOf(s.STR, min_items=1)),
    "examples": s.req(s.Record({"match": s.req(s.ListOf(s.STR, min_items=1)),
                                "no_match": s.req(s.ListOf(s.STR, min_items=1))})),
    "probe": s.opt(s.Nullable(s.ANY)),
    "explain": s.opt(s.Nullable(s.ANY)),
})
_FILE = s.Record({
    "schema_version": s.req(s.OneOf((1,))),
    "signatures": s.req(s.ListOf(s.ANY, min_items=1)),
    "outcomes": s.req(s.ListOf(s.ANY, min_items=1)),
})


@record
class Signature:
    """What the probe says about one kind of failure (and the text that identifies it)."""

    kind: str
    severity: str
    title: str
    why: str
    fix: tuple[str, ...]
    references: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...] = ()
    id: str = ""

    def matches(self, text: str) -> bool:
        return bool(self.patterns) and search_any(self.patterns, text)


@record
class Failure:
    """One row of the table: its patterns, examples, and each consumer's finding."""

    id: str
    kind: str | None
    patterns: tuple[re.Pattern[str], ...]
    match: tuple[str, ...]
    no_match: tuple[str, ...]
    probe: Signature | None
    explain: Rule | None

    def matches(self, text: str) -> bool:
        return search_any(self.patterns, text)


@record
class FailureTable:
    failures: tuple[Failure, ...]
    outcomes: tuple[Signature, ...]

    def probe_signatures(self) -> tuple[Signature, ...]:
        """Every classifying row, in order, each with its kind's text where it has none."""
        default = {}
        for f in self.failures:
            if f.kind and f.probe and f.kind not in default:
                default[f.kind] = f.probe
        return tuple(f.probe or _as(default[f.kind], f) for f in self.failures if f.kind)

    def patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """Every (row id, pattern): what a timing test iterates over."""
        return tuple((f.id, p) for f in self.failures for p in f.patterns)

    def explain_rules(self) -> tuple[Rule, ...]:
        return tuple(f.explain for f in self.failures if f.explain is not None)


def _as(base: Signature, row: Failure) -> Signature:
    return Signature(base.kind, base.severity, base.title, base.why, base.fix,
                     base.references, row.patterns, row.id)


def load_failures(path: Path, shown: str) -> FailureTable:
    try:
        return parse_failures(load_yaml(path, shown), shown)
    except s.SchemaError as exc:
        raise RuleError(shown, exc.path, exc.problem) from None


def parse_failures(raw: Any, shown: str) -> FailureTable:
    top = _FILE.check(raw, "")
    rows = tuple(_row(item, shown, f"signatures[{i}]") for i, item in enumerate(top["signatures"]))
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if row.id in seen:
            raise s.SchemaError(f"signatures[{i}].id", f"duplicate signature id {row.id!r}")
        seen.add(row.id)
    kinds = {r.kind for r in rows if r.kind}
    spoken = {r.kind for r in rows if r.kind and r.probe}
    if kinds - spoken:
        raise s.SchemaError("signatures", f"no probe text for kind {sorted(kinds - spoken)[0]!r}")
    outcomes = tuple(_text(o.get("kind") if isinstance(o, dict) else None,
                           {k: v for k, v in o.items() if k != "kind"} if isinstance(o, dict) else o,
                           f"outcomes[{i}]") for i, o in enumerate(top["outcomes"]))
    return FailureTable(rows, outcomes)


def _row(raw: Any, shown: str, path: str) -> Failure:
    data = _SIGNATURE.check(raw, path)
    if not RULE_ID.match(data["id"]):
        raise s.SchemaError(s.join(path, "id"), f"signature id {data['id']!r} must be kebab-case")
    patterns = tuple(compile_linear(p, s.join(s.join(path, "patterns"), i))
                     for i, p in enumerate(data["patterns"]))
    kind = data["kind"]
    probe = None
    if data["probe"] is not None:
        if not kind:
            raise s.SchemaError(s.join(path, "probe"), "probe text needs a kind")
        probe = _text(kind, data["probe"], s.join(path, "probe"), patterns, data["id"])
    explain = None
    if data["explain"] is not None:
        body = data["explain"]
        if not isinstance(body, dict) or "when" in body:
            raise s.SchemaError(s.join(path, "explain"), "a rule without 'when' (the patterns are its condition)")
        when = {"symptom": "|".join(f"(?:{p})" for p in data["patterns"])}
        explain = parse_rule({**body, "when": when}, shown, s.join(path, "explain"))
    return Failure(data["id"], kind, patterns, data["examples"]["match"],
                   data["examples"]["no_match"], probe, explain)


def _text(kind: Any, raw: Any, path: str, patterns: tuple[re.Pattern[str], ...] = (),
          row_id: str = "") -> Signature:
    if not isinstance(kind, str) or not RULE_ID.match(kind):
        raise s.SchemaError(s.join(path, "kind"), f"a probe kind is kebab-case, got {kind!r}")
    data = _TEXT.check(raw, path)
    return Signature(kind, data["severity"], data["title"], " ".join(data["why"].split()),
                     data["fix"], data["references"], patterns, row_id)
