"""The complete fact registry: importing this module registers every fact."""

from __future__ import annotations

from vlmdoctor.evaluate import facts_code, facts_compat, facts_target  # noqa: F401 - registration
from vlmdoctor.evaluate.facts import FACTS, Fact, lookup, value_of

__all__ = ["FACTS", "Fact", "lookup", "value_of"]
