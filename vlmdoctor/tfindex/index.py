"""The transformers release index (rules/data/transformers-index.json.gz), loaded on demand.

Only model checks load it (never the gate path without a model). Answers: which releases
register a ``model_type``, and in which releases a module has a name. A version between
two indexed releases is read as the newest indexed release at or below it; a version past
the newest indexed release, or before the first, is "unknown" (None), never a guess.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from packaging.version import InvalidVersion, Version

from vlmdoctor.errors import InputError
from vlmdoctor.tfindex.ranges import FORMAT, decode_ranges

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

    @property
    def newest(self) -> str:
        return self.releases[-1]

    def position(self, version: str) -> Optional[int]:
        """Position of the newest indexed release ≤ ``version`` (local/dev parts ignored)."""
        try:
            wanted = Version(Version(version).base_version)
        except InvalidVersion:
            return None
        parsed = self._parsed or tuple(Version(r) for r in self.releases)
        if not parsed or wanted < parsed[0] or (
                wanted > parsed[-1] and not _same_line(wanted, parsed[-1])):
            return None
        return max(i for i, v in enumerate(parsed) if v <= wanted)

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
        """``"4.34.0 to 4.47.1, 4.50.0 and later"``: spans in words, for messages."""
        parts = []
        for first, last in spans:
            if last == len(self.releases) - 1:
                parts.append(f"{self.releases[first]} and later")
            else:
                parts.append(f"{self.releases[first]} to {self.releases[last]}")
        return ", ".join(parts) if parts else "no indexed release"


def _covers(spans: list[Span], pos: int) -> bool:
    return any(a <= pos <= b for a, b in spans)


def _same_line(wanted: Version, newest: Version) -> bool:
    """A patch release after the newest indexed one (same major.minor) reads as that line."""
    return wanted.release[:2] == newest.release[:2]


def from_document(document: Mapping[str, Any],
                  names_file: Optional[Path] = None) -> TransformersIndex:
    if document.get("format") != FORMAT:
        raise InputError(f"transformers index: format {document.get('format')!r}, "
                         f"expected {FORMAT}; rebuild it with scripts/build_transformers_index.py")
    releases = tuple(document["releases"])
    return TransformersIndex(
        releases=releases,
        model_types=document["model_types"],
        modules={m: (entry[0], entry[1] if len(entry) > 1 else "")
                 for m, entry in document["modules"].items()},
        _parsed=tuple(Version(r) for r in releases),
        names_file=names_file,
    )


def _read_gz(path: Path, what: str) -> dict[str, Any]:
    try:
        document = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the {what} index ({exc})") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: the {what} index is not a JSON object")
    return document


@lru_cache(maxsize=4)
def load_index(path: Optional[Path] = None) -> TransformersIndex:
    if path is None:
        from vlmdoctor.knowledge import default_rules_dir
        path = default_rules_dir() / INDEX_FILE
    names = path.parent / NAMES_FILE.name
    return from_document(_read_gz(path, "transformers"), names if names.exists() else None)
