"""Every card's transformers windows hold at both sides of every bound (issue 19 §2): the
release that must fail the gate fires `model-transformers-version` as an error, the
release beside it does not. The expectations are literal (window_bounds.yaml), so a bound
moved in rules/models fails here, whatever the rule machinery does. The same for the cards'
Python windows (python_bounds.yaml, `model-python-version`).

Each bound is tested AT the bound's own release (yanked ones included: pip still installs
a pinned yanked release) and at the nearest final release on the other side (from the
committed release index), so moving a bound by one release fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.conftest import snapshot
from vlmdoctor.evaluate.context import Context
from vlmdoctor.evaluate.engine import evaluate
from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.target import ResolvedModel
from vlmdoctor.tfindex.index import load_index

KNOWLEDGE = load_knowledge()
BOUNDS: dict[str, list[list[Any]]] = yaml.safe_load(
    (Path(__file__).parent / "window_bounds.yaml").read_text())
PYTHON_BOUNDS: dict[str, list[list[Any]]] = yaml.safe_load(
    (Path(__file__).parent / "python_bounds.yaml").read_text())
CARDS = {c.id: c for c in KNOWLEDGE.catalogue.cards}


def _errors(card_id: str, transformers: str) -> list[str]:
    card = CARDS[card_id]
    needed = {r.package: "99.0" for r in card.requirements.packages
              if r.package != "transformers" and r.severity == "error"}
    return _card_errors(card_id, {"packages": {"transformers": transformers, **needed}})


def _card_errors(card_id: str, patch: dict[str, object]) -> list[str]:
    """The error findings of one card on the a100-cu124 environment patched by ``patch``."""
    card = CARDS[card_id]
    ctx = Context(snapshot=snapshot("a100-cu124", patch), tables=KNOWLEDGE.tables, card=card,
                  dtype="auto", model=ResolvedModel(card_id, card))
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


def _needed(spec: str, releases: list[Version]) -> list[tuple[str, Version]]:
    """(bound, version) pairs a window's cases must include: the bound itself and the
    nearest release on the other side of it (both sides of an == or != pin)."""
    out: list[tuple[str, Version]] = []
    for clause in SpecifierSet(spec):
        at = Version(clause.version)
        if at == Version("0"):  # ">=0": presence, not a window
            continue
        below = max((r for r in releases if r < at), default=None)
        above = min((r for r in releases if r > at), default=None)
        sides = {"<": [below], ">=": [below], "<=": [above], ">": [above],
                 "==": [below, above], "!=": [below, above]}[clause.operator]
        out += [(str(clause), v) for v in (at, *sides) if v is not None]
    return out


def test_every_transformers_bound_is_tested_on_both_sides() -> None:
    index = load_index()
    finals = [Version(index.releases[i]) for i in index.finals()]
    missing = []
    for card in CARDS.values():
        have = {Version(v) for v, _ in BOUNDS.get(card.id, [])}
        for req in card.requirements.packages:
            if req.package == "transformers" and req.severity == "error" and req.spec:
                missing += [f"{card.id}: {bound} needs a case at {v}"
                            for bound, v in _needed(req.spec, finals) if v not in have]
    assert missing == []


def _python_errors(card_id: str, python: str) -> list[str]:
    # a stack inside every package window, so only the Python version can fire
    return _card_errors(card_id, {"python": {"version": python}})


@pytest.mark.parametrize(("card_id", "version", "outcome"), [
    pytest.param(card_id, version, outcome, id=f"{card_id}@py{version}")
    for card_id, cases in sorted(PYTHON_BOUNDS.items()) for version, outcome in cases])
def test_each_bound_of_each_python_window(card_id: str, version: str, outcome: str) -> None:
    fired = "model-python-version" in _python_errors(card_id, version)
    assert fired is (outcome == "fires")


def test_every_card_with_a_python_window_has_its_bounds_on_both_sides() -> None:
    windowed = {c.id for c in CARDS.values() if c.requirements.python}
    assert sorted(windowed ^ set(PYTHON_BOUNDS)) == []
    missing = []
    for card_id in sorted(windowed):
        spec = CARDS[card_id].requirements.python.spec  # type: ignore[union-attr]
        have = [Version(v) for v, _ in PYTHON_BOUNDS[card_id]]
        for clause in SpecifierSet(spec):
            at = Version(clause.version)
            major, minor = at.release[0], at.release[1]
            # the bound's own X.Y.0 and a release of the minor series on the other side
            other = minor + (1 if clause.operator in ("<=", ">") else -1)
            if at not in have or not any(v.release[:2] == (major, other) for v in have):
                missing.append(f"{card_id}: {clause}")
    assert missing == []


def test_no_other_package_has_an_untested_window() -> None:
    # Today every error-severity requirement besides transformers (timm, einops, tiktoken,
    # flash-attn, torchvision) only asks for presence (">=0"); a real window (a torch pin, say)
    # needs its own both-sides cases like the two files here.
    windows = [(card.id, req.package, req.spec) for card in CARDS.values()
               for req in card.requirements.packages
               if req.package != "transformers" and req.severity == "error" and req.spec
               and any(Version(c.version) != Version("0") for c in SpecifierSet(req.spec))]
    assert windows == []
