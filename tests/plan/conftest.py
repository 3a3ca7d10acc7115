"""The planner's tests read the SHIPPED catalogue (rules/models/), so a card edit that
changes a plan fails here; numbers in the tests are worked out by hand from the card."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from vlmdoctor.knowledge import load_knowledge
from vlmdoctor.knowledge.catalogue import Catalogue
from vlmdoctor.plan import Plan, PlanRequest, make_plan, parse_gpus

PlanFor = Callable[..., Plan]


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_knowledge(None).catalogue


@pytest.fixture(scope="session")
def plan_for(catalogue: Catalogue) -> PlanFor:
    def make(model: str, gpus: str, **kwargs: Any) -> Plan:
        card = catalogue.resolve(model)
        variants = tuple(c for c in catalogue.cards if c.family == card.family)
        return make_plan(PlanRequest(card=card, gpus=parse_gpus(gpus), variants=variants,
                                     **kwargs))

    return make
