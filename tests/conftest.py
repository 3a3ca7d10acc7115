"""Shared fixtures: the knowledge base (with synthetic test cards), base environments,
and fakes for the collectors' collaborators."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from vlmdoctor.knowledge import Knowledge, load_knowledge
from vlmdoctor.knowledge.cards import deep_merge
from vlmdoctor.knowledge.catalogue import Catalogue, load_catalogue
from vlmdoctor.snapshot import Snapshot

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def environment(base: str, patch: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.loads((FIXTURES / "environments" / f"{base}.json").read_text())
    merged = deep_merge(data, copy.deepcopy(patch or {}))
    # A null package version in a patch means "not installed".
    merged["packages"] = {k: v for k, v in merged.get("packages", {}).items() if v is not None}
    return merged


def snapshot(base: str, patch: dict[str, Any] | None = None) -> Snapshot:
    return Snapshot.from_dict(environment(base, patch))


_KNOWLEDGE: Knowledge | None = None


def make_knowledge() -> Knowledge:
    global _KNOWLEDGE
    if _KNOWLEDGE is None:
        real = load_knowledge(ROOT / "rules")
        extra = load_catalogue(FIXTURES / "models")
        _KNOWLEDGE = Knowledge(rules=real.rules,
                               catalogue=Catalogue(real.catalogue.cards + extra.cards),
                               tables=real.tables, root=real.root, failures=real.failures)
    return _KNOWLEDGE


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return make_knowledge()


# Keep the parsed-YAML cache of test runs out of the user's home.
import os as _os  # noqa: E402
import tempfile as _tempfile  # noqa: E402

_os.environ.setdefault("XDG_CACHE_HOME", _tempfile.mkdtemp(prefix="vlmdoctor-test-cache-"))
# ... and the developer's Hugging Face cache out of --model resolution (a cached repo id
# would be read from its files instead of the catalogue).
_os.environ["HF_HUB_CACHE"] = _tempfile.mkdtemp(prefix="vlmdoctor-test-hub-")
