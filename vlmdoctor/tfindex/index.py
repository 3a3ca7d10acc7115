"""The transformers release index (rules/data/transformers-index.json.gz), loaded on demand.

Only model checks load it (never the gate path without a model). Answers: which releases
register a ``model_type``, and in which releases a module has a name. Where a version sits
(yanked releases, pre-releases, versions newer than the index) is ``releases.place``; a
version before the first indexed release is "unknown" (None), never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from packaging.version import Version

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_gz_json
from vlmdoctor.tfindex.ranges import FORMAT, decode_ranges
from vlmdoctor.tfindex.releases import Placement, place, runs, set_spec

INDEX_FILE = Path("data") / "transformers-index.json.gz"
NAMES_FILE = Path("data") / "transformers-names.json.gz"  # module -> names, read on demand
Span = tuple[int, int]


@dataclass(frozen=True)
class TransformersIndex:
    releases: tuple[str, ...]
    model_types: Mapping[str, str]
    modules: Mapping[str, tuple[str, str]]  # module -> (its ranges, JSON of name -> ranges)
    _parsed: tuple[Version, ...] = field(default=(), repr=False, compare=False)
    _names: dict[str, Mapping[str, str]] = field(default_factory=dict, repr=False, compare=False)
    # A split index (the head without the names): where the names are, read on first use.
    names_file: Optional[Path] = field(default=None, repr=False, compare=False)
    _names_doc: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    yanked: frozenset[str] = frozenset()  # releases withdrawn from PyPI: never recommended

    @property
    def newest(self) -> str:
        return self.releases[-1]

    def _versions(self) -> tuple[Version, ...]:
        return self._parsed or tuple(Version(r) for r in self.releases)

    def place(self, version: str) -> Optional[Placement]:
        """Which indexed release ``version`` reads as (see ``releases.place``)."""
        return place(self._versions(), self.releases, version)

    def position(self, version: str) -> Optional[int]:
        placed = self.place(version)
        return None if placed is None else placed.pos

    def finals(self) -> list[int]:
        """Positions of final releases (yanked ones included), ascending."""
        return [i for i, v in enumerate(self._versions()) if not v.is_prerelease]

    def recommendable(self) -> list[int]:
        """Positions of the releases a fix may name: finals that are not yanked."""
        return [i for i in self.finals() if self.releases[i] not in self.yanked]

    def window_spec(self, positions: set[int]) -> Optional[str]:
        """A pip specifier for the recommendable releases among ``positions``, or None."""
        return set_spec(self.releases, self.recommendable(), self.finals(), positions)

    def model_type_spans(self, model_type: str) -> list[Span]:
        text = self.model_types.get(model_type)
        return decode_ranges(text) if text else []

    def module_spans(self, module: str) -> list[Span]:
        entry = self.modules.get(module)
        return decode_ranges(entry[0]) if entry else []

    def names(self, module: str) -> Mapping[str, str]:
        """Name -> range string for one module, decoded on first use."""
        if module not in self._names:
            entry = self.modules.get(module)
            text = (entry[1] or self._split_names().get(module, "{}")) if entry else "{}"
            self._names[module] = json.loads(text)
        return self._names[module]

    def _split_names(self) -> Mapping[str, str]:
        if not self._names_doc and self.names_file is not None:
            self._names_doc.update(_read_gz(self.names_file, "transformers names"))
        return self._names_doc

    def name_spans(self, module: str, name: str) -> list[Span]:
        text = self.names(module).get(name)
        return decode_ranges(text) if text else []

    def has_module(self, module: str, version: str) -> Optional[bool]:
        pos = self.position(version)
        return None if pos is None else _covers(self.module_spans(module), pos)

    def has_name(self, module: str, name: str, version: str) -> Optional[bool]:
        """True/False for an indexed module at an indexed version, else None (unknown)."""
        pos = self.position(version)
        if pos is None or not _covers(self.module_spans(module), pos):
            return None
        return _covers(self.name_spans(module, name), pos)

    def span_text(self, spans: list[Span]) -> str:
        """``"4.34.0 to 4.47.1, 4.50.0 and later"``: spans in words, for messages (over the
        final releases; a name a release candidate lacks does not split a span)."""
        finals = self.finals()
        present = {p for a, b in spans for p in range(a, b + 1)}
        parts = []
        for first, last in runs(present, finals):
            if last == finals[-1]:
                parts.append(f"{self.releases[first]} and later")
            else:
                parts.append(f"{self.releases[first]} to {self.releases[last]}")
        return ", ".join(parts) if parts else "no indexed release"


def _covers(spans: list[Span], pos: int) -> bool:
    return any(a <= pos <= b for a, b in spans)


def from_document(document: Mapping[str, Any],
                  names_file: Optional[Path] = None, where: str = "transformers index") -> TransformersIndex:
    if document.get("format") != FORMAT:
        raise InputError(f"{where}: format {document.get('format')!r}, expected {FORMAT}; "
                         "rebuild it with scripts/build_transformers_index.py")
    try:
        releases = tuple(str(r) for r in document["releases"])
        index = TransformersIndex(
            releases=releases,
            model_types=dict(document["model_types"]),
            modules={m: (entry[0], entry[1] if len(entry) > 1 else "")
                     for m, entry in document["modules"].items()},
            _parsed=tuple(Version(r) for r in releases),
            names_file=names_file,
            yanked=frozenset(document.get("yanked", ())),
        )
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InputError(f"{where}: not a transformers index ({type(exc).__name__}: {exc})") from None
    if not releases:
        raise InputError(f"{where}: lists no releases")
    return index


# The shipped files are ~0.5 MB; a bound far above that, so a stray FIFO or a huge file in
# their place is refused without blocking or filling memory (vlmdoctor.jsonfile).
MAX_BYTES = 32 * 1024 * 1024


def _read_gz(path: Path, what: str) -> dict[str, Any]:
    document = read_gz_json(path, MAX_BYTES, f"{what} index")
    if not isinstance(document, dict):
        raise InputError(f"{path}: the {what} index is not a JSON object")
    return document


@lru_cache(maxsize=4)
def load_index(path: Optional[Path] = None) -> TransformersIndex:
    if path is None:
        from vlmdoctor.knowledge import default_rules_dir
        path = default_rules_dir() / INDEX_FILE
    names = path.parent / NAMES_FILE.name
    return from_document(_read_gz(path, "transformers"), names, where=str(path))
