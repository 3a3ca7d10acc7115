"""The torch release index (rules/data/torch-index.json.gz + torch-names.json.gz), on demand.

Only model checks whose code imports from torch, and ``explain`` on a torch import error,
load it (never the gate path). Answers: in which releases a module exists, and in which
releases a module has a name. A version is placed on the newest indexed release at or below
it (local parts such as ``+cu121`` ignored); a version past the newest indexed release line,
or before the first, is "unknown" (None), never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from packaging.version import InvalidVersion, Version

from vlmdoctor.errors import InputError
from vlmdoctor.jsonfile import read_gz_json
from vlmdoctor.tfindex.ranges import decode_ranges
from vlmdoctor.torchindex.build import FORMAT
from vlmdoctor.torchindex.spans import Span, merge, span_text

INDEX_FILE = Path("data") / "torch-index.json.gz"
NAMES_FILE = Path("data") / "torch-names.json.gz"
REFRESH = "rebuild it with scripts/build_torch_index.py"


@dataclass(frozen=True)
class TorchIndex:
    releases: tuple[str, ...]
    modules: Mapping[str, str]  # module -> its range string
    names_file: Optional[Path] = field(default=None, repr=False, compare=False)
    _parsed: tuple[Version, ...] = field(default=(), repr=False, compare=False)
    _names_doc: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _names: dict[str, Mapping[str, str]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def newest(self) -> str:
        return self.releases[-1]

    def position(self, version: str) -> Optional[int]:
        """Position of the newest indexed release <= ``version``; None outside the index."""
        try:
            wanted = Version(Version(version).base_version)
        except InvalidVersion:
            return None
        parsed = self._parsed or tuple(Version(r) for r in self.releases)
        if not parsed or wanted < parsed[0] or (
                wanted > parsed[-1] and wanted.release[:2] != parsed[-1].release[:2]):
            return None
        return max(i for i, v in enumerate(parsed) if v <= wanted)

    def module_spans(self, module: str) -> list[Span]:
        text = self.modules.get(module)
        return decode_ranges(text) if text else []

    def names_indexed(self, module: str) -> bool:
        return module in self._read_names()

    def names(self, module: str) -> Mapping[str, str]:
        """Name -> range string for one module ({} when its names are not indexed)."""
        if module not in self._names:
            self._names[module] = json.loads(self._read_names().get(module, "{}"))
        return self._names[module]

    def _read_names(self) -> Mapping[str, str]:
        if not self._names_doc and self.names_file is not None:
            document = read_gz(self.names_file, "torch names")
            self._names_doc.update({str(k): str(v) for k, v in document.items()})
        return self._names_doc

    def name_spans(self, module: str, name: str) -> list[Span]:
        """Releases where ``from module import name`` works: the name, or a submodule."""
        text = self.names(module).get(name)
        own = decode_ranges(text) if text else []
        return merge(own + self.module_spans(f"{module}.{name}"))

    def star_spans(self, module: str, name: str) -> list[Span] | None:
        """Releases where ``from module import *`` gives ``name``; None when unknown."""
        key = f"{module} *"
        if key in self._read_names():
            text = self.names(key).get(name)
        elif self.names_indexed(module):
            text = None if name.startswith("_") else self.names(module).get(name)
        else:
            return None
        return decode_ranges(text) if text else []

    def span_text(self, spans: list[Span]) -> str:
        return span_text(self.releases, spans)


def from_document(document: Mapping[str, Any], names_file: Optional[Path] = None,
                  shown: str = "torch index") -> TorchIndex:
    if document.get("format") != FORMAT:
        raise InputError(f"{shown}: unknown format {document.get('format')!r} "
                         f"(expected {FORMAT}); {REFRESH}")
    try:
        releases = tuple(str(r) for r in document["releases"])
        modules = {str(m): str(r) for m, r in document["modules"].items()}
        parsed = tuple(Version(r) for r in releases)
    except (KeyError, TypeError, AttributeError, InvalidVersion) as exc:
        raise InputError(f"{shown}: malformed ({type(exc).__name__}: {exc}); {REFRESH}") from None
    if not releases:
        raise InputError(f"{shown}: lists no releases; {REFRESH}")
    return TorchIndex(releases=releases, modules=modules, names_file=names_file, _parsed=parsed)


MAX_BYTES = 32 * 1024 * 1024  # the shipped files are ~0.2 MB (see vlmdoctor.jsonfile)


def read_gz(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        raise InputError(f"{path}: the {what} index is missing; {REFRESH}")
    try:
        document = read_gz_json(path, MAX_BYTES, f"{what} index")
    except InputError as exc:
        raise InputError(f"{exc}; {REFRESH}") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: the {what} index is not a JSON object; {REFRESH}")
    return document


@lru_cache(maxsize=4)
def load_index(path: Optional[Path] = None) -> TorchIndex:
    if path is None:
        from vlmdoctor.knowledge import default_rules_dir
        path = default_rules_dir() / INDEX_FILE
    return from_document(read_gz(path, "torch"), path.parent / NAMES_FILE.name, str(path))
