"""The planner over the SHIPPED catalogue (rules/models/), not fixture copies: every card
plans without an error, and a sized plan's weights agree with the card's parameter count."""

from __future__ import annotations

import pytest

from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.plan import PlanRequest, make_plan, parse_gpus

CARDS = load_knowledge(None).catalogue.cards
BYTES = {"bf16": 2, "fp16": 2, "fp32": 4}


@pytest.mark.parametrize("card", CARDS, ids=lambda c: c.id)
def test_every_shipped_card_plans(card) -> None:  # type: ignore[no-untyped-def]
    plan = make_plan(PlanRequest(card=card, gpus=parse_gpus("8xH100"), variants=()))
    if not plan.sized:
        assert plan.unknown, "an unsized plan says what is unknown"
        return
    assert plan.params is not None and plan.params > 0
    weights = sum(u.weights_bytes for u in plan.per_gpu)
    per_param = BYTES.get(plan.dtype)
    if per_param is not None:
        assert 0.85 <= weights / (plan.params * per_param) <= 1.15, (weights, plan.params)
    assert plan.required_bytes >= weights


def test_shipped_internvl_76b_geometry_and_vision_size() -> None:
    card = load_knowledge(None).catalogue.resolve("internvl2-76b")
    a, p = card.architecture, card.params
    assert (a.lm_layers, a.hidden_size, a.num_attention_heads, a.num_kv_heads) == (80, 8192, 64, 8)
    assert p.vision is not None and 5.0e9 < p.vision < 6.0e9  # InternViT-6B (45-layer V1-5)
    plan = make_plan(PlanRequest(card=card, gpus=parse_gpus("4xA100-80GB"), variants=()))
    assert plan.sized and plan.fits
