"""Every rule has a positive and a negative fixture, and each fires exactly as claimed."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
import yaml

from tests.conftest import FIXTURES, make_knowledge, snapshot
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.modelcode.scan import scan_dir
from vlmdoctor.report import Finding, summarize
from vlmdoctor.target import ResolvedModel, replay, resolve

RULE_FIXTURES = FIXTURES / "rules"
KNOWLEDGE = make_knowledge()
RULE_IDS = sorted(r.id for r in KNOWLEDGE.rules)


def _cases(kind: str) -> list[Any]:
    out = []
    for path in sorted(RULE_FIXTURES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for case in data.get(kind, []):
            out.append(pytest.param(path.stem, case, id=f"{path.stem}:{case['name']}"))
    return out


def _model(case: dict[str, Any]) -> ResolvedModel | None:
    """``model``: a catalogue name; ``unknown_model``: a name nothing knows; ``model_dir``:
    a model directory under fixtures/modelfiles/ (its files read like --model DIR)."""
    if case.get("model_dir"):
        return resolve(KNOWLEDGE.catalogue, str(FIXTURES / "modelfiles" / case["model_dir"]))
    if case.get("unknown_model"):
        return replay(KNOWLEDGE.catalogue, {"model": case["unknown_model"]}, "fixture")
    if case.get("model"):
        return ResolvedModel(case["model"], KNOWLEDGE.catalogue.resolve(case["model"]))
    return None


def _code(case: dict[str, Any], model: ResolvedModel | None) -> tuple[Any, ...]:
    """``code``: directories under fixtures/modelcode/ scanned as the model's code; without
    it, the code of the model directory itself, as `check --model DIR` reads it."""
    if "code" in case:
        return tuple(scan_dir(FIXTURES / "modelcode" / d) for d in case["code"])
    return tuple(model.code) if model is not None else ()


def _fired(case: dict[str, Any]) -> list[tuple[str, str]]:
    """(rule id, severity) of every finding the case's environment raises.

    ``broken_index: torch``: the torch release index cannot be read in this case."""
    if case.get("broken_index") == "torch":
        from vlmdoctor.errors import InputError

        def broken(path: Any = None) -> Any:
            raise InputError("rules/data/torch-index.json.gz: the torch index is missing")

        with mock.patch("vlmdoctor.torchindex.index.load_index", broken):
            return _fired({k: v for k, v in case.items() if k != "broken_index"})
    model = _model(case)
    ctx = Context(snapshot=snapshot(case["base"], case.get("patch")), tables=KNOWLEDGE.tables,
                  card=model.card if model else None, dtype=case.get("dtype", "auto"),
                  text=case.get("text"), model=model,
                  code=_code(case, model))
    return [(f.id, f.severity) for f in evaluate(KNOWLEDGE.rules, ctx)]


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    missing = []
    for rule_id in RULE_IDS:
        path = RULE_FIXTURES / f"{rule_id}.yaml"
        data = yaml.safe_load(path.read_text()) if path.exists() else {}
        if not data.get("positive") or not data.get("negative"):
            missing.append(rule_id)
    assert missing == []


def test_no_fixture_without_a_rule() -> None:
    orphans = sorted(p.stem for p in RULE_FIXTURES.glob("*.yaml") if p.stem not in RULE_IDS)
    assert orphans == []


@pytest.mark.parametrize(("rule_id", "case"), _cases("positive"))
def test_positive_fixture_fires_with_its_severity(rule_id: str, case: dict[str, Any]) -> None:
    """The severity is the fixture's claim (scripts/pin_fixture_severities.py writes it for a
    new fixture): a rule whose severity drifts fails here, and so does its exit code."""
    fired = _fired(case)
    assert {sev for rid, sev in fired if rid == rule_id} == {case["severity"]}
    if case["severity"] == "error":  # an error finding fails the gate (exit 1)
        assert summarize(tuple(Finding(rid, sev, "", "") for rid, sev in fired), "error").exit_code == 1


@pytest.mark.parametrize(("rule_id", "case"), _cases("negative"))
def test_negative_fixture_does_not_fire(rule_id: str, case: dict[str, Any]) -> None:
    assert rule_id not in {rid for rid, _ in _fired(case)}


def test_every_positive_fixture_states_its_severity() -> None:
    unstated = [f"{rule_id}: {case['name']}" for rule_id, case in
                (p.values for p in _cases("positive")) if case.get("severity") not in
                ("error", "warning", "info")]
    assert unstated == []


def test_every_rule_cites_a_source() -> None:
    for rule in KNOWLEDGE.rules:
        assert rule.references, rule.id
        assert all(r.startswith(("https://", "{item.")) for r in rule.references), rule.id
