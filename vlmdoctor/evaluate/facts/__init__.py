"""The facts a rule may read: the registry and every module that fills it.

Importing this package registers every fact (``registry`` first, then one module per
subject); rules and the engine read them through ``value_of``.
"""

from __future__ import annotations

from vlmdoctor.evaluate.facts import (  # noqa: F401 - registration
    code,
    compat,
    contract,
    ecosystem,
    engines,
    extensions,
    files,
    indexes,
    members,
    multigpu,
    stack,
    target,
)
from vlmdoctor.evaluate.facts.registry import FACTS, Fact, lookup, value_of

__all__ = ["FACTS", "Fact", "lookup", "value_of"]
