"""The serving-engine index (``rules/data/engines-index.json.gz``): for vLLM, SGLang and
LMDeploy, every release read, its pins on torch and transformers, and the releases in which
each model architecture is registered. Built by ``scripts/build_engine_index.py`` from the
release artefacts; loaded only when an engine is installed and a model is checked.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from packaging.version import InvalidVersion, Version

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_gz_json
from vlmdoctor.record import record
from vlmdoctor.tfindex.ranges import decode_ranges
from vlmdoctor.tfindex.releases import place

INDEX_FILE = Path("data") / "engines-index.json.gz"
FORMAT = 1
MAX_BYTES = 4 * 1024 * 1024  # the file is ~50 KB; anything far larger is not ours
Span = tuple[int, int]


@record
class EngineReleases:
    engine: str
    releases: tuple[str, ...]
    yanked: frozenset[str]
    pins: Mapping[str, Mapping[str, str]]
    archs: Mapping[str, str]  # arch -> range string over release positions

    def position(self, version: str) -> Optional[int]:
        """The newest release at or before ``version``, read as the transformers index reads
        a version (``tfindex.releases.place``: a local build as its public version, a
        pre-release as the release before it); None when older than every release read or
        unparsable."""
        placed = place(tuple(Version(r) for r in self.releases), self.releases, version)
        return placed.pos if placed is not None else None

    def spans(self, arch: str) -> list[Span]:
        text = self.archs.get(arch)
        return decode_ranges(text) if text else []

    def serves(self, arch: str, position: int) -> bool:
        return any(a <= position <= b for a, b in self.spans(arch))

    def newer_than_index(self, version: str) -> bool:
        try:
            return Version(version) > Version(self.releases[-1])
        except InvalidVersion:
            return False


@record
class EngineIndex:
    engines: Mapping[str, EngineReleases]


def _engine(name: str, data: Any) -> EngineReleases:
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        raise InputError(f"engine index: the {name!r} section is malformed")
    return EngineReleases(engine=name, releases=tuple(str(r) for r in data["releases"]),
                          yanked=frozenset(data.get("yanked") or ()),
                          pins=dict(data.get("pins") or {}), archs=dict(data.get("archs") or {}))


def from_document(document: Any) -> EngineIndex:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise InputError(f"engine index: format {found!r}, expected {FORMAT}; rebuild it with "
                         "scripts/build_engine_index.py")
    engines = document.get("engines")
    if not isinstance(engines, dict):
        raise InputError("engine index: no 'engines' section")
    return EngineIndex(engines={n: _engine(n, d) for n, d in engines.items()})


@lru_cache(maxsize=4)
def load_engine_index(path: Optional[Path] = None) -> EngineIndex:
    """The index; a missing, truncated or foreign file is one InputError naming it."""
    if path is None:
        from vlmdoctor.knowledge import default_rules_dir
        path = default_rules_dir() / INDEX_FILE
    return from_document(read_gz_json(path, MAX_BYTES, "serving-engine index"))
