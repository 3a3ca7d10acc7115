"""JSON Schemas (draft 2020-12) for the report and the snapshot, shipped with the package.

``schema("report")`` is self-contained: the snapshot schema is bundled under ``$defs``
(an embedded resource keeps its own ``$id``, so the report's ``$ref`` resolves offline).
"""

from __future__ import annotations

import json
import os
from typing import Any

NAMES = ("report", "snapshot")
_DIR = os.path.dirname(os.path.abspath(__file__))


def _read(name: str) -> dict[str, Any]:
    with open(os.path.join(_DIR, f"{name}.json"), encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def schema(name: str) -> dict[str, Any]:
    """The schema document for ``name`` (one of ``NAMES``), ready for any validator."""
    if name not in NAMES:
        raise ValueError(f"unknown schema {name!r}")
    data = _read(name)
    if name == "report":
        data["$defs"]["snapshot"] = _read("snapshot")
    return data
