"""The failure table (rules/failures.yaml): every row's examples match it and only it, the
probe and explain read the same rows, and every pattern is linear-time by construction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, make_knowledge, snapshot
from vlmdoctor.errors import RuleError
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.knowledge.failures import Failure, parse_failures
from vlmdoctor.knowledge.patterns import compile_linear, search, unbounded_problem
from vlmdoctor.probe.signatures import classify, table

KNOWLEDGE = make_knowledge()
assert KNOWLEDGE.failures is not None
ROWS = KNOWLEDGE.failures.failures


def _examples(key: str) -> list[Any]:
    return [pytest.param(row, text, id=f"{row.id}:{i}")
            for row in ROWS for i, text in enumerate(getattr(row, key))]


def test_every_row_has_positive_and_negative_examples() -> None:
    assert [r.id for r in ROWS if not r.match or not r.no_match] == []
    assert len({r.id for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize(("row", "text"), _examples("match"))
def test_positive_example_is_classified_as_its_row(row: Failure, text: str) -> None:
    assert row.matches(text)
    if row.kind:  # no earlier (more general) row steals it from the probe
        assert (classify(text).id, classify(text).kind) == (row.id, row.kind)
    if row.explain:
        ctx = Context(snapshot=snapshot("a100-cu124"), tables=KNOWLEDGE.tables, text=text)
        assert row.explain.id in [f.id for f in evaluate(KNOWLEDGE.rules, ctx)]


@pytest.mark.parametrize(("row", "text"), _examples("no_match"))
def test_negative_example_does_not_match_its_row(row: Failure, text: str) -> None:
    assert not row.matches(text)
    if row.explain:
        ctx = Context(snapshot=snapshot("a100-cu124"), tables=KNOWLEDGE.tables, text=text)
        assert row.explain.id not in [f.id for f in evaluate(KNOWLEDGE.rules, ctx)]


def test_the_probe_and_explain_read_the_same_table() -> None:
    assert table() == KNOWLEDGE.failures
    # every curated symptom comes from the table; the one other answers from the release indexes
    symptom_ids = sorted(r.id for r in KNOWLEDGE.rules
                         if r.is_symptom and r.for_each != "explain.index_answers")
    assert symptom_ids == sorted(r.explain.id for r in ROWS if r.explain)
    assert [r.id for r in KNOWLEDGE.rules if r.for_each == "explain.index_answers"] == [
        "symptom-release-index"]
    assert not (ROOT / "rules" / "checks" / "symptoms.yaml").exists()


def test_attribute_errors_are_not_api_mismatches_unless_transformers_owns_the_object() -> None:
    assert classify("AttributeError: 'NoneType' object has no attribute 'generate'").kind == "failed"
    assert classify("AttributeError: 'NoneType' object has no attribute 'shape'").kind == "failed"
    assert classify("AttributeError: 'InternLM2ForCausalLM' object has no attribute 'generate'"
                    ).id == "internlm2-generate"
    assert classify("AttributeError: 'InternLM2ForCausalLM' object has no attribute 'chat'"
                    ).id == "api-mismatch"


def test_every_pattern_is_linear_by_construction() -> None:
    assert KNOWLEDGE.failures is not None
    pairs = KNOWLEDGE.failures.patterns()
    assert len(pairs) >= len(ROWS)
    assert [(rid, p.pattern) for rid, p in pairs if unbounded_problem(p.pattern)] == []


@pytest.mark.parametrize(("pattern", "problem"), [
    ("undefined symbol.*flash_attn", "unbounded repeat"),
    ("\\S+\\.so: cannot open", "unbounded repeat"),
    ("(a{0,9}){0,9}", "a repeat inside a repeat"),
    ("(x)\\1", "backreferences are not allowed"),
    ("a{0,100000}", "unbounded repeat"),
])
def test_a_backtracking_pattern_is_refused_at_load(tmp_path: Path, pattern: str, problem: str) -> None:
    raw = yaml.safe_load((ROOT / "rules" / "failures.yaml").read_text())
    raw["signatures"][0]["patterns"] = [pattern]
    root = tmp_path / "rules"
    (root / "checks").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "cuda.yaml").write_text((ROOT / "rules" / "data" / "cuda.yaml").read_text())
    (root / "failures.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(RuleError) as err:
        load_knowledge(root)
    assert str(err.value).startswith("rules/failures.yaml: signatures[0].patterns[0]: " + problem)


def test_anchors_mean_a_line() -> None:
    pattern = compile_linear("^CheckFailed: ", "p")
    assert search(pattern, "Traceback\nCheckFailed: x")
    assert not search(pattern, "Traceback: CheckFailed: x")


def test_a_row_without_probe_text_for_its_kind_is_refused() -> None:
    raw = {"schema_version": 1, "outcomes": [{"kind": "failed", "title": "t", "why": "w"}],
           "signatures": [{"id": "x", "kind": "new-kind", "patterns": ["x"],
                           "examples": {"match": ["x"], "no_match": ["y"]}}]}
    from vlmdoctor.knowledge.schema import SchemaError
    with pytest.raises(SchemaError, match="no probe text for kind 'new-kind'"):
        parse_failures(raw, "f.yaml")


def test_every_pattern_is_exercised_by_a_match_example() -> None:
    """A pattern no example needs could be deleted without a test noticing (an
    alternative of a row is a claim about an error text too)."""
    idle = [(row.id, p.pattern) for row in ROWS for p in row.patterns
            if not any(p.search(line) for example in row.match for line in example.splitlines())]
    assert idle == []
