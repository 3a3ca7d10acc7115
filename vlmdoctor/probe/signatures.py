"""What each probe failure means and how to fix it, read from the failure table.

The table is data (``rules/failures.yaml``, shared with `vlmdoctor explain`; see
``vlmdoctor.knowledge.failures``). ``classify`` takes the first classifying row whose
pattern matches the child's error text; ``OUTCOMES`` holds the kinds that come from how
the child ended, not from its text. Finding ids are ``probe-<kind>`` and are API.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the probe's child imports this package: keep its imports stdlib-only
    from vlmdoctor.knowledge.failures import FailureTable, Signature

__all__ = ["classify", "kinds", "outcomes", "signature_for", "signatures", "table"]


@lru_cache(maxsize=1)
def table() -> FailureTable:
    from vlmdoctor.knowledge import default_rules_dir
    from vlmdoctor.knowledge.failures import load_failures

    path = default_rules_dir() / "failures.yaml"
    return load_failures(path, "rules/failures.yaml")


def signatures() -> tuple[Signature, ...]:
    return table().probe_signatures()


def outcomes() -> dict[str, Signature]:
    return {s.kind: s for s in table().outcomes}


def kinds() -> tuple[str, ...]:
    return tuple(dict.fromkeys([s.kind for s in signatures()] + list(outcomes())))


def __getattr__(name: str) -> Any:  # SIGNATURES, OUTCOMES, KINDS: loaded on first use
    loaders = {"SIGNATURES": signatures, "OUTCOMES": outcomes, "KINDS": kinds}
    if name in loaders:
        return loaders[name]()
    raise AttributeError(name)


def classify(text: str) -> Signature:
    """The first signature whose pattern occurs in ``text``, else the unclassified one."""
    return next((s for s in signatures() if s.matches(text)), outcomes()["failed"])


def signature_for(kind: str, text: str = "") -> Signature:
    """The signature for a kind; for a classified kind, the variant that matches ``text``."""
    variants = [s for s in signatures() if s.kind == kind]
    found = outcomes()
    return next((s for s in variants if s.matches(text)), variants[0] if variants else
                found.get(kind, found["failed"]))
