from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from vlmdoctor.knowledge.catalogue import Catalogue, load_catalogue
from vlmdoctor.plan import Plan, PlanRequest, make_plan, parse_gpus

CARDS = Path(__file__).resolve().parents[2] / "fixtures" / "plan" / "cards"

PlanFor = Callable[..., Plan]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(CARDS)


@pytest.fixture(scope="session")
def plan_for(catalogue: Catalogue) -> PlanFor:
    def make(model: str, gpus: str, **kwargs: Any) -> Plan:
        card = catalogue.resolve(model)
        variants = tuple(c for c in catalogue.cards if c.family == card.family)
        return make_plan(PlanRequest(card=card, gpus=parse_gpus(gpus), variants=variants,
                                     **kwargs))

    return make
