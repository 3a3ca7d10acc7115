"""The complete fact registry: importing this module registers every fact."""

from __future__ import annotations

from vlmdoctor.evaluate import (  # noqa: F401 - registration
    facts_code,
    facts_compat,
    facts_ecosystem,
    facts_engines,
    facts_extensions,
    facts_files,
    facts_indexes,
    facts_members,
    facts_multigpu,
    facts_stack,
    facts_target,
)
from vlmdoctor.evaluate.facts import FACTS, Fact, lookup, value_of

__all__ = ["FACTS", "Fact", "lookup", "value_of"]
