"""The curated families' cards fire where their sources say the model breaks (the healthy
side is in tests/test_scenarios.py), and every card's numbers hold together."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.conftest import FIXTURES, environment, make_knowledge
from vlmdoctor.yamlio import load_yaml

FAMILIES: list[dict[str, Any]] = load_yaml(FIXTURES / "scenarios" / "families.yaml",
                                           "families.yaml")["families"]
BROKEN = [f for f in FAMILIES if "broken" in f]


@pytest.mark.parametrize("family", BROKEN, ids=[f["model"] for f in BROKEN])
def test_broken_environment_raises_the_cards_finding(tmp_path: Path, family: dict[str, Any]) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(environment(family["base"], family["broken"]["patch"])))
    code, out, err = run("check", "--from-report", str(path), "-m", family["model"],
                         "--format", "json")
    assert code == 1, err
    errors = sorted({f["id"] for f in json.loads(out)["findings"] if f["severity"] == "error"})
    assert errors == family["broken"]["expect"]


def test_component_counts_add_up_to_the_total() -> None:
    for card in make_knowledge().catalogue.cards:
        p = card.params
        parts = (p.vision, p.projector, p.language)
        if p.total is not None and None not in parts:
            # Exact for arithmetic; published figures are rounded (Qwen-VL: 1.9 + 0.08 + 7.7 ~ 9.6B).
            assert abs(sum(parts) - p.total) <= p.total // 100, card.id  # type: ignore[arg-type]


def test_every_card_names_its_transformers_model_type_or_says_it_has_none() -> None:
    # Native cards carry a transformers window; remote-code cards say so.
    for card in make_knowledge().catalogue.cards:
        if card.family == "test" or card.hf_model_type is None:
            continue
        native = not card.requirements.trust_remote_code and card.requirements.needs_repo_install is None
        if native:
            assert card.requirements.for_package("transformers"), card.id


def test_vision_tower_tokens_follow_the_cards_patch_size() -> None:
    from vlmdoctor.plan.tokens import image_load
    card = make_knowledge().catalogue.resolve("qwen3-vl-8b")
    load = image_load(card.images, None)
    # 16,777,216 pixels: 16,384 tokens of 32x32 pixels, each 2x2 patches of 16 px.
    assert load is not None and (load.tokens, load.patches) == (16384, 65536)
