"""Every card's transformers windows hold at both sides of every bound (issue 19 §2): the
release that must fail the gate fires `model-transformers-version` as an error, the
release beside it does not. The expectations are literal (window_bounds.yaml), so a bound
moved in rules/models fails here, whatever the rule machinery does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import snapshot
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.target import ResolvedModel

KNOWLEDGE = load_knowledge()
BOUNDS: dict[str, list[list[Any]]] = yaml.safe_load(
    (Path(__file__).parent / "window_bounds.yaml").read_text())
CARDS = {c.id: c for c in KNOWLEDGE.catalogue.cards}


def _errors(card_id: str, transformers: str) -> list[str]:
    card = CARDS[card_id]
    needed = {r.package: "99.0" for r in card.requirements.packages
              if r.package != "transformers" and r.severity == "error"}
    snap = snapshot("a100-cu124", {"packages": {"transformers": transformers, **needed}})
    ctx = Context(snapshot=snap, tables=KNOWLEDGE.tables, card=card, dtype="auto",
                  model=ResolvedModel(card_id, card))
    return [f.id for f in evaluate(KNOWLEDGE.rules, ctx) if f.severity == "error"]


@pytest.mark.parametrize(("card_id", "version", "outcome"), [
    pytest.param(card_id, version, outcome, id=f"{card_id}@{version}")
    for card_id, cases in sorted(BOUNDS.items()) for version, outcome in cases])
def test_each_bound_of_each_window(card_id: str, version: str, outcome: str) -> None:
    fired = "model-transformers-version" in _errors(card_id, version)
    assert fired is (outcome == "fires")


def test_every_card_with_a_window_has_its_bounds() -> None:
    windowed = {c.id for c in CARDS.values() if any(
        r.package == "transformers" and r.severity == "error" for r in c.requirements.packages)}
    assert sorted(windowed - set(BOUNDS)) == []
    assert sorted(set(BOUNDS) - set(CARDS)) == []
