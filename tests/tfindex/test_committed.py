"""The committed index as data in the repository: its releases, and its agreement with the
model cards and the test extra's transformers pin. Needs no installed transformers."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.conftest import make_knowledge
from vlmdoctor.tfindex.index import load_index

INDEX = load_index()


def test_index_lists_finals_yanked_and_pre_releases_in_order() -> None:
    assert INDEX.releases[0] == "4.30.0"
    assert list(INDEX.releases) == sorted(INDEX.releases, key=Version)
    assert {"4.46.0", "4.52.0", "4.57.0", "5.10.0"} <= INDEX.yanked <= set(INDEX.releases)
    assert {"5.0.0rc0", "5.0.0rc3", "5.25.0"} <= set(INDEX.releases)
    recommendable = {INDEX.releases[i] for i in INDEX.recommendable()}
    assert not recommendable & (INDEX.yanked | {"5.0.0rc0"})


def test_the_test_extra_pins_indexed_releases() -> None:
    """tests/tfindex/test_index.py compares the index with the installed transformers: the
    test extra pins one that the index has (never a yanked one)."""
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    pins = re.findall(r'"transformers==([0-9][0-9a-z.]*); python_version', text)
    assert len(pins) == 2
    for pin in pins:
        assert pin in INDEX.releases and pin not in INDEX.yanked


def test_card_windows_agree_with_the_index() -> None:
    """A card's error windows never allow a release that does not register its model_type."""
    disagree = []
    for card in make_knowledge().catalogue.cards:
        reqs = card.requirements
        if not card.hf_model_type or reqs.trust_remote_code or reqs.needs_repo_install:
            continue
        spans = INDEX.model_type_spans(card.hf_model_type)
        assert spans, f"{card.id}: model_type {card.hf_model_type!r} is in no indexed release"
        specs = [SpecifierSet(r.spec) for r in reqs.for_package("transformers")
                 if r.severity == "error"]
        for pos in INDEX.finals():
            release = INDEX.releases[pos]
            allowed = all(s.contains(release, prereleases=True) for s in specs)
            if allowed and not any(a <= pos <= b for a, b in spans):
                disagree.append(f"{card.id} allows transformers {release}, which lacks "
                                f"{card.hf_model_type!r}")
                break
    assert disagree == []
